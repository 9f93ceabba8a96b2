/**
 * Item states grouped by meaning, and the item's access level: the facts about an item that every
 * other records module reads. Kept apart from items.ts (which writes items and keeps the dossier
 * links) so that dossier.ts can read them without importing its own caller.
 */
import type { ItemDoc, ItemStatus } from '../../models/item.model';

/** Every state an item can be in (for callers that validate a state they are given). */
export { ITEM_STATUSES } from '../../models/item.model';

const set = (...s: ItemStatus[]): ReadonlySet<ItemStatus> => new Set(s);

/** Item states grouped by what they mean to a caller. */
export const STATUS = {
  /** Processing has ended: nothing more happens to the item without a person. */
  final: set('filed', 'review', 'failed', 'destroyed', 'split', 'qc_hold', 'merged'),
  /** OCR is done (or the item never gets any): capture has nothing left to do. */
  captured: set('filed', 'review', 'destroyed', 'split', 'qc_hold', 'merged'),
  /** Filing has decided (or nothing is left to decide, or a person must act first: qc_hold): filing has nothing left to do. */
  described: set('filed', 'review', 'destroyed', 'split', 'failed', 'qc_hold', 'merged'),
  /** Pages may be rotated, reordered, split off or merged (review queue): not yet numbered, not being processed. */
  pageEditable: set('review', 'qc_hold'),
  /** A person may confirm or correct the description. */
  describable: set('filed', 'review'),
  /** Has content that readers may open and search may show. */
  readable: set('filed', 'review'),
  /** Is (or will be once filed) in the full-text index. */
  searchable: set('processing', 'filed', 'review'),
  /** May be given an access level. */
  levelable: set('received', 'processing', 'qc_hold', 'filed', 'review'),
  /** May enter appraisal and destruction (3号令 第十一条: only filed records are appraised). */
  destroyable: set('filed'),
};

export const statusIn = (s: ReadonlySet<ItemStatus>) => ({ $in: [...s] });

/**
 * The item's access level (rank in the configured clearance labels, 0 = lowest); the one source
 * for policies, search and the item view. Items written before the level became its own field
 * kept it inside `classification`; that value still counts until the item is next written.
 */
export function itemLevel(item: Pick<ItemDoc, 'accessLevel' | 'classification'>): number {
  const own = typeof item.accessLevel === 'number' ? item.accessLevel : 0;
  const legacy = (item.classification as { accessLevel?: unknown } | null)?.accessLevel;
  return Math.max(own, typeof legacy === 'number' ? legacy : 0);
}
