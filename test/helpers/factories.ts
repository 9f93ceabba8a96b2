/**
 * Test items built the way the application stores them, with sensible defaults: a spec states only
 * what it is about. Writes go through the item model, so the at-rest codec seals what it seals in
 * production.
 */
import { randomBytes } from 'node:crypto';
import { Types } from 'mongoose';
import { itemModel, type ItemDoc } from '../../src/models/item.model';
import type { Runtime } from '../../src/runtime';
import { linkItem, pageKeys } from '../../src/services/records';

export type ItemOverrides = Partial<Omit<ItemDoc, '_id' | 'createdAt' | 'updatedAt'>> & Record<string, unknown>;

/** A filed item of fonds Z001 with no pages; override any field. Returns the stored row. */
export async function buildItem(rt: Runtime, overrides: ItemOverrides = {}): Promise<ItemDoc> {
  const doc = await itemModel(rt.db).create({
    fonds: 'Z001',
    source: 'factory.png',
    channel: 'api',
    status: 'filed',
    contentHash: `factory-${randomBytes(8).toString('hex')}`,
    originals: [],
    documentDate: '2019-05-20',
    title: '工伤认定决定书',
    ...overrides,
  });
  const item = (await itemModel(rt.db).findById(doc._id).lean<ItemDoc>())!;
  // What filing does next: the item joins its persons' and units' files (一人一档).
  await linkItem(rt, item);
  return item;
}

/** Its id as the API takes it. */
export async function buildItemId(rt: Runtime, overrides: ItemOverrides = {}): Promise<string> {
  return String((await buildItem(rt, overrides))._id);
}

/**
 * An item whose pages have stored OCR text (as the capture stage leaves it), one entry per page,
 * each page given as its lines. Page text goes to the blob store encrypted under the real page keys.
 */
export async function buildItemWithText(rt: Runtime, pages: string[][], overrides: ItemOverrides = {}): Promise<string> {
  const id = new Types.ObjectId();
  const pageDocs = [];
  for (const [i, lines] of pages.entries()) {
    const textKey = pageKeys.text(String(id), i + 1);
    const text = lines.join('\n');
    const stored = { text, confidence: 91, lines: lines.map((t, k) => ({ text: t, confidence: 91, bbox: { x0: 0, y0: k * 40, x1: 800, y1: k * 40 + 30 } })) };
    await rt.storage.blobs.put(textKey, Buffer.from(JSON.stringify(stored)), { contentType: 'application/json' });
    pageDocs.push({ n: i + 1, source: 0, textKey, confidence: 91 });
  }
  await buildItem(rt, { _id: id, pages: pageDocs as unknown as ItemDoc['pages'], pageCount: pageDocs.length, ...overrides });
  return String(id);
}
