/**
 * Runs the real job handlers in-process (the same pipeline `archive worker` runs) until a
 * condition holds, then stops the worker and closes the OCR pool.
 */
import { buildJobHandlers } from '../../src/jobs/registry';
import { Worker } from '../../src/jobs/worker';
import type { Runtime } from '../../src/runtime';

export async function drainUntil(rt: Runtime, done: () => Promise<boolean>, opts: { timeoutMs?: number; what?: string } = {}): Promise<void> {
  const jobs = buildJobHandlers(rt);
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
    await jobs.close();
  }
}
