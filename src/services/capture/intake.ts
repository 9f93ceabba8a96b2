/**
 * Intake: originals in, exactly as received (encrypted), one item row, one OCR job. Returns at
 * once; the work runs in the background. The same scans ingested twice resolve to one item.
 */
import { createHash } from 'node:crypto';
import { isDuplicateKey } from '../../db';
import { Readable, Transform } from 'node:stream';
import type { Types } from 'mongoose';
import { detectFormat, isOcrInputError } from '../../../ocr';
import { AppError } from '../../errors';
import { itemModel, type ItemDoc } from '../../models/item.model';
import type { Runtime } from '../../runtime';
import { newOriginalKey, writeRetry } from '../records';

export const OCR_JOB = 'ocr.item';

export interface IntakeFile {
  filename: string;
  body: Readable | Buffer;
}

export interface IntakeRequest {
  fonds: string;
  /** Split this upload at separator sheets (and, optionally, blank pages) into several items. */
  stack?: { blankSeparators: boolean };
  /** Set on items split off a stack. */
  stackOf?: string;
  preregistered?: Record<string, unknown> | null;
  /** What the user named: a path for the CLI and hot folder, the upload's file name(s) for the API. */
  source: string;
  channel: 'api' | 'cli' | 'hotfolder';
  /** Groups the items of one intake call for the QC summary. */
  batchId?: string;
  files: IntakeFile[];
  /**
   * Whether the caller may read an item (their scope and clearance). When the same scans are
   * already archived in an item they may not read, the answer is 409 duplicate_item without its
   * id: a duplicate answer must not hand out an item the caller could not otherwise learn of.
   */
  mayRead?: (item: ItemDoc) => boolean;
}

export interface IntakeResult {
  item: ItemDoc;
  jobId: string;
  duplicate: boolean;
}

/** File names are labels only: strip directories and control characters, keep them short. */
export function safeFilename(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex
  const cleaned = base.replace(/[\u0000-\u001f\u007f]/g, '').replace(/^\.+/, '').trim().slice(0, 200);
  return cleaned || 'unnamed';
}

/** Reads just enough of a stream to sniff its type, then hands back a stream of the whole. */
async function peek(body: Readable | Buffer, bytes = 1024): Promise<{ head: Buffer; stream: Readable }> {
  if (Buffer.isBuffer(body)) return { head: body.subarray(0, bytes), stream: Readable.from([body]) };
  const chunks: Buffer[] = [];
  let size = 0;
  const it = body[Symbol.asyncIterator]();
  while (size < bytes) {
    const next = await it.next();
    if (next.done) break;
    const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value as Uint8Array);
    chunks.push(chunk);
    size += chunk.length;
  }
  const head = Buffer.concat(chunks);
  async function* rest() {
    yield head;
    for (;;) {
      const next = await it.next();
      if (next.done) return;
      yield next.value as Buffer;
    }
  }
  return { head: head.subarray(0, bytes), stream: Readable.from(rest()) };
}

export interface StoredOriginal {
  blobKey: string;
  filename: string;
  format: string;
  size: number;
  sha256: string;
}

const MB = 1024 * 1024;
const inMb = (bytes: number) => `${Math.round((bytes / MB) * 100) / 100} MB`;

/** A file over the per-file limit (UPLOAD_LIMIT_MB): that file is refused, nothing of it kept. */
export function fileTooLarge(filename: string, maxBytes: number): AppError {
  return new AppError('too_large', {
    message: `${filename}: larger than ${inMb(maxBytes)}, the limit for one file (UPLOAD_LIMIT_MB); nothing of it was stored`,
    zh: `${filename}：超过单个文件上限 ${inMb(maxBytes)}（UPLOAD_LIMIT_MB），未保存`,
    details: { file: filename, maxBytes, limit: 'file' },
  });
}

/** The originals of one item over ITEM_LIMIT_MB together: the item is refused whole. */
export function itemTooLarge(maxBytes: number): AppError {
  return new AppError('too_large', {
    message: `The files of this item are larger than ${inMb(maxBytes)} together, the limit for one item (ITEM_LIMIT_MB); nothing was stored. Split it into several items.`,
    zh: `该条目的文件合计超过单个条目上限 ${inMb(maxBytes)}（ITEM_LIMIT_MB），未保存；请拆分为多个条目`,
    details: { maxBytes, limit: 'item' },
  });
}

export interface ByteLimit {
  maxBytes: number;
  /** the error when the file passes maxBytes */
  error: () => AppError;
}

