/**
 * The shape every background pipeline follows (the item pipeline today; disposition and
 * integrity checks next): an ordered list of named stages over one subject. Each stage is
 * idempotent (safe to run again after a crash at any point, because each writes replace-all
 * keyed by the subject), reports its own progress, and says whether a failure ends the subject
 * (`failSubject`) once no retry is left. The error catalogue decides what is retryable.
 */
import { isRetryable } from '../../errors';
import type { Runtime } from '../../runtime';

export interface StageContext {
  rt: Runtime;
  /** The job's attempt number and its limit: the last attempt fails the subject for good. */
  attempt: { n: number; of: number };
  signal?: AbortSignal;
  progress: (p: { stage?: string; done?: number; total?: number }) => Promise<void>;
}

export interface Stage<S, R = unknown> {
  /** Shown in job progress and logs: `capture`, `filing`, `index` … */
  name: string;
  run(subject: S, ctx: StageContext, state: Partial<R>): Promise<void>;
}

export interface Pipeline<S, R> {
  name: string;
  stages: Array<Stage<S, R>>;
  /** Records a subject as failed for good (bad input, or the last attempt used up). */
  failSubject(rt: Runtime, subject: S, err: unknown): Promise<void>;
}

/**
 * Runs every stage in order and returns what they gathered. A failure is re-thrown for the queue
 * to retry; when it is not retryable, or this was the last attempt, the subject is failed first
 * and the error marked permanent so the queue does not try again.
 */
export async function runPipeline<S, R>(p: Pipeline<S, R>, subject: S, ctx: StageContext): Promise<Partial<R>> {
  const state: Partial<R> = {};
  const ms: Record<string, number> = {};
  try {
    for (const stage of p.stages) {
      await ctx.progress({ stage: stage.name });
      const t0 = Date.now();
      await stage.run(subject, ctx, state);
      ms[stage.name] = Date.now() - t0;
    }
    // Where a job's time goes, stage by stage (bench:ocr's profile).
    ctx.rt.logger.debug({ pipeline: p.name, ms }, 'pipeline stages');
    return state;
  } catch (err) {
    const retryable = isRetryable(err);
    if (!retryable || ctx.attempt.n >= ctx.attempt.of) await p.failSubject(ctx.rt, subject, err);
    if (!retryable && err && typeof err === 'object') Object.assign(err, { permanent: true });
    throw err;
  }
}
