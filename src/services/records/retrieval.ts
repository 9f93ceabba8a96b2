/**
 * Reading an item: page images (decrypted as they stream, byte ranges for large pages),
 * thumbnails, OCR text with boxes for hit highlighting, and the searchable PDF stamped with a
 * visible watermark naming who downloaded it and when (利用: every copy is traceable).
 */
import type { Readable } from 'node:stream';
import { textPng, thumbnail, watermarkPdf } from '../../../render';
import { AppError } from '../../errors';
import type { ItemDoc } from '../../models/item.model';
import type { Runtime } from '../../runtime';
import { readPageText } from './page-store';

function pageOf(item: ItemDoc, n: number): NonNullable<ItemDoc['pages']>[number] {
  const p = (item.pages ?? []).find((x) => x.n === n);
  if (!p || !p.imageKey) throw new AppError('not_found', { message: `Item has no page ${n}`, zh: `该条目没有第 ${n} 页`, details: { page: n, pages: item.pageCount } });
  return p;
}

export function contentTypeOf(key: string): string {
  if (key.endsWith('.png')) return 'image/png';
  if (key.endsWith('.jpg')) return 'image/jpeg';
  if (key.endsWith('.pdf')) return 'application/pdf';
  return 'application/octet-stream';
}

/** Parses a single HTTP byte range ("bytes=0-1023", "bytes=500-", "bytes=-200") against a size. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | null | 'invalid' {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return 'invalid';
  let start: number;
  let end: number;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start > end || start >= size) return 'invalid';
  return { start, end };
}

export async function pageImage(rt: Runtime, item: ItemDoc, n: number, rangeHeader?: string): Promise<{ stream: Readable; contentType: string; size: number; range: { start: number; end: number } | null }> {
  const p = pageOf(item, n);
  const info = await rt.storage.blobs.stat(p.imageKey!);
  const range = parseRange(rangeHeader, info.size);
  if (range === 'invalid') throw new AppError('range_not_satisfiable', { details: { size: info.size } });
  const stream = await rt.storage.blobs.get(p.imageKey!, range ?? undefined);
  return { stream, contentType: contentTypeOf(p.imageKey!), size: info.size, range };
}

/** A 320-pixel-wide JPEG, made once and kept (encrypted) beside the page. */
export async function pageThumbnail(rt: Runtime, item: ItemDoc, n: number): Promise<Buffer> {
  const p = pageOf(item, n);
  const key = `${p.imageKey!.replace(/\.(png|jpg)$/, '')}.thumb.jpg`;
  try {
    return await rt.storage.blobs.getBuffer(key);
  } catch (err) {
    if ((err as { code?: string }).code !== 'object_not_found') throw err;
  }
  const thumb = await thumbnail(await rt.storage.blobs.getBuffer(p.imageKey!), 320);
  await rt.storage.blobs.put(key, thumb, { contentType: 'image/jpeg' });
  return thumb;
}

export async function pageText(rt: Runtime, item: ItemDoc, n: number) {
  const p = pageOf(item, n);
  const t = p.textKey ? await readPageText(rt, p.textKey) : { text: '', confidence: 0, lines: [] };
  return { n, width: p.width ?? null, height: p.height ?? null, text: t.text, confidence: t.confidence, lines: t.lines };
}

export async function watermarkedPdf(rt: Runtime, item: ItemDoc, who: string, at: Date): Promise<Uint8Array> {
  if (!item.pdfKey) throw new AppError('not_found', { message: 'This item has no PDF yet', zh: '该条目尚未生成 PDF' });
  const stamp = `${who} 下载 · ${at.toISOString().replace('T', ' ').slice(0, 19)} UTC\n仅供查阅利用 · ${item.archivalCode ?? String(item._id)}`;
  // The watermark as a transparent PNG in the system's CJK font, faint across each page and clear in a corner.
  const png = await textPng(stamp.split('\n'), { color: '#c00000', align: 'centre' });
  return watermarkPdf(await rt.storage.blobs.getBuffer(item.pdfKey), png, [`downloaded-by:${who}`, `downloaded-at:${at.toISOString()}`]);
}
