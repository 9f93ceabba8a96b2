/**
 * Page edits from the review queue (issue #14): rotate a page, reorder pages, split an item at a
 * page, merge two items of one fonds. Each re-runs only what the edit invalidates:
 *
 * | edit    | re-run                                                                        |
 * |---------|-------------------------------------------------------------------------------|
 * | rotate  | that one page prepared from its original and read again (a job: OCR is worker work), then qc → filing → index |
 * | reorder | the PDF (from stored pages, no OCR), then qc → filing → index                 |
 * | split   | PDFs of both items, then qc → filing → index of both (the new item has its own id) |
 * | merge   | the target's PDF, then qc → filing → index; the merged item leaves the index and the files (一人一档) |
 *
 * Capture never runs again (the items keep `ocrAt`), so no other page is read again.
 *
 * What may not be edited, and why:
 * - an item with a 档号: its 件 is fixed in the catalogue (DA/T 22-2015 组件/编号; 档案法 第21条
 *   禁止篡改). Its number must first be withdrawn into the withdrawal register
 *   (`POST /api/v1/items/:id/number/withdraw`), which returns it to review; a 档号 is never silently
 *   reused or left dangling.
 * - an item under a legal hold (冻结, 档案法 第21条; 会计档案管理办法 第18条 by analogy): kept as it is.
 * - destroyed, transferred (移交), merged, split stacks, and items still being processed.
 *
 * Every edit writes the items' history (capture/pages.ts) and an audit entry here.
 */
import type { OcrEngine, Rotation } from '../../../ocr';
import { AppError } from '../../errors';
import type { ItemDoc } from '../../models/item.model';
import type { Runtime } from '../../runtime';
import { mergeItems, OCR_JOB, reorderPages, rotatePage, splitItem } from '../capture';
import { holdsOnItem } from '../disposition';
import { loadItem, STATUS, unlinkItem } from '../records';
import { indexItem } from '../search';
import { itemPipeline } from './item-pipeline';
import { runPipeline, type StageContext } from './stage';

export const PAGE_ROTATE_JOB = 'item.page-rotate';

export interface EditActor {
  actor: string;
  role?: string | null;
}

function notEditable(itemId: string, en: string, zh: string, details: Record<string, unknown>): AppError {
  return new AppError('pages_not_editable', { message: en, zh, details: { id: itemId, ...details } });
}

/** Loads the item and refuses it when its pages may not change (see the file comment for why). */
export async function editableItem(rt: Runtime, itemId: string): Promise<ItemDoc> {
  const item = await loadItem(rt, itemId);
  if (item.status === 'destroyed') throw notEditable(itemId, 'The item was destroyed', '该条目已销毁，不能更改页面', { status: item.status });
  if (item.transfer) throw notEditable(itemId, 'The item was transferred (移交) to an archives', '该条目已移交，不能更改页面', { status: item.status });
  if (item.archivalCode) {
    throw notEditable(
      itemId,
      `The item is filed as ${item.archivalCode}: withdraw its number first (POST /api/v1/items/${itemId}/number/withdraw, recorded in the withdrawal register), then edit its pages`,
      `该条目已编档号 ${item.archivalCode}，不能直接更改页面；请先撤销档号（登记于档号撤销登记簿），再调整页面`,
      { status: item.status, archivalCode: item.archivalCode },
    );
  }
  const editable = STATUS.pageEditable.has(item.status) || item.status === 'filed';
  if (!editable) {
    throw notEditable(itemId, `The item is ${item.status}; only items in review or held by QC have pages that can be edited`, `条目当前状态为「${item.status}」，只有待审核或质检暂存的条目可以调整页面`, { status: item.status });
  }
  const holds = await holdsOnItem(rt, itemId);
  if (holds.length) {
    throw notEditable(itemId, 'The item is under a legal hold (冻结): it is kept exactly as it is', '该条目处于冻结（法律保全）中，须保持原状，不能更改页面', { holds: holds.map((h) => h.id) });
  }
  return item;
}

/** Filing and indexing again in a fresh job (capture is skipped: the item is OCRed). */
async function refile(rt: Runtime, itemId: string, why: string): Promise<string> {
  const job = await rt.queue.enqueue(OCR_JOB, { itemId }, { dedupeKey: `${OCR_JOB}:${itemId}:${why}:${Date.now()}`, maxAttempts: 5 });
  return String(job._id);
}

