/**
 * 借阅/调阅 (利用 outside one's own remit): a reader asks, with a reason, for access to one item
 * beyond their scope or clearance; an approver who may read the item (and is not the reader)
 * grants it for a number of days or refuses; access ends by itself at the end of the period or
 * earlier when an approver (or the reader) ends it. Every step is in the audit trail (利用登记:
 * who, what, purpose; see the regulations digest (../shared/domain/regulations.md beside the repository) §6 利用 checklist).
 *
 * State lives in three append-only collections (request, decision, revocation), so no step
 * needs an atomic conditional update, which FerretDB does not give.
 */
import { Types } from 'mongoose';
import { isDuplicateKey } from '../../db';
import { AppError } from '../../errors';
import { accessDecisionModel, accessRequestModel, accessRevocationModel, type AccessDecisionDoc, type AccessRequestDoc, type AccessRevocationDoc } from '../../models/access-grant.model';
import type { ItemDoc } from '../../models/item.model';
import type { Runtime } from '../../runtime';
import { itemLevel, loadItem } from '../records';
import { authorize, type Principal } from './policies';

export const MAX_ACCESS_DAYS = 90;
export const ACCESS_STATUSES = ['pending', 'approved', 'rejected', 'expired', 'ended'] as const;
export type AccessStatus = (typeof ACCESS_STATUSES)[number];

export interface AccessGrantView {
  id: string;
  itemId: string;
  username: string;
  reason: string;
  days: number;
  requestedAt: string;
  status: AccessStatus;
  decidedBy: string | null;
  decidedAt: string | null;
  until: string | null;
  note: string;
  endedBy: string | null;
  endedAt: string | null;
  /**
   * What the request is for (档号, 题名), only for a caller who may read the item now: an approver
   * cannot judge a request by an item number, and a reader sees the description while the grant runs.
   * Absent from the responses to a single step (request, decision, end).
   */
  item?: { archivalCode: string | null; title: string | null } | null;
}

function view(r: AccessRequestDoc, d: AccessDecisionDoc | null, v: AccessRevocationDoc | null, now = Date.now()): AccessGrantView {
  const status: AccessStatus = !d ? 'pending' : !d.approved ? 'rejected' : v ? 'ended' : d.until && d.until.getTime() <= now ? 'expired' : 'approved';
  return {
    id: String(r._id),
    itemId: r.itemId,
    username: r.username,
    reason: r.reason,
    days: r.days,
    requestedAt: r.requestedAt.toISOString(),
    status,
    decidedBy: d?.byName ?? null,
    decidedAt: d?.at.toISOString() ?? null,
    until: d?.until?.toISOString() ?? null,
    note: d?.note ?? '',
    endedBy: v?.byName ?? null,
    endedAt: v?.at.toISOString() ?? null,
  };
}

function models(rt: Runtime) {
  return { requests: accessRequestModel(rt.db), decisions: accessDecisionModel(rt.db), revocations: accessRevocationModel(rt.db) };
}

async function load(rt: Runtime, id: string): Promise<{ r: AccessRequestDoc; d: AccessDecisionDoc | null; v: AccessRevocationDoc | null }> {
  if (!Types.ObjectId.isValid(id)) throw new AppError('not_found', { message: 'No such access request', zh: '借阅申请不存在' });
  const m = models(rt);
  const r = await m.requests.findById(id).lean<AccessRequestDoc>();
  if (!r) throw new AppError('not_found', { message: 'No such access request', zh: '借阅申请不存在' });
  const [d, v] = await Promise.all([m.decisions.findById(r._id).lean<AccessDecisionDoc>(), m.revocations.findById(r._id).lean<AccessRevocationDoc>()]);
  return { r, d, v };
}

function levelsOf(rt: Runtime): readonly string[] | undefined {
  return rt.config.clearanceLevels;
}

function audit(rt: Runtime, who: Principal, action: string, requestId: string, outcome: 'success' | 'denied', details: Record<string, unknown>): Promise<void> {
  return rt.audit.record({ actor: who.username, role: who.roles.join(','), action, object: { type: 'access_request', id: requestId }, outcome, details });
}

