/**
 * Legal holds (冻结): items under litigation, dispute, audit or with unsettled accounts are never
 * destroyed (R10: 会计档案管理办法 第18条 by analogy; 档案法 第21条 禁止擅自销毁). A hold covers
 * items, a person's whole file (一人一档), a unit's whole file (一户一档), or a saved query; it has a
 * reason, an owner and a date; a different person releases it. Held items cannot enter a round or a
 * list, and a hold placed after approval stops execution for that item (execute.ts re-checks).
 *
 * The object store's mirror (MinIO legal holds, built elsewhere) hooks in through onHoldChange and
 * reads heldItemIds.
 */
import { Types } from 'mongoose';
import { AppError } from '../../errors';
import { blindKeyFor } from '../../models/item-codec';
import { holdReleaseModel, legalHoldModel, HOLD_KINDS, type HoldKind, type HoldReleaseDoc, type HoldTarget, type LegalHoldDoc } from '../../models/disposition.model';
import { itemModel } from '../../models/item.model';
import type { Runtime } from '../../runtime';
import type { Principal } from '../access';
import { mirrorLegalHold } from '../records';
import { audit, ID, insertOnce, notFound, refuse } from './common';

export { HOLD_KINDS, type HoldKind };
export const HOLD_KIND_ZH: Record<HoldKind, string> = { litigation: '诉讼', dispute: '争议', audit: '审计', unsettled_accounts: '未结清债权债务' };

export interface HoldView {
  id: string;
  name: string;
  kind: HoldKind;
  target: { type: HoldTarget['type']; itemIds?: string[]; label?: string; query?: HoldTarget['query'] };
  reason: string;
  owner: string;
  placedBy: string;
  placedAt: string;
  releasedBy: string | null;
  releasedAt: string | null;
  releaseReason: string | null;
  active: boolean;
  /** How many items the hold covers now (a person's or unit's later items too); lists only, active holds only. */
  covers?: number;
}

export interface HoldInput {
  name: string;
  kind: HoldKind;
  reason: string;
  owner?: string;
  target: { type: 'items'; itemIds: string[] } | { type: 'person'; idNumber: string } | { type: 'unit'; creditCode: string } | { type: 'query'; query: { fonds?: string; category?: string; year?: string; dossier?: string } };
}

export interface HoldChange {
  event: 'place' | 'release';
  hold: HoldView;
  /** the items the hold covers at the moment of the change */
  itemIds: string[];
}
type Listener = (rt: Runtime, change: HoldChange) => Promise<void> | void;
const listeners: Listener[] = [];

/** Subscribes to holds placed and released (the object-store legal-hold mirror uses this). Returns an unsubscribe. */
export function onHoldChange(fn: Listener): () => void {
  listeners.push(fn);
  return () => {
    const i = listeners.indexOf(fn);
    if (i >= 0) listeners.splice(i, 1);
  };
}

function view(h: LegalHoldDoc, r: HoldReleaseDoc | null): HoldView {
  const t = h.target;
  return {
    id: String(h._id),
    name: h.name,
    kind: h.kind,
    target: { type: t.type, ...(t.itemIds ? { itemIds: t.itemIds } : {}), ...(t.label ? { label: t.label } : {}), ...(t.query ? { query: t.query } : {}) },
    reason: h.reason,
    owner: h.owner,
    placedBy: h.placedBy,
    placedAt: h.placedAt.toISOString(),
    releasedBy: r?.by ?? null,
    releasedAt: r?.at.toISOString() ?? null,
    releaseReason: r?.reason ?? null,
    active: !r,
  };
}

/** The item filter a hold stands for (queried through the item model, so person/unit keys match). */
export function holdFilter(t: HoldTarget): Record<string, unknown> {
  switch (t.type) {
    case 'items':
      return { _id: { $in: (t.itemIds ?? []).map((id) => new Types.ObjectId(id)) } };
    case 'person':
      return { personIds: t.key };
    case 'unit':
      return { unitCodes: t.key };
    case 'query': {
      const q = t.query ?? {};
      const f: Record<string, unknown> = {};
      if (q.fonds) f.fonds = q.fonds;
      if (q.category) f['classification.category'] = q.category;
      if (q.year) f.documentDate = { $gte: `${q.year}-01-01`, $lte: `${q.year}-12-31` };
      if (q.dossier) f.archivalClass = q.dossier;
      return f;
    }
  }
}

