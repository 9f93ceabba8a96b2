/**
 * The durable queue: enqueue with a dedupe key, claim with a lease, heartbeat, complete, or
 * fail with exponential back-off. Two workers never both own a job because a claim is an insert
 * into job_claims under a unique token (<jobId>:<claimSeq>): conditional updates are not atomic on
 * FerretDB 1.24, unique inserts are. A crash at any point leaves a claimable state (the lease expires).
 */
import { hostname } from 'node:os';
import { isDuplicateKey } from '../db';
import { randomBytes } from 'node:crypto';
import type { Connection, Model } from 'mongoose';
import { jobClaimModel, jobModel, type JobClaim, type JobDoc } from '../models/job.model';
import { DbClock } from './db-clock';

/** Orphaned claim tokens stepped over at most per claim (see insertClaim). */
const MAX_ORPHAN_CLAIMS = 5;

export interface EnqueueOptions {
  dedupeKey?: string;
  runAt?: Date;
  maxAttempts?: number;
}

export interface QueueOptions {
  leaseMs?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** This process's clock (tests skew it); every time the queue uses is the database's (db-clock.ts). */
  localClock?: () => number;
}

export class JobQueue {
  readonly jobs: Model<JobDoc>;
  private readonly claims: ReturnType<typeof jobClaimModel>;
  readonly leaseMs: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  readonly clock: DbClock;

  constructor(conn: Connection, opts: QueueOptions = {}) {
    this.clock = new DbClock(conn, opts.localClock ? { local: opts.localClock } : {});
    this.jobs = jobModel(conn);
    this.claims = jobClaimModel(conn);
    this.leaseMs = opts.leaseMs ?? 60_000;
    this.backoffBaseMs = opts.backoffBaseMs ?? 2_000;
    this.backoffMaxMs = opts.backoffMaxMs ?? 10 * 60_000;
  }

  /** Adds a job, or returns the existing one with the same dedupe key (idempotent). */
  async enqueue(name: string, payload: Record<string, unknown>, opts: EnqueueOptions = {}): Promise<JobDoc> {
    const dedupeKey = opts.dedupeKey ?? `${name}:${randomBytes(12).toString('hex')}`;
    try {
      const doc = await this.jobs.create({
        name,
        payload,
        dedupeKey,
        runAt: opts.runAt ?? (await this.clock.now()),
        maxAttempts: opts.maxAttempts ?? 5,
      });
      return doc.toObject() as JobDoc;
    } catch (err) {
      if (isDuplicateKey(err)) {
        const existing = await this.jobs.findOne({ dedupeKey }).lean<JobDoc>();
        if (existing) return existing;
      }
      throw err;
    }
  }

  /**
   * Takes the next due job of the given names, or one whose lease expired. Exclusive because
   * only one caller can insert the claim token for the job's next claimSeq (see job.model.ts).
   */
  async claim(names: string[], workerId: string): Promise<JobDoc | null> {
    const now = await this.clock.now();
    const candidates = await this.jobs
      .find({
        name: { $in: names },
        $or: [
          { state: 'queued', runAt: { $lte: now } },
          { state: 'running', lockedUntil: { $lt: now } },
        ],
      })
      .sort({ runAt: 1 })
      .limit(8)
      .lean<JobDoc[]>();
    // Start at a random candidate so concurrent claimers spread out instead of colliding on the first.
    const offset = candidates.length ? Math.floor(Math.random() * Math.min(candidates.length, 4)) : 0;
    for (const c of [...candidates.slice(offset), ...candidates.slice(0, offset)]) {
      const seq = await this.insertClaim(c, workerId, now);
      if (seq === null) continue; // someone else took this claim
      const claimed = {
        state: 'running' as const,
        claimSeq: seq,
        attempts: c.attempts + 1,
        lockedBy: workerId,
        lockedUntil: new Date(now.getTime() + this.leaseMs),
        startedAt: now,
      };
      await this.jobs.updateOne({ _id: c._id }, { $set: claimed });
      // The row as written, not read again: the claim token makes it ours, and the handler needs
      // only what the candidate read and this write hold (one command less per job).
      return { ...c, ...claimed };
    }
    return null;
  }

