/**
 * Appraisal rounds (鉴定, 3号令 第十条 ≈ R4): a compliance officer opens a round over a selection of
 * due items; the 鉴定小组 (members and their capacity) give per-item opinions (destroy / extend /
 * keep permanently); closing the round decides each item (rules.decideItem: all members agree, or
 * the item stays), applies extensions and 永久 as the item's retention with history, and writes
 * the 鉴定工作报告 (PDF, kept permanently: 机关档案管理规定 ≈ regulations.md §4.3).
 */
import { Types } from 'mongoose';
import { AppError } from '../../errors';
import {
  appraisalClosureModel,
  appraisalOpinionModel,
  appraisalRoundModel,
  dispositionClaimModel,
  dispositionDocumentModel,
  type AppraisalClosureDoc,
  type AppraisalOpinionDoc,
  type AppraisalRoundDoc,
  type ItemOutcome,
  type RoundMember,
} from '../../models/disposition.model';
import { itemModel, type ItemDoc } from '../../models/item.model';
import type { Runtime } from '../../runtime';
import { authorize, type Principal } from '../access';
import { setItemRetention } from '../records';
import type { PeriodCode } from '../../../retention-rules';
import { audit, ID, insertOnce, isDup, isoDay, notFound, refuse } from './common';
import { appraisalBlocker, dueList, type DueFilter } from './due';
import { heldItemIds } from './holds';
import { buildPdf } from './pdf';
import { CAPACITY_ZH, decideItem, MEMBER_CAPACITIES, OPINION_ZH, opinionProblem, OPINIONS, periodLabel, type MemberCapacity, type OpinionKind } from './rules';

export const MAX_ROUND_ITEMS = 20_000;

export interface RoundView {
  id: string;
  title: string;
  status: 'open' | 'closed';
  proposer: string;
  members: RoundMember[];
  asOf: string;
  openedAt: string;
  itemCount: number;
  opinionsGiven: number;
  closedAt: string | null;
  outcomes: { destroy: number; extend: number; keep: number; none: number } | null;
  reportKey: string | null;
}

function view(r: AppraisalRoundDoc, c: AppraisalClosureDoc | null, opinions: number): RoundView {
  const count = (k: ItemOutcome['kind']) => c?.outcomes.filter((o) => o.kind === k).length ?? 0;
  return {
    id: String(r._id),
    title: r.title,
    status: c ? 'closed' : 'open',
    proposer: r.proposerName,
    members: r.members,
    asOf: r.asOf,
    openedAt: r.openedAt.toISOString(),
    itemCount: r.itemIds.length,
    opinionsGiven: opinions,
    closedAt: c?.closedAt.toISOString() ?? null,
    outcomes: c ? { destroy: count('destroy'), extend: count('extend'), keep: count('keep'), none: count('none') } : null,
    reportKey: c?.reportKey ?? null,
  };
}

async function loadRound(rt: Runtime, id: string): Promise<{ r: AppraisalRoundDoc; c: AppraisalClosureDoc | null }> {
  if (!ID.test(id)) throw notFound('appraisal round', '鉴定');
  const r = await appraisalRoundModel(rt.db).findById(id).lean<AppraisalRoundDoc>();
  if (!r) throw notFound('appraisal round', '鉴定');
  return { r, c: await appraisalClosureModel(rt.db).findById(id).lean<AppraisalClosureDoc>() };
}

export async function getRound(rt: Runtime, id: string): Promise<RoundView> {
  const { r, c } = await loadRound(rt, id);
  return view(r, c, await appraisalOpinionModel(rt.db).countDocuments({ roundId: id }));
}

export async function listRounds(rt: Runtime, opts: { status?: 'open' | 'closed' } = {}): Promise<RoundView[]> {
  const rounds = await appraisalRoundModel(rt.db).find({}).sort({ openedAt: -1 }).limit(500).lean<AppraisalRoundDoc[]>();
  const closures = new Map((await appraisalClosureModel(rt.db).find({ _id: { $in: rounds.map((r) => String(r._id)) } }).lean<AppraisalClosureDoc[]>()).map((c) => [c._id, c]));
  const out: RoundView[] = [];
  for (const r of rounds) {
    const v = view(r, closures.get(String(r._id)) ?? null, await appraisalOpinionModel(rt.db).countDocuments({ roundId: String(r._id) }));
    if (!opts.status || v.status === opts.status) out.push(v);
  }
  return out;
}

