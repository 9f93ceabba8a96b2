/**
 * A compliance officer's whole path from the command line: due list → round → opinions → close →
 * 清册 → sign-offs → 备案 → approval → supervised destruction → certificate → verify (and a
 * tampered certificate named as such). Each step `--as` the person whose step it is.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../../src/cli/main';
import { Worker } from '../../../src/jobs/worker';
import { DISPOSAL_EXECUTE_JOB, runExecutionJob } from '../../../src/services/disposition';
import { testLogger } from '../../helpers/logger';
import { openTestRuntime } from '../../helpers/runtime';
import { actor, makeDueItem, readableBlobs, type Actor } from '../../helpers/disposition';

describe('CLI: archive appraisal / disposal / hold, end to end', function () {
  this.timeout(180_000);
  let ctx: Awaited<ReturnType<typeof openTestRuntime>>;
  const saved: Record<string, string | undefined> = {};
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dispose-cli-'));
  const who: Record<string, Actor> = {};

  before(async () => {
    ctx = await openTestRuntime({ ARCHIVE_DISPOSAL_COOLING_DAYS: '0' });
    for (const [k, v] of Object.entries(ctx.env)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
    for (const [u, r] of [['co', 'compliance_officer'], ['m1', 'appraisal_member'], ['m2', 'appraisal_member'], ['head', 'agency_head'], ['s1', 'disposal_supervisor'], ['s2', 'disposal_supervisor'], ['aud', 'auditor'], ['legal', 'agency_head']] as const) who[u] = await actor(ctx.rt, u, r);
  });
  after(async () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await ctx?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function run(args: string[]): Promise<{ code: number; json: any; text: string }> {
    const lines: string[] = [];
    const code = await main([...args, '--json'], { out: (s) => lines.push(s), err: () => undefined, isTTY: false });
    const text = lines.join('\n');
    return { code, json: text ? JSON.parse(text) : null, text };
  }
  async function ok(args: string[]): Promise<any> {
    const r = await run(args);
    assert.equal(r.code, 0, `archive ${args.join(' ')} → ${r.code} ${r.text}`);
    return r.json;
  }

  it('due → round → opinions → close → list → sign-offs → 备案 → approval → destruction → certificate → verify', async () => {
    const rt = ctx.rt;
    const a = await makeDueItem(rt, { fonds: 'Z321', title: '工伤备案登记表 甲' });
    const b = await makeDueItem(rt, { fonds: 'Z321', title: '工伤备案登记表 乙' });
    const keep = await makeDueItem(rt, { fonds: 'Z321', title: '工伤备案登记表 丙' });
    const keys = [(await rt.db.collection('items').findOne({ title: '工伤备案登记表 甲' }))!.originals[0].blobKey, `items/${a}/item.pdf`];

    const due = await ok(['appraisal', 'due', '--as', 'co', '--fonds', 'Z321']);
    assert.deepEqual(due.items.map((i: any) => i.id).sort(), [a, b, keep].sort());
    assert.equal((await ok(['appraisal', 'due', '--as', 'aud', '--fonds', 'Z321', '--by', 'year'])).total, 3, 'an auditor reads');
    assert.equal((await run(['appraisal', 'open', '--as', 'aud', '--title', 'x', '--member', 'm1:archivist', '--member', 'm2:business_staff', '--due'])).json.error.code, 'forbidden', 'and changes nothing');

    const round = await ok(['appraisal', 'open', '--as', 'co', '--title', '2026年工伤备案材料鉴定', '--member', 'm1:archivist', '--member', 'm2:hrss_representative', '--due', '--fonds', 'Z321']);
    assert.equal(round.itemCount, 3);
    for (const m of ['m1', 'm2']) {
      await ok(['appraisal', 'opinion', round.id, '--as', m, '--item', `${a},${b}`, '--opinion', 'destroy', '--reason', '保管期满，无查考价值']);
      await ok(['appraisal', 'opinion', round.id, '--as', m, '--item', keep, '--opinion', 'keep', '--reason', '典型工伤案例']);
    }
    const closed = await ok(['appraisal', 'close', round.id, '--as', 'co']);
    assert.deepEqual(closed.outcomes, { destroy: 2, extend: 0, keep: 1, none: 0 });
    await ok(['appraisal', 'report', round.id, '--as', 'aud', '--out', path.join(dir, 'report.pdf')]);
    assert.equal(fs.readFileSync(path.join(dir, 'report.pdf')).subarray(0, 5).toString(), '%PDF-');

    const list = await ok(['disposal', 'create', '--as', 'co', '--round', round.id]);
    assert.equal(list.rows.length, 2);
    assert.equal((await run(['disposal', 'sign', list.id, '--as', 'co', '--totp', '000000'])).json.error.code, 'forbidden');
    await ok(['disposal', 'sign', list.id, '--as', 'm1', '--totp', await who.m1!.code()]);
    await ok(['disposal', 'sign', list.id, '--as', 'm2', '--totp', await who.m2!.code(), '--version', '1']);
    fs.writeFileSync(path.join(dir, 'receipt.png'), Buffer.from('receipt scan'));
    await ok(['disposal', 'file', list.id, '--as', 'co', '--date', '2026-11-25', '--reference', '人社档备〔2026〕21号', '--receipt', path.join(dir, 'receipt.png')]);
    const approved = await ok(['disposal', 'approve', list.id, '--as', 'head', '--totp', await who.head!.code()]);
    assert.equal(approved.stage, 'approved');
    await ok(['disposal', 'pdf', list.id, '--as', 'aud', '--out', path.join(dir, 'list.pdf')]);

    await ok(['disposal', 'start', list.id, '--as', 's1', '--supervisor', `s1=${await who.s1!.code()}`, '--supervisor', `s2=${await who.s2!.code()}`, '--method', '密钥粉碎', '--place', '市社保中心机房']);
    const ex = await ok(['disposal', 'execute', list.id, '--as', 's1']);
    assert.deepEqual([ex.destroyed, ex.skipped.length, ex.pending], [2, 0, 0]);
    assert.deepEqual(await readableBlobs(rt, keys), []);
    // The queued path: --queue hands the run to a worker (here in this process), --wait follows it
    // to the end; running again changes nothing, so the job's report is the same.
    const w = new Worker(rt.queue, { [DISPOSAL_EXECUTE_JOB]: (c) => runExecutionJob(rt, c) }, testLogger, undefined, { pollMs: 50 });
    w.start();
    try {
      const again = await ok(['disposal', 'execute', list.id, '--as', 's1', '--queue', '--wait']);
      assert.deepEqual([again.destroyed, again.skipped.length, again.pending], [2, 0, 0]);
    } finally {
      await w.stop();
    }
    await ok(['disposal', 'confirm', list.id, '--as', 's1', '--totp', await who.s1!.code()]);
    const done = await ok(['disposal', 'confirm', list.id, '--as', 's2', '--totp', await who.s2!.code()]);
    assert.equal(done.stage, 'done');

    const cert = path.join(dir, 'certificate.pdf');
    await ok(['disposal', 'certificate', list.id, '--as', 'aud', '--out', cert]);
    const good = await ok(['disposal', 'verify-certificate', cert, '--as', 'aud']);
    assert.equal(good.ok, true);
    assert.equal(good.items, 2);
    // An independent CMS implementation accepts the signature too (when OpenSSL is installed).
    try {
      execFileSync('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', `${cert}.p7s`, '-content', cert, '-noverify', '-out', '/dev/null'], { stdio: 'pipe' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const bytes = fs.readFileSync(cert);
    bytes[Math.floor(bytes.length / 3)] = bytes[Math.floor(bytes.length / 3)]! ^ 0x20;
    fs.writeFileSync(path.join(dir, 'tampered.pdf'), bytes);
    fs.copyFileSync(`${cert}.p7s`, path.join(dir, 'tampered.pdf.p7s'));
    const bad = await run(['disposal', 'verify-certificate', path.join(dir, 'tampered.pdf'), '--as', 'aud']);
    assert.equal(bad.code, 1);
    assert.ok(bad.json.problems.some((p: any) => p.code === 'content_changed'));
    const lines: string[] = [];
    await main(['disposal', 'verify-certificate', path.join(dir, 'tampered.pdf'), '--as', 'aud'], { out: (s) => lines.push(s), err: () => undefined, isTTY: false });
    assert.match(lines.join('\n'), /INVALID[\s\S]*content_changed[\s\S]*签名后被改动/);
  });

  it('holds from the CLI: place by one person, release by another', async () => {
    const id = await makeDueItem(ctx.rt, { fonds: 'Z654', index: false });
    const h = await ok(['hold', 'place', '--as', 'co', '--name', '欠费追缴', '--kind', 'unsettled_accounts', '--reason', '单位欠费尚未结清', '--items', id]);
    assert.equal(h.covers, 1, 'placing says how many items it holds');
    assert.equal((await ok(['appraisal', 'due', '--as', 'co', '--fonds', 'Z654'])).items.length, 0);
    // archive show says the item is held, and by which hold.
    const shown: string[] = [];
    assert.equal(await main(['show', id, '--as', 'co'], { out: (l) => shown.push(l), err: () => undefined, isTTY: false }), 0);
    assert.match(shown.join('\n'), /冻结中 on legal hold: 欠费追缴（未结清债权债务/);
    assert.equal((await run(['hold', 'release', h.id, '--as', 'co', '--reason', '已结清欠费'])).json.error.code, 'forbidden');
    assert.equal((await ok(['hold', 'release', h.id, '--as', 'legal', '--reason', '已结清欠费'])).active, false);
    assert.equal((await ok(['hold', 'list', '--as', 'aud'])).holds.length >= 1, true);
    assert.equal((await ok(['appraisal', 'due', '--as', 'co', '--fonds', 'Z654'])).items.length, 1);
  });
});