  /**
   * Inserts the claim token for the job's next claim; the token's number, or null when a live
   * claimer holds it. A claim is two writes (this token, then the job row naming it): a worker
   * killed between them, or a database restarted under it, leaves a token the job row never names,
   * and every later claimer would collide with it forever. So a token that the job row does not
   * name and that is older than the lease is an orphan (its claimer would have written the row at
   * once), and the next number is tried instead; exclusivity still comes from the unique insert.
   */
  private async insertClaim(c: JobDoc, workerId: string, now: Date): Promise<number | null> {
    for (let seq = c.claimSeq + 1; seq <= c.claimSeq + MAX_ORPHAN_CLAIMS; seq++) {
      try {
        await this.claims.create({ _id: `${String(c._id)}:${seq}`, jobId: c._id, worker: workerId, at: now });
        return seq;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
      const held = await this.claims.findById(`${String(c._id)}:${seq}`).lean<JobClaim>();
      if (held && held.at.getTime() + this.leaseMs > now.getTime()) return null;
      // Named by the job row (our candidate read is older than that claim): a real claim.
      const row = await this.jobs.findById(c._id, { claimSeq: 1 }).lean<Pick<JobDoc, 'claimSeq'>>();
      if (!row || row.claimSeq >= seq) return null;
    }
    return null;
  }

  /** Extends the lease; false means another worker took the job over (our lease had lapsed). */
  async heartbeat(jobId: JobDoc['_id'], workerId: string): Promise<boolean> {
    const res = await this.jobs.updateOne(
      { _id: jobId, state: 'running', lockedBy: workerId },
      { $set: { lockedUntil: new Date((await this.clock.now()).getTime() + this.leaseMs) } },
    );
    return res.matchedCount === 1;
  }

  async progress(jobId: JobDoc['_id'], workerId: string, progress: { stage?: string; done?: number; total?: number }): Promise<void> {
    const set: Record<string, unknown> = { lockedUntil: new Date((await this.clock.now()).getTime() + this.leaseMs) };
    for (const [k, v] of Object.entries(progress)) if (v !== undefined) set[`progress.${k}`] = v;
    await this.jobs.updateOne({ _id: jobId, lockedBy: workerId, state: 'running' }, { $set: set });
  }

  /** Marks the job done; `progress` is the last one reported when the worker did not write it yet. */
  async complete(jobId: JobDoc['_id'], workerId: string, result: unknown = null, progress?: { stage?: string; done?: number; total?: number }): Promise<boolean> {
    const last: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(progress ?? {})) if (v !== undefined) last[`progress.${k}`] = v;
    const res = await this.jobs.updateOne(
      { _id: jobId, lockedBy: workerId, state: 'running' },
      { $set: { ...last, state: 'done', result, finishedAt: await this.clock.now(), lockedBy: null, lockedUntil: null, lastError: null } },
    );
    if (res.matchedCount === 1) await this.claims.deleteMany({ jobId }).catch(() => undefined);
    return res.matchedCount === 1;
  }

  /** Records a failure: back to the queue with back-off, or failed for good after maxAttempts. */
  async fail(job: JobDoc, workerId: string, error: unknown, opts: { permanent?: boolean } = {}): Promise<'retry' | 'failed'> {
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    const final = opts.permanent === true || job.attempts >= job.maxAttempts;
    const delay = Math.min(this.backoffMaxMs, this.backoffBaseMs * 2 ** Math.max(0, job.attempts - 1));
    const now = await this.clock.now();
    await this.jobs.updateOne(
      { _id: job._id, lockedBy: workerId, state: 'running' },
      {
        $set: final
          ? { state: 'failed', lastError: message, finishedAt: now, lockedBy: null, lockedUntil: null }
          : { state: 'queued', lastError: message, runAt: new Date(now.getTime() + delay), lockedBy: null, lockedUntil: null },
      },
    );
    return final ? 'failed' : 'retry';
  }

  /** Hands a job back untouched (graceful shutdown): the attempt is not counted against it. */
  async release(jobId: JobDoc['_id'], workerId: string): Promise<void> {
    await this.jobs.updateOne(
      { _id: jobId, lockedBy: workerId, state: 'running' },
      { $set: { state: 'queued', lockedBy: null, lockedUntil: null, runAt: await this.clock.now() }, $inc: { attempts: -1 } },
      // claimSeq is left as it is: the next claim uses a fresh token.
    );
  }

  /** Worker presence, so the CLI can tell whether anyone will pick its jobs up. */
  async touchWorker(workerId: string, names: string[]): Promise<void> {
    await this.jobs.db.collection('workers').updateOne(
      { _id: workerId as never },
      { $set: { lastSeen: await this.clock.now(), names } },
      { upsert: true },
    );
  }

  async removeWorker(workerId: string): Promise<void> {
    await this.jobs.db.collection('workers').deleteOne({ _id: workerId as never });
  }

  async liveWorkers(name: string, withinMs = 15_000): Promise<number> {
    const now = await this.clock.now();
    return this.jobs.db.collection('workers').countDocuments({ names: name, lastSeen: { $gt: new Date(now.getTime() - withinMs) } });
  }

  async get(jobId: string): Promise<JobDoc | null> {
    return this.jobs.findById(jobId).lean<JobDoc>();
  }

  async counts(): Promise<Array<{ name: string; state: string; count: number }>> {
    const rows = await this.jobs.aggregate<{ _id: { name: string; state: string }; count: number }>([
      { $group: { _id: { name: '$name', state: '$state' }, count: { $sum: 1 } } },
    ]);
    return rows.map((r) => ({ name: r._id.name, state: r._id.state, count: r.count }));
  }
}

export function newWorkerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}
