/**
 * The writes appraisal and destruction make to an item (services/disposition calls them): a new
 * retention decided by the 鉴定小组 (with history), and the tombstone that replaces a destroyed
 * item. Kept in the records room, beside the item's other writes.
 */
import { itemModel, type ItemDoc } from '../../models/item.model';
import type { Runtime } from '../../runtime';
import { AppError } from '../../errors';

export interface RetentionChange {
  retention: string;
  dueOn: string | null;
  actor: string;
  kind: 'retention.extend' | 'retention.keep';
  reason: string;
  roundId: string;
}

/** Sets the item's retention and next appraisal date as a 鉴定小组 decided; the old values go to history. */
export async function setItemRetention(rt: Runtime, itemId: string, change: RetentionChange): Promise<void> {
  const items = itemModel(rt.db);
  const item = await items.findById(itemId).lean<ItemDoc>();
  if (!item) throw new AppError('item_not_found', { details: { id: itemId } });
  const cls = { ...((item.classification as Record<string, unknown> | null) ?? {}) };
  const from = { retention: cls.retention ?? null, dueOn: cls.dueOn ?? null };
  if (from.retention === change.retention && from.dueOn === change.dueOn) return; // already applied (a retry)
  cls.retention = change.retention;
  cls.dueOn = change.dueOn;
  const history = [...(item.history ?? []), { at: new Date(), actor: change.actor, kind: change.kind, changes: { from, to: { retention: change.retention, dueOn: change.dueOn }, reason: change.reason, roundId: change.roundId } }];
  await items.updateOne({ _id: item._id }, { $set: { classification: cls, history } });
}

export interface Tombstone {
  listId: string;
  destroyedAt: string;
  row: Record<string, unknown>;
  checksums: Array<{ key: string; sha256: string }>;
}

/**
 * Replaces a destroyed item by its tombstone: status `destroyed`, the 清册 fields and checksums,
 * and nothing personal or readable (description, pages, originals, person and unit keys go).
 * Idempotent: writing the same tombstone again changes nothing.
 */
export async function tombstoneItem(rt: Runtime, itemId: string, tombstone: Tombstone): Promise<void> {
  const items = itemModel(rt.db);
  const item = await items.findById(itemId, { _id: 1, classification: 1 }).lean<ItemDoc>();
  if (!item) return;
  const cls = (item.classification as Record<string, unknown> | null) ?? null;
  await items.updateOne(
    { _id: item._id },
    {
      $set: {
        status: 'destroyed',
        tombstone,
        metadata: null,
        preregistered: null,
        pages: [],
        originals: [],
        pdfKey: null,
        personIds: [],
        unitCodes: [],
        flags: [],
        history: [{ at: new Date(tombstone.destroyedAt), actor: 'disposition', kind: 'destroyed', changes: { listId: tombstone.listId } }],
        classification: cls ? { retention: cls.retention ?? null, category: cls.category ?? null, item: cls.item ?? null, dueOn: cls.dueOn ?? null } : null,
      },
    },
  );
}
