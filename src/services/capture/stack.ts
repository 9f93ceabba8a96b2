/**
 * Splits a scanned stack into items at separator sheets (and optionally at blank pages).
 * The stack's original stays exactly as received; each child item gets its pages as lossless
 * PNG originals and the separator's pre-registered data. Rerunning yields the same children:
 * a child's identity is its stack plus its page content, so intake finds it instead of copying.
 */
import { rawToPng } from '../../../render';
import { iteratePages, preparePage } from '../../../ocr';
import { itemModel, type ItemDoc } from '../../models/item.model';
import type { Runtime } from '../../runtime';
import { createItem, discardOriginals, storeOriginal, type StoredOriginal, withPageLimit } from './intake';
import { detectSeparator, type SeparatorData } from './separator';

interface Group {
  data: SeparatorData | null;
  /** each page stored as soon as it is read: a stack's pages are never all held in memory */
  pages: StoredOriginal[];
}

export async function splitStack(
  rt: Runtime,
  stack: ItemDoc,
  opts: { maxPages?: number; progress?: (p: { stage: string; done: number; total: number }) => Promise<void> } = {},
): Promise<string[]> {
  const groups: Group[] = [];
  let current: Group = { data: null, pages: [] };
  let n = 0;
  const maxPages = Math.min(rt.config.intake.itemPages, opts.maxPages ?? Infinity);
  try {
    for (const original of stack.originals) {
      const pagesOf = iteratePages(await rt.storage.blobs.getBuffer(original.blobKey), { maxPages: maxPages - n, maxBytes: rt.config.intake.fileBytes });
      for await (const page of withPageLimit(pagesOf, maxPages)) {
        n++;
        await opts.progress?.({ stage: 'split', done: n, total: n });
        const png = await rawToPng(page.image, { width: page.width, height: page.height, channels: page.channels });
        const sep = await detectSeparator(png);
        const blankSeparator = !sep && stack.stack?.blankSeparators === true && (await preparePage(page)).blank;
        if (sep || blankSeparator) {
          if (current.pages.length) groups.push(current);
          current = { data: sep, pages: [] };
          continue;
        }
        current.pages.push(await storeOriginal(rt, { filename: `${groups.length + 1}-${current.pages.length + 1}.png`, body: png }));
      }
    }
  } catch (err) {
    // Nothing partial: the pages stored so far go (a rerun stores them again).
    await discardOriginals(rt, [...groups.flatMap((g) => g.pages), ...current.pages]);
    throw err;
  }
  if (current.pages.length) groups.push(current);

  const children: string[] = [];
  for (const [k, g] of groups.entries()) {
    const res = await createItem(
      rt,
      { fonds: stack.fonds, source: `${stack.source}#${k + 1}`, channel: stack.channel as 'api' | 'cli' | 'hotfolder', stackOf: String(stack._id), preregistered: g.data ?? null },
      g.pages,
    );
    children.push(String(res.item._id));
    // Each child is a new item: its creation is in the audit trail like any other intake (#13.14).
    await rt.audit.record({ actor: 'system', role: null, ip: null, action: 'item.ingest', object: { type: 'item', id: String(res.item._id) }, outcome: 'success', details: { channel: stack.channel, stackOf: String(stack._id), part: k + 1, pages: g.pages.length, separator: g.data !== null, duplicate: res.duplicate } });
  }
  await itemModel(rt.db).updateOne({ _id: stack._id }, { $set: { status: 'split', 'stack.children': children, pageCount: n, filedAt: new Date() } });
  return children;
}
