/**
 * Destruction of a large list as a queued job (jobs/queue.ts): a supervisor queues the run, a
 * worker executes it chunk by chunk (execute.ts runExecution) and records its progress (items
 * done of total, the stage of the chunk at hand) on the job, which the list's view shows
 * (GET /api/v1/disposal/lists/:id → execution.run). A worker killed at any point loses its lease;
 * another worker claims the job and runs it again, which resumes it: every stage is idempotent
 * and items already done are not touched again. Small lists may still run in the caller's
 * process (runExecution directly), as the CLI does with `disposal execute`.
 */
import { AppError } from '../../errors';
import { executionModel, type ExecutionDoc } from '../../models/disposition.model';
import type { Runtime } from '../../runtime';
import { toPrincipal, type Principal } from '../access';
import { audit, refuse } from './common';
import { runExecution, type CrashPoint, type RunReport } from './execute';
import { runView, type RunView } from './lists';

export const DISPOSAL_EXECUTE_JOB = 'disposal.execute';

/** Lists with at most this many items left may run within the request or command (API, CLI); longer ones are queued. */
export const INLINE_MAX_ITEMS = 200;

/** A run of many chunks is long: a worker killed many times over still finishes it. */
const MAX_ATTEMPTS = 20;

export interface ExecutionJobPayload {
  listId: string;
  /** the supervisor who queued the run: the job runs as them (runExecution checks they supervise the list) */
  userId: string;
  username: string;
  /** items per chunk (runExecution's batch); default there */
  batch?: number;
}

/**
 * Queues the destruction run of a started list, or returns the run already queued or running
 * (one live run per list). Only the list's supervisors may.
 */
export async function queueExecution(rt: Runtime, who: Principal, listId: string, opts: { batch?: number } = {}): Promise<RunView> {
  const object = { type: 'destruction_list', id: listId };
  const exec = await executionModel(rt.db).findById(listId).lean<ExecutionDoc>();
  if (!exec) throw new AppError('conflict', { message: 'Destruction has not been started (two supervisors start it)', zh: '销毁尚未启动（须由两名监销人启动）' });
  if (!exec.supervisors.some((s) => s.userId === who.id)) await refuse(rt, who, 'disposal.execute.queue', object, 'not_a_supervisor', { en: 'Only this list\'s supervisors run its destruction', zh: '只有本清册的监销人可以执行销毁' });
  const current = await runView(rt, exec.jobId);
  if (current && (current.state === 'queued' || current.state === 'running')) return current;
  // A fresh dedupe key per queued run (the previous one finished or failed); two callers racing
  // here compute the same key, so only one job is made.
  const n = await rt.queue.jobs.countDocuments({ name: DISPOSAL_EXECUTE_JOB, 'payload.listId': listId });
  const payload: ExecutionJobPayload = { listId, userId: who.id, username: who.username, ...(opts.batch ? { batch: opts.batch } : {}) };
  const job = await rt.queue.enqueue(DISPOSAL_EXECUTE_JOB, payload as unknown as Record<string, unknown>, { dedupeKey: `${DISPOSAL_EXECUTE_JOB}:${listId}:${n + 1}`, maxAttempts: MAX_ATTEMPTS });
  await executionModel(rt.db).updateOne({ _id: listId }, { $set: { jobId: String(job._id) } });
  await audit(rt, who, 'disposal.execute.queue', object, 'success', { jobId: String(job._id) });
  return (await runView(rt, String(job._id)))!;
}

/** What a job handler gets from the worker (jobs/worker.ts JobContext, the parts used here). */
export interface ExecutionJobContext {
  job: { payload: unknown };
  signal: AbortSignal;
  progress: (p: { stage?: string; done?: number; total?: number }) => Promise<void>;
}

/**
 * The worker's handler: runs (resumes) the list's destruction as the supervisor who queued it,
 * reporting progress on the job at every stage of every chunk. `crash` is for the resumption
 * tests only (a worker killed after that stage).
 */
export async function runExecutionJob(rt: Runtime, ctx: ExecutionJobContext, test: { crash?: CrashPoint } = {}): Promise<RunReport> {
  const p = ctx.job.payload as ExecutionJobPayload;
  const user = await rt.auth.findUser(p.username);
  if (!user || String(user._id) !== p.userId) throw Object.assign(new AppError('conflict', { message: `The supervisor ${p.username} who queued the run no longer exists`, zh: `排队执行的监销人 ${p.username} 已不存在` }), { permanent: true });
  return runExecution(rt, toPrincipal(user), p.listId, {
    batch: p.batch,
    signal: ctx.signal,
    crash: test.crash,
    onProgress: (pr) => ctx.progress({ stage: pr.stage, done: pr.done, total: pr.total }),
  });
}
