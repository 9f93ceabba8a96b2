/**
 * The appraisal due list: items whose appraisal date has come (R3: 1 January of formation year +
 * period + 1, computed by retention-rules at filing and stored as classification.dueOn), by fonds,
 * category, year and dossier. Never permanent items (R1), provisional rows (regulations.md §1.4:
 * never allow destruction of uncertain rows), held items (R10) or items already in an open round.
 * R2: being on this list only means "to be appraised"; nothing is ever destroyed for being due.
 *
 * Scale: one indexed range query ({status, classification.dueOn}) paged on the server by a
 * (dueOn, id) cursor; claimed items are filtered per page by a point lookup, so no request scans
 * the item table.
 */
import { Types } from 'mongoose';
import { dispositionClaimModel } from '../../models/disposition.model';
import { itemModel, type ItemDoc } from '../../models/item.model';
import type { Runtime } from '../../runtime';
import { AppError } from '../../errors';
import type { Principal } from '../access';
import { STATUS, statusIn } from '../records';
import { fondsFilter, isoDay } from './common';
import { heldItemIds } from './holds';

/** Statuses an item may be appraised (and destroyed) from (records STATUS.destroyable: filed and numbered). */
export const APPRAISABLE_STATUSES: readonly string[] = [...STATUS.destroyable];

export interface DueFilter {
  asOf?: string;
  fonds?: string;
  category?: string;
  year?: string;
  dossier?: string;
}

export interface DueItem {
  id: string;
  fonds: string;
  archivalCode: string | null;
  dossier: string | null;
  title: string | null;
  category: string | null;
  categoryName: string | null;
  scheduleItem: string | null;
  retention: string | null;
  formedOn: string | null;
  year: string | null;
  dueOn: string;
  pageCount: number;
}

export interface DuePage {
  asOf: string;
  items: DueItem[];
  /** pass as `after` for the next page; null at the end */
  next: string | null;
}

export type DueGroupBy = 'fonds' | 'category' | 'year' | 'dossier';

function baseFilter(who: Principal | null, f: DueFilter, asOf: string): Record<string, unknown> {
  const q: Record<string, unknown> = {
    status: statusIn(STATUS.destroyable),
    'classification.dueOn': { $ne: null, $lte: asOf },
    'classification.retention': { $ne: 'Y' },
    'classification.provisional': { $ne: true },
    ...(who ? fondsFilter(who) : {}),
  };
  if (f.fonds) q.fonds = who && who.scope.fonds !== '*' && !who.scope.fonds.includes(f.fonds) ? '\u0000none' : f.fonds;
  if (f.category) q['classification.category'] = f.category;
  if (f.year) {
    if (!/^\d{4}$/.test(f.year)) throw new AppError('validation_failed', { message: 'year: four digits', zh: '年度应为 4 位数字' });
    q.documentDate = { $gte: `${f.year}-01-01`, $lte: `${f.year}-12-31` };
  }
  if (f.dossier) q.archivalClass = f.dossier;
  return q;
}

export function dueItem(item: ItemDoc): DueItem {
  const c = (item.classification ?? {}) as Record<string, unknown>;
  return {
    id: String(item._id),
    fonds: item.fonds,
    archivalCode: item.archivalCode ?? null,
    dossier: item.archivalClass ?? null,
    title: item.title ?? null,
    category: (c.category as string) ?? null,
    categoryName: (c.categoryName as string) ?? null,
    scheduleItem: (c.item as string) ?? null,
    retention: (c.retention as string) ?? null,
    formedOn: item.documentDate ?? null,
    year: item.documentDate ? item.documentDate.slice(0, 4) : null,
    dueOn: String(c.dueOn),
    pageCount: item.pageCount ?? 0,
  };
}

const PROJECTION = { fonds: 1, archivalCode: 1, archivalClass: 1, title: 1, classification: 1, documentDate: 1, pageCount: 1, status: 1 };

