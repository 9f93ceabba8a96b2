/**
 * Page edits of the review queue (issue #14): rotate a page, reorder pages, split an item in two at
 * a page, merge two items. This file does the page-level work and nothing after it: which pages
 * and derived blobs each item holds, the one page re-read after a rotation, the searchable PDF
 * rebuilt from the stored pages. Re-filing and re-indexing (and the checks that decide whether an
 * item may be edited at all) are services/pipeline/page-edits.ts's.
 *
 * The stored originals are never altered (档案法 第38条: originals kept; DA/T 31-2017 图像处理
 * rotates the derived image, not the master): a rotation is kept as the page's `rotation` and a new
 * derived image prepared from the original page; a split copies the originals the new item's pages
 * come from into its own encrypted objects, a merge moves the originals' references. Every derived
 * object an item holds lives under its own prefix (pageKeys.prefix), so protection (object lock)
 * and destruction of that item find all of them.
 */
import { createHash, randomUUID } from 'node:crypto';
import { buildSearchablePdf, iteratePages, preparePage, type OcrEngine, type PageImage, type Rotation } from '../../../ocr';
import { AppError } from '../../errors';
import { Types } from 'mongoose';
import { itemModel, type ItemDoc, type PageRecord } from '../../models/item.model';
import type { Runtime } from '../../runtime';
import { itemLevel, loadItem, newOriginalKey, pageKeys, readPageText, type StoredPageText } from '../records';
import { recognizeForFiling, UNREADABLE_BELOW } from './capture';

type Flag = { code: string; page?: number | null; message: string; messageZh: string };

/** The flags a page's reading decides; a rotation replaces them for that page (resolution flags stay). */
const READING_FLAGS = new Set(['low_confidence', 'blank_page', 'rotation_applied', 'unreadable']);
const READING_TEXT: Record<string, [string, string]> = {
  low_confidence: ['OCR confidence is low on this page; check the text', '该页识别置信度低，请人工核对'],
  blank_page: ['Blank page (not OCRed)', '空白页（未进行文字识别）'],
  rotation_applied: ['Page was rotated to upright', '页面方向已自动纠正'],
  unreadable: ['The page reads as nonsense in every orientation (damaged, handwritten or not text): an archivist must check it', '该页在各个方向上均无法识别（可能破损、手写或非文字），需档案人员核查'],
};
const readingFlag = (code: string, page: number): Flag => ({ code, page, message: READING_TEXT[code]![0], messageZh: READING_TEXT[code]![1] });

/** A fresh key under the item's prefix for a derived object (never overwrites one that may be locked or still read). */
function derivedKey(itemId: string, n: number, ext: string): string {
  return `${pageKeys.prefix(itemId)}pages/${n}-${randomUUID().slice(0, 8)}.${ext}`;
}

/** Which page of which original a page record is (older records kept no `sourcePage`: n then counts within the source). */
export function sourcePageOf(item: Pick<ItemDoc, 'pages'>, p: PageRecord): number {
  if (typeof p.sourcePage === 'number' && p.sourcePage > 0) return p.sourcePage;
  return (item.pages ?? []).filter((q) => q.source === p.source && q.n <= p.n).length;
}

async function originalPage(rt: Runtime, item: ItemDoc, p: PageRecord): Promise<PageImage> {
  const original = item.originals[p.source];
  if (!original) throw new AppError('conflict', { message: `Page ${p.n} has no original`, zh: `第 ${p.n} 页找不到原件`, details: { page: p.n } });
  const want = sourcePageOf(item, p);
  const buf = await rt.storage.blobs.getBuffer(original.blobKey);
  for await (const page of iteratePages(buf, { maxPages: want, maxBytes: rt.config.intake.fileBytes })) {
    if (page.n === want) return page;
  }
  throw new AppError('conflict', { message: `The original has no page ${want}`, zh: `原件中没有第 ${want} 页`, details: { page: p.n } });
}

/** Removes derived objects an edit replaced; a locked or already-gone object is left (destruction takes the prefix). */
async function dropDerived(rt: Runtime, keys: Array<string | null | undefined>): Promise<void> {
  for (const key of keys) {
    if (!key) continue;
    await rt.storage.blobs.shred(key).catch(() => undefined);
    // The viewer's thumbnail made from a page image (records/retrieval.ts pageThumbnail).
    if (/\.(png|jpg)$/.test(key)) await rt.storage.blobs.shred(`${key.replace(/\.(png|jpg)$/, '')}.thumb.jpg`).catch(() => undefined);
  }
}

