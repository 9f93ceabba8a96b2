/**
 * The item repository: the one owner of an item's shape and the only place that writes items
 * after intake. Status lists by meaning live here (not as string arrays in each caller), the
 * access level (密级) is a first-class field that no description write can touch, and filing and
 * correction share one write path (writeDescription). Every write here also brings the item's
 * persons' and units' files (dossier.ts link store) in line, so no caller can forget to.
 */
import { OBJECT_ID } from '../../domain/ids';
import { AppError } from '../../errors';
import { itemModel, type ItemDoc } from '../../models/item.model';
import { sealedItemUpdate } from '../../models/item-codec';
import { Types } from 'mongoose';
import type { Runtime } from '../../runtime';
import { linkItem, unlinkItem } from './dossier';
import { itemLevel, ITEM_STATUSES, STATUS, statusIn } from './status';

export { itemLevel, ITEM_STATUSES, STATUS, statusIn };
import type { Classification, ExtractedMetadata } from './item-types';

/** Refuses anything that is not an item id before it reaches the database (validation_failed). */
export function assertItemId(id: string): void {
  if (!OBJECT_ID.test(id)) throw new AppError('validation_failed', { message: 'Not an item id (24 hex characters)', zh: '条目编号格式不正确（应为 24 位十六进制）', details: { id } });
}

export function isItemId(id: string): boolean {
  return OBJECT_ID.test(id);
}

export async function findItem(rt: Runtime, id: string): Promise<ItemDoc | null> {
  return itemModel(rt.db).findById(id).lean<ItemDoc>();
}

export async function loadItem(rt: Runtime, id: string): Promise<ItemDoc> {
  assertItemId(id);
  const item = await findItem(rt, id);
  if (!item) throw new AppError('item_not_found', { details: { id } });
  return item;
}

export interface HistoryEntry {
  actor: string;
  kind: string;
  changes: Record<string, unknown>;
}

/** What an item's description decides beyond itself: the fields its lookups use (一人一档, 一户一档). */
export function describedFields(item: Pick<ItemDoc, 'title'>, md: Partial<Pick<ExtractedMetadata, 'documentDate' | 'persons' | 'units' | 'title'>>) {
  return {
    metadata: md,
    documentDate: md.documentDate ?? null,
    personIds: [...new Set((md.persons ?? []).map((p) => p.idNumber).filter((x): x is string => !!x))],
    unitCodes: [...new Set((md.units ?? []).map((u) => u.creditCode).filter((x): x is string => !!x))],
    title: md.title ?? item.title,
  };
}

/**
 * Filing's and correction's one write: the description, the classification, the 档号 and the
 * resulting status, with a history entry. The access level is not part of a description and is
 * never written here, so no correction can lower it (issue #13.1).
 */
export async function writeDescription(
  rt: Runtime,
  item: ItemDoc,
  d: { metadata: Partial<ExtractedMetadata>; classification: Classification; archivalCode: string | null; archivalClass: string | null; status: 'filed' | 'review'; filedAt?: Date },
  history: HistoryEntry,
): Promise<ItemDoc> {
  // A legacy level inside classification moves to its own field before classification is replaced.
  const level = itemLevel(item);
  await itemModel(rt.db).updateOne(
    { _id: item._id },
    {
      $set: {
        ...describedFields(item, d.metadata),
        classification: d.classification,
        archivalCode: d.archivalCode,
        archivalClass: d.archivalClass,
        status: d.status,
        accessLevel: level,
        ...(d.filedAt ? { filedAt: d.filedAt } : {}),
      },
      $push: { history: { at: new Date(), ...history } },
    },
  );
  return relinked(rt, String(item._id));
}

/** The item as now stored, after bringing its persons' and units' files (一人一档) in line with it. */
async function relinked(rt: Runtime, id: string): Promise<ItemDoc> {
  const now = await loadItem(rt, id);
  await linkItem(rt, now);
  return now;
}

/** 密级变更: the level's only write. */
export async function writeAccessLevel(rt: Runtime, item: ItemDoc, rank: number, history: HistoryEntry): Promise<ItemDoc> {
  const cls = item.classification as Record<string, unknown> | null;
  const { accessLevel: _legacy, ...rest } = cls ?? {};
  await itemModel(rt.db).updateOne(
    { _id: item._id },
    { $set: { accessLevel: rank, ...(cls ? { classification: rest } : {}) }, $push: { history: { at: new Date(), ...history } } },
  );
  return relinked(rt, String(item._id));
}

// ——— appraisal and destruction (services/disposition) ———

/** A retention the 鉴定小组 decided (3号令 第十条: re-set the period), with the old one in history. */
export interface RetentionChange {
  retention: string;
  dueOn: string | null;
  actor: string;
  kind: 'retention.extend' | 'retention.keep';
  reason: string;
  roundId: string;
}

export async function setItemRetention(rt: Runtime, itemId: string, change: RetentionChange): Promise<void> {
  const items = itemModel(rt.db);
  const item = await loadItem(rt, itemId);
  const cls = { ...((item.classification as Record<string, unknown> | null) ?? {}) };
  const from = { retention: cls.retention ?? null, dueOn: cls.dueOn ?? null };
  if (from.retention === change.retention && from.dueOn === change.dueOn) return; // already applied (a retry)
  cls.retention = change.retention;
  cls.dueOn = change.dueOn;
  await items.updateOne(
    { _id: item._id },
    { $set: { classification: cls, accessLevel: itemLevel(item) }, $push: { history: { at: new Date(), actor: change.actor, kind: change.kind, changes: { from, to: { retention: change.retention, dueOn: change.dueOn }, reason: change.reason, roundId: change.roundId } } } },
  );
}