/** One page of the due list, oldest due date first. `after` is the previous page's `next`. */
export async function dueList(rt: Runtime, who: Principal | null, f: DueFilter & { after?: string; limit?: number } = {}): Promise<DuePage> {
  const asOf = isoDay(f.asOf);
  const limit = Math.min(Math.max(f.limit ?? 100, 1), 1000);
  const held = await heldItemIds(rt);
  const q = baseFilter(who, f, asOf);
  if (held.size) q._id = { $nin: [...held].map((id) => new Types.ObjectId(id)) };
  let cursor = f.after ? decodeCursor(f.after) : null;
  const out: DueItem[] = [];
  const items = itemModel(rt.db);
  const claims = dispositionClaimModel(rt.db);
  for (let rounds = 0; out.length < limit && rounds < 50; rounds++) {
    const page = { ...q };
    if (cursor) page.$or = [{ 'classification.dueOn': { $gt: cursor.dueOn, $lte: asOf } }, { 'classification.dueOn': cursor.dueOn, _id: { $gt: new Types.ObjectId(cursor.id) } }];
    const batch = await items.find(page, PROJECTION).sort({ 'classification.dueOn': 1, _id: 1 }).limit(limit - out.length + 1).lean<ItemDoc[]>();
    if (!batch.length) return { asOf, items: out, next: null };
    const take = batch.slice(0, limit - out.length);
    const claimed = new Set((await claims.find({ _id: { $in: take.map((d) => String(d._id)) } }, { _id: 1 }).lean()).map((c) => String(c._id)));
    for (const d of take) if (!claimed.has(String(d._id))) out.push(dueItem(d));
    const last = take[take.length - 1]!;
    cursor = { dueOn: String((last.classification as { dueOn: string }).dueOn), id: String(last._id) };
    if (batch.length <= take.length) return { asOf, items: out, next: null };
  }
  return { asOf, items: out, next: cursor ? encodeCursor(cursor) : null };
}

/** Counts of due items by fonds, category, year or dossier (the due list's overview). */
export async function dueGroups(rt: Runtime, who: Principal | null, by: DueGroupBy, f: DueFilter = {}): Promise<{ asOf: string; by: DueGroupBy; groups: Array<{ key: string | null; count: number }>; total: number }> {
  const asOf = isoDay(f.asOf);
  const q = baseFilter(who, f, asOf);
  const excluded = [...(await heldItemIds(rt)), ...(await dispositionClaimModel(rt.db).find({}, { _id: 1 }).lean()).map((c) => String(c._id))];
  if (excluded.length) q._id = { $nin: excluded.map((id) => new Types.ObjectId(id)) };
  const field = { fonds: '$fonds', category: '$classification.category', year: '$documentDate', dossier: '$archivalClass' }[by];
  const raw = await itemModel(rt.db).aggregate<{ _id: string | null; n: number }>([{ $match: q }, { $group: { _id: field, n: { $sum: 1 } } }]);
  const counts = new Map<string | null, number>();
  for (const r of raw) {
    const key = by === 'year' ? (r._id ? String(r._id).slice(0, 4) : null) : (r._id ?? null);
    counts.set(key, (counts.get(key) ?? 0) + r.n);
  }
  const groups = [...counts.entries()].map(([key, count]) => ({ key, count })).sort((a, b) => String(a.key).localeCompare(String(b.key)));
  return { asOf, by, groups, total: groups.reduce((s, g) => s + g.count, 0) };
}

/** Why an item may not enter a round now (null when it may): R1, R2/R3, §1.4, R10. */
export function appraisalBlocker(item: ItemDoc, asOf: string, held: ReadonlySet<string>, claimed: ReadonlySet<string>): string | null {
  const c = (item.classification ?? {}) as Record<string, unknown>;
  if (!STATUS.destroyable.has(item.status)) return 'not_filed';
  if (c.retention === 'Y') return 'permanent';
  if (c.provisional === true) return 'provisional_rule';
  if (!c.dueOn || String(c.dueOn) > asOf) return 'not_due';
  if (held.has(String(item._id))) return 'legal_hold';
  if (claimed.has(String(item._id))) return 'in_open_round';
  return null;
}

function encodeCursor(c: { dueOn: string; id: string }): string {
  return `${c.dueOn}_${c.id}`;
}

function decodeCursor(s: string): { dueOn: string; id: string } {
  const m = /^(\d{4}-\d{2}-\d{2})_([a-f0-9]{24})$/.exec(s);
  if (!m) throw new AppError('validation_failed', { message: 'after: not a cursor from this list', zh: '分页游标无效' });
  return { dueOn: m[1]!, id: m[2]! };
}
