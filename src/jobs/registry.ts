/**
 * Job name → handler: the one list of what a worker can do. Resources a handler needs for its
 * whole life (the OCR worker pool) are opened lazily and closed with the worker.
 */
import { createOcrEngine, type OcrEngine } from '../../ocr';
import type { Runtime } from '../runtime';
import { captureItem, failItem } from '../services/capture.service';
import { OCR_JOB } from '../services/intake.service';
import { fileItem } from '../services/filing.service';
import { indexItem, mergeSegmentsSoon } from '../services/search';
import type { JobHandler } from './worker';

export interface JobHandlers {
  handlers: Record<string, JobHandler>;
  close: () => Promise<void>;
}

export function buildJobHandlers(rt: Runtime): JobHandlers {
  let engine: OcrEngine | undefined;
  const getEngine = (): OcrEngine => {
    engine ??= createOcrEngine({ workers: rt.config.ocr.workers, tessdataDir: rt.config.ocr.tessdataDir });
    return engine;
  };

  const ocrItem: JobHandler = async ({ job, signal, progress }) => {
    const itemId = String((job.payload as { itemId?: unknown }).itemId ?? '');
    try {
      await captureItem(rt, itemId, { engine: getEngine(), signal, progress });
      await progress({ stage: 'filing' });
      const item = await fileItem(rt, itemId);
      const cls = (item.classification ?? {}) as { documentType?: string; category?: string; retention?: string; confidence?: number; review?: boolean };
      // Filing proposes the description (classification, retention, 档号): an archival action of the system's.
      await rt.audit.record({ actor: 'system', role: 'worker', action: 'item.file', object: { type: 'item', id: itemId }, outcome: 'success', details: { archivalCode: item.archivalCode ?? null, documentType: cls.documentType ?? null, category: cls.category ?? null, retention: cls.retention ?? null, confidence: cls.confidence ?? null, status: item.status } });
      // Searchable as soon as filed; a failure retries the job, whose earlier stages are no-ops now.
      await indexItem(rt, itemId);
      mergeSegmentsSoon(rt);
      return { itemId, status: item.status, pages: item.pageCount, archivalCode: item.archivalCode ?? null };
    } catch (err) {
      const permanent = (err as { permanent?: unknown }).permanent === true || isBadInput(err);
      if (permanent || job.attempts >= job.maxAttempts) await failItem(rt, itemId, err);
      if (isBadInput(err)) Object.assign(err as object, { permanent: true });
      throw err;
    }
  };

  return {
    handlers: { [OCR_JOB]: ocrItem },
    close: async () => {
      await engine?.close();
      engine = undefined;
    },
  };
}

/** Errors that no retry can fix: the file itself is bad. */
function isBadInput(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && ['empty_file', 'unsupported_media_type', 'corrupt_file', 'too_large', 'encrypted_pdf', 'pdf_javascript', 'too_many_pages', 'validation_failed', 'item_not_found'].includes(code);
}