/** The searchable PDF rebuilt from the stored page images and text (no OCR), under a fresh key. */
async function buildPdf(rt: Runtime, item: Pick<ItemDoc, '_id' | 'title' | 'source' | 'createdAt'>, pages: PageRecord[]): Promise<string> {
  const itemId = String(item._id);
  async function* stored() {
    for (const p of pages) {
      const text = await readPageText(rt, p.textKey!);
      yield { image: await rt.storage.blobs.getBuffer(p.imageKey!), width: p.width!, height: p.height!, dpi: p.dpi ?? 300, lines: text.lines };
    }
  }
  const pdf = await buildSearchablePdf(stored(), { title: item.title ?? item.source, itemId, createdAt: item.createdAt });
  const key = `${pageKeys.prefix(itemId)}item-${randomUUID().slice(0, 8)}.pdf`;
  await rt.storage.blobs.put(key, Buffer.from(pdf), { contentType: 'application/pdf' });
  return key;
}

export interface PageEditHistory {
  actor: string;
}

/**
 * Turns page `n` to `rotation` (absolute, clockwise from the original page: 0/90/180/270), prepares
 * its image again from the original, reads that page again (no other page is re-read) and rebuilds
 * the PDF. The item goes to `processing` for re-filing. Idempotent for a retried job: with
 * `expectImageKey` (the page's image when the rotation was asked for), a page whose image has
 * changed since is left as it is.
 */
export async function rotatePage(rt: Runtime, itemId: string, n: number, rotation: Rotation, opts: { engine: OcrEngine; actor: string; lowConfidence?: number; expectImageKey?: string | null }): Promise<ItemDoc> {
  const item = await loadItem(rt, itemId);
  const p = (item.pages ?? []).find((q) => q.n === n);
  if (!p) throw new AppError('validation_failed', { message: `The item has no page ${n}`, zh: `该条目没有第 ${n} 页`, details: { page: n } });
  // A retried job: the page already carries the image this rotation made.
  if (opts.expectImageKey && p.imageKey !== opts.expectImageKey) return item;
  const prepared = await preparePage(await originalPage(rt, item, p), { rotation });
  const ocr = prepared.blank ? null : await recognizeForFiling(opts.engine, prepared);
  const imageKey = derivedKey(itemId, n, prepared.imageFormat === 'png' ? 'png' : 'jpg');
  const textKey = derivedKey(itemId, n, 'json');
  await rt.storage.blobs.put(imageKey, prepared.image, { contentType: `image/${prepared.imageFormat}` });
  const stored: StoredPageText = { text: ocr?.text ?? '', confidence: ocr?.confidence ?? 0, lines: ocr?.lines ?? [] };
  await rt.storage.blobs.put(textKey, Buffer.from(JSON.stringify(stored)), { contentType: 'application/json' });
  const unreadable = !!ocr && ocr.confidence < UNREADABLE_BELOW;
  const page: PageRecord = {
    ...p,
    sourcePage: sourcePageOf(item, p),
    imageKey,
    textKey,
    width: prepared.width,
    height: prepared.height,
    rotation: prepared.rotation,
    skewDeg: prepared.skewDeg,
    colorMode: prepared.colorMode,
    blank: prepared.blank,
    unreadable,
    confidence: ocr ? ocr.confidence : null,
    chars: stored.text.replace(/\s/g, '').length,
  };
  const pages = item.pages.map((q) => (q.n === n ? page : q));
  const flags: Flag[] = [...(item.flags ?? [])].filter((f) => !(f.page === n && READING_FLAGS.has(f.code)));
  if (page.blank) flags.push(readingFlag('blank_page', n));
  if (page.rotation !== 0) flags.push(readingFlag('rotation_applied', n));
  if (unreadable) flags.push(readingFlag('unreadable', n));
  else if (ocr && ocr.confidence < (opts.lowConfidence ?? 60)) flags.push(readingFlag('low_confidence', n));
  const pdfKey = await buildPdf(rt, item, pages);
  await itemModel(rt.db).updateOne(
    { _id: item._id },
    {
      $set: { pages, flags, pdfKey, status: 'processing' },
      $push: { history: { at: new Date(), actor: opts.actor, kind: 'page_rotated', changes: { page: n, from: p.rotation ?? 0, to: page.rotation, imageKey: p.imageKey, confidence: { from: p.confidence ?? null, to: page.confidence ?? null } } } },
    },
  );
  await dropDerived(rt, [p.imageKey, p.textKey, item.pdfKey]);
  return loadItem(rt, itemId);
}

/** Flags follow their pages: `map(old n) → new n`, or null when the page left the item. */
function remapFlags(flags: Flag[], map: (n: number) => number | null): Flag[] {
  const out: Flag[] = [];
  for (const f of flags) {
    if (f.page === null || f.page === undefined) {
      out.push(f);
      continue;
    }
    const to = map(f.page);
    if (to !== null) out.push({ ...f, page: to });
  }
  return out;
}

