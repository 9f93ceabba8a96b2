/**
 * Intake: originals in, exactly as received (encrypted), one item row, one OCR job. Returns at
 * once; the work runs in the background. The same scans ingested twice resolve to one item.
 */
import { createHash, randomUUID } from 'node:crypto';
import { isDuplicateKey } from '../../db';
import { Readable } from 'node:stream';
import type { Types } from 'mongoose';
import { detectFormat } from '../../../ocr';
import { AppError } from '../../errors';
import { itemModel, type ItemDoc } from '../../models/item.model';
import type { Runtime } from '../../runtime';

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

/** Sniffs a file by content and streams it, encrypted, into the blob store. */
export async function storeOriginal(rt: Runtime, f: IntakeFile): Promise<StoredOriginal> {
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
  const blobKey = `originals/${randomUUID()}`;
  const put = await rt.storage.blobs.put(blobKey, stream, { contentType: format === 'pdf' ? 'application/pdf' : `image/${format}` });
  return { blobKey, filename, format, size: put.size, sha256: put.sha256 };
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
    item = existing;
    duplicate = true;
  }
  const jobId = await ensureOcrJob(rt, item._id);
  return { item: { ...item, jobId }, jobId, duplicate };
}

export async function ingestItem(rt: Runtime, req: IntakeRequest): Promise<IntakeResult> {
  if (req.files.length === 0) throw new AppError('validation_failed', { message: 'No files to ingest', zh: '没有要归档的文件' });
  const stored: StoredOriginal[] = [];
  try {
    for (const f of req.files) stored.push(await storeOriginal(rt, f));
  } catch (err) {
    // Nothing partial: the originals of a rejected item do not stay behind.
    await discardOriginals(rt, stored);
    throw err;
  }
  return createItem(rt, req, stored);
}

/** Enqueues (idempotently) the OCR job of an item and records its id on the item. */
export async function ensureOcrJob(rt: Runtime, itemId: Types.ObjectId): Promise<string> {
  const job = await rt.queue.enqueue(OCR_JOB, { itemId: String(itemId) }, { dedupeKey: `${OCR_JOB}:${String(itemId)}`, maxAttempts: 5 });
  const jobId = String(job._id);
  await itemModel(rt.db).updateOne({ _id: itemId, jobId: null }, { $set: { jobId } });
  return jobId;
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
