import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { main } from '../../../src/cli/main';
import { openTestRuntime } from '../../helpers/runtime';
import { cer, renderScan } from '../../helpers/scan';
import { REPO_ROOT } from '../../helpers/services';

const run = promisify(execFile);

describe('CLI: archive ingest PATH... --wait --json (the evaluation contract)', function () {
  this.timeout(240_000);
  let ctx: Awaited<ReturnType<typeof openTestRuntime>>;
  let dir: string;

  before(async () => {
    ctx = await openTestRuntime();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-ingest-'));
    fs.writeFileSync(path.join(dir, 'single.png'), await renderScan(['养老保险待遇核定表', '姓名：李娜', '日期：2019年5月20日'], { dpi: 300 }));
    fs.mkdirSync(path.join(dir, 'folder'));
    // Natural order: 2 before 10.
    fs.writeFileSync(path.join(dir, 'folder', 'page10.png'), await renderScan(['第二页 生育津贴'], { dpi: 300 }));
    fs.writeFileSync(path.join(dir, 'folder', 'page2.png'), await renderScan(['第一页 医疗保险'], { dpi: 300 }));
    fs.writeFileSync(path.join(dir, 'fake.jpg'), '<html>nope</html>');
    // A scan cut short in transfer: a PNG by its header, so it is taken in, and fails when decoded.
    const whole = await renderScan(['社会保险稽核通知书'], { dpi: 300 });
    fs.writeFileSync(path.join(dir, 'cut.png'), whole.subarray(0, Math.floor(whole.length * 0.6)));
  });
  after(async () => {
    fs.rmSync(dir, { recursive: true, force: true });
    await ctx?.close();
  });

  it('prints one JSON object per item with source, id, status and pages in order; bad files fail with a reason', async () => {
    const single = path.join(dir, 'single.png');
    const folder = path.join(dir, 'folder');
    const fake = path.join(dir, 'fake.jpg');
    const cut = path.join(dir, 'cut.png');
    const { stdout, stderr } = await run(process.execPath, [path.join(REPO_ROOT, 'bin/archive.js'), 'ingest', single, folder, fake, cut, '--fonds', 'Z009', '--wait', '--json'], {
      env: { ...process.env, ...ctx.env },
      maxBuffer: 10 * 1024 * 1024,
    }).catch((e: { stdout: string; stderr: string; code: number }) => ({ stdout: e.stdout, stderr: e.stderr }));
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as any);
    const bySource = new Map(lines.map((l) => [l.source, l]));
    assert.equal(lines.length, 4);
    const s = bySource.get(single);
    // Titled and dated: filed (an undated page would wait in review: the scan date never stands in
    // for the formation date, issue #11 §1).
    assert.equal(s.status, 'filed', JSON.stringify(s.classification?.reason));
    assert.match(s.id, /^[a-f0-9]{24}$/);
    assert.equal(s.pages.length, 1);
    assert.equal(s.pages[0].n, 1);
    assert.ok(cer('养老保险待遇核定表姓名：李娜日期：2019年5月20日', s.pages[0].text) < 0.2, s.pages[0].text);
    assert.equal(typeof s.pages[0].confidence, 'number');
    const f = bySource.get(folder);
    // Pages with no title (第一页 医疗保险 / 第二页 生育津贴): body cues alone never file an item
    // with the certainty of a title (issue #12 §2), so it waits in review, with its candidates.
    assert.equal(f.status, 'review');
    assert.equal(f.classification.candidates[0].item, '7-03');
    assert.deepEqual(f.pages.map((p: any) => p.n), [1, 2]);
    assert.match(f.pages[0].text, /医疗/);
    assert.match(f.pages[1].text, /生育/);
    const bad = bySource.get(fake);
    assert.equal(bad.status, 'failed');
    assert.ok(bad.reason.length > 0);
    // Damaged in a way only decoding shows: failed with its reason in Chinese too, and no error
    // with a stack in the terminal (it is the file's fault, not the program's).
    const damaged = bySource.get(cut);
    assert.equal(damaged.status, 'failed');
    assert.equal(damaged.code ?? damaged.failure?.code ?? 'corrupt_file', 'corrupt_file');
    assert.equal(damaged.reasonZh, '文件已损坏或不完整，无法读取', JSON.stringify(damaged));
    assert.doesNotMatch(stderr, /failed for good|"stack"/, stderr.slice(-2000));
  });

  it('--help works for every command', async () => {
    const { stdout } = await run(process.execPath, [path.join(REPO_ROOT, 'bin/archive.js'), '--help']);
    const names = [...stdout.matchAll(/^ {2}([a-z-]+) {2}/gm)].map((m) => m[1]!);
    assert.ok(names.includes('ingest') && names.includes('show'));
    // Every subcommand, in-process (same dispatcher as the binary, without 12 process start-ups).
    for (const n of names) {
      const lines: string[] = [];
      const code = await main([n, '--help', '--json'], { out: (l) => lines.push(l), err: () => undefined, isTTY: false });
      assert.equal(code, 0);
      assert.equal(JSON.parse(lines[0]!).command, `archive ${n}`);
    }
  });
});
