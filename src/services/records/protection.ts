/**
 * Storage-level protection of an item's blobs (issue #11 §5): MinIO object lock in governance
 * mode until the item's appraisal date (3号令 第九条: counted from 1 January after formation), a
 * far date for 永久 items, and object legal holds mirroring the legal holds (冻结) of the
 * disposition workflow (档案法 第21条: 禁止擅自销毁; 会计档案管理办法: 未了事项 not destroyed). A
 * credential with delete rights then cannot remove a protected object early; only the destruction
 * executor's privileged credential lifts governance retention (`shred(key, { bypassGovernance })`),
 * and nothing lifts a legal hold but releasing it. On a bucket without object lock every call here
 * is a no-op that says so (`applied: false`): migrate with `archive storage migrate-lock`.
 */
import { PERMANENT_RETENTION } from '../../../storage';
import { itemModel, type ItemDoc } from '../../models/item.model';
import { AppError } from '../../errors';
import type { Runtime } from '../../runtime';
import { filedItemIds } from './item-lists';
import { findItem } from './items';
import { pageKeys } from './page-store';

/** Every blob key of an item: its originals and everything stored under its prefix (pages, text, PDF, thumbnails). */
export async function itemBlobKeys(rt: Runtime, item: Pick<ItemDoc, '_id' | 'originals'>): Promise<string[]> {
  const keys = new Set<string>((item.originals ?? []).map((o) => o.blobKey));
  for await (const k of rt.storage.blobs.list(pageKeys.prefix(String(item._id)))) keys.add(k);
  return [...keys].sort();
}

/**
 * When the item's blobs may first be removed: the appraisal date (UTC midnight), PERMANENT_RETENTION
 * for 永久, null when there is no date to protect until (not filed, no formation date).
 */
export function retainUntilOf(item: Pick<ItemDoc, 'classification'>): Date | null {
  const cls = item.classification as { retention?: string | null; dueOn?: string | null } | null;
  if (!cls?.retention) return null;
  if (cls.retention === 'Y') return PERMANENT_RETENTION;
  return cls.dueOn ? new Date(`${cls.dueOn}T00:00:00.000Z`) : null;
}

export interface ProtectionReport {
  itemId: string;
  keys: number;
  applied: boolean;
  retainUntil: string | null;
}

/**
 * Puts every blob of a filed item under governance retention until its appraisal date. Only ever
 * extends (a later schedule that shortens the period leaves the longer lock; it expires by itself).
 * Idempotent: call it after filing, confirmation, a schedule change or a migration.
 */
export async function protectItem(rt: Runtime, itemOrId: string | ItemDoc): Promise<ProtectionReport> {
  const item = typeof itemOrId === 'string' ? await itemModel(rt.db).findById(itemOrId).lean<ItemDoc>() : itemOrId;
  if (!item) return { itemId: String(itemOrId), keys: 0, applied: false, retainUntil: null };
  const until = retainUntilOf(item);
  const keys = until ? await itemBlobKeys(rt, item) : [];
  let applied = keys.length > 0;
  for (const key of keys) applied = (await rt.storage.blobs.protect(key, { retainUntil: until! })).applied && applied;
  return { itemId: String(item._id), keys: keys.length, applied, retainUntil: until?.toISOString() ?? null };
}

/**
 * protectItem for every filed item (`archive storage protect`), one after another; `onProgress`
 * hears how many are done out of how many.
 */
export async function protectFiledItems(rt: Runtime, opts: { onProgress?: (done: number, total: number) => void } = {}): Promise<{ items: number; protected: number; keys: number }> {
  const ids = await filedItemIds(rt);
  let keys = 0;
  let applied = 0;
  for (const [i, id] of ids.entries()) {
    const r = await protectItem(rt, id);
    keys += r.keys;
    if (r.applied) applied++;
    opts.onProgress?.(i + 1, ids.length);
  }
  return { items: ids.length, protected: applied, keys };
}

/** The retention and legal hold in force on each stored object of an item (`archive storage protection`); item_not_found when there is none. */
export async function itemProtection(rt: Runtime, id: string): Promise<{ item: string; objects: Array<{ key: string; locked: boolean; retainUntil: string | null; legalHold: boolean }> }> {
  const item = await findItem(rt, id);
  if (!item) throw new AppError('item_not_found', { details: { id } });
  const objects = [];
  for (const key of await itemBlobKeys(rt, item)) objects.push({ key, ...(await rt.storage.blobs.protection(key)) });
  return { item: String(item._id), objects };
}

/**
 * Mirrors a legal hold (冻结) onto the item's stored objects as S3 object legal holds: `on` when a
 * hold is placed, `off` when the last hold on the item is released. The disposition workflow calls
 * it; it does not count holds itself. Legal holds are used for 冻结 only (永久 items use retention),
 * so releasing a hold never weakens anything else.
 */
export async function mirrorLegalHold(rt: Runtime, itemId: string, on: boolean): Promise<{ itemId: string; keys: number; applied: boolean }> {
  const item = await itemModel(rt.db).findById(itemId).lean<ItemDoc>();
  if (!item) return { itemId, keys: 0, applied: false };
  const keys = await itemBlobKeys(rt, item);
  let applied = keys.length > 0;
  for (const key of keys) applied = (await rt.storage.blobs.protect(key, { legalHold: on })).applied && applied;
  return { itemId, keys: keys.length, applied };
}
