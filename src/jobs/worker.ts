/**
 * A worker process's poll loop: claims jobs for its handlers, runs up to `concurrency` at once,
 * keeps leases alive with heartbeats, and on stop() drains what it is running before returning.
 */
import type { Logger } from 'pino';
import { errorSpec } from '../errors';
import { withLogContext } from '../logger';
import type { Metrics } from '../metrics';
import type { JobDoc } from '../models/job.model';
import { newWorkerId, type JobQueue } from './queue';

export interface JobContext {
  job: JobDoc;
  logger: Logger;
  /** Aborted when the lease is lost (another worker may then own the job); stop() drains without aborting. */
  signal: AbortSignal;
  progress: (p: { stage?: string; done?: number; total?: number }) => Promise<void>;
}

export type JobHandler = (ctx: JobContext) => Promise<unknown>;

/** Progress writes (see Worker.runJob): a new stage after this long, a count within a stage after this. */
const PROGRESS_STAGE_MS = 250;
const PROGRESS_COUNT_MS = 1000;

/** Thrown (or any error with permanent: true) to fail a job without retrying: bad input stays bad. */
export class PermanentJobError extends Error {
  readonly permanent = true;
}

export interface WorkerOptions {
  concurrency?: number;
  pollMs?: number;
  heartbeatMs?: number;
  /** Called when a job of this worker ended (done, failed or given up): lets an in-process waiter look now instead of at its next poll. */
  onJobEnded?: () => void;
}

export class Worker {
  readonly id = newWorkerId();
  private readonly running = new Map<string, Promise<void>>();
  private stopping = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private readonly stopHooks: Array<() => Promise<void>> = [];

  constructor(
    private readonly queue: JobQueue,
    private readonly handlers: Record<string, JobHandler>,
    private readonly logger: Logger,
    private readonly metrics?: Metrics,
    private readonly opts: WorkerOptions = {},
  ) {}

  get busy(): number {
    return this.running.size;
  }

  start(): void {
    if (this.loop) return;
    this.loop = this.pollLoop();
    this.logger.info({ workerId: this.id, jobs: Object.keys(this.handlers), concurrency: this.concurrency }, 'worker started');
  }

  private get concurrency(): number {
    return this.opts.concurrency ?? 1;
  }

  /** Runs after the drain, e.g. to close the OCR worker pool. */
  onStopped(hook: () => Promise<void>): void {
    this.stopHooks.push(hook);
  }

  /** Nudges the loop to poll now (e.g. after an in-process enqueue). */
  poke(): void {
    this.wake?.();
  }