function audit(rt: Runtime, who: EditActor, action: string, itemId: string, details: Record<string, unknown>): void {
  rt.audit.record({ actor: who.actor, role: who.role ?? null, action, object: { type: 'item', id: itemId }, outcome: 'success', details });
}

export interface RotatePayload {
  itemId: string;
  n: number;
  rotation: Rotation;
  expectImageKey: string | null;
  actor: string;
}

/**
 * Asks for page `n` to be turned by `degrees` clockwise (90/180/270) from how it shows now. The
 * page is read again by a worker (PAGE_ROTATE_JOB); the answer names the job.
 */
export async function requestRotation(rt: Runtime, itemId: string, n: number, degrees: 90 | 180 | 270, who: EditActor): Promise<{ item: ItemDoc; jobId: string; rotation: Rotation }> {
  const item = await editableItem(rt, itemId);
  const p = (item.pages ?? []).find((q) => q.n === n);
  if (!p) throw new AppError('validation_failed', { message: `The item has no page ${n}`, zh: `该条目没有第 ${n} 页`, details: { page: n, pages: item.pages.length } });
  const rotation = (((p.rotation ?? 0) + degrees) % 360) as Rotation;
  const payload: RotatePayload = { itemId, n, rotation, expectImageKey: p.imageKey ?? null, actor: who.actor };
  const job = await rt.queue.enqueue(PAGE_ROTATE_JOB, { ...payload }, { dedupeKey: `${PAGE_ROTATE_JOB}:${itemId}:${n}:${p.imageKey}:${rotation}`, maxAttempts: 3 });
  audit(rt, who, 'item.page.rotate', itemId, { page: n, degrees, from: p.rotation ?? 0, to: rotation, jobId: String(job._id) });
  return { item, jobId: String(job._id), rotation };
}

/** The rotation job: the page turned and read again, then the item pipeline from qc on (no other page is read). */
export async function runRotation(payload: RotatePayload, engine: () => OcrEngine, ctx: StageContext): Promise<ItemDoc> {
  const item = itemPipeline(engine);
  await runPipeline(
    {
      name: 'page-rotate',
      stages: [
        {
          name: 'rotate',
          run: async (itemId, c) => {
            await rotatePage(c.rt, itemId, payload.n, payload.rotation, { engine: engine(), actor: payload.actor, expectImageKey: payload.expectImageKey });
          },
        },
        ...item.stages.filter((s) => s.name !== 'capture'),
      ],
      failSubject: item.failSubject,
    },
    payload.itemId,
    ctx,
  );
  return loadItem(ctx.rt, payload.itemId);
}

export async function reorderItemPages(rt: Runtime, itemId: string, order: number[], who: EditActor): Promise<{ item: ItemDoc; jobId: string | null }> {
  const before = await editableItem(rt, itemId);
  const item = await reorderPages(rt, itemId, order, who);
  if (item.status !== 'processing') return { item, jobId: null }; // the same order: nothing changed
  audit(rt, who, 'item.pages.reorder', itemId, { from: before.pages.map((p) => p.n), order });
  return { item, jobId: await refile(rt, itemId, 'reorder') };
}

export async function splitItemAt(rt: Runtime, itemId: string, at: number, who: EditActor): Promise<{ kept: ItemDoc; created: ItemDoc; jobIds: string[] }> {
  await editableItem(rt, itemId);
  const { kept, created } = await splitItem(rt, itemId, at, who);
  const newId = String(created._id);
  audit(rt, who, 'item.pages.split', itemId, { at, to: newId, pages: created.pages.length });
  audit(rt, who, 'item.pages.split', newId, { from: itemId, at });
  return { kept, created, jobIds: [await refile(rt, itemId, 'split'), await refile(rt, newId, 'split')] };
}

export async function mergeItemInto(rt: Runtime, targetId: string, otherId: string, who: EditActor): Promise<{ target: ItemDoc; merged: ItemDoc; jobId: string }> {
  await editableItem(rt, targetId);
  await editableItem(rt, otherId);
  const { target, merged } = await mergeItems(rt, targetId, otherId, who);
  // The merged item holds nothing readable: out of search and of every person's and unit's file at once.
  await indexItem(rt, otherId);
  await unlinkItem(rt, otherId);
  audit(rt, who, 'item.pages.merge', targetId, { from: otherId, pages: target.pages.length });
  audit(rt, who, 'item.pages.merge', otherId, { into: targetId });
  return { target, merged, jobId: await refile(rt, targetId, 'merge') };
}