export interface OpenRoundInput {
  title: string;
  members: Array<{ username: string; capacity: MemberCapacity }>;
  itemIds?: string[];
  /** take the due list (with these filters) instead of explicit items */
  due?: DueFilter & { limit?: number };
  asOf?: string;
}

/** Opens a round; refuses the whole selection (nothing written) if any item may not be appraised. */
export async function openRound(rt: Runtime, who: Principal, input: OpenRoundInput): Promise<RoundView> {
  const asOf = isoDay(input.asOf ?? input.due?.asOf);
  const title = (input.title ?? '').trim();
  if (title.length < 2) throw new AppError('validation_failed', { message: 'Give the round a title', zh: '请填写鉴定名称' });
  // 3号令 第十条: the group is several people of named capacities; at least two, each an account that may appraise.
  if (!input.members || input.members.length < 2) throw new AppError('validation_failed', { message: 'A 鉴定小组 has at least two members', zh: '鉴定小组至少需要两名成员' });
  const members: RoundMember[] = [];
  for (const m of input.members) {
    if (!(MEMBER_CAPACITIES as readonly string[]).includes(m.capacity)) throw new AppError('validation_failed', { message: `capacity must be one of ${MEMBER_CAPACITIES.join(', ')}`, zh: '成员身份无效', details: { username: m.username } });
    const u = await rt.auth.findUser(m.username);
    if (!u || u.disabled || !authorize({ id: String(u._id), username: u.username, roles: u.roles, scope: { fonds: '*', agencies: '*', districts: '*' }, clearance: u.clearance }, 'appraisal.review').allowed) {
      throw new AppError('validation_failed', { message: `${m.username} is not an active account that may appraise`, zh: `${m.username} 不是可参加鉴定的有效账号`, details: { username: m.username } });
    }
    if (members.some((x) => x.userId === String(u._id))) throw new AppError('validation_failed', { message: `${m.username} is listed twice`, zh: `${m.username} 重复列入` });
    members.push({ userId: String(u._id), username: u.username, capacity: m.capacity });
  }
  let ids: string[];
  if (input.itemIds?.length) ids = [...new Set(input.itemIds)];
  else if (input.due) {
    ids = [];
    let after: string | undefined;
    const max = Math.min(input.due.limit ?? MAX_ROUND_ITEMS, MAX_ROUND_ITEMS);
    do {
      const page = await dueList(rt, who, { ...input.due, asOf, after, limit: Math.min(1000, max - ids.length) });
      ids.push(...page.items.map((i) => i.id));
      after = page.next ?? undefined;
    } while (after && ids.length < max);
  } else throw new AppError('validation_failed', { message: 'Give itemIds or due', zh: '请指定条目或按到期清单选择' });
  if (!ids.length) throw new AppError('validation_failed', { message: 'Nothing to appraise', zh: '没有可鉴定的条目' });
  if (ids.length > MAX_ROUND_ITEMS || ids.some((id) => !ID.test(id))) throw new AppError('validation_failed', { message: `1-${MAX_ROUND_ITEMS} item ids`, zh: '条目编号无效或过多' });

  const items = await itemModel(rt.db).find({ _id: { $in: ids.map((id) => new Types.ObjectId(id)) } }, { status: 1, classification: 1, fonds: 1 }).lean<ItemDoc[]>();
  const found = new Map(items.map((i) => [String(i._id), i]));
  const held = await heldItemIds(rt);
  const claimed = new Set((await dispositionClaimModel(rt.db).find({ _id: { $in: ids } }, { _id: 1 }).lean()).map((c) => String(c._id)));
  const blocked: Array<{ itemId: string; reason: string }> = [];
  for (const id of ids) {
    const it = found.get(id);
    const reason = !it ? 'not_found' : who.scope.fonds !== '*' && !who.scope.fonds.includes(it.fonds) ? 'out_of_scope' : appraisalBlocker(it, asOf, held, claimed);
    if (reason) blocked.push({ itemId: id, reason });
  }
  if (blocked.length) throw new AppError('not_appraisable', { details: { items: blocked.slice(0, 100), count: blocked.length } });

  const round = (await appraisalRoundModel(rt.db).create({ title, proposerId: who.id, proposerName: who.username, members, itemIds: ids, asOf, openedAt: new Date() })).toObject() as AppraisalRoundDoc;
  const roundId = String(round._id);
  // The claims make "one open round per item" exact: a racing round loses on the unique key.
  const claims = dispositionClaimModel(rt.db);
  let lost = false;
  for (let i = 0; i < ids.length; i += 1000) {
    try {
      await claims.insertMany(ids.slice(i, i + 1000).map((id) => ({ _id: id, roundId, listId: null, at: new Date() })), { ordered: false });
    } catch (err) {
      if (isDup(err) || (err as { writeErrors?: unknown[] }).writeErrors) lost = true;
      else throw err;
    }
  }
  if (lost) {
    await claims.deleteMany({ roundId });
    await appraisalRoundModel(rt.db).deleteOne({ _id: round._id });
    throw new AppError('not_appraisable', { message: 'Some items were taken into another round meanwhile', zh: '部分条目已被其他鉴定占用' });
  }
  await audit(rt, who, 'appraisal.open', { type: 'appraisal_round', id: roundId }, 'success', { title, items: ids.length, members: members.map((m) => `${m.username}:${m.capacity}`), asOf });
  return view(round, null, 0);
}

