/**
 * Brings items written before their personal fields were sealed at rest (item-codec.ts) up to
 * date: clear `metadata`, `preregistered` and history changes are sealed, clear `personIds` and
 * `unitCodes` become blind-index keys, so lookups by ID number find old items too. Idempotent.
 */
import { isSealed } from '../../models/item-codec';
import { itemModel, type ItemDoc } from '../../models/item.model';
import type { Runtime } from '../../runtime';
import { linkItem } from './dossier';

function needsSealing(raw: Record<string, unknown>): boolean {
  const clear = (v: unknown) => v !== null && v !== undefined && !isSealed(v);
  const unblinded = (v: unknown) => Array.isArray(v) && v.some((x) => typeof x === 'string' && !x.startsWith('h1:'));
  return (
    clear(raw.metadata) ||
    clear(raw.preregistered) ||
    unblinded(raw.personIds) ||
    unblinded(raw.unitCodes) ||
    (Array.isArray(raw.history) && (raw.history as Array<{ changes?: unknown }>).some((h) => clear(h.changes)))
  );
}

export async function sealLegacyItems(rt: Runtime): Promise<{ scanned: number; sealed: number }> {
  const items = itemModel(rt.db);
  // The raw collection shows what is stored; the model reads and writes through the codec.
  const raw = rt.db.collection('items');
  const ids = (await items.find({}, { _id: 1 }).lean()).map((d) => d._id);
  let sealed = 0;
  for (const _id of ids) {
    const stored = await raw.findOne({ _id });
    if (!stored || !needsSealing(stored)) continue;
    const item = await items.findById(_id).lean<ItemDoc>();
    if (!item) continue;
    await items.updateOne(
      { _id },
      { $set: { metadata: item.metadata ?? null, preregistered: item.preregistered ?? null, personIds: item.personIds ?? [], unitCodes: item.unitCodes ?? [], history: item.history ?? [] } },
    );
    // Now findable by the blind key: into the person's and unit's files.
    const after = await items.findById(_id).lean<ItemDoc>();
    if (after) await linkItem(rt, after);
    sealed++;
  }
  return { scanned: ids.length, sealed };
}
