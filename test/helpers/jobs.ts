/**
 * Runs the real job handlers in-process (the same pipeline `archive worker` runs) until a
 * condition holds, then stops the worker. The handlers — and the OCR pool they open — live as long
 * as the runtime, as in `archive worker`: a spec that drains several times starts tesseract (and
 * loads its language models) once, not each time; the pool closes when the runtime does.
 */
import { buildJobHandlers, type JobHandlers } from '../../src/jobs/registry';
import { Worker } from '../../src/jobs/worker';
import type { Runtime } from '../../src/runtime';

const pools = new WeakMap<Runtime, JobHandlers>();

function handlersOf(rt: Runtime): JobHandlers {
  let jobs = pools.get(rt);
  if (!jobs) {
    const opened = buildJobHandlers(rt);
    jobs = opened;
    pools.set(rt, opened);
    const closeRuntime = rt.close;
    rt.close = async () => {
      pools.delete(rt);
      await opened.close();
      await closeRuntime();
    };
  }
  return jobs;
}

export async function drainUntil(rt: Runtime, done: () => Promise<boolean>, opts: { timeoutMs?: number; what?: string } = {}): Promise<void> {
  const jobs = handlersOf(rt);
  const worker = new Worker(rt.queue, jobs.handlers, rt.logger, undefined, { concurrency: 1, pollMs: 50 });
  worker.start();
  const deadline = Date.now() + (opts.timeoutMs ?? 150_000);
  try {
    while (!(await done())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for the pipeline${opts.what ? `: ${opts.what}` : ''}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await worker.stop(30_000);
  }
}
