/**
 * Destruction of a list as a queued job (issue #11 §4 at scale): progress (items done of total,
 * stage) readable from the list while a worker runs it, and a run whose worker was killed is
 * resumed by the next worker that claims the job, to the same end state. Real FerretDB, MinIO
 * and job queue; the kill is simulated as the crash tests of workflow.spec.ts do (the handler
 * stops after a stage, and the worker never reports back: its lease runs out).
 */
import assert from 'node:assert/strict';
import { itemModel, type ItemDoc } from '../../../src/models/item.model';
import { registerModel } from '../../../src/models/disposition.model';
import { Worker } from '../../../src/jobs/worker';
import {
  closeRound,
  createList,
  DISPOSAL_EXECUTE_JOB,
  EXEC_STAGES,
  fileList,
  getList,
  giveOpinions,
  openRound,
  queueExecution,
  runExecutionJob,
  signList,
  startExecution,
} from '../../../src/services/disposition';
import { testLogger } from '../../helpers/logger';
import { openTestRuntime, serveTestApp } from '../../helpers/runtime';
import { actor, makeDueItem, readableBlobs, type Actor } from '../../helpers/disposition';

const PASSWORD = 'Queue-Staple-47';

describe('disposition: destruction as a queued job — progress mid-run, resumed after a killed worker', function () {
  this.timeout(180_000);
  let ctx: Awaited<ReturnType<typeof openTestRuntime>>;
  let co: Actor;
  let n = 0;

  before(async () => {
    // A short lease, so a killed worker's job is claimable again within the test.
    ctx = await openTestRuntime({ ARCHIVE_DISPOSAL_COOLING_DAYS: '0', JOB_LEASE_MS: '1500' });
    co = await actor(ctx.rt, 'q.co', 'compliance_officer');
  });
  after(async () => ctx?.close());

  /** n due items through round, 清册, approvals and a started execution. */
  async function started(count: number) {
    const rt = ctx.rt;
    const k = ++n;
    const g = {
      m1: await actor(rt, `q.m1.${k}`, 'appraisal_member'),
      m2: await actor(rt, `q.m2.${k}`, 'appraisal_member'),
      head: await actor(rt, `q.head.${k}`, 'agency_head'),
      s1: await actor(rt, `q.s1.${k}`, 'disposal_supervisor', { password: PASSWORD }),
      s2: await actor(rt, `q.s2.${k}`, 'disposal_supervisor'),
    };
    const ids: string[] = [];
    for (let i = 0; i < count; i++) ids.push(await makeDueItem(rt));
    const keys: string[] = [];
    for (const id of ids) {
      const it = (await itemModel(rt.db).findById(id).lean<ItemDoc>())!;
      keys.push(it.originals[0]!.blobKey, it.pages[0]!.imageKey!, it.pages[0]!.textKey!, it.pdfKey!, `items/${id}/thumbs/1.jpg`);
    }
    const round = await openRound(rt, co.p, { title: `排队鉴定 ${k}`, members: [{ username: g.m1.p.username, capacity: 'archivist' }, { username: g.m2.p.username, capacity: 'business_staff' }], itemIds: ids });
    for (const m of [g.m1, g.m2]) await giveOpinions(rt, m.p, round.id, ids.map((itemId) => ({ itemId, opinion: 'destroy' as const, reason: '保管期满，已无查考价值' })));
    await closeRound(rt, co.p, round.id);
    const listId = (await createList(rt, co.p, { roundId: round.id })).id;
    await signList(rt, g.m1.p, listId, { step: 'appraisal', totp: await g.m1.code() });
    await signList(rt, g.m2.p, listId, { step: 'appraisal', totp: await g.m2.code() });
    await fileList(rt, co.p, listId, { date: '2026-11-20', reference: '人社档备〔2026〕31号' });
    await signList(rt, g.head.p, listId, { step: 'head', totp: await g.head.code() });
    await startExecution(rt, g.s1.p, listId, { supervisors: [{ username: g.s1.p.username, totp: await g.s1.code() }, { username: g.s2.p.username, totp: await g.s2.code() }] });
    return { g, ids, keys, listId };
  }

  function worker() {
    const w = new Worker(ctx.rt.queue, { [DISPOSAL_EXECUTE_JOB]: (c) => runExecutionJob(ctx.rt, c) }, testLogger, undefined, { pollMs: 50, heartbeatMs: 500 });
    w.start();
    return w;
  }

  /** Reads the list as the execution console does until the run is finished; every view seen. */
  async function watch(listId: string) {
    const seen: Array<{ state: string; stage: string | null; done: number; total: number; destroyed: number }> = [];
    const until = Date.now() + 120_000;
    for (;;) {
      const v = await getList(ctx.rt, listId);
      const r = v.execution!.run!;
      seen.push({ state: r.state, stage: r.stage, done: r.done, total: r.total, destroyed: v.execution!.destroyed });
      if (r.state === 'done' || r.state === 'failed') return seen;
      assert.ok(Date.now() < until, `the run did not finish: ${JSON.stringify(seen.at(-1))}`);
      await new Promise((res) => setTimeout(res, 30));
    }
  }

  it('queued over the API (202), one live run per list; progress (done of total, stage) readable on the list while a worker runs it; every item destroyed', async () => {
    const rt = ctx.rt;
    const { g, keys, listId } = await started(6);
    const server = await serveTestApp(rt);
    try {
      const login = await fetch(`${server.base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: g.s1.p.username, password: PASSWORD, totp: await g.s1.code() }) });
      assert.equal(login.status, 200, await login.clone().text());
      const token = ((await login.json()) as { token: string }).token;
      const call = (method: string, path: string, body?: unknown) => fetch(`${server.base}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body ? JSON.stringify(body) : undefined });
      // A small list runs within the request unless asked to queue; here the run is queued (in chunks of 2 items).
      const jobId = String((await queueExecution(rt, g.s1.p, listId, { batch: 2 })).jobId);
      const res = await call('POST', `/api/v1/disposal/lists/${listId}/execution/run`, { queue: true });
      assert.equal(res.status, 202);
      const queued = (await res.json()) as any;
      assert.deepEqual([queued.jobId, queued.state], [jobId, 'queued'], 'the live run is returned, not a second one');
      const ex = await call('GET', `/api/v1/disposal/lists/${listId}/execution`);
      assert.equal(ex.status, 200);
      assert.equal(((await ex.json()) as any).run.jobId, jobId);
    } finally {
      await server.close();
    }
    const w = worker();
    try {
      const seen = await watch(listId);
      const mid = seen.filter((s) => s.state === 'running' && s.done > 0 && s.done < 6);
      assert.ok(mid.length > 0, `no view mid-run: ${JSON.stringify(seen)}`);
      assert.ok(mid.every((s) => s.total === 6 && (EXEC_STAGES as readonly string[]).includes(s.stage!)), JSON.stringify(mid));
      const last = seen.at(-1)!;
      assert.deepEqual([last.state, last.done, last.total, last.destroyed], ['done', 6, 6, 6]);
    } finally {
      await w.stop();
    }
    assert.deepEqual(await readableBlobs(rt, keys), []);
    const v = await getList(rt, listId);
    assert.equal(v.execution!.pending, 0);
  });

  it('a worker killed mid-run (after shredding its second chunk) loses its lease; the next worker resumes the job to the same end state', async () => {
    const rt = ctx.rt;
    const { g, ids, keys, listId } = await started(4);
    await queueExecution(rt, g.s1.p, listId, { batch: 2 });
    // Worker A claims the job and dies right after the shred stage of the second chunk: it never
    // reports back (no fail, no complete), as a killed process would not.
    const job = (await rt.queue.claim([DISPOSAL_EXECUTE_JOB], 'killed-worker'))!;
    assert.ok(job);
    await assert.rejects(
      runExecutionJob(rt, { job, signal: new AbortController().signal, progress: (p) => rt.queue.progress(job._id, 'killed-worker', p) }, { crash: { stage: 'shred', itemId: ids[2] } }),
      /simulated crash/,
    );
    const mid = (await getList(rt, listId)).execution!;
    assert.deepEqual([mid.run!.state, mid.run!.stage, mid.run!.done, mid.run!.total, mid.destroyed, mid.pending], ['running', 'shred', 2, 4, 2, 2]);
    assert.equal((await readableBlobs(rt, keys)).length, 0, 'the second chunk was shredded before the kill');
    const w = worker();
    try {
      const seen = await watch(listId);
      const last = seen.at(-1)!;
      assert.deepEqual([last.state, last.done, last.total, last.destroyed], ['done', 4, 4, 4]);
    } finally {
      await w.stop();
    }
    const v = await getList(rt, listId);
    assert.equal(v.execution!.run!.attempts, 2, 'claimed again after the lease ran out');
    assert.equal(v.execution!.pending, 0);
    for (const id of ids) assert.equal((await itemModel(rt.db).findById(id).lean<ItemDoc>())!.status, 'destroyed');
    assert.equal(await registerModel(rt.db).countDocuments({ listId }), 4);
    assert.deepEqual(await readableBlobs(rt, keys), []);
  });
});