/**
 * Sniffs a file by content and streams it, encrypted, into the blob store. The bytes are counted
 * as they stream: past `limit` (by default the per-file limit) the write fails and nothing of
 * the file stays in the store — never a truncated copy (issue #13.8).
 */
export async function storeOriginal(rt: Runtime, f: IntakeFile, limit?: ByteLimit): Promise<StoredOriginal> {
  const filename = safeFilename(f.filename);
  const { head, stream } = await peek(f.body);
  if (head.length === 0) {
    throw new AppError('validation_failed', { message: `${filename}: the file is empty (0 bytes)`, zh: `${filename}：文件为空（0 字节）`, details: { file: filename, reason: 'empty_file' } });
  }
  let format: string;
  try {
    format = detectFormat(head);
  } catch (err) {
    if (!Buffer.isBuffer(f.body)) f.body.destroy();
    throw new AppError('unsupported_media_type', {
      message: `${filename}: not a JPEG, PNG, TIFF or PDF scan (decided by content, not by name)`,
      zh: `${filename}：不是 JPEG、PNG、TIFF 或 PDF 扫描件（按文件内容判断，而非文件名）`,
      details: { file: filename },
      cause: err,
    });
  }
  const blobKey = newOriginalKey();
  const lim = limit ?? { maxBytes: rt.config.intake.fileBytes, error: () => fileTooLarge(filename, rt.config.intake.fileBytes) };
  let seen = 0;
  let tripped: AppError | null = null;
  const counted = stream.pipe(
    new Transform({
      transform(chunk: Buffer, _enc, done) {
        seen += chunk.length;
        if (seen > lim.maxBytes) done((tripped = lim.error()));
        else done(null, chunk);
      },
    }),
  );
  stream.on('error', (err) => counted.destroy(err));
  try {
    const put = await rt.storage.blobs.put(blobKey, counted, { contentType: format === 'pdf' ? 'application/pdf' : `image/${format}` });
    if (tripped) throw tripped;
    return { blobKey, filename, format, size: put.size, sha256: put.sha256 };
  } catch (err) {
    // The store removes an unfinished upload itself; a finished one (the limit tripped on the last
    // chunk) is shredded here. Either way nothing of the file stays.
    await rt.storage.blobs.shred(blobKey).catch(() => undefined);
    throw tripped ?? err;
  }
}

export async function discardOriginals(rt: Runtime, stored: StoredOriginal[]): Promise<void> {
  await Promise.all(stored.map((s) => rt.storage.blobs.shred(s.blobKey).catch(() => undefined)));
}

/** Creates the item for already stored originals (or finds the same scans' item) and its job. */
export async function createItem(rt: Runtime, req: Omit<IntakeRequest, 'files'>, stored: StoredOriginal[]): Promise<IntakeResult> {
  const items = itemModel(rt.db);
  const contentHash = createHash('sha256')
    .update(`${req.stack ? 'stack:' : ''}${req.stackOf ? `of:${req.stackOf}:` : ''}${stored.map((s) => s.sha256).join(',')}`)
    .digest('hex');
  let item: ItemDoc;
  let duplicate = false;
  try {
    const created = await items.create({
      fonds: req.fonds,
      source: req.source,
      channel: req.channel,
      status: 'received',
      contentHash,
      originals: stored,
      title: stored[0]?.filename ?? null,
      stack: { enabled: req.stack !== undefined, blankSeparators: req.stack?.blankSeparators ?? false, children: [] },
      stackOf: req.stackOf ?? null,
      preregistered: req.preregistered ?? null,
      batchId: req.batchId ?? null,
    });
    item = created.toObject() as ItemDoc;
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    const existing = await items.findOne({ fonds: req.fonds, contentHash }).lean<ItemDoc>();
    if (!existing) throw err;
    // Same scans again: keep the first item, drop the copies just stored.
    await discardOriginals(rt, stored);
    if (req.mayRead && !req.mayRead(existing)) {
      throw new AppError('duplicate_item', {
        message: `${req.source}: these scans are already archived, in an item you may not read; ask an archivist of fonds ${req.fonds}`,
        zh: `${req.source}：这些扫描件已经归档，但该条目不在您的查阅权限内；请联系全宗 ${req.fonds} 的档案员`,
        details: { source: req.source },
      });
    }
    item = existing;
    duplicate = true;
  }
  const jobId = await ensureOcrJob(rt, item._id);
  return { item: { ...item, jobId }, jobId, duplicate };
}

