/**
 * Test items built the way the application stores them, with sensible defaults: a spec states only
 * what it is about. Writes go through the item model, so the at-rest codec seals what it seals in
 * production.
 */
import { randomBytes } from 'node:crypto';
import { itemModel, type ItemDoc } from '../../src/models/item.model';
import type { Runtime } from '../../src/runtime';

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
  return doc.toObject() as ItemDoc;
}

/** Its id as the API takes it. */
export async function buildItemId(rt: Runtime, overrides: ItemOverrides = {}): Promise<string> {
  return String((await buildItem(rt, overrides))._id);
}
