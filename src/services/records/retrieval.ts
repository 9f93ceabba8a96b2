/**
 * Reading an item: page images (decrypted as they stream, byte ranges for large pages),
 * thumbnails, OCR text with boxes for hit highlighting, and the searchable PDF stamped with a
 * visible watermark naming who downloaded it and when (利用: every copy is traceable).
 */
import type { Readable } from 'node:stream';
// pdf-lib and sharp load on first use (start-up of processes that never render a page).
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
  const { default: sharp } = await import('sharp');
  const thumb = await sharp(await rt.storage.blobs.getBuffer(p.imageKey!))
    .resize({ width: 320, withoutEnlargement: true })
    .jpeg({ quality: 75 })
    .toBuffer();
  await rt.storage.blobs.put(key, thumb, { contentType: 'image/jpeg' });
  return thumb;
}

export async function pageText(rt: Runtime, item: ItemDoc, n: number) {
  const p = pageOf(item, n);
  const t = p.textKey ? await readPageText(rt, p.textKey) : { text: '', confidence: 0, lines: [] };
  return { n, width: p.width ?? null, height: p.height ?? null, text: t.text, confidence: t.confidence, lines: t.lines };
}

function escapeMarkup(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The watermark as a transparent PNG (rendered with the system's CJK font). */
async function watermarkPng(text: string): Promise<Buffer> {
  const { default: sharp } = await import('sharp');
  return sharp({
    text: {
      text: `<span foreground="#c00000">${escapeMarkup(text)}</span>`,
      font: 'WenQuanYi Zen Hei, Noto Sans CJK SC, sans 28',
      dpi: 144,
      rgba: true,
      align: 'center',
    },
  })
    .png()
    .toBuffer();
}

export async function watermarkedPdf(rt: Runtime, item: ItemDoc, who: string, at: Date): Promise<Uint8Array> {
  if (!item.pdfKey) throw new AppError('not_found', { message: 'This item has no PDF yet', zh: '该条目尚未生成 PDF' });
  const { PDFDocument } = await import('pdf-lib');
  const pdf = await PDFDocument.load(await rt.storage.blobs.getBuffer(item.pdfKey));
  const stamp = `${who} 下载 · ${at.toISOString().replace('T', ' ').slice(0, 19)} UTC\n仅供查阅利用 · ${item.archivalCode ?? String(item._id)}`;
  const png = await pdf.embedPng(await watermarkPng(stamp));
  for (const page of pdf.getPages()) {
    const { width, height } = page.getSize();
    const w = width * 0.7;
    const h = (png.height / png.width) * w;
    page.drawImage(png, { x: (width - w) / 2, y: (height - h) / 2, width: w, height: h, opacity: 0.35 });
    page.drawImage(png, { x: width - w * 0.45 - 12, y: 12, width: w * 0.45, height: h * 0.45, opacity: 0.8 });
  }
  pdf.setKeywords([`downloaded-by:${who}`, `downloaded-at:${at.toISOString()}`]);
  return pdf.save();
}
