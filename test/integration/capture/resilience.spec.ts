import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { itemModel } from '../../../src/models/item.model';
import { ingestItem } from '../../../src/services/capture/intake';
import { openTestRuntime } from '../../helpers/runtime';
import { renderScan } from '../../helpers/scan';
import { REPO_ROOT, TEST_PORTS } from '../../helpers/services';

function startWorker(env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [path.join(REPO_ROOT, 'bin/archive.js'), 'worker'], {
    env: { ...process.env, ...env, LOG_LEVEL: 'warn' },
    // Nobody reads the worker's output here: a pipe that is never drained blocks the worker once full.
    stdio: ['ignore', 'ignore', 'ignore'],
  });
}

async function until(cond: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function services(cmd: 'stop-minio' | 'start-minio'): void {
  execFileSync('bash', [path.join(REPO_ROOT, 'scripts/services.sh'), cmd], {
    env: { ...process.env, ARCHIVE_DATA_DIR: process.env.ARCHIVE_DATA_DIR ?? path.join(REPO_ROOT, '.data/test'), ARCHIVE_MINIO_PORT: String(TEST_PORTS.minio), ARCHIVE_MINIO_CONSOLE_PORT: String(TEST_PORTS.minioConsole), ARCHIVE_MONGO_PORT: String(TEST_PORTS.mongo) },
    stdio: 'ignore',
  });
}

describe('capture resilience: killed workers and storage outages (real processes and services)', function () {
  this.timeout(300_000);
  let ctx: Awaited<ReturnType<typeof openTestRuntime>>;
  const workers: ChildProcess[] = [];

  before(async () => {
    ctx = await openTestRuntime({ JOB_LEASE_MS: '3000' });
  });
  after(async () => {
    for (const w of workers) w.kill('SIGKILL');
    services('start-minio');
    await ctx?.close();
  });

  it('a worker killed with SIGKILL mid-item: the item completes once after another worker starts', async () => {
    const pages = await Promise.all([1, 2, 3, 4].map((i) => renderScan([`工伤认定决定书 第${i}页`, '京人社工伤认字〔2019〕123号'], { dpi: 300 })));
    const res = await ingestItem(ctx.rt, { fonds: 'Z001', source: 'kill-test', channel: 'cli', files: pages.map((p, i) => ({ filename: `${i + 1}.png`, body: p })) });
    const id = String(res.item._id);
    const first = startWorker(ctx.env);
    workers.push(first);
    await until(async () => ((await ctx.rt.queue.get(res.jobId))?.progress?.done ?? 0) >= 1, 120_000, 'first page OCRed');
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    assert.notEqual((await itemModel(ctx.rt.db).findById(id).lean())!.status, 'filed');

    const second = startWorker(ctx.env);
    workers.push(second);
    await until(
      async () => ['filed', 'review'].includes((await itemModel(ctx.rt.db).findById(id).lean())!.status) && (await ctx.rt.queue.get(res.jobId))!.state === 'done',
      180_000,
      'item filed and its job done after restart',
    );
    second.kill('SIGTERM');
    const item = (await itemModel(ctx.rt.db).findById(id).lean())!;
    const job = (await ctx.rt.queue.get(res.jobId))!;
    assert.equal(item.pageCount, 4);
    assert.deepEqual(item.pages.map((p) => p.n), [1, 2, 3, 4]);
    assert.equal(job.state, 'done');
    assert.equal(job.attempts, 2, 'the killed attempt and the one that finished');
    assert.equal(await itemModel(ctx.rt.db).countDocuments({ source: 'kill-test' }), 1);
  });

  it('MinIO stopped mid-batch and started again: the batch completes', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const page = await renderScan([`失业保险待遇核定表 ${i}`], { dpi: 300 });
      ids.push(String((await ingestItem(ctx.rt, { fonds: 'Z001', source: `outage-${i}`, channel: 'cli', files: [{ filename: 'p.png', body: page }] })).item._id));
    }
    const w = startWorker({ ...ctx.env, JOB_LEASE_MS: '3000' });
    workers.push(w);
    await until(async () => (await ctx.rt.queue.jobs.countDocuments({ state: 'running' })) > 0, 60_000, 'a job running');
    services('stop-minio');
    await new Promise((r) => setTimeout(r, 3000));
    services('start-minio');
    await until(async () => (await itemModel(ctx.rt.db).countDocuments({ _id: { $in: ids }, status: { $in: ['filed', 'review'] } })) === 3, 240_000, 'all three filed');
    w.kill('SIGTERM');
    const failedJobs = await ctx.rt.queue.jobs.countDocuments({ state: 'failed' });
    assert.equal(failedJobs, 0);
  });
});
