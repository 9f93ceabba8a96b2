import assert from 'node:assert/strict';
import type { Connection } from 'mongoose';
import { JobQueue } from '../../../src/jobs/queue';
import { jobClaimModel } from '../../../src/models/job.model';
import { PermanentJobError, Worker } from '../../../src/jobs/worker';
import { dropTestDb, openTestDb, prepareModels } from '../../helpers/db';
import { testLogger } from '../../helpers/logger';

describe('durable job queue (real FerretDB)', () => {
  let conn: Connection;
  let queue: JobQueue;

  before(async () => {
    conn = await openTestDb('queue');
    queue = new JobQueue(conn, { leaseMs: 400, backoffBaseMs: 50 });
    await prepareModels(conn);
  });
  after(() => dropTestDb(conn));
  beforeEach(() => queue.jobs.deleteMany({}));

  it('enqueue with the same dedupe key returns the same job', async () => {
    const a = await queue.enqueue('ocr.item', { itemId: 'x' }, { dedupeKey: 'ocr:x' });
    const b = await queue.enqueue('ocr.item', { itemId: 'x' }, { dedupeKey: 'ocr:x' });
    assert.equal(String(a._id), String(b._id));
    assert.equal(await queue.jobs.countDocuments({}), 1);
  });

  it('two workers claiming at once never get the same job', async () => {
    // A lease longer than the test: on a loaded machine 20 rounds can outlast a short lease, and an
    // expired lease rightly makes a job claimable again, which is not what this test is about.
    const queue = new JobQueue(conn, { leaseMs: 120_000 });
    for (let i = 0; i < 10; i++) await queue.enqueue('t', { i });
    const ids: string[] = [];
    for (let round = 0; round < 20 && ids.length < 10; round++) {
      const claims = await Promise.all(Array.from({ length: 8 }, (_, k) => queue.claim(['t'], `w${k}`)));
      ids.push(...claims.filter((c) => c !== null).map((c) => String(c!._id)));
    }
    assert.equal(ids.length, 10, 'every job claimed exactly once');
    assert.equal(new Set(ids).size, 10, 'no job claimed twice');
  });

  it('an expired lease makes the job claimable again, and the old owner can no longer complete it', async () => {
    await queue.enqueue('t', {});
    const first = await queue.claim(['t'], 'dead-worker');
    assert.ok(first);
    assert.equal(await queue.claim(['t'], 'other'), null, 'leased job must not be claimable');
    await new Promise((r) => setTimeout(r, 450));
    const second = await queue.claim(['t'], 'other');
    assert.ok(second);
    assert.equal(second!.attempts, 2);
    assert.equal(await queue.complete(first!._id, 'dead-worker'), false);
    assert.equal(await queue.complete(second!._id, 'other'), true);
  });

  it('a worker killed between its claim token and the job update does not wedge the job (found by the 1,000-item fault run)', async () => {
    // The claim is two writes: the unique token <jobId>:<seq>, then the job row. A worker killed
    // (or a database restarted) between them leaves a token the job row never names; every later
    // claimer used to collide with it forever. A fresh token is still respected (its claimer may
    // be writing the job row right now); one older than the lease is an orphan and is stepped over.
    const job = await queue.enqueue('t', {});
    await jobClaimModel(conn).create({ _id: `${String(job._id)}:1`, jobId: job._id, worker: 'killed-mid-claim', at: new Date() });
    assert.equal(await queue.claim(['t'], 'other'), null, 'a token younger than the lease belongs to a live claimer');
    await new Promise((r) => setTimeout(r, 450));
    const taken = await queue.claim(['t'], 'other');
    assert.ok(taken, 'the orphaned token no longer blocks the job');
    assert.equal(taken!.claimSeq, 2);
    assert.equal(taken!.lockedBy, 'other');
    assert.equal(await queue.claim(['t'], 'third'), null, 'and the new claim is exclusive as before');
    assert.equal(await queue.complete(taken!._id, 'other'), true);
  });

  it('a failure is retried with back-off and fails for good after maxAttempts', async () => {
    await queue.enqueue('t', {}, { maxAttempts: 2 });
    const j1 = await queue.claim(['t'], 'w');
    assert.equal(await queue.fail(j1!, 'w', new Error('boom')), 'retry');
    const queued = await queue.jobs.findById(j1!._id).lean();
    assert.equal(queued!.state, 'queued');
    assert.ok(queued!.runAt.getTime() > Date.now(), 'back-off pushes runAt into the future');
    assert.equal(await queue.claim(['t'], 'w'), null);
    await new Promise((r) => setTimeout(r, 80));
    const j2 = await queue.claim(['t'], 'w');
    assert.equal(await queue.fail(j2!, 'w', new Error('boom again')), 'failed');
    const failed = await queue.jobs.findById(j1!._id).lean();
    assert.equal(failed!.state, 'failed');
    assert.match(failed!.lastError!, /boom again/);
  });

  it('a worker runs jobs, records progress, fails permanent errors at once, and drains on stop', async () => {
    let ran = 0;
    let okStarted = false;
    const worker = new Worker(
      queue,
      {
        ok: async (ctx) => {
          okStarted = true;
          await ctx.progress({ stage: 'ocr', done: 1, total: 2 });
          await new Promise((r) => setTimeout(r, 150));
          ran++;
          return { fine: true };
        },
        bad: async () => {
          throw new PermanentJobError('unreadable file');
        },
      },
      testLogger,
      undefined,
      { concurrency: 2, pollMs: 20 },
    );
    const ok = await queue.enqueue('ok', {});
    const bad = await queue.enqueue('bad', {}, { maxAttempts: 5 });
    worker.start();
    // Stop while `ok` runs and after `bad` failed: waits for those events, not a fixed time (a loaded
    // machine can take longer than any fixed pause to claim).
    for (let i = 0; i < 500 && !(okStarted && (await queue.get(String(bad._id)))?.state === 'failed'); i++) await new Promise((r) => setTimeout(r, 20));
    await worker.stop(5000);
    const okDone = await queue.get(String(ok._id));
    const badDone = await queue.get(String(bad._id));
    assert.equal(ran, 1);
    assert.equal(okDone!.state, 'done', 'a job running at stop() is drained to completion');
    assert.deepEqual(okDone!.result, { fine: true });
    assert.equal(okDone!.progress!.total, 2);
    assert.equal(badDone!.state, 'failed');
    assert.equal(badDone!.attempts, 1);
  });

  it('progress reported faster than people read is written sparingly, and the last report is kept at completion', async () => {
    const writes: unknown[] = [];
    const counting = Object.create(queue) as JobQueue;
    counting.progress = async (...args: Parameters<JobQueue['progress']>) => {
      writes.push(args[2]);
      return queue.progress(...args);
    };
    const worker = new Worker(counting, {
      burst: async (ctx) => {
        // Nine stages and twenty counts within a few milliseconds, as a one-page item reports them.
        for (const stage of ['capture', 'qc', 'filing', 'audit', 'dossier', 'index', 'merge', 'pdf', 'done']) await ctx.progress({ stage });
        for (let done = 1; done <= 20; done++) await ctx.progress({ stage: 'done', done, total: 20 });
        return null;
      },
    }, testLogger, undefined, { concurrency: 1, pollMs: 20 });
    const job = await queue.enqueue('burst', {});
    worker.start();
    for (let i = 0; i < 250 && (await queue.get(String(job._id)))?.state !== 'done'; i++) await new Promise((r) => setTimeout(r, 20));
    await worker.stop(5000);
    const doneJob = await queue.get(String(job._id));
    assert.equal(doneJob!.state, 'done');
    assert.ok(writes.length <= 2, `${writes.length} progress writes for 29 reports`);
    assert.deepEqual(doneJob!.progress, { stage: 'done', done: 20, total: 20 });
  });

  it('a report held back because it came too soon is written once its wait is over, not only with the next report', async () => {
    // A destruction chunk reports "2 of 6 done" right after "0 of 6"; the next report may be
    // many seconds away. The console must show 2 of 6 within the wait, not at the end.
    // A lease longer than the test: on a loaded machine a late heartbeat loses a 400 ms lease,
    // and a worker that lost its lease rightly writes nothing more.
    const queue = new JobQueue(conn, { leaseMs: 120_000 });
    let release!: () => void;
    const hold = new Promise<void>((r) => (release = r));
    const worker = new Worker(queue, {
      slow: async (ctx) => {
        await ctx.progress({ stage: 'shred', done: 0, total: 6 });
        await ctx.progress({ stage: 'shred', done: 2, total: 6 });
        await hold;
        return null;
      },
    }, testLogger, undefined, { concurrency: 1, pollMs: 20 });
    const job = await queue.enqueue('slow', {});
    worker.start();
    try {
      let seen: unknown;
      for (const until = Date.now() + 10_000; Date.now() < until; ) {
        const j = await queue.get(String(job._id));
        seen = j?.progress;
        if (j?.state === 'running' && (j.progress as { done?: number } | undefined)?.done === 2) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.deepEqual(seen, { stage: 'shred', done: 2, total: 6 }, 'the held-back count was written while the job still ran');
      assert.equal((await queue.get(String(job._id)))!.state, 'running');
    } finally {
      release();
      await worker.stop(5000);
    }
    assert.equal((await queue.get(String(job._id)))!.state, 'done');
  });
});
