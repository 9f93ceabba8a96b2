/**
 * Quality control of scans (DA/T 31-2017《纸质档案数字化规范》, regulations.md R13 and §3): a page
 * scanned below 200 dpi, or one still unreadable in every orientation, is not filed with a flag:
 * its item is held in `qc_hold` until it is rescanned (ingest the new scan) or an archivist accepts
 * it with a reason, which is recorded on the item and in the audit trail. Each intake call (batch)
 * gets a QC summary: pages, resolution distribution, flags, and the pages a person should check
 * (DA/T 31 §3 工作文件: 质检/验收记录).
 */
import { createHash } from 'node:crypto';
import { AppError } from '../../errors';
import { itemModel, type ItemDoc } from '../../models/item.model';
import type { Runtime } from '../../runtime';
import { STATUS, writeQcAccepted, writeQcHold } from '../records';
import { OCR_JOB } from './intake';

/** DA/T 31-2017 §6 (档案扫描 / 分辨率): at least 200 dpi. */
export const MIN_SCAN_DPI = 200;

/** Flags that hold an item for a person (a page the quality rules reject). */
export const QC_HOLD_CODES = ['low_dpi', 'unreadable'] as const;

export interface QcState {
  held: boolean;
  reasons: Array<{ code: string; page: number | null }>;
  heldAt: string | null;
  decision: { outcome: 'accepted'; by: string; reason: string; at: string } | null;
}

function qcOf(item: Pick<ItemDoc, 'qc'>): QcState | null {
  return (item.qc as QcState | null) ?? null;
}

/**
 * After capture: holds the item when a page fails QC and nobody has accepted it yet. Returns true
 * when the item is (still) held: the pipeline then stops before filing.
 */
export async function qcGate(rt: Runtime, itemId: string, known?: ItemDoc): Promise<boolean> {
  const item = known ?? (await itemModel(rt.db).findById(itemId).lean<ItemDoc>());
  if (!item) return false;
  if (item.status === 'qc_hold') return true;
  if (STATUS.described.has(item.status)) return false;
  const prior = qcOf(item);
  if (prior?.decision?.outcome === 'accepted') return false;
  const hold = new Set<string>(QC_HOLD_CODES);
  const reasons = (item.flags ?? []).filter((f) => hold.has(f.code)).map((f) => ({ code: f.code, page: f.page ?? null }));
  if (!reasons.length) return false;
  const qc: QcState = { held: true, reasons, heldAt: prior?.heldAt ?? new Date().toISOString(), decision: null };
  await writeQcHold(rt, item, qc as unknown as Record<string, unknown>);
  return true;
}

/** An archivist accepts a held scan as it is (no rescan possible, or the flag is wrong), with a reason. */
/** The caller's audit entry (API request or CLI command) carries the reason too. */
export async function acceptQc(rt: Runtime, itemId: string, by: { actor: string }, reason: string): Promise<ItemDoc> {
  const items = itemModel(rt.db);
  const item = await items.findById(itemId).lean<ItemDoc>();
  if (!item) throw new AppError('item_not_found', { details: { id: itemId } });
  if (item.status !== 'qc_hold') {
    throw new AppError('conflict', { message: `Item ${itemId} is not held by quality control (status ${item.status})`, zh: `条目 ${itemId} 未处于质检暂存状态（当前 ${item.status}）`, details: { status: item.status } });
  }
  const why = reason.trim();
  if (why.length < 2) throw new AppError('validation_failed', { message: 'Give the reason for accepting the scan', zh: '请填写接受该扫描件的理由' });
  const qc: QcState = { ...(qcOf(item) ?? { held: true, reasons: [], heldAt: null }), held: false, decision: { outcome: 'accepted', by: by.actor, reason: why, at: new Date().toISOString() } };
  await writeQcAccepted(rt, item, qc as unknown as Record<string, unknown>, { actor: by.actor, kind: 'qc_accepted', changes: { reason: why, reasons: qc.reasons } });
  // Filing goes on in a fresh job (the first one is done); capture is not repeated (the item is OCRed).
  await rt.queue.enqueue(OCR_JOB, { itemId }, { dedupeKey: `${OCR_JOB}:${itemId}:qc-accepted`, maxAttempts: 5 });
  return (await items.findById(itemId).lean<ItemDoc>())!;
}

