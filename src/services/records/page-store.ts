/**
 * Where an item's pages live in the blob store, and how their stored OCR text is read back. Every
 * room that needs a page's text (filing, the item view, retrieval, search) reads it here, so the
 * stored shape has one owner.
 */
import type { OcrLine } from '../../../ocr';
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

export async function readPageText(rt: Runtime, key: string): Promise<StoredPageText> {
  return JSON.parse((await rt.storage.blobs.getBuffer(key)).toString('utf8')) as StoredPageText;
}