export interface OpinionInput {
  itemId: string;
  opinion: OpinionKind;
  period?: PeriodCode | null;
  years?: number | null;
  reason: string;
}

/** A member records opinions (one or many items); changeable until the round closes. */
export async function giveOpinions(rt: Runtime, who: Principal, roundId: string, opinions: OpinionInput[]): Promise<{ recorded: number }> {
  const { r, c } = await loadRound(rt, roundId);
  const object = { type: 'appraisal_round', id: roundId };
  if (!r.members.some((m) => m.userId === who.id)) await refuse(rt, who, 'appraisal.opinion', object, 'not_a_member', { en: 'Only members of this 鉴定小组 give opinions', zh: '只有本次鉴定小组成员才能提出鉴定意见' });
  if (c) throw new AppError('conflict', { message: 'The round is closed', zh: '本次鉴定已结束' });
  const inRound = new Set(r.itemIds);
  const items = new Map((await itemModel(rt.db).find({ _id: { $in: opinions.map((o) => (ID.test(o.itemId) ? new Types.ObjectId(o.itemId) : null)).filter(Boolean) } }, { classification: 1 }).lean<ItemDoc[]>()).map((i) => [String(i._id), i]));
  const problems: Array<{ itemId: string; problem: string }> = [];
  for (const o of opinions) {
    if (!inRound.has(o.itemId)) problems.push({ itemId: o.itemId, problem: 'not_in_round' });
    else if (!(OPINIONS as readonly string[]).includes(o.opinion)) problems.push({ itemId: o.itemId, problem: 'bad_opinion' });
    else {
      const current = ((items.get(o.itemId)?.classification as { retention?: PeriodCode } | null)?.retention ?? 'D10') as PeriodCode;
      const p = opinionProblem(o, current);
      if (p) problems.push({ itemId: o.itemId, problem: p });
    }
  }
  if (problems.length) throw new AppError('validation_failed', { message: `Opinions not valid: ${problems.slice(0, 5).map((p) => `${p.itemId}: ${p.problem}`).join('; ')}`, zh: '鉴定意见不合规（延长须长于原期限并写明理由）', details: { problems: problems.slice(0, 100) } });
  const m = appraisalOpinionModel(rt.db);
  const at = new Date();
  for (let i = 0; i < opinions.length; i += 500) {
    await m.bulkWrite(
      opinions.slice(i, i + 500).map((o) => ({
        replaceOne: {
          filter: { _id: `${roundId}:${o.itemId}:${who.id}` },
          replacement: { _id: `${roundId}:${o.itemId}:${who.id}`, roundId, itemId: o.itemId, userId: who.id, username: who.username, opinion: o.opinion, period: o.period ?? null, years: o.years ?? null, reason: o.reason.trim(), at },
          upsert: true,
        },
      })),
    );
  }
  await audit(rt, who, 'appraisal.opinion', { type: 'appraisal_round', id: roundId }, 'success', { count: opinions.length, opinions: opinions.slice(0, 50).map((o) => `${o.itemId}:${o.opinion}`) });
  return { recorded: opinions.length };
}

export async function roundOpinions(rt: Runtime, roundId: string): Promise<AppraisalOpinionDoc[]> {
  await loadRound(rt, roundId);
  return appraisalOpinionModel(rt.db).find({ roundId }).sort({ itemId: 1, username: 1 }).lean<AppraisalOpinionDoc[]>();
}

