/**
 * Issue #12 §5: the CLI never hangs and never loses a file. Real processes, real services.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ingestItem } from '../../../src/services/capture/intake';
import { indexKey } from '../../../src/services/platform';
import { openTestRuntime } from '../../helpers/runtime';
import { renderScan } from '../../helpers/scan';
import { REPO_ROOT } from '../../helpers/services';

const run = promisify(execFile);
const ARCHIVE = path.join(REPO_ROOT, 'bin/archive.js');

describe('CLI: --wait never hangs, every PATH is accounted for, a worker with the wrong keystore refuses', function () {
  this.timeout(240_000);
  let ctx: Awaited<ReturnType<typeof openTestRuntime>>;
  let dir: string;

  before(async () => {
    ctx = await openTestRuntime({ JOB_LEASE_MS: '3000' });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-wait-'));
    const page = await renderScan(['工伤认定申请表', '姓名：王芳'], { dpi: 300 });
    fs.writeFileSync(path.join(dir, 'a.png'), page);
    fs.writeFileSync(path.join(dir, 'a-copy.png'), page);
  });
  after(async () => {
    fs.rmSync(dir, { recursive: true, force: true });
    await ctx?.close();
  });

  it('a stale worker registration (a worker that stopped without saying so) does not make --wait hang; both PATHs of one content get a line', async () => {
    // A worker that registered and then died: --wait sees it as live at first.
    await ctx.rt.db.collection('workers').insertOne({ _id: 'ghost:1:dead' as never, names: ['ocr.item'], lastSeen: new Date() });
    const a = path.join(dir, 'a.png');
    const b = path.join(dir, 'a-copy.png');
    const t0 = Date.now();
    const { stdout } = await run(process.execPath, [ARCHIVE, 'ingest', a, b, '--wait', '--json'], { env: { ...process.env, ...ctx.env }, maxBuffer: 10 << 20, timeout: 180_000 });
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as any);
    assert.equal(lines.length, 2, stdout);
    const [first, second] = lines;
    assert.equal(first.source, a);
    assert.equal(second.source, b);
    assert.equal(first.id, second.id);
    assert.equal(second.duplicate, true);
    assert.equal(second.duplicateOf, a);
    assert.ok(['filed', 'review'].includes(first.status), first.status);
    assert.ok(Date.now() - t0 < 150_000);
    assert.notEqual(first.duplicate, true, 'new content is not a duplicate');

    // The same file again, another day: its item, said to be one taken in before, not filed twice.
    const again = await run(process.execPath, [ARCHIVE, 'ingest', a, '--wait', '--json'], { env: { ...process.env, ...ctx.env }, maxBuffer: 10 << 20, timeout: 180_000 });
    const line = JSON.parse(again.stdout.trim()) as any;
    assert.equal(line.id, first.id);
    assert.equal(line.duplicate, true);
    const human = await run(process.execPath, [ARCHIVE, 'ingest', a, '--wait'], { env: { ...process.env, ...ctx.env }, maxBuffer: 10 << 20, timeout: 180_000 });
    assert.match(human.stdout, /此前已接收，未再归档 \/ ingested before, not again/);
  });

  it('a worker whose keystore cannot unwrap the archive keys refuses to start, claiming nothing', async () => {
    await indexKey(ctx.rt); // the archive's application key exists, wrapped under the test keystore
    const res = await ingestItem(ctx.rt, { fonds: 'Z001', source: 'k.png', channel: 'api', files: [{ filename: 'k.png', body: await renderScan(['稽核通知书 其他'], { dpi: 300 }) }] });
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'other-keys-'));
    const child = spawn(process.execPath, [ARCHIVE, 'worker'], {
      env: { ...process.env, ...ctx.env, ARCHIVE_KEYSTORE_DIR: other, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => {
      const t = setTimeout(() => {
        child.kill('SIGKILL');
        resolve(null);
      }, 60_000);
      child.on('exit', (c) => {
        clearTimeout(t);
        resolve(c);
      });
    });
    fs.rmSync(other, { recursive: true, force: true });
    assert.notEqual(code, null, 'the worker kept running');
    assert.notEqual(code, 0);
    assert.match(stderr, /keystore_mismatch/);
    assert.match(stderr, /ARCHIVE_KEYSTORE_DIR/);
    const job = await ctx.rt.queue.get(res.jobId);
    assert.equal(job!.attempts, 0, 'no job was claimed');
  });
});
