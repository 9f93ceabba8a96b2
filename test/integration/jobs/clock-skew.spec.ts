/**
 * Clock skew between workers (issue #15 §1): two queues on one database, one on a machine whose
 * clock runs ten minutes ahead. Leases and run-at times are in the database's clock, so the fast
 * one neither takes over a job whose lease is still running nor delays the jobs it enqueues.
 */
import assert from 'node:assert/strict';
import type { Connection } from 'mongoose';
import { JobQueue } from '../../../src/jobs/queue';
import { dropTestDb, openTestDb, prepareModels } from '../../helpers/db';

const AHEAD = 10 * 60_000;

describe('job queue under clock skew between workers (real FerretDB)', () => {
  let conn: Connection;
  let honest: JobQueue;
  let fast: JobQueue;

  before(async () => {
    conn = await openTestDb('clock-skew');
    await prepareModels(conn);
    honest = new JobQueue(conn, { leaseMs: 60_000 });
    fast = new JobQueue(conn, { leaseMs: 60_000, localClock: () => Date.now() + AHEAD });
  });
  after(() => dropTestDb(conn));
  beforeEach(() => honest.jobs.deleteMany({}));

  it('measures its offset from the database server (about minus ten minutes on the fast machine)', async () => {
    await fast.clock.sync();
    await honest.clock.sync();
    assert.ok(Math.abs(fast.clock.offsetMs + AHEAD) < 5_000, `offset ${fast.clock.offsetMs} ms`);
    assert.ok(Math.abs(honest.clock.offsetMs) < 5_000, `offset ${honest.clock.offsetMs} ms`);
  });

  it('a worker whose clock runs ahead does not take a job whose lease is still running', async () => {
    await honest.enqueue('t', { n: 1 });
    const mine = await honest.claim(['t'], 'honest-worker');
    assert.ok(mine, 'the honest worker holds the job');
    assert.equal(await fast.claim(['t'], 'fast-worker'), null, 'the lease runs for a minute more in the database\'s time');
    assert.equal(await fast.heartbeat(mine!._id, 'fast-worker'), false);
    assert.equal(await honest.heartbeat(mine!._id, 'honest-worker'), true);
  });

  it('a job enqueued by the fast worker is due at once for everybody', async () => {
    const job = await fast.enqueue('t', { n: 2 });
    assert.ok(job.runAt.getTime() < Date.now() + 5_000, `runAt ${job.runAt.toISOString()} is not in the future`);
    const got = await honest.claim(['t'], 'honest-worker');
    assert.equal(String(got?._id), String(job._id));
  });

  it('worker presence written by the fast worker is not "from the future" for the others', async () => {
    await fast.touchWorker('fast-worker', ['t']);
    const seen = await honest.jobs.db.collection('workers').findOne({ _id: 'fast-worker' as never });
    assert.ok(Math.abs((seen!.lastSeen as Date).getTime() - Date.now()) < 5_000);
    assert.equal(await honest.liveWorkers('t'), 1);
  });
});
