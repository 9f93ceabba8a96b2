/**
 * The integrity room's background work: the periodic 四性 check (长期保存环节, DA/T 70-2018) and the
 * per-batch check at capture. Both run as queue jobs in short slices: a slice stops as soon as an
 * OCR job is waiting (ingest always goes first) or after SLICE_MS, and a continuation job picks the
 * run up from its stored cursor. So the checks never hold a worker slot that ingest needs.
 */
import { createHash } from 'node:crypto';
import type { JobDoc } from '../../models/job.model';
import { itemModel } from '../../models/item.model';
import type { Runtime } from '../../runtime';
import { checkFourProperties } from './four-properties';
import { PIPELINE_JOB } from './fsck';

export const FOUR_PROPERTIES_JOB = 'integrity.four-properties';
export const CAPTURE_CHECK_JOB = 'integrity.capture-check';
const SLICE_MS = 20_000;
const YIELD_DELAY_MS = 60_000;
const CAPTURE_POLL_MS = 20_000;
/** A capture batch still unfinished after this many polls (~2 h) is checked as it is. */
const CAPTURE_MAX_POLLS = 360;

async function ingestWaiting(rt: Runtime): Promise<boolean> {
  return (await rt.queue.jobs.countDocuments({ name: PIPELINE_JOB, state: 'queued', runAt: { $lte: new Date() } })) > 0;
}

/** Enqueues this period's 四性 run (idempotent: one per period, whichever worker starts first). */
export async function scheduleFourProperties(rt: Runtime, intervalMs: number): Promise<void> {
  if (intervalMs <= 0) return;
  const period = Math.floor(Date.now() / intervalMs);
  await rt.queue.enqueue(FOUR_PROPERTIES_JOB, { period, intervalMs }, { dedupeKey: `${FOUR_PROPERTIES_JOB}:${period}`, maxAttempts: 3 });
}

/** Enqueues the 四性 check of an ingest batch; it waits for the batch's pipeline to finish. */
export async function enqueueCaptureCheck(rt: Runtime, itemIds: string[]): Promise<void> {
  if (!itemIds.length) return;
  const key = createHash('sha256').update([...itemIds].sort().join(',')).digest('hex').slice(0, 24);
  await rt.queue.enqueue(CAPTURE_CHECK_JOB, { itemIds, polls: 0 }, { dedupeKey: `${CAPTURE_CHECK_JOB}:${key}:0`, runAt: new Date(Date.now() + CAPTURE_POLL_MS), maxAttempts: 3 });
}

export function integrityJobHandlers(rt: Runtime): Record<string, (job: JobDoc) => Promise<unknown>> {
  return {
    [FOUR_PROPERTIES_JOB]: async (job) => {
      const p = (job.payload ?? {}) as { period?: number; intervalMs?: number; runId?: string; slice?: number };
      const r = await checkFourProperties(rt, { trigger: 'periodic', resume: p.runId, budgetMs: SLICE_MS, shouldYield: () => ingestWaiting(rt) });
      if (!r.complete) {
        const slice = (p.slice ?? 0) + 1;
        const yielded = await ingestWaiting(rt);
        await rt.queue.enqueue(FOUR_PROPERTIES_JOB, { ...p, runId: r.runId, slice }, { dedupeKey: `${FOUR_PROPERTIES_JOB}:${p.period ?? 'manual'}:${r.runId}:${slice}`, runAt: new Date(Date.now() + (yielded ? YIELD_DELAY_MS : 0)), maxAttempts: 3 });
        return { runId: r.runId, complete: false, items: r.items, yielded };
      }
      if (p.period !== undefined && p.intervalMs) {
        const next = p.period + 1;
        await rt.queue.enqueue(FOUR_PROPERTIES_JOB, { period: next, intervalMs: p.intervalMs }, { dedupeKey: `${FOUR_PROPERTIES_JOB}:${next}`, runAt: new Date(next * p.intervalMs), maxAttempts: 3 });
      }
      return { runId: r.runId, complete: true, ok: r.ok, items: r.items };
    },
    [CAPTURE_CHECK_JOB]: async (job) => {
      const p = (job.payload ?? {}) as { itemIds?: string[]; polls?: number };
      const ids = (p.itemIds ?? []).map(String);
      const busy = await itemModel(rt.db).countDocuments({ _id: { $in: ids }, status: { $in: ['received', 'processing'] } });
      const polls = p.polls ?? 0;
      if (busy > 0 && polls < CAPTURE_MAX_POLLS) {
        const key = job.dedupeKey.replace(/:\d+$/, '');
        await rt.queue.enqueue(CAPTURE_CHECK_JOB, { itemIds: ids, polls: polls + 1 }, { dedupeKey: `${key}:${polls + 1}`, runAt: new Date(Date.now() + CAPTURE_POLL_MS), maxAttempts: 3 });
        return { waiting: busy };
      }
      const r = await checkFourProperties(rt, { trigger: 'capture', itemIds: ids, handover: { count: ids.length } });
      return { runId: r.runId, ok: r.ok };
    },
  };
}