function formedOf(item: ItemDoc): string {
  if (item.documentDate && /^\d{4}-\d{2}-\d{2}$/.test(item.documentDate)) return item.documentDate;
  const c = (item.classification ?? {}) as { dueOn?: string; retention?: string };
  const years = Number(String(c.retention ?? 'D10').slice(1)) || 10;
  return `${Number(String(c.dueOn ?? '2000').slice(0, 4)) - years - 1}-01-01`;
}

/**
 * Closes the round: decides each item, applies extend / keep to the items (with history), frees
 * the items that stay, keeps the destroy-agreed ones claimed for the 销毁清册, and writes the report.
 * Safe to call again after a crash: the closure is recorded once and its effects re-applied.
 */
export async function closeRound(rt: Runtime, who: Principal, roundId: string): Promise<RoundView> {
  const { r, c: existing } = await loadRound(rt, roundId);
  const object = { type: 'appraisal_round', id: roundId };
  if (!authorize(who, 'destruction.propose').allowed) await refuse(rt, who, 'appraisal.close', object, 'no_role', { en: 'A compliance officer closes a round', zh: '由合规专员结束鉴定' });
  let closure = existing;
  if (!closure) {
    const opinions = await appraisalOpinionModel(rt.db).find({ roundId }).lean<AppraisalOpinionDoc[]>();
    const byItem = new Map<string, AppraisalOpinionDoc[]>();
    for (const o of opinions) byItem.set(o.itemId, [...(byItem.get(o.itemId) ?? []), o]);
    const items = new Map((await itemModel(rt.db).find({ _id: { $in: r.itemIds.map((id) => new Types.ObjectId(id)) } }, { classification: 1, documentDate: 1, archivalCode: 1, title: 1 }).lean<ItemDoc[]>()).map((i) => [String(i._id), i]));
    const memberIds = r.members.map((m) => m.userId);
    const closedAt = new Date();
    const outcomes: ItemOutcome[] = r.itemIds.map((itemId) => {
      const item = items.get(itemId);
      if (!item) return { itemId, kind: 'none', reason: 'item missing' };
      const current = ((item.classification as { retention?: PeriodCode } | null)?.retention ?? 'D10') as PeriodCode;
      const out = decideItem(memberIds, (byItem.get(itemId) ?? []).map((o) => ({ userId: o.userId, opinion: o.opinion, period: o.period as PeriodCode | null, years: o.years, reason: o.reason })), { formedOn: formedOf(item), appraisedOn: isoDay(closedAt), current });
      return out.kind === 'extend' ? { itemId, kind: 'extend', reason: out.reason, retention: out.retention, dueOn: out.dueOn } : { itemId, kind: out.kind, reason: out.reason };
    });
    const report = await roundReportPdf(r, outcomes, byItem, items, closedAt, who.username);
    const reportKey = `disposition/rounds/${roundId}/report.pdf`;
    const put = await rt.storage.blobs.put(reportKey, report, { contentType: 'application/pdf' });
    const doc: AppraisalClosureDoc = { _id: roundId, closedAt, closedBy: who.username, outcomes, reportKey, reportSha256: put.sha256 };
    if (await insertOnce(appraisalClosureModel(rt.db).create(doc))) {
      await insertOnce(dispositionDocumentModel(rt.db).create({ _id: reportKey, kind: 'appraisal_report', refId: roundId, sha256: put.sha256, size: put.size, retention: 'Y', createdAt: closedAt }));
      closure = doc;
    } else closure = (await appraisalClosureModel(rt.db).findById(roundId).lean<AppraisalClosureDoc>())!;
  }
  // Effects (idempotent): new retention with history; items that stay are free again.
  const claims = dispositionClaimModel(rt.db);
  const free: string[] = [];
  for (const o of closure.outcomes) {
    if (o.kind === 'extend') await setItemRetention(rt, o.itemId, { retention: o.retention!, dueOn: o.dueOn!, actor: closure.closedBy, kind: 'retention.extend', reason: o.reason, roundId });
    if (o.kind === 'keep') await setItemRetention(rt, o.itemId, { retention: 'Y', dueOn: null, actor: closure.closedBy, kind: 'retention.keep', reason: o.reason, roundId });
    if (o.kind !== 'destroy') free.push(o.itemId);
  }
  for (let i = 0; i < free.length; i += 1000) await claims.deleteMany({ _id: { $in: free.slice(i, i + 1000) }, roundId });
  const v = view(r, closure, await appraisalOpinionModel(rt.db).countDocuments({ roundId }));
  await audit(rt, who, 'appraisal.close', object, 'success', { outcomes: v.outcomes, report: closure.reportKey, reportSha256: closure.reportSha256 });
  return v;
}