async function activeHolds(rt: Runtime): Promise<LegalHoldDoc[]> {
  const holds = await legalHoldModel(rt.db).find({}).sort({ placedAt: -1 }).lean<LegalHoldDoc[]>();
  if (!holds.length) return [];
  const released = new Set((await holdReleaseModel(rt.db).find({ _id: { $in: holds.map((h) => String(h._id)) } }, { _id: 1 }).lean()).map((r) => String(r._id)));
  return holds.filter((h) => !released.has(String(h._id)));
}

async function itemsOf(rt: Runtime, t: HoldTarget): Promise<string[]> {
  return (await itemModel(rt.db).find(holdFilter(t), { _id: 1 }).lean()).map((d) => String(d._id));
}

/** Every item covered by an active hold now (the due list excludes them; the object-store mirror reads it). */
export async function heldItemIds(rt: Runtime): Promise<Set<string>> {
  const out = new Set<string>();
  for (const h of await activeHolds(rt)) for (const id of await itemsOf(rt, h.target)) out.add(id);
  return out;
}

/** Which of these items an active hold covers now, and by which holds (one query per hold, not per item). */
export async function holdsAmong(rt: Runtime, itemIds: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (!itemIds.length) return out;
  const ids = itemIds.map((id) => new Types.ObjectId(id));
  for (const h of await activeHolds(rt)) {
    for (const d of await itemModel(rt.db).find({ $and: [{ _id: { $in: ids } }, holdFilter(h.target)] }, { _id: 1 }).lean()) {
      out.set(String(d._id), [...(out.get(String(d._id)) ?? []), h.name]);
    }
  }
  return out;
}

/** The active holds that cover one item (checked again at execution, item by item). */
export async function holdsOnItem(rt: Runtime, itemId: string): Promise<HoldView[]> {
  const items = itemModel(rt.db);
  const out: HoldView[] = [];
  for (const h of await activeHolds(rt)) {
    if (await items.exists({ $and: [{ _id: new Types.ObjectId(itemId) }, holdFilter(h.target)] })) out.push(view(h, null));
  }
  return out;
}

function mask(idNumber: string): string {
  return idNumber.length > 10 ? `${idNumber.slice(0, 6)}********${idNumber.slice(-4)}` : '****';
}

export async function placeHold(rt: Runtime, who: Principal, input: HoldInput): Promise<HoldView> {
  const name = input.name?.trim() ?? '';
  const reason = input.reason?.trim() ?? '';
  if (name.length < 2 || reason.length < 4) throw new AppError('validation_failed', { message: 'A hold needs a name and a reason (4+ characters)', zh: '冻结须填写名称和理由（理由至少 4 个字）' });
  if (!(HOLD_KINDS as readonly string[]).includes(input.kind)) throw new AppError('validation_failed', { message: `kind must be one of ${HOLD_KINDS.join(', ')}`, zh: '冻结类型无效' });
  let target: HoldTarget;
  const t = input.target;
  if (t.type === 'items') {
    if (!t.itemIds?.length || t.itemIds.some((id) => !ID.test(id))) throw new AppError('validation_failed', { message: 'itemIds: one or more item ids', zh: '请提供条目编号' });
    target = { type: 'items', itemIds: [...new Set(t.itemIds)] };
  } else if (t.type === 'person') {
    if (!/^\d{17}[\dXx]$/.test(t.idNumber ?? '')) throw new AppError('validation_failed', { message: 'idNumber: an 18-character 公民身份号码', zh: '请提供 18 位公民身份号码' });
    target = { type: 'person', key: await blindKeyFor(rt.db, 'personIds', t.idNumber), label: mask(t.idNumber) };
  } else if (t.type === 'unit') {
    if (!/^[0-9A-Z]{18}$/.test((t.creditCode ?? '').toUpperCase())) throw new AppError('validation_failed', { message: 'creditCode: an 18-character 统一社会信用代码', zh: '请提供 18 位统一社会信用代码' });
    target = { type: 'unit', key: await blindKeyFor(rt.db, 'unitCodes', t.creditCode), label: t.creditCode.toUpperCase() };
  } else {
    const q = t.query ?? {};
    if (!q.fonds && !q.category && !q.year && !q.dossier) throw new AppError('validation_failed', { message: 'A query hold needs at least one of fonds, category, year, dossier', zh: '按条件冻结须至少指定全宗、类别、年度或案卷之一' });
    target = { type: 'query', query: Object.fromEntries(Object.entries(q).filter(([, v]) => v)) };
  }
  const doc = (await legalHoldModel(rt.db).create({ name, kind: input.kind, target, reason, owner: input.owner?.trim() || who.username, placedById: who.id, placedBy: who.username, placedAt: new Date() })).toObject() as LegalHoldDoc;
  const v = view(doc, null);
  const itemIds = await itemsOf(rt, target);
  await audit(rt, who, 'hold.place', { type: 'legal_hold', id: v.id }, 'success', { name, kind: input.kind, target: v.target, items: itemIds.length, reason });
  // The object store enforces the hold too (object legal hold on every blob of the item).
  for (const id of itemIds) await mirrorLegalHold(rt, id, true);
  for (const l of listeners) await l(rt, { event: 'place', hold: v, itemIds });
  // Whoever places a hold is told what it holds (0 for a person with no file yet: later items count).
  return { ...v, covers: itemIds.length };
}

