/**
 * The item pipeline, one stage per step of docs/ARCHITECTURE.md's "a scanned page, from upload
 * to search hit": capture (pages → clean-up → OCR → stored text and searchable PDF), filing
 * (description, classification, retention, 档号), the audit entry for the system's filing
 * decision, indexing, and a merge of small index segments. A rerun after a crash skips what is
 * done: capture returns early for an OCRed item, filing and indexing replace what they wrote.
 */
import type { OcrEngine } from '../../../ocr';
import type { ItemDoc } from '../../models/item.model';
import type { Runtime } from '../../runtime';
import { captureItem, failItem, qcGate } from '../capture';
import { fileItem } from '../filing';
import { linkItem, STATUS, type StoredPageText } from '../records';
import { indexItem, mergeSegmentsSoon } from '../search';
import type { Pipeline, Stage } from './stage';

export interface ItemPipelineResult {
  /** The item as the last stage left it: each stage hands it to the next instead of reading it again. */
  item: ItemDoc;
  /** Quality control held the item (qc_hold): nothing after capture runs until it is accepted. */
  held: boolean;
  /** The page texts capture wrote in this run (none on a rerun that found the item captured). */
  texts: Map<number, StoredPageText>;
  /** Filing wrote the description in this run, and with it linked the item into its files (一人一档). */
  linked: boolean;
}

type ItemStage = Stage<string, ItemPipelineResult>;

export function itemPipeline(engine: () => OcrEngine): Pipeline<string, ItemPipelineResult> {
  const capture: ItemStage = {
    name: 'capture',
    run: async (itemId, ctx, state) => {
      const started = Date.now();
      const texts = new Map<number, StoredPageText>();
      const item = await captureItem(ctx.rt, itemId, { engine: engine(), signal: ctx.signal, progress: ctx.progress, onPageText: (n, t) => texts.set(n, t) });
      Object.assign(state, { item, texts });
      // Pages/min and the OCR confidence distribution (docs/operations.md), counted once: not for a rerun that found the item captured.
      if (item?.ocrAt && new Date(item.ocrAt).getTime() >= started) {
        ctx.rt.metrics.pages.inc(item.pageCount ?? 0);
        for (const p of item.pages ?? []) if (typeof p.confidence === 'number') ctx.rt.metrics.ocrConfidence.observe(p.confidence);
      }
    },
  };
  // DA/T 31-2017: a scan below 200 dpi or an unreadable page waits for a person, unfiled.
  const qc: ItemStage = {
    name: 'qc',
    run: async (itemId, ctx, state) => {
      state.held = await qcGate(ctx.rt, itemId, state.item);
    },
  };
  const filing: ItemStage = {
    name: 'filing',
    run: async (itemId, ctx, state) => {
      if (state.held) return;
      const before = state.item;
      state.item = await fileItem(ctx.rt, itemId, { item: before, texts: state.texts });
      state.linked = !!before && !STATUS.described.has(before.status);
    },
  };
  // Filing proposes the description (classification, retention, 档号): an archival action of the system's.
  const auditFiling: ItemStage = {
    name: 'audit',
    run: async (itemId, ctx, state) => {
      if (state.held) return;
      const item = state.item!;
      const cls = (item.classification ?? {}) as { documentType?: string; category?: string; retention?: string; confidence?: number };
      await ctx.rt.audit.record({
        actor: 'system',
        role: 'worker',
        action: 'item.file',
        object: { type: 'item', id: itemId },
        outcome: 'success',
        details: { archivalCode: item.archivalCode ?? null, documentType: cls.documentType ?? null, category: cls.category ?? null, retention: cls.retention ?? null, confidence: cls.confidence ?? null, status: item.status },
      });
    },
  };
  // In the person's and unit's files (一人一档) as soon as filed or in review.
  // Filing's write already links the item into its persons' and units' files; a rerun after a crash
  // between that write and the link finds the item filed and skips filing, so link again here
  // (idempotent) unless filing wrote in this run.
  const dossier: ItemStage = { name: 'dossier', run: async (_itemId, ctx, state) => (state.item && !state.held && !state.linked ? linkItem(ctx.rt, state.item) : undefined) };
  // Searchable as soon as filed; a failure retries the job, whose earlier stages are no-ops now.
  const index: ItemStage = { name: 'index', run: async (itemId, ctx, state) => void (state.held ? undefined : await indexItem(ctx.rt, itemId, { item: state.item, texts: state.texts })) };
  const merge: ItemStage = { name: 'merge', run: async (_itemId, ctx, state) => (state.held ? undefined : mergeSegmentsSoon(ctx.rt)) };

  return {
    name: 'item',
    stages: [capture, qc, filing, auditFiling, dossier, index, merge],
    failSubject: (rt: Runtime, itemId: string, err: unknown) => failItem(rt, itemId, err),
  };
}