async function roundReportPdf(r: AppraisalRoundDoc, outcomes: ItemOutcome[], byItem: Map<string, AppraisalOpinionDoc[]>, items: Map<string, ItemDoc>, closedAt: Date, closedBy: string): Promise<Buffer> {
  const count = (k: ItemOutcome['kind']) => outcomes.filter((o) => o.kind === k).length;
  const rows = outcomes.map((o, i) => {
    const it = items.get(o.itemId);
    const ops = (byItem.get(o.itemId) ?? []).map((x) => `${x.username}: ${OPINION_ZH[x.opinion]}${x.period ? ` ${periodLabel(x.period)}` : ''}${x.years ? ` +${x.years}年` : ''}`).join('；');
    const result = o.kind === 'none' ? '未达成一致，维持原状' : o.kind === 'extend' ? `延长至${periodLabel(o.retention ?? '')}，下次鉴定 ${o.dueOn}` : OPINION_ZH[o.kind];
    return [String(i + 1), it?.archivalCode ?? o.itemId, it?.title ?? '', it?.documentDate ?? '', periodLabel(((it?.classification as { retention?: string } | null)?.retention) ?? ''), ops, result, o.reason];
  });
  return buildPdf({
    title: '鉴定工作报告',
    subject: `appraisal round ${String(r._id)}`,
    createdAt: closedAt,
    blocks: [
      { kind: 'text', text: `鉴定名称：${r.title}\n鉴定编号：${String(r._id)}\n到期基准日：${r.asOf}    开始：${r.openedAt.toISOString().slice(0, 10)}    结束：${closedAt.toISOString().slice(0, 10)}\n发起人：${r.proposerName}    结束人：${closedBy}` },
      { kind: 'heading', text: '一、鉴定小组（《社会保险业务档案管理规定（试行）》第十条）' },
      { kind: 'table', columns: [{ title: '成员', width: 2 }, { title: '身份', width: 3 }], rows: r.members.map((m) => [m.username, CAPACITY_ZH[m.capacity as MemberCapacity] ?? m.capacity]), size: 9 },
      { kind: 'heading', text: '二、鉴定结论' },
      { kind: 'text', text: `共鉴定 ${outcomes.length} 件：拟销毁 ${count('destroy')} 件，延长保管期限 ${count('extend')} 件，改为永久保存 ${count('keep')} 件，未达成一致维持原状 ${count('none')} 件。拟销毁档案另行编制销毁清册，经备案、批准后方可销毁（第十一条）；期满本身不导致销毁。` },
      { kind: 'heading', text: '三、逐件意见' },
      { kind: 'table', columns: [{ title: '序号', width: 0.6 }, { title: '档号', width: 3 }, { title: '题名', width: 3 }, { title: '形成时间', width: 1.3 }, { title: '原保管期限', width: 1 }, { title: '成员意见', width: 4 }, { title: '结论', width: 2.2 }, { title: '理由', width: 2.5 }], rows },
    ],
    attachments: [{ name: 'round.json', mimeType: 'application/json', bytes: Buffer.from(JSON.stringify({ roundId: String(r._id), members: r.members, outcomes }), 'utf8') }],
  });
}

/** The item ids a round covers. */
export async function roundItemIds(rt: Runtime, roundId: string): Promise<string[]> {
  return (await loadRound(rt, roundId)).r.itemIds;
}

/** What the members see of each item a round covers (id, 档号, title, due date), in the round's order. */
export async function roundItems(rt: Runtime, roundId: string): Promise<Array<{ id: string; archivalCode: string | null; title: string | null; dueOn: string | null }>> {
  const ids = await roundItemIds(rt, roundId);
  const found = await itemModel(rt.db).find({ _id: { $in: ids } }, { archivalCode: 1, title: 1, 'classification.dueOn': 1 }).lean<ItemDoc[]>();
  const byId = new Map(found.map((it) => [String(it._id), it]));
  return ids.map((id) => {
    const it = byId.get(id);
    return { id, archivalCode: it?.archivalCode ?? null, title: it?.title ?? null, dueOn: (it?.classification as { dueOn?: string } | null)?.dueOn ?? null };
  });
}
