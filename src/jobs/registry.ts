/**
 * Job name → handler: the one list of what a worker can do. The work itself is a pipeline of
 * named stages (services/pipeline); this file only binds a job to one. Resources a handler needs
 * for its whole life (the OCR worker pool) are opened lazily and closed with the worker.
 */
import { createOcrEngine, type OcrEngine } from '../../ocr';
import type { Runtime } from '../runtime';
import { OCR_JOB } from '../services/capture';
import { loadItem } from '../services/records';
import { itemPipeline, PAGE_ROTATE_JOB, runPipeline, runRotation, type RotatePayload } from '../services/pipeline';
import { integrityJobHandlers } from '../services/integrity';
import { DISPOSAL_EXECUTE_JOB, runExecutionJob } from '../services/disposition';
import type { JobHandler } from './worker';

export interface JobHandlers {
  handlers: Record<string, JobHandler>;
  /** Loads the OCR models now (a caller that knows pages are coming). */
  warm: () => void;
  close: () => Promise<void>;
}

export function buildJobHandlers(rt: Runtime): JobHandlers {
  let engine: OcrEngine | undefined;
  const getEngine = (): OcrEngine => {
    engine ??= createOcrEngine({ workers: rt.config.ocr.workers, tessdataDir: rt.config.ocr.tessdataDir });
    return engine;
  };
  const items = itemPipeline(getEngine);

  const ocrItem: JobHandler = async ({ job, signal, progress }) => {
    const itemId = String((job.payload as { itemId?: unknown }).itemId ?? '');
    const state = await runPipeline(items, itemId, { rt, signal, progress, attempt: { n: job.attempts, of: job.maxAttempts } });
    // An item held by quality control never reaches filing: report it as it is stored.
    const item = state.item ?? (await loadItem(rt, itemId));
    return { itemId, status: item.status, pages: item.pageCount, archivalCode: item.archivalCode ?? null };
  };

  // A page turned in the review queue: that page read again, then filing and indexing (services/pipeline/page-edits.ts).
  const rotatePage: JobHandler = async ({ job, signal, progress }) => {
    const payload = job.payload as unknown as RotatePayload;
    const item = await runRotation(payload, getEngine, { rt, signal, progress, attempt: { n: job.attempts, of: job.maxAttempts } });
    return { itemId: payload.itemId, page: payload.n, rotation: payload.rotation, status: item.status };
  };

  // 四性 checks (periodic, per capture batch): sliced, and they give way whenever OCR work waits.
  const integrity = Object.fromEntries(Object.entries(integrityJobHandlers(rt)).map(([name, run]) => [name, (({ job }) => run(job)) as JobHandler]));

  // 监销: a destruction list run chunk by chunk, resumed by whichever worker claims it next.
  const disposalExecute: JobHandler = (ctx) => runExecutionJob(rt, ctx);

  return {
    handlers: { [OCR_JOB]: ocrItem, [PAGE_ROTATE_JOB]: rotatePage, ...integrity, [DISPOSAL_EXECUTE_JOB]: disposalExecute },
    // The recognition workers load their models now, not when the first job arrives.
    warm: () => getEngine().warm(),
    close: async () => {
      await engine?.close();
      engine = undefined;
    },
  };
}