/** Releases a hold: never by the person who placed it (nobody lifts their own protection alone). */
export async function releaseHold(rt: Runtime, who: Principal, holdId: string, reason: string): Promise<HoldView> {
  if (!ID.test(holdId)) throw notFound('hold', '冻结');
  const h = await legalHoldModel(rt.db).findById(holdId).lean<LegalHoldDoc>();
  if (!h) throw notFound('hold', '冻结');
  if (h.placedById === who.id) await refuse(rt, who, 'hold.release', { type: 'legal_hold', id: holdId }, 'own_hold', { en: 'A hold is released by someone other than who placed it', zh: '冻结须由冻结人以外的人员解除' });
  if (!reason || reason.trim().length < 4) throw new AppError('validation_failed', { message: 'Give the reason for the release (4+ characters)', zh: '请填写解除理由（至少 4 个字）' });
  const rel: HoldReleaseDoc = { _id: holdId, byId: who.id, by: who.username, reason: reason.trim(), at: new Date() };
  if (!(await insertOnce(holdReleaseModel(rt.db).create(rel)))) throw new AppError('conflict', { message: 'This hold was already released', zh: '该冻结已解除' });
  const v = view(h, rel);
  const itemIds = await itemsOf(rt, h.target);
  await audit(rt, who, 'hold.release', { type: 'legal_hold', id: holdId }, 'success', { reason: rel.reason, items: itemIds.length });
  // Lift the object legal hold only where no other hold still covers the item.
  const stillHeld = await heldItemIds(rt);
  for (const id of itemIds) if (!stillHeld.has(id)) await mirrorLegalHold(rt, id, false);
  for (const l of listeners) await l(rt, { event: 'release', hold: v, itemIds });
  return v;
}

export async function listHolds(rt: Runtime, opts: { active?: boolean } = {}): Promise<HoldView[]> {
  const holds = await legalHoldModel(rt.db).find({}).sort({ placedAt: -1 }).limit(5000).lean<LegalHoldDoc[]>();
  const rels = new Map((await holdReleaseModel(rt.db).find({ _id: { $in: holds.map((h) => String(h._id)) } }).lean<HoldReleaseDoc[]>()).map((r) => [r._id, r]));
  const out = holds.map((h) => view(h, rels.get(String(h._id)) ?? null)).filter((h) => opts.active === undefined || h.active === opts.active);
  // What a hold holds is the question a compliance officer asks first; one count per active hold.
  const byId = new Map(holds.map((h) => [String(h._id), h]));
  for (const v of out) if (v.active) v.covers = await itemModel(rt.db).countDocuments(holdFilter(byId.get(v.id)!.target));
  return out;
}

export async function getHold(rt: Runtime, holdId: string): Promise<HoldView & { itemIds: string[] }> {
  if (!ID.test(holdId)) throw notFound('hold', '冻结');
  const h = await legalHoldModel(rt.db).findById(holdId).lean<LegalHoldDoc>();
  if (!h) throw notFound('hold', '冻结');
  const r = await holdReleaseModel(rt.db).findById(holdId).lean<HoldReleaseDoc>();
  return { ...view(h, r), itemIds: await itemsOf(rt, h.target) };
}
