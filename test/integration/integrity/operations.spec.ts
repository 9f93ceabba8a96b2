import assert from 'node:assert/strict';
import { parseConfig } from '../../../src/config';
import { createMetrics } from '../../../src/metrics';
import { createRuntime } from '../../../src/runtime';
import { runFsck } from '../../../src/services/integrity';
import { filedItem } from '../../helpers/archive-items';
import { testLogger } from '../../helpers/logger';
import { openTestRuntime, serveTestApp, testEnv } from '../../helpers/runtime';

describe('operations: readiness that means something, and the metrics an operator needs (real FerretDB + MinIO)', function () {
  this.timeout(90_000);
  let ctx: Awaited<ReturnType<typeof openTestRuntime>>;
  let http: Awaited<ReturnType<typeof serveTestApp>>;

  before(async () => {
    ctx = await openTestRuntime({ ARCHIVE_WEDGED_AFTER_MS: '1500' });
    http = await serveTestApp(ctx.rt);
    await filedItem(ctx.rt, 'ops-1');
    await filedItem(ctx.rt, 'ops-2', '李娜');
  });
  after(async () => {
    await http?.close();
    await ctx?.close();
  });

  it('is ready when the keystore opens the archive, both stores take writes and no job waits on a wedged pool', async () => {
    const res = await fetch(`${http.base}/readyz`);
    const body = (await res.json()) as any;
    assert.equal(res.status, 200, JSON.stringify(body));
    for (const name of ['mongodb', 'minio', 'keys', 'keystore_matches_archive', 'mongodb_writable', 'minio_writable', 'workers_not_wedged']) assert.equal(body.checks[name]?.ok, true, name);
  });

  it('is not ready when due jobs wait and no job has moved for longer than ARCHIVE_WEDGED_AFTER_MS; ready again once one moves', async () => {
    const job = await ctx.rt.queue.enqueue('ocr.item', { itemId: 'none' }, { runAt: new Date(Date.now() - 60_000), dedupeKey: 'wedged-1' });
    await new Promise((r) => setTimeout(r, 1800));
    const res = await fetch(`${http.base}/readyz`);
    const body = (await res.json()) as any;
    assert.equal(res.status, 503);
    assert.equal(body.checks.workers_not_wedged.ok, false);
    assert.match(body.checks.workers_not_wedged.error, /worker pool wedged: job [0-9a-f]{24} \(ocr\.item\)/);
    await ctx.rt.queue.jobs.updateOne({ _id: job._id }, { $set: { state: 'done' } });
    assert.equal((await fetch(`${http.base}/readyz`)).status, 200);
  });

  it('is not ready when its keystore is not the one that wraps this archive’s objects', async () => {
    const other = parseConfig({ ...testEnv(), MONGODB_URI: ctx.env.MONGODB_URI!, MINIO_BUCKET: ctx.env.MINIO_BUCKET! });
    const rt2 = await createRuntime(other, { logger: testLogger, metrics: createMetrics({ defaultMetrics: false }) });
    try {
      const check = rt2.readiness.find((c) => c.name === 'keystore_matches_archive')!;
      await assert.rejects(check.check(), /does not hold kek-[0-9]{8}-[0-9a-f]{8}, the key-encryption key this archive's objects are wrapped with/);
    } finally {
      await rt2.close();
    }
  });

  it('exports queue depth and age by job kind, items by state, errors by code, latency by route, pages and OCR confidence, last good runs', async () => {
    await ctx.rt.queue.enqueue('ocr.item', { itemId: 'x' }, { runAt: new Date(Date.now() - 30_000), dedupeKey: 'aged-1' });
    await fetch(`${http.base}/api/v1/items/0123456789abcdef01234567`);
    await runFsck(ctx.rt, { phases: ['jobs'] });
    const text = await (await fetch(`${http.base}/metrics`)).text();
    assert.match(text, /archive_items\{status="filed"\} 2/);
    assert.match(text, /archive_queue_jobs\{name="ocr\.item",state="queued"\} 1/);
    const age = Number(/archive_queue_oldest_seconds\{name="ocr\.item"\} ([\d.]+)/.exec(text)?.[1]);
    assert.ok(age >= 29 && age < 120, `oldest queued job age ${age}`);
    assert.match(text, /archive_errors_total\{code="[a-z_]+",source="http"\} 1/);
    assert.match(text, /archive_http_request_duration_seconds_bucket\{le="[\d.]+",method="GET",route="\/api\/v1\/items\/:id"\}/);
    assert.match(text, /archive_last_success_timestamp_seconds\{kind="fsck"\} \d{10}/);
    assert.match(text, /# TYPE archive_pages_captured_total counter/);
    assert.match(text, /# TYPE archive_ocr_confidence histogram/);
  });
});