  private async pollLoop(): Promise<void> {
    const names = Object.keys(this.handlers);
    let lastPresence = 0;
    while (!this.stopping) {
      if (Date.now() - lastPresence > 5000) {
        lastPresence = Date.now();
        await this.queue.touchWorker(this.id, names).catch(() => undefined);
      }
      let claimed = false;
      if (this.running.size < this.concurrency) {
        try {
          const job = await this.queue.claim(names, this.id);
          if (job) {
            claimed = true;
            const key = String(job._id);
            const p = this.runJob(job).finally(() => {
              this.running.delete(key);
              this.poke();
              this.opts.onJobEnded?.();
            });
            this.running.set(key, p);
          }
        } catch (err) {
          this.logger.warn({ err }, 'claiming a job failed; will retry');
        }
      }
      if (!claimed || this.running.size >= this.concurrency) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, this.opts.pollMs ?? 500);
          this.wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
        this.wake = undefined;
      }
    }
  }

  private async runJob(job: JobDoc): Promise<void> {
    const handler = this.handlers[job.name];
    const abort = new AbortController();
    const log = this.logger.child({ jobId: String(job._id), job: job.name, attempt: job.attempts });
    const beat = setInterval(() => {
      this.queue
        .heartbeat(job._id, this.id)
        .then((ok) => {
          if (!ok) {
            log.warn('lease lost; abandoning job');
            abort.abort(new Error('lease lost'));
          }
        })
        .catch((err: unknown) => log.warn({ err }, 'heartbeat failed'));
    }, this.opts.heartbeatMs ?? Math.max(1000, Math.floor(this.queue.leaseMs / 3)));
    const started = Date.now();
    // Progress is for people watching: a new stage is written once it has lasted past the last
    // write by PROGRESS_STAGE_MS, a count within a stage once per PROGRESS_COUNT_MS. A one-page item
    // reported nine stages in about a second, nine database writes of 48 items' 2,569 commands in
    // bench:ocr. The heartbeat, not progress, keeps the lease.
    // A report held back is written when its wait is over (a destruction chunk's "2 of 6 done" may
    // be the last report for many seconds), or with the job's completion if that comes first.
    // Writes go one after another, so an older figure never lands after a newer one.
    let written = { at: 0, stage: undefined as string | undefined };
    let unwritten: Parameters<JobContext['progress']>[0] | undefined;
    let trailing: NodeJS.Timeout | undefined;
    let writes: Promise<void> = Promise.resolve();
    const write = (p: Parameters<JobContext['progress']>[0]): Promise<void> => {
      written = { at: Date.now(), stage: p.stage ?? written.stage };
      unwritten = undefined;
      clearTimeout(trailing);
      trailing = undefined;
      return (writes = writes.catch(() => undefined).then(() => this.queue.progress(job._id, this.id, p)));
    };
    const progress = (p: Parameters<JobContext['progress']>[0]): Promise<void> => {
      const now = Date.now();
      const wait = p.stage !== undefined && p.stage !== written.stage ? PROGRESS_STAGE_MS : PROGRESS_COUNT_MS;
      // Fields of skipped reports that this one does not repeat (a count, then a stage) go with it.
      const merged = { ...unwritten, ...p };
      if (now - written.at >= wait) return write(merged);
      unwritten = merged;
      if (!trailing) {
        trailing = setTimeout(() => {
          trailing = undefined;
          if (unwritten && !abort.signal.aborted) write(unwritten).catch((err: unknown) => log.warn({ err }, 'writing progress failed'));
        }, written.at + wait - now);
        trailing.unref();
      }
      return Promise.resolve();
    };
    try {
      if (!handler) throw new PermanentJobError(`no handler for job "${job.name}"`);
      const result = await withLogContext({ jobId: String(job._id) }, () =>
        handler({ job, logger: log, signal: abort.signal, progress: (p) => progress(p) }),
      );
      if (abort.signal.aborted) return;
      clearTimeout(trailing);
      await writes.catch(() => undefined);
      await this.queue.complete(job._id, this.id, result ?? null, unwritten);
      this.metrics?.jobs.inc({ name: job.name, outcome: 'done' });
      log.info({ ms: Date.now() - started }, 'job done');
    } catch (err) {
      if (abort.signal.aborted) return;
      const permanent = (err as { permanent?: unknown })?.permanent === true;
      const outcome = await this.queue.fail(job, this.id, err, { permanent }).catch((e: unknown) => {
        log.error({ err: e }, 'recording a job failure failed; the lease will expire and the job rerun');
        return 'retry' as const;
      });
      this.metrics?.jobs.inc({ name: job.name, outcome });
      const code = (err as { code?: unknown })?.code;
      this.metrics?.errors.inc({ code: typeof code === 'string' ? code : 'internal_error', source: 'job' });
      // A file that cannot be read (damaged, encrypted, not a scan) is the input's fault, and the item
      // says why: a line, not an error with a stack, in the server's log and in `archive ingest`'s terminal.
      const inputRefused = (errorSpec(err)?.status ?? 500) < 500;
      if (outcome === 'failed' && inputRefused) log.info({ code, reason: (err as Error)?.message }, 'job ended: the input was refused');
      else if (outcome === 'failed') log.error({ err }, 'job failed for good');
      else log.warn({ err: (err as Error)?.message }, 'job failed; will retry');
    } finally {
      clearInterval(beat);
      clearTimeout(trailing);
    }
  }

  /** Stops claiming, waits for running jobs up to timeoutMs, then hands unfinished ones back. */
  async stop(timeoutMs = 15_000): Promise<void> {
    this.stopping = true;
    this.poke();
    await this.loop;
    const inflight = [...this.running.values()];
    if (inflight.length) this.logger.info({ jobs: inflight.length }, 'draining running jobs');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      Promise.allSettled(inflight).then(() => false),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(true), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      for (const jobId of this.running.keys()) {
        const job = await this.queue.jobs.findById(jobId).lean<JobDoc>();
        if (job) await this.queue.release(job._id, this.id).catch(() => undefined);
      }
      this.logger.warn({ jobs: this.running.size }, 'drain timed out; unfinished jobs handed back to the queue');
    }
    await this.queue.removeWorker(this.id).catch(() => undefined);
    for (const hook of this.stopHooks) await hook().catch((err: unknown) => this.logger.warn({ err }, 'worker stop hook failed'));
    this.logger.info({ workerId: this.id }, 'worker stopped');
  }
}