export async function requestAccess(rt: Runtime, who: Principal, input: { itemId: string; reason: string; days?: number }): Promise<AccessGrantView> {
  const reason = input.reason.trim();
  if (reason.length < 4 || reason.length > 500) throw new AppError('validation_failed', { message: 'Give the purpose of use (4-500 characters)', zh: '请填写利用目的（4 至 500 字）' });
  const days = input.days ?? 7;
  if (!Number.isInteger(days) || days < 1 || days > MAX_ACCESS_DAYS) throw new AppError('validation_failed', { message: `days must be 1-${MAX_ACCESS_DAYS}`, zh: `借阅天数须为 1 至 ${MAX_ACCESS_DAYS} 天` });
  const item = await loadItem(rt, input.itemId);
  if (authorize(who, 'item.read', { type: 'item', fonds: item.fonds, level: itemLevel(item) }, { levels: levelsOf(rt) }).allowed) {
    throw new AppError('conflict', { message: 'You can already read this item', zh: '您已有权查阅该档案，无需申请', details: { reason: 'already_readable' } });
  }
  const doc = await models(rt).requests.create({ itemId: String(item._id), userId: who.id, username: who.username, reason, days, requestedAt: new Date() });
  await audit(rt, who, 'access.request', String(doc._id), 'success', { itemId: String(item._id), reason, days });
  return view(doc.toObject(), null, null);
}

/** An approver decides once: approve (for at most the days asked) or refuse. */
export async function decideAccess(rt: Runtime, who: Principal, id: string, input: { approve: boolean; days?: number; note?: string }): Promise<AccessGrantView> {
  const { r, d } = await load(rt, id);
  const item = await loadItem(rt, r.itemId);
  const action = input.approve ? 'access.approve' : 'access.reject';
  const decision = authorize(who, 'access.approve', { type: 'item', fonds: item.fonds, level: itemLevel(item), proposedBy: r.userId }, { levels: levelsOf(rt) });
  if (!decision.allowed) {
    await audit(rt, who, action, id, 'denied', { reason: decision.reason });
    throw new AppError('forbidden', { message: decision.reason === 'own_proposal' ? 'Nobody approves their own request' : undefined, zh: decision.reason === 'own_proposal' ? '不能审批本人的申请' : undefined, details: { action: 'access.approve', reason: decision.reason } });
  }
  if (d) throw new AppError('conflict', { message: 'This request has already been decided', zh: '该申请已审批', details: { status: view(r, d, null).status } });
  const days = input.days ?? r.days;
  if (!Number.isInteger(days) || days < 1 || days > r.days) throw new AppError('validation_failed', { message: `days must be 1-${r.days} (what was asked)`, zh: `批准天数须为 1 至 ${r.days} 天（不超过申请天数）` });
  const at = new Date();
  const doc: AccessDecisionDoc = { _id: r._id, approved: input.approve, by: who.id, byName: who.username, at, until: input.approve ? new Date(at.getTime() + days * 86_400_000) : null, note: (input.note ?? '').trim().slice(0, 500), level: itemLevel(item) };
  try {
    await models(rt).decisions.create(doc);
  } catch (err) {
    if (isDuplicateKey(err)) throw new AppError('conflict', { message: 'This request has already been decided', zh: '该申请已审批' });
    throw err;
  }
  await audit(rt, who, action, id, 'success', { itemId: r.itemId, reader: r.username, until: doc.until?.toISOString() ?? null, note: doc.note });
  return view(r, doc, null);
}

