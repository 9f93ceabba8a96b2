/** An OCRed item as the capture stage leaves it (page text stored encrypted, status processing), for filing specs. */
import { itemModel } from '../../src/models/item.model';
import type { Runtime } from '../../src/runtime';

export async function ocredItem(rt: Runtime, source: string, pages: string[][], fonds = 'Z001'): Promise<string> {
  const items = itemModel(rt.db);
  const doc = await items.create({ fonds, source, channel: 'cli', status: 'processing', contentHash: `${source}-${Math.random()}`, originals: [], ocrAt: new Date() });
  const id = String(doc._id);
  const pageDocs = [];
  for (const [i, lines] of pages.entries()) {
    const textKey = `items/${id}/pages/${i + 1}.json`;
    const text = lines.join('\n');
    await rt.storage.blobs.put(textKey, Buffer.from(JSON.stringify({ text, confidence: 91, lines: lines.map((t, k) => ({ text: t, confidence: 91, bbox: { x0: 0, y0: k * 40, x1: 800, y1: k * 40 + 30 } })) })));
    pageDocs.push({ n: i + 1, source: 0, textKey, confidence: 91 });
  }
  await items.updateOne({ _id: doc._id }, { $set: { pages: pageDocs, pageCount: pages.length } });
  return id;
}