/** Puts the pages in a new order: `order` lists every current page number once, in the order wanted. */
export async function reorderPages(rt: Runtime, itemId: string, order: number[], by: PageEditHistory): Promise<ItemDoc> {
  const item = await loadItem(rt, itemId);
  const current = (item.pages ?? []).map((p) => p.n).sort((a, b) => a - b);
  const sorted = [...order].sort((a, b) => a - b);
  if (sorted.length !== current.length || sorted.some((n, i) => n !== current[i])) {
    throw new AppError('validation_failed', { message: `The new order must list each of the ${current.length} pages exactly once`, zh: `新顺序须包含全部 ${current.length} 页且每页一次`, details: { pages: current, order } });
  }
  if (order.every((n, i) => n === current[i])) return item; // unchanged
  const byN = new Map(item.pages.map((p) => [p.n, p]));
  const newN = new Map(order.map((old, i) => [old, i + 1]));
  const pages = order.map((old, i) => ({ ...byN.get(old)!, n: i + 1, sourcePage: sourcePageOf(item, byN.get(old)!) }));
  const flags = remapFlags([...(item.flags ?? [])], (n) => newN.get(n) ?? null);
  const pdfKey = await buildPdf(rt, item, pages);
  await itemModel(rt.db).updateOne(
    { _id: item._id },
    { $set: { pages, flags, pdfKey, status: 'processing' }, $push: { history: { at: new Date(), actor: by.actor, kind: 'pages_reordered', changes: { from: current, order } } } },
  );
  await dropDerived(rt, [item.pdfKey]);
  return loadItem(rt, itemId);
}

/** Copies a stored object to a new key (decrypted and sealed again under its own key). */
async function copyBlob(rt: Runtime, from: string, to: string, contentType: string): Promise<{ size: number; sha256: string }> {
  const put = await rt.storage.blobs.put(to, await rt.storage.blobs.getBuffer(from), { contentType });
  return { size: put.size, sha256: put.sha256 };
}

/**
 * Splits the item before page `at`: pages `at…` become a new item of the same fonds, batch, channel
 * and access level, with copies of the originals they come from and of their derived objects (each
 * item then owns what it holds: destroying one never touches the other). Both go to `processing`
 * for re-filing. Returns both, the kept item first.
 */