/** Ends an approved grant before its time: an approver of the item, or the reader. */
export async function endAccess(rt: Runtime, who: Principal, id: string): Promise<AccessGrantView> {
  const { r, d, v } = await load(rt, id);
  if (who.id !== r.userId) {
    const item = await loadItem(rt, r.itemId);
    const decision = authorize(who, 'access.approve', { type: 'item', fonds: item.fonds, level: itemLevel(item) }, { levels: levelsOf(rt) });
    if (!decision.allowed) {
      await audit(rt, who, 'access.end', id, 'denied', { reason: decision.reason });
      throw new AppError('forbidden', { details: { action: 'access.approve', reason: decision.reason } });
    }
  }
  if (!d?.approved || v) throw new AppError('conflict', { message: 'Only an approved, running grant can be ended', zh: '只能终止已批准且未结束的借阅', details: { status: view(r, d, v).status } });
  const rev: AccessRevocationDoc = { _id: r._id, by: who.id, byName: who.username, at: new Date() };
  try {
    await models(rt).revocations.create(rev);
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
  await audit(rt, who, 'access.end', id, 'success', { itemId: r.itemId, reader: r.username });
  return view(r, d, rev);
}

/**
 * The running grant that lets this user read this item as it is now, if any (checked on every
 * read). A grant covers the item at the level it had when approved: once the item is raised above
 * that (密级提升), the grant gives nothing, whether or not it was ended explicitly (#13.12).
 */
export async function activeGrant(rt: Runtime, userId: string, item: ItemDoc): Promise<AccessGrantView | null> {
  const m = models(rt);
  const level = itemLevel(item);
  const requests = await m.requests.find({ userId, itemId: String(item._id) }).lean<AccessRequestDoc[]>();
  for (const r of requests) {
    const d = await m.decisions.findById(r._id).lean<AccessDecisionDoc>();
    if (!d?.approved || !d.until || d.until.getTime() <= Date.now()) continue;
    if (typeof d.level === 'number' && level > d.level) continue;
    if (await m.revocations.findById(r._id).lean()) continue;
    return view(r, d, null);
  }
  return null;
}

/**
 * 密级提升: ends every running grant of the item approved at a lower level than `rank` (recorded
 * as ended by the person who raised it, and audited), so the raise takes effect for borrowers too
 * and their requests no longer show as approved. Grants approved at `rank` or above stay.
 */
export async function endGrantsBelow(rt: Runtime, who: { id: string; username: string; roles: readonly string[] }, itemId: string, rank: number): Promise<number> {
  const m = models(rt);
  let ended = 0;
  for (const r of await m.requests.find({ itemId }).lean<AccessRequestDoc[]>()) {
    const d = await m.decisions.findById(r._id).lean<AccessDecisionDoc>();
    if (!d?.approved || !d.until || d.until.getTime() <= Date.now()) continue;
    if (typeof d.level === 'number' && d.level >= rank) continue;
    try {
      await m.revocations.create({ _id: r._id, by: who.id, byName: who.username, at: new Date() });
    } catch (err) {
      if (isDuplicateKey(err)) continue; // already ended
      throw err;
    }
    ended++;
    await rt.audit.record({ actor: who.username, role: who.roles.join(','), action: 'access.end', object: { type: 'access_request', id: String(r._id) }, outcome: 'success', details: { itemId, reader: r.username, reason: 'level_raised', level: rt.config.clearanceLevels[rank] ?? rank } });
  }
  return ended;
}

/** The caller's own requests, and (for approvers) every request they may decide or end. */
export async function listAccess(rt: Runtime, who: Principal, opts: { status?: AccessStatus } = {}): Promise<AccessGrantView[]> {
  const m = models(rt);
  const all = await m.requests.find({}).sort({ requestedAt: -1 }).limit(2000).lean<AccessRequestDoc[]>();
  const out: AccessGrantView[] = [];
  const items = new Map<string, { fonds: string; level: number; archivalCode: string | null; title: string | null } | null>();
  const levels = { levels: levelsOf(rt) };
  for (const r of all) {
    if (!items.has(r.itemId)) items.set(r.itemId, await loadItem(rt, r.itemId).then((it) => ({ fonds: it.fonds, level: itemLevel(it), archivalCode: it.archivalCode ?? null, title: it.title ?? null }), () => null));
    const it = items.get(r.itemId);
    const resource = it ? { type: 'item', fonds: it.fonds, level: it.level } : null;
    const visible = r.userId === who.id || (!!resource && authorize(who, 'access.approve', resource, levels).allowed);
    if (!visible) continue;
    const [d, v] = await Promise.all([m.decisions.findById(r._id).lean<AccessDecisionDoc>(), m.revocations.findById(r._id).lean<AccessRevocationDoc>()]);
    const g = view(r, d, v);
    if (opts.status && g.status !== opts.status) continue;
    // The reader's own running grant counts as activeGrant counts it: not past a level raised since.
    const granted = r.userId === who.id && g.status === 'approved' && !!it && !(typeof d?.level === 'number' && it.level > d.level);
    const readable = !!resource && (granted || authorize(who, 'item.read', resource, levels).allowed);
    out.push({ ...g, item: it && readable ? { archivalCode: it.archivalCode, title: it.title } : null });
  }
  return out;
}