export interface Tombstone {
  listId: string;
  destroyedAt: string;
  row: Record<string, unknown>;
  checksums: Array<{ key: string; sha256: string }>;
}

/**
 * Replaces a destroyed item by its tombstone: status `destroyed`, the 清册 fields and checksums,
 * and nothing personal or readable (description, pages, originals, person and unit keys go; the
 * history goes too, since its corrections carry names and ID numbers). Idempotent.
 */
export async function tombstoneItem(rt: Runtime, itemId: string, tombstone: Tombstone): Promise<void> {
  await tombstoneItems(rt, [{ itemId, tombstone }]);
}

/**
 * tombstoneItem for many items (destruction runs by chunks): one read of their classifications,
 * one bulk write (each update sealed for its item by the at-rest codec's own function, as the
 * middleware would: item-codec.ts sealedItemUpdate), then the dossier links a few at a time.
 */
export async function tombstoneItems(rt: Runtime, entries: Array<{ itemId: string; tombstone: Tombstone }>): Promise<void> {
  if (!entries.length) return;
  const items = itemModel(rt.db);
  const found = new Map(
    (await items.find({ _id: { $in: entries.map((e) => new Types.ObjectId(e.itemId)) } }, { _id: 1, classification: 1 }).lean<ItemDoc[]>()).map((d) => [String(d._id), d]),
  );
  const ops: Array<{ updateOne: { filter: { _id: Types.ObjectId }; update: Record<string, unknown> } }> = [];
  for (const { itemId, tombstone } of entries) {
    const item = found.get(itemId);
    if (!item) continue;
    const cls = (item.classification as Record<string, unknown> | null) ?? null;
    const update = {
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
    };
    ops.push({ updateOne: { filter: { _id: item._id as Types.ObjectId }, update: await sealedItemUpdate(rt.db, item._id, update) } });
  }
  // A few requests for the whole batch, each update sealed for its own item as the middleware
  // would. Bulks of BULK_MAX: one bulk of 128 updates never answered on FerretDB 1.24 (SQLite)
  // on the reference machine, while bulks of 16 did at ~27 ms an item.
  for (let i = 0; i < ops.length; i += BULK_MAX) await items.collection.bulkWrite(ops.slice(i, i + BULK_MAX) as never, { ordered: true });
  // Out of every person's and unit's file (一人一档): nothing of it may be listed any more.
  await eachLimit([...found.keys()], TOMBSTONE_CONCURRENCY, (itemId) => unlinkItem(rt, itemId));
}

/** Updates per bulk write (see tombstoneItems). */
const BULK_MAX = 16;

/** Item writes in flight at once when a batch of items is written (FerretDB on a small machine). */
const TOMBSTONE_CONCURRENCY = 16;

async function eachLimit<T>(xs: readonly T[], n: number, fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, xs.length) }, async () => {
      while (next < xs.length) await fn(xs[next++]!);
    }),
  );
}

/**
 * A retention decision that is not a description: a schedule version applied (filing/apply-
 * schedule.ts), a 档号 withdrawn or re-issued (filing/withdraw-number.ts). Only the classification,
 * the number and the status change; the description and the access level are left alone.
 */
export async function writeRetention(
  rt: Runtime,
  item: ItemDoc,
  d: { classification: Classification; status?: 'filed' | 'review'; archivalCode?: string | null; archivalClass?: string | null },
  history: HistoryEntry,
): Promise<ItemDoc> {
  await itemModel(rt.db).updateOne(
    { _id: item._id },
    {
      $set: {
        classification: d.classification,
        accessLevel: itemLevel(item),
        ...(d.status ? { status: d.status } : {}),
        ...(d.archivalCode !== undefined ? { archivalCode: d.archivalCode } : {}),
        ...(d.archivalClass !== undefined ? { archivalClass: d.archivalClass } : {}),
      },
      $push: { history: { at: new Date(), ...history } },
    },
  );
  return relinked(rt, String(item._id));
}

/** 移交: the archives' receipt for the item and the local copy's state under the configured policy. */
export async function writeTransfer(rt: Runtime, item: ItemDoc, transfer: Record<string, unknown>, history: HistoryEntry): Promise<ItemDoc> {
  await itemModel(rt.db).updateOne({ _id: item._id }, { $set: { transfer }, $push: { history: { at: new Date(), ...history } } });
  return loadItem(rt, String(item._id));
}

/**
 * Quality control's writes (DA/T 31-2017, services/capture/qc.ts): holding an item in qc_hold with
 * its reasons, and releasing it to filing when an archivist accepts the scan with a reason.
 */
export async function writeQcHold(rt: Runtime, item: ItemDoc, qc: Record<string, unknown>): Promise<void> {
  await itemModel(rt.db).updateOne({ _id: item._id }, { $set: { status: 'qc_hold', qc } });
}

export async function writeQcAccepted(rt: Runtime, item: ItemDoc, qc: Record<string, unknown>, history: HistoryEntry): Promise<ItemDoc> {
  await itemModel(rt.db).updateOne({ _id: item._id, status: 'qc_hold' }, { $set: { status: 'processing', qc }, $push: { history: { at: new Date(), ...history } } });
  return loadItem(rt, String(item._id));
}

/**
 * A failed item sent through its pipeline again (capture's retry): back to 'received' with its new
 * job, the failure cleared. No history entry: the description has not changed (the audit trail
 * records who retried), and the review queue reads an untouched history as "not yet reviewed".
 */
export async function writeRetry(rt: Runtime, item: Pick<ItemDoc, '_id'>, jobId: string): Promise<void> {
  await itemModel(rt.db).updateOne({ _id: item._id, status: 'failed' }, { $set: { status: 'received', jobId, failure: { code: null, message: null, messageZh: null } } });
}
