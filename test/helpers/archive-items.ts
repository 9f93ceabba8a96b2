/**
 * Filed items without running OCR: an original (a small PNG), page images and page text stored
 * encrypted as capture leaves them, then the real filing and indexing stages. For integrity,
 * backup and fault specs that need many items fast; capture itself is tested with tesseract.js.
 */
import sharp from 'sharp';
import { buildSearchablePdf } from '../../ocr';
import { idCheckDigit } from '../../src/domain/id-number';
import { itemModel } from '../../src/models/item.model';
import type { Runtime } from '../../src/runtime';
import { fileItem } from '../../src/services/filing';
import { indexItem } from '../../src/services/search';
import { newOriginalKey } from '../../src/services/records';

const zhang = '11010519870315231' + idCheckDigit('11010519870315231');

export const INJURY = (name: string, date: string): string[] => [
  '工伤认定决定书',
  '京人社工伤认字〔2019〕123号',
  `受伤职工姓名：${name}\u3000公民身份号码：${zhang}`,
  '用人单位：北京市朝阳区星光科技有限公司',
  '经调查核实，认定为工伤。',
  `决定日期：${date}`,
];

let png: Buffer | undefined;
async function tinyPng(): Promise<Buffer> {
  png ??= await sharp({ create: { width: 64, height: 48, channels: 3, background: '#ffffff' } }).png().toBuffer();
  return png;
}

/** An item as capture leaves it (status processing, OCR done), with its blobs stored. */
export async function capturedItem(rt: Runtime, source: string, pages: string[][]): Promise<string> {
  const items = itemModel(rt.db);
  const image = await tinyPng();
  const originalKey = newOriginalKey();
  const put = await rt.storage.blobs.put(originalKey, Buffer.concat([image, Buffer.from(source)]), { contentType: 'image/png' });
  const doc = await items.create({
    fonds: 'Z001',
    source,
    channel: 'cli',
    status: 'processing',
    contentHash: `${source}-${put.sha256}`,
    originals: [{ blobKey: originalKey, filename: `${source}.png`, format: 'png', size: put.size, sha256: put.sha256 }],
    ocrAt: new Date(),
  });
  const id = String(doc._id);
  const pageDocs = [];
  const pdfPages = [];
  for (const [i, lines] of pages.entries()) {
    const textKey = `items/${id}/pages/${i + 1}.json`;
    const imageKey = `items/${id}/pages/${i + 1}.png`;
    const text = lines.join('\n');
    await rt.storage.blobs.put(imageKey, image, { contentType: 'image/png' });
    await rt.storage.blobs.put(textKey, Buffer.from(JSON.stringify({ text, confidence: 91, lines: lines.map((t, k) => ({ text: t, confidence: 91, bbox: { x0: 0, y0: k * 40, x1: 800, y1: k * 40 + 30 } })) })));
    pageDocs.push({ n: i + 1, source: 0, imageKey, textKey, confidence: 91, width: 64, height: 48, dpi: 300, chars: text.replace(/\s/g, '').length });
    pdfPages.push({ image, width: 64, height: 48, dpi: 300, lines: lines.map((t, k) => ({ text: t, bbox: { x0: 0, y0: k * 8, x1: 64, y1: k * 8 + 6 } })) });
  }
  const pdfKey = `items/${id}/item.pdf`;
  await rt.storage.blobs.put(pdfKey, Buffer.from(await buildSearchablePdf(pdfPages, { title: source, itemId: id, createdAt: new Date() })), { contentType: 'application/pdf' });
  await items.updateOne({ _id: doc._id }, { $set: { pages: pageDocs, pageCount: pages.length, pdfKey } });
  return id;
}

/** A captured item taken through filing and indexing, as the pipeline does after OCR. */
export async function filedItem(rt: Runtime, source: string, name = '张伟', date = '2019年3月5日'): Promise<string> {
  const id = await capturedItem(rt, source, [INJURY(name, date)]);
  await fileItem(rt, id);
  await indexItem(rt, id);
  return id;
}