export interface BatchQcSummary {
  batchId: string;
  items: number;
  pages: number;
  byStatus: Record<string, number>;
  /** Pages per scan resolution band; `unknown`: the file did not say (flag dpi_unknown). */
  dpi: { below200: number; from200to299: number; from300to399: number; from400: number; unknown: number; min: number | null; max: number | null };
  flags: Record<string, number>;
  held: Array<{ id: string; source: string; reasons: Array<{ code: string; page: number | null }> }>;
  /** Pages a person should look at: every flagged page, plus a fixed share of the others (at least one). */
  sample: Array<{ id: string; source: string; page: number; why: string }>;
}

/** Share of unflagged pages drawn for a person's check (a design choice; DA/T 31 leaves the rate to the 工作方案). */
const SAMPLE_SHARE = 0.05;

export async function batchQcSummary(rt: Runtime, batchId: string): Promise<BatchQcSummary> {
  const docs = await itemModel(rt.db).find({ batchId }).sort({ _id: 1 }).lean<ItemDoc[]>();
  if (!docs.length) throw new AppError('not_found', { message: `No items in batch ${batchId}`, zh: `批次 ${batchId} 中没有条目`, details: { batchId } });
  const s: BatchQcSummary = { batchId, items: docs.length, pages: 0, byStatus: {}, dpi: { below200: 0, from200to299: 0, from300to399: 0, from400: 0, unknown: 0, min: null, max: null }, flags: {}, held: [], sample: [] };
  const plain: Array<{ id: string; source: string; page: number }> = [];
  for (const d of docs) {
    const id = String(d._id);
    s.byStatus[d.status] = (s.byStatus[d.status] ?? 0) + 1;
    const flagged = new Map<number, string[]>();
    for (const f of d.flags ?? []) {
      s.flags[f.code] = (s.flags[f.code] ?? 0) + 1;
      if (f.page != null && f.code !== 'rotation_applied') flagged.set(f.page, [...(flagged.get(f.page) ?? []), f.code]);
    }
    for (const p of d.pages ?? []) {
      s.pages++;
      const dpi = p.dpiAssumed ? null : p.dpi ?? null;
      if (dpi === null) s.dpi.unknown++;
      else {
        if (dpi < 200) s.dpi.below200++;
        else if (dpi < 300) s.dpi.from200to299++;
        else if (dpi < 400) s.dpi.from300to399++;
        else s.dpi.from400++;
        s.dpi.min = Math.min(s.dpi.min ?? dpi, dpi);
        s.dpi.max = Math.max(s.dpi.max ?? dpi, dpi);
      }
      const why = flagged.get(p.n);
      if (why) s.sample.push({ id, source: d.source, page: p.n, why: why.join(',') });
      else plain.push({ id, source: d.source, page: p.n });
    }
    const qc = qcOf(d);
    if (d.status === 'qc_hold') s.held.push({ id, source: d.source, reasons: qc?.reasons ?? [] });
  }
  // A reproducible draw: the same batch always names the same pages.
  const want = plain.length ? Math.max(1, Math.round(plain.length * SAMPLE_SHARE)) : 0;
  const ranked = plain
    .map((p) => ({ p, k: createHash('sha256').update(`${batchId}:${p.id}:${p.page}`).digest('hex') }))
    .sort((a, b) => (a.k < b.k ? -1 : 1))
    .slice(0, want);
  for (const { p } of ranked) s.sample.push({ ...p, why: 'random' });
  return s;
}