export async function ingestItem(rt: Runtime, req: IntakeRequest): Promise<IntakeResult> {
  if (req.files.length === 0) throw new AppError('validation_failed', { message: 'No files to ingest', zh: '没有要归档的文件' });
  const { fileBytes, itemBytes, itemPages } = rt.config.intake;
  if (req.files.length > itemPages) throw tooManyPages(itemPages, req.files.length);
  const stored: StoredOriginal[] = [];
  try {
    let total = 0;
    for (const f of req.files) {
      // Each file within the per-file limit and the item's remaining budget, counted as it streams.
      const left = itemBytes - total;
      const name = safeFilename(f.filename);
      const s = await storeOriginal(rt, f, left < fileBytes ? { maxBytes: left, error: () => itemTooLarge(itemBytes) } : { maxBytes: fileBytes, error: () => fileTooLarge(name, fileBytes) });
      stored.push(s);
      total += s.size;
    }
  } catch (err) {
    // Nothing partial: the originals of a rejected item do not stay behind.
    await discardOriginals(rt, stored);
    throw err;
  }
  return createItem(rt, req, stored);
}

/** An item with more pages (or files) than ITEM_MAX_PAGES: refused for good, never retried. */
export function tooManyPages(maxPages: number, found?: number): AppError {
  return new AppError('too_many_pages', {
    message: `This item has more than ${maxPages} pages${found ? ` (${found})` : ''}, the limit for one item (ITEM_MAX_PAGES); split it into several items`,
    zh: `该条目超过单个条目页数上限 ${maxPages} 页${found ? `（${found}）` : ''}（ITEM_MAX_PAGES），请拆分为多个条目`,
    details: { maxPages, ...(found ? { found } : {}) },
  });
}

/** The OCR reader's page-count refusal, said as the item's limit (permanent: not retryable). */
export async function* withPageLimit<T>(pages: AsyncIterable<T>, maxItemPages: number): AsyncGenerator<T> {
  try {
    yield* pages;
  } catch (err) {
    if (isOcrInputError(err) && err.code === 'too_many_pages') throw tooManyPages(maxItemPages);
    throw err;
  }
}

/** Enqueues (idempotently) the OCR job of an item and records its id on the item. */
export async function ensureOcrJob(rt: Runtime, itemId: Types.ObjectId): Promise<string> {
  const job = await rt.queue.enqueue(OCR_JOB, { itemId: String(itemId) }, { dedupeKey: `${OCR_JOB}:${String(itemId)}`, maxAttempts: 5 });
  const jobId = String(job._id);
  await itemModel(rt.db).updateOne({ _id: itemId, jobId: null }, { $set: { jobId } });
  return jobId;
}

/**
 * Pages read so far out of pages to read, over the first pipeline jobs of these items (what
 * `archive ingest --wait` shows on its progress bar).
 */
export async function captureProgress(rt: Runtime, itemIds: Iterable<string>): Promise<{ done: number; total: number }> {
  const jobs = await rt.queue.jobs.find({ dedupeKey: { $in: [...itemIds].map((id) => `${OCR_JOB}:${id}`) } }).lean();
  let done = 0;
  let total = 0;
  for (const j of jobs) {
    done += j.progress?.done ?? 0;
    total += j.progress?.total ?? 0;
  }
  return { done, total };
}

/** Items whose job was never enqueued (a crash between insert and enqueue) get one now. */
export async function sweepUnqueuedItems(rt: Runtime): Promise<number> {
  const stale = await itemModel(rt.db)
    .find({ status: 'received', jobId: null, createdAt: { $lt: new Date(Date.now() - 30_000) } })
    .limit(500)
    .lean<ItemDoc[]>();
  for (const it of stale) await ensureOcrJob(rt, it._id);
  return stale.length;
}

/**
 * Runs a failed item's pipeline again: a fresh job (the old one's dedupe key is spent) and the item
 * back to 'received'. Only a failed item: anything else is already on its way or done.
 */
export async function retryFailedItem(rt: Runtime, item: Pick<ItemDoc, '_id' | 'status'>): Promise<string> {
  if (item.status !== 'failed') {
    throw new AppError('conflict', { message: `Item is ${item.status}; only a failed item can be retried`, zh: `条目状态为 ${item.status}，只有失败的条目可以重试`, details: { status: item.status } });
  }
  const job = await rt.queue.enqueue(OCR_JOB, { itemId: String(item._id) }, { dedupeKey: `${OCR_JOB}:${String(item._id)}:retry:${Date.now()}`, maxAttempts: 5 });
  const jobId = String(job._id);
  await writeRetry(rt, item, jobId);
  return jobId;
}
