/**
 * The one item-level authorization, for the API and the CLI alike: load the item, then the
 * caller's role, fonds scope and clearance must cover it, or a running 借阅 grant for this very
 * item must (reading only). Refusals throw `forbidden` with the policy's reason.
 *
 * The API (routes/items.routes.ts loadReadable, ingest, catalogue, persons' files) and the CLI
 * (show, confirm, correct, ingest, catalogue) ask these functions and nothing else (issue #13.5:
 * before, `archive confirm`/`correct` never looked at the item's fonds or level, `archive
 * catalogue` listed every fonds, and ingest never looked at the caller's fonds scope).
 */
import { AppError } from '../../errors';
import type { ItemDoc } from '../../models/item.model';
import type { Runtime } from '../../runtime';
import { itemLevel, loadItem } from '../records';
import { activeGrant } from './access-grants';
import { authorize, type Principal, type Resource } from './policies';

export interface ItemAccess {
  item: ItemDoc;
  /** The 借阅 grant that let the caller read an item outside their scope or clearance. */
  grant: string | null;
  /** When that grant ends (ISO). */
  grantUntil?: string | null;
}

export async function authorizeItem(rt: Runtime, who: Principal, id: string, action = 'item.read'): Promise<ItemAccess> {
  const item = await loadItem(rt, id);
  const levels = rt.config.clearanceLevels;
  const d = authorize(who, action, itemResource(item), { levels });
  if (d.allowed) return { item, grant: null };
  // Outside the reader's scope or clearance: a running grant for this item still lets them read it.
  if (action === 'item.read' && authorize(who, action, { type: 'item' }, { levels }).allowed) {
    const grant = await activeGrant(rt, who.id, item);
    if (grant) return { item, grant: grant.id, grantUntil: grant.until };
  }
  throw new AppError('forbidden', { details: { action, reason: d.reason } });
}

/** Whether the caller may do `action` on the item (for filtering lists such as a dossier). */
export function mayActOn(rt: Runtime, who: Principal, item: ItemDoc, action = 'item.read'): boolean {
  return authorize(who, action, itemResource(item), { levels: rt.config.clearanceLevels }).allowed;
}

/** Whether the caller may read an item known only by a row of a file (一人一档): its fonds and level. */
export function mayReadRow(rt: Runtime, who: Principal, row: { fonds: string; level: number }): boolean {
  return authorize(who, 'item.read', { type: 'item', fonds: row.fonds, level: row.level }, { levels: rt.config.clearanceLevels }).allowed;
}

/** What policies.authorize is told about an item: its fonds and its access level. */
export function itemResource(item: ItemDoc): Resource {
  return { type: 'item', fonds: item.fonds, level: itemLevel(item) };
}

/**
 * The fonds an ingest goes into: the one asked for, else the configured default, else (for an
 * account scoped to exactly one fonds that is not the default) that one. Throws 403
 * `out_of_scope` unless the caller's scope covers it, before anything is stored (issue #13.4).
 */
export function ingestFonds(rt: Runtime, who: Principal, requested: string | undefined): string {
  const scoped = who.scope.fonds;
  const fonds = requested ?? (scoped !== '*' && scoped.length === 1 && !scoped.includes(rt.config.fonds) ? scoped[0]! : rt.config.fonds);
  const d = authorize(who, 'item.ingest', { type: 'fonds', fonds }, { levels: rt.config.clearanceLevels });
  if (!d.allowed) throw new AppError('forbidden', { details: { action: 'item.ingest', reason: d.reason, fonds } });
  return fonds;
}
