/**
 * Where an item's pages live in the blob store, and how their stored OCR text is read back. Every
 * room that needs a page's text (filing, the item view, retrieval, search) reads it here, so the
 * stored shape has one owner.
 */
import { randomUUID } from 'node:crypto';
import type { OcrLine } from '../../../ocr';
import type { ItemDoc } from '../../models/item.model';
import type { Runtime } from '../../runtime';

export interface StoredPageText {
  text: string;
  confidence: number;
  lines: OcrLine[];
}

/** Blob keys of an item's derived objects (content-addressed by item id and page number). */
export const pageKeys = {
  image: (itemId: string, n: number, format: 'png' | 'jpeg') => `items/${itemId}/pages/${n}.${format === 'png' ? 'png' : 'jpg'}`,
  text: (itemId: string, n: number) => `items/${itemId}/pages/${n}.json`,
  pdf: (itemId: string) => `items/${itemId}/item.pdf`,
  /** Everything derived from or stored for the item: what destruction must shred. */
  prefix: (itemId: string) => `items/${itemId}/`,
};

/**
 * The key of a new original scan. Each original gets a folder of its own: an object store lists a
 * key's versions (which crypto-shredding must remove, all of them) by walking the key's parent
 * folder, so in one flat `originals/` folder shredding an original cost time in proportion to
 * the whole archive (bench:dispose: 101 items/s in the shred stage at 2,000 items, 62 at 10,000).
 * Originals stored before this keep their flat keys; every reader takes the key from the item.
 */
export const newOriginalKey = (): string => `originals/${randomUUID()}/scan`;

export async function readPageText(rt: Runtime, key: string): Promise<StoredPageText> {
  return JSON.parse((await rt.storage.blobs.getBuffer(key)).toString('utf8')) as StoredPageText;
}

/**
 * What a caller already holds of an item, so that filing and indexing do not read it again: the
 * item as just read or written, and the page texts capture wrote in the same job.
 */
export interface KnownItem {
  item?: ItemDoc;
  texts?: ReadonlyMap<number, StoredPageText>;
}

/**
 * The stored text of each of the item's pages that has one, in page order. A page in `known` (what
 * capture just wrote, in the same job) is taken from there; the others are read from the store.
 * The item pipeline's filing and indexing each read every page back before: two fetches and
 * decryptions per page of what was in memory.
 */
export async function readPageTexts(rt: Runtime, item: Pick<ItemDoc, 'pages'>, known?: ReadonlyMap<number, StoredPageText>): Promise<Array<StoredPageText & { n: number }>> {
  return Promise.all(
    (item.pages ?? [])
      .filter((p) => p.textKey)
      .map(async (p) => ({ n: p.n, ...(known?.get(p.n) ?? (await readPageText(rt, p.textKey!))) })),
  );
}
