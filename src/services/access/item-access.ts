/**
 * The one item-level authorization, for the API and the CLI alike: load the item, then the
 * caller's role, fonds scope and clearance must cover it, or a running 借阅 grant for this very
 * item must (reading only). Refusals throw `forbidden` with the policy's reason.
 */
import { AppError } from '../../errors';
import type { ItemDoc } from '../../models/item.model';
import type { Runtime } from '../../runtime';
import { itemLevel, loadItem } from '../records';
import { activeGrant } from './access-grants';
import { authorize, type Principal } from './policies';

export interface ItemAccess {
  item: ItemDoc;
  /** The 借阅 grant that let the caller read an item outside their scope or clearance. */
  grant: string | null;
}

export async function authorizeItem(rt: Runtime, who: Principal, id: string, action = 'item.read'): Promise<ItemAccess> {
  const item = await loadItem(rt, id);
  const levels = rt.config.clearanceLevels;
  const d = authorize(who, action, { type: 'item', fonds: item.fonds, level: itemLevel(item) }, { levels });
  if (d.allowed) return { item, grant: null };
  // Outside the reader's scope or clearance: a running grant for this item still lets them read it.
  if (action === 'item.read' && authorize(who, action, { type: 'item' }, { levels }).allowed) {
    const grant = await activeGrant(rt, who.id, item);
    if (grant) return { item, grant: grant.id };
  }
  throw new AppError('forbidden', { details: { action, reason: d.reason } });
}

/** Whether the caller may do `action` on the item (for filtering lists such as a dossier). */
export function mayActOn(rt: Runtime, who: Principal, item: ItemDoc, action = 'item.read'): boolean {
  return authorize(who, action, { type: 'item', fonds: item.fonds, level: itemLevel(item) }, { levels: rt.config.clearanceLevels }).allowed;
}
