/**
 * Item lists read by the API and the CLI: the workplace's paged queues, items by id, and the ids of
 * filed items (for protection and for 移交 by year). The callers parse their input and present the
 * answer; the queries live here so that no route or command builds a database filter itself.
 */
import { itemModel, type ItemDoc, type ItemStatus } from '../../models/item.model';
import type { Runtime } from '../../runtime';

/** The fonds a caller may see: '*' (or no principal: authentication off) is every fonds. */
export type FondsScope = readonly string[] | '*' | undefined;

export function scopeFilter(scope: FondsScope): Record<string, unknown> {
  return !scope || scope === '*' ? {} : { fonds: { $in: scope } };
}

export interface ItemListQuery {
  scope: FondsScope;
  fonds?: string;
  status?: ItemStatus;
  flag?: string;
  /** review: items awaiting review or carrying a quality flag nobody has looked at yet */
  queue?: 'review';
  ids?: string[];
  offset: number;
  limit: number;
}

/**
 * A page of items, newest first (GET /api/v1/items: review queue, failed captures, a batch by
 * ids). `total` counts every match in the caller's fonds scope; `visible` is the per-item check
 * (clearance) the caller applies, and what it refuses is left out of the page, not of the total.
 */
export async function listItems(rt: Runtime, q: ItemListQuery, visible: (item: ItemDoc) => boolean): Promise<{ total: number; items: ItemDoc[] }> {
  const items = itemModel(rt.db);
  const filter: Record<string, unknown> = { ...scopeFilter(q.scope) };
  if (q.fonds) filter.fonds = q.fonds;
  if (q.status) filter.status = q.status;
  if (q.flag) filter['flags.code'] = q.flag;
  // Flagged filed items stay in the queue until a person has looked at them: their history
  // still holds only filing's proposal. (FerretDB cannot negate a match inside an array, so
  // "no confirmation or correction yet" is asked as "no second history entry".)
  if (q.queue === 'review') filter.$or = [{ status: 'review' }, { status: 'filed', 'flags.0': { $exists: true }, 'history.1': { $exists: false } }];
  if (q.ids) filter._id = { $in: q.ids };
  const projection = { metadata: 0, preregistered: 0, history: 0, originals: 0 };
  const [total, found] = await Promise.all([
    items.countDocuments(filter),
    items.find(filter, projection).sort({ createdAt: -1, _id: -1 }).skip(q.offset).limit(q.limit).lean<ItemDoc[]>(),
  ]);
  return { total, items: found.filter(visible) };
}

/** The items with these ids (in no particular order; ids not found are left out). */
export async function findItems(rt: Runtime, ids: readonly string[], projection?: Record<string, 0 | 1>): Promise<ItemDoc[]> {
  return itemModel(rt.db).find({ _id: { $in: [...ids] } }, projection).lean<ItemDoc[]>();
}

/**
 * Ids of filed items: all of them, or those of one fonds formed in one year that carry a 档号
 * (`archive transfer export --year`: what may be transferred).
 */
export async function filedItemIds(rt: Runtime, of?: { fonds: string; year: string }): Promise<string[]> {
  const filter: Record<string, unknown> = of
    ? { fonds: of.fonds, status: 'filed', documentDate: { $gte: `${of.year}-01-01`, $lte: `${of.year}-12-31` }, archivalCode: { $ne: null } }
    : { status: 'filed' };
  return (await itemModel(rt.db).find(filter, { _id: 1 }).lean<Array<{ _id: unknown }>>()).map((d) => String(d._id));
}