export async function splitItem(rt: Runtime, itemId: string, at: number, by: PageEditHistory): Promise<{ kept: ItemDoc; created: ItemDoc }> {
  const item = await loadItem(rt, itemId);
  const pages = [...(item.pages ?? [])].sort((a, b) => a.n - b.n);
  if (at < 2 || at > pages.length) {
    throw new AppError('validation_failed', { message: `Split before a page from 2 to ${pages.length}`, zh: `拆分位置须在第 2 页至第 ${pages.length} 页之间`, details: { at, pages: pages.length } });
  }
  const keep = pages.filter((p) => p.n < at);
  const move = pages.filter((p) => p.n >= at);
  const items = itemModel(rt.db);
  const newId = new Types.ObjectId();
  const id2 = String(newId);
  // The new item's originals: a copy of each original its pages come from, in first-use order.
  const sourceMap = new Map<number, number>();
  const originals: Array<{ blobKey: string; filename: string; format: string; size: number; sha256: string }> = [];
  for (const p of move) {
    if (sourceMap.has(p.source)) continue;
    const o = item.originals[p.source]!;
    const blobKey = newOriginalKey();
    const put = await copyBlob(rt, o.blobKey, blobKey, o.format === 'pdf' ? 'application/pdf' : `image/${o.format}`);
    sourceMap.set(p.source, originals.length);
    originals.push({ blobKey, filename: o.filename, format: o.format, size: put.size, sha256: put.sha256 });
  }
  const moved: PageRecord[] = [];
  for (const [i, p] of move.entries()) {
    const n = i + 1;
    const ext = (p.imageKey ?? '').endsWith('.png') ? 'png' : 'jpg';
    const imageKey = derivedKey(id2, n, ext);
    const textKey = derivedKey(id2, n, 'json');
    await copyBlob(rt, p.imageKey!, imageKey, ext === 'png' ? 'image/png' : 'image/jpeg');
    await copyBlob(rt, p.textKey!, textKey, 'application/json');
    moved.push({ ...p, n, source: sourceMap.get(p.source)!, sourcePage: sourcePageOf(item, p), imageKey, textKey });
  }
  const flags: Flag[] = [...(item.flags ?? [])];
  const keptFlags = remapFlags(flags, (n) => (n < at ? n : null));
  const movedFlags = remapFlags(flags, (n) => (n >= at ? n - at + 1 : null));
  const created0 = { _id: newId, title: item.title, source: `${item.source}（拆分自 ${itemId} 第 ${at} 页起）`, createdAt: new Date() };
  const pdf2 = await buildPdf(rt, created0, moved);
  const now = new Date();
  // The content identity of a split-off part: the item it came from and the originals' pages it holds.
  const contentHash = createHash('sha256').update(`split:${itemId}:${move.map((p) => `${item.originals[p.source]!.sha256}#${sourcePageOf(item, p)}`).join(',')}`).digest('hex');
  await items.create({
    _id: newId,
    fonds: item.fonds,
    source: created0.source,
    channel: item.channel,
    status: 'processing',
    contentHash,
    originals,
    pages: moved,
    pageCount: moved.length,
    pdfKey: pdf2,
    flags: movedFlags,
    batchId: item.batchId ?? null,
    // A quality-control decision was about these scans too.
    qc: item.qc ?? null,
    title: item.title,
    ocrAt: item.ocrAt ?? now,
    accessLevel: itemLevel(item),
    splitFrom: itemId,
    history: [{ at: now, actor: by.actor, kind: 'split_from', changes: { from: itemId, pages: move.map((p) => p.n) } }],
  });
  const pdf1 = await buildPdf(rt, item, keep);
  await items.updateOne(
    { _id: item._id },
    {
      $set: { pages: keep, pageCount: keep.length, flags: keptFlags, pdfKey: pdf1, status: 'processing' },
      $push: { history: { at: now, actor: by.actor, kind: 'pages_split', changes: { at, to: id2, pages: move.map((p) => p.n) } } },
    },
  );
  await dropDerived(rt, [item.pdfKey, ...move.flatMap((p) => [p.imageKey, p.textKey])]);
  return { kept: await loadItem(rt, itemId), created: await loadItem(rt, id2) };
}

/**
 * Appends the pages of `otherId` to `targetId` (same fonds): the other item's originals join the
 * target's list, its page images and text are copied under the target's prefix, and the other item
 * keeps only its row, status `merged` with `mergedInto`, nothing readable. The target goes to
 * `processing` for re-filing.
 */
export async function mergeItems(rt: Runtime, targetId: string, otherId: string, by: PageEditHistory): Promise<{ target: ItemDoc; merged: ItemDoc }> {
  if (targetId === otherId) throw new AppError('validation_failed', { message: 'An item cannot be merged with itself', zh: '不能将条目与其自身合并' });
  const target = await loadItem(rt, targetId);
  const other = await loadItem(rt, otherId);
  if (target.fonds !== other.fonds) {
    throw new AppError('validation_failed', { message: `Only items of one fonds are merged (${target.fonds} ≠ ${other.fonds})`, zh: `只能合并同一全宗的条目（${target.fonds} 与 ${other.fonds}）`, details: { fonds: [target.fonds, other.fonds] } });
  }
  const base = (target.pages ?? []).length;
  const offset = target.originals.length;
  const appended: PageRecord[] = [];
  for (const p of [...(other.pages ?? [])].sort((a, b) => a.n - b.n)) {
    const n = base + appended.length + 1;
    const ext = (p.imageKey ?? '').endsWith('.png') ? 'png' : 'jpg';
    const imageKey = derivedKey(targetId, n, ext);
    const textKey = derivedKey(targetId, n, 'json');
    await copyBlob(rt, p.imageKey!, imageKey, ext === 'png' ? 'image/png' : 'image/jpeg');
    await copyBlob(rt, p.textKey!, textKey, 'application/json');
    appended.push({ ...p, n, source: p.source + offset, sourcePage: sourcePageOf(other, p), imageKey, textKey });
  }
  const pages = [...target.pages, ...appended];
  const byOld = new Map((other.pages ?? []).map((p, i) => [p.n, base + i + 1]));
  const flags = [...(target.flags ?? []), ...remapFlags([...(other.flags ?? [])].filter((f) => f.page !== null), (n) => byOld.get(n) ?? null)];
  const pdfKey = await buildPdf(rt, target, pages);
  const now = new Date();
  const items = itemModel(rt.db);
  await items.updateOne(
    { _id: target._id },
    {
      $set: { pages, pageCount: pages.length, originals: [...target.originals, ...other.originals], flags, pdfKey, status: 'processing', accessLevel: Math.max(itemLevel(target), itemLevel(other)) },
      $push: { history: { at: now, actor: by.actor, kind: 'pages_merged', changes: { from: otherId, pages: appended.map((p) => p.n) } } },
    },
  );
  await items.updateOne(
    { _id: other._id },
    {
      $set: { status: 'merged', mergedInto: targetId, pages: [], originals: [], pageCount: 0, pdfKey: null, flags: [] },
      $push: { history: { at: now, actor: by.actor, kind: 'merged_into', changes: { into: targetId, pages: appended.map((p) => p.n) } } },
    },
  );
  await dropDerived(rt, [target.pdfKey, other.pdfKey, ...(other.pages ?? []).flatMap((p) => [p.imageKey, p.textKey])]);
  return { target: await loadItem(rt, targetId), merged: await loadItem(rt, otherId) };
}
