import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buffer } from 'node:stream/consumers';
import * as Minio from 'minio';
import { itemModel } from '../../../src/models/item.model';
import { backup, checkFourProperties, FOUR_PROPERTIES_JOB, integrityJobHandlers, scheduleFourProperties } from '../../../src/services/integrity';
import { filedItem } from '../../helpers/archive-items';
import { openTestRuntime, serveTestApp, signedInUsers } from '../../helpers/runtime';
import { testMinioConfig } from '../../helpers/services';

describe('四性检测 (DA/T 70-2018): 真实性、完整性、可用性、安全性 at capture, at transfer and periodically (real FerretDB + MinIO)', function () {
  this.timeout(120_000);
  let ctx: Awaited<ReturnType<typeof openTestRuntime>>;
  let http: Awaited<ReturnType<typeof serveTestApp>>;
  let tokens: Record<string, string>;
  const ids: string[] = [];
  const dirs: string[] = [];

  before(async () => {
    ctx = await openTestRuntime();
    http = await serveTestApp(ctx.rt);
    tokens = await signedInUsers(ctx.rt, http.base, [['arch', 'archivist'], ['clerk', 'caseworker']], 'a-long-password-1');
    for (const [i, name] of ['张伟', '李娜', '王芳'].entries()) ids.push(await filedItem(ctx.rt, `four-${i}`, name));
  });
  after(async () => {
    await http?.close();
    await ctx?.close();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('a sound batch passes every property; PNG originals are flagged as not a long-term format (warning, DA/T 31-2017)', async () => {
    const r = await checkFourProperties(ctx.rt, { trigger: 'capture', itemIds: ids, handover: { count: 3 } });
    assert.equal(r.ok, true, JSON.stringify(r.findings.filter((f) => f.severity === 'error')));
    assert.equal(r.items, 3);
    for (const p of ['authenticity', 'integrity', 'usability', 'security'] as const) assert.ok(r.summary[p].checks >= 3, `${p}: ${r.summary[p].checks} checks`);
    assert.equal(r.summary.usability.warnings, 3);
    assert.ok(r.findings.every((f) => f.check === 'U2_long_term_format' && f.severity === 'warning'));
  });

  it('archive-wide: no recent backup fails 安全性 (S4); with one, it passes', async () => {
    const without = await checkFourProperties(ctx.rt, { trigger: 'manual' });
    assert.equal(without.ok, false);
    assert.deepEqual(without.findings.filter((f) => f.severity === 'error').map((f) => f.check), ['S4_backup']);
    const to = fs.mkdtempSync(path.join(os.tmpdir(), 'four-bk-'));
    const keys = fs.mkdtempSync(path.join(os.tmpdir(), 'four-keys-'));
    dirs.push(to, keys);
    await backup(ctx.rt, { to, keysTo: keys });
    const withBackup = await checkFourProperties(ctx.rt, { trigger: 'manual' });
    assert.equal(withBackup.ok, true, JSON.stringify(withBackup.findings.filter((f) => f.severity === 'error')));
    assert.ok(withBackup.summary.authenticity.checks > without.summary.authenticity.checks - 1);
  });

  it('a damaged object, a short hand-over list and missing metadata fail; the failure raises an alert (metric + audit entry)', async () => {
    const item = (await itemModel(ctx.rt.db).findById(ids[0]).lean())!;
    const minio = new Minio.Client(testMinioConfig());
    const name = `objects/${item.pdfKey}`;
    const raw = await buffer(await minio.getObject(ctx.config.minio.bucket, name));
    raw.writeUInt8(raw[raw.length - 30]! ^ 0x40, raw.length - 30);
    await minio.putObject(ctx.config.minio.bucket, name, raw);
    await itemModel(ctx.rt.db).updateOne({ _id: ids[1] }, { $set: { documentDate: null } });

    const r = await checkFourProperties(ctx.rt, { trigger: 'transfer', itemIds: ids, handover: { count: 4 }, actor: 'transfer-desk' });
    assert.equal(r.ok, false);
    const failed = new Set(r.findings.filter((f) => f.severity === 'error').map((f) => `${f.property}/${f.check}`));
    assert.deepEqual([...failed].sort(), ['authenticity/T1_fixity', 'integrity/I1_counts', 'integrity/I2_metadata']);
    assert.match(r.findings.find((f) => f.check === 'I1_counts')!.messageZh, /实有 3 件，移交清单为 4 件/);
    const metrics = await ctx.rt.metrics.registry.getSingleMetricAsString('archive_integrity_failures_total');
    assert.match(metrics, /archive_integrity_failures_total\{kind="four-properties"\} [1-9]/);
    await ctx.rt.audit.flush();
    const alerts = await ctx.rt.audit.list({ action: 'integrity.alert', limit: 5 });
    assert.equal(alerts[0]?.object?.id, r.runId);
    assert.equal(alerts[0]?.outcome, 'failure');
  });

  it('reports are viewable and exportable through the API (CSV, Chinese first), only with integrity.check', async () => {
    const list = (await (await fetch(`${http.base}/api/v1/integrity/runs?kind=four-properties`, { headers: { authorization: `Bearer ${tokens.arch}` } })).json()) as any;
    assert.ok(list.runs.length >= 4);
    const failedRun = list.runs.find((r: any) => r.ok === false && r.trigger === 'transfer');
    const one = (await (await fetch(`${http.base}/api/v1/integrity/runs/${failedRun.id}`, { headers: { authorization: `Bearer ${tokens.arch}` } })).json()) as any;
    assert.ok(one.findings.some((f: any) => f.check === 'T1_fixity'));
    const csv = await fetch(`${http.base}/api/v1/integrity/runs/${failedRun.id}?format=csv`, { headers: { authorization: `Bearer ${tokens.arch}` } });
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-type') ?? '', /text\/csv/);
    const bytes = Buffer.from(await csv.arrayBuffer());
    assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'a BOM, so spreadsheet programs read UTF-8');
    const text = bytes.subarray(3).toString('utf8');
    assert.match(text, /^检测编号 run/);
    assert.match(text, /真实性 authenticity,\d+,1,0/);
    assert.match(text, /T1_fixity,authenticity,item:[0-9a-f]{24},error,真实性·固化信息有效性/);
    assert.equal((await fetch(`${http.base}/api/v1/integrity/runs`, { headers: { authorization: `Bearer ${tokens.clerk}` } })).status, 403);
    const now = await fetch(`${http.base}/api/v1/integrity/four-properties`, { method: 'POST', headers: { authorization: `Bearer ${tokens.arch}`, 'content-type': 'application/json' }, body: JSON.stringify({ itemIds: [ids[2]], trigger: 'transfer', handoverCount: 1 }) });
    assert.equal(now.status, 200);
    assert.equal(((await now.json()) as any).ok, true);
  });

  it('the periodic job gives way to waiting OCR work and resumes from its cursor; then schedules the next period', async () => {
    const handlers = integrityJobHandlers(ctx.rt);
    await scheduleFourProperties(ctx.rt, 3600_000);
    await scheduleFourProperties(ctx.rt, 3600_000);
    const jobs = await ctx.rt.queue.jobs.find({ name: FOUR_PROPERTIES_JOB }).lean();
    assert.equal(jobs.length, 1, 'one per period, however many workers start');
    const ocr = await ctx.rt.queue.enqueue('ocr.item', { itemId: 'waiting' }, { dedupeKey: 'ocr-waiting' });
    const yielded = (await handlers[FOUR_PROPERTIES_JOB]!(jobs[0]!)) as any;
    assert.equal(yielded.complete, false);
    assert.equal(yielded.yielded, true);
    assert.equal(yielded.items, 0, 'gave way before checking anything');
    const cont = (await ctx.rt.queue.jobs.find({ name: FOUR_PROPERTIES_JOB, 'payload.runId': yielded.runId }).lean())[0]!;
    assert.ok(cont.runAt.getTime() > Date.now() + 30_000, 'retries after ingest had its turn');
    await ctx.rt.queue.jobs.updateOne({ _id: ocr._id }, { $set: { state: 'done' } });
    const done = (await handlers[FOUR_PROPERTIES_JOB]!(cont)) as any;
    assert.equal(done.runId, yielded.runId, 'the same run, resumed');
    assert.equal(done.complete, true);
    assert.equal(done.items, 3);
    const next = await ctx.rt.queue.jobs.find({ name: FOUR_PROPERTIES_JOB, 'payload.period': jobs[0]!.payload.period + 1 }).lean();
    assert.equal(next.length, 1);
    assert.ok(next[0]!.runAt.getTime() > Date.now());
  });
});
