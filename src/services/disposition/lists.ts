/**
 * The 销毁清册 and its approval chain (3号令 第十一条 ≈ R5): the proposer compiles the list from a
 * round's destroy-agreed items → at least N 鉴定小组 members sign it off (none the proposer) → 备案
 * with the same-level 人社行政部门 (date, their reference, the receipt scan, stored encrypted) →
 * the agency's 主要负责人 approves → a cooling-off period. Every signer re-authenticates with a
 * second factor at the moment of signing. The list is versioned: any edit is a new version, and
 * only the current version's signatures and 备案 count (rules.listStage), so an edit after a
 * signature voids every signature.
 */
import { Types } from 'mongoose';
import { AppError } from '../../errors';
import {
  appraisalClosureModel,
  appraisalRoundModel,
  destructionListModel,
  dispositionClaimModel,
  executionModel,
  listCancelModel,
  listFilingModel,
  listSignatureModel,
  listVersionModel,
  confirmationModel,
  execItemModel,
  dispositionDocumentModel,
  type AppraisalClosureDoc,
  type AppraisalRoundDoc,
  type DestructionListDoc,
  type ExecutionDoc,
  type ListFilingDoc,
  type ListRow,
  type ListSignatureDoc,
  type ListVersionDoc,
  type ListCancelDoc,
  type ConfirmationDoc,
} from '../../models/disposition.model';
import { itemModel, type ItemDoc } from '../../models/item.model';
import type { Runtime } from '../../runtime';
import { authorize, type Principal } from '../access';
import { audit, ID, insertOnce, isDup, isoDay, notFound, refuse, sha256Hex } from './common';
import { buildPdf } from './pdf';
import { DEFAULT_CHAIN, executableFrom, listStage, OPINION_ZH, periodLabel, signRefusal, yearsKept, type ApprovalChain, type ListFacts, type ListStage, type SignStep } from './rules';

export function approvalChain(rt: Runtime): ApprovalChain {
  return { ...DEFAULT_CHAIN, ...rt.config.disposal };
}

export interface ListView {
  id: string;
  roundId: string;
  title: string;
  proposer: string;
  createdAt: string;
  version: number;
  sha256: string;
  stage: ListStage | 'done';
  rows: ListRow[];
  signatures: Array<{ step: SignStep; username: string; version: number; at: string; void: boolean; note: string }>;
  filing: { date: string; reference: string; receipt: boolean; receiptSha256: string | null; by: string; version: number; void: boolean } | null;
  approvedAt: string | null;
  executableFrom: string | null;
  cancelled: { by: string; reason: string; at: string } | null;
  execution: { startedAt: string; supervisors: string[]; method: string; place: string; destroyed: number; skipped: number; pending: number; confirmedBy: string[]; run: RunView | null } | null;
  chain: ApprovalChain;
}

/** A queued destruction run (a job on rt.queue): where it is, for the execution console. */
export interface RunView {
  jobId: string;
  state: 'queued' | 'running' | 'done' | 'failed' | 'cancelled';
  /** the stage of the chunk at hand (execute.ts EXEC_STAGES) */
  stage: string | null;
  /** items finished (destroyed or skipped) of the list's total */
  done: number;
  total: number;
  attempts: number;
  error: string | null;
  updatedAt: string | null;
}

export async function runView(rt: Runtime, jobId: string | null | undefined): Promise<RunView | null> {
  if (!jobId) return null;
  const job = await rt.queue.get(jobId);
  if (!job) return null;
  const p = (job.progress ?? {}) as { stage?: string | null; done?: number; total?: number };
  return {
    jobId,
    state: job.state as RunView['state'],
    stage: p.stage ?? null,
    done: p.done ?? 0,
    total: p.total ?? 0,
    attempts: job.attempts,
    error: job.lastError ?? null,
    updatedAt: (job as { updatedAt?: Date }).updatedAt?.toISOString() ?? null,
  };
}

interface Loaded {
  list: DestructionListDoc;
  version: ListVersionDoc;
  signatures: ListSignatureDoc[];
  filings: ListFilingDoc[];
  cancel: ListCancelDoc | null;
  execution: ExecutionDoc | null;
}

export async function loadList(rt: Runtime, id: string): Promise<Loaded> {
  if (!ID.test(id)) throw notFound('destruction list', '销毁清册');
  const list = await destructionListModel(rt.db).findById(id).lean<DestructionListDoc>();
  if (!list) throw notFound('destruction list', '销毁清册');
  const [version] = await listVersionModel(rt.db).find({ listId: id }).sort({ n: -1 }).limit(1).lean<ListVersionDoc[]>();
  const [signatures, filings, cancel, execution] = await Promise.all([
    listSignatureModel(rt.db).find({ listId: id }).sort({ at: 1 }).lean<ListSignatureDoc[]>(),
    listFilingModel(rt.db).find({ listId: id }).lean<ListFilingDoc[]>(),
    listCancelModel(rt.db).findById(id).lean<ListCancelDoc>(),
    executionModel(rt.db).findById(id).lean<ExecutionDoc>(),
  ]);
  return { list, version: version!, signatures, filings, cancel, execution };
}

export function factsOf(l: Loaded): ListFacts {
  return {
    proposerId: l.list.proposerId,
    version: l.version.n,
    signatures: l.signatures.map((s) => ({ step: s.step, userId: s.userId, version: s.version, at: s.at })),
    filedVersion: l.filings.some((f) => f.version === l.version.n) ? l.version.n : null,
    cancelled: !!l.cancel,
    executionStarted: !!l.execution,
  };
}

export async function getList(rt: Runtime, id: string): Promise<ListView> {
  const l = await loadList(rt, id);
  const chain = approvalChain(rt);
  const f = factsOf(l);
  const head = l.signatures.find((s) => s.step === 'head' && s.version === l.version.n);
  const filing = l.filings.sort((a, b) => b.version - a.version)[0] ?? null;
  let execution: ListView['execution'] = null;
  let stage: ListView['stage'] = listStage(f, chain);
  if (l.execution) {
    const done = await execItemModel(rt.db).find({ listId: id }, { outcome: 1 }).lean();
    const confirmed = await confirmationModel(rt.db).find({ listId: id }).lean<ConfirmationDoc[]>();
    const destroyed = done.filter((d) => d.outcome === 'destroyed').length;
    const skipped = done.length - destroyed;
    const rowsOfExec = (await listVersionModel(rt.db).findById(`${id}:${l.execution.version}`).lean<ListVersionDoc>())?.rows.length ?? 0;
    const run = await runView(rt, l.execution.jobId);
    // The job's progress is written sparingly (jobs/worker.ts); the items recorded as finished are
    // the truth, so a running run's count is never behind them (a fast chunk's "2 of 6" may still
    // be waiting for its write when the console reads the list).
    if (run?.state === 'running') {
      run.total ||= rowsOfExec;
      run.done = Math.max(run.done, done.length);
    }
    execution = { startedAt: l.execution.startedAt.toISOString(), supervisors: l.execution.supervisors.map((s) => s.username), method: l.execution.method, place: l.execution.place, destroyed, skipped, pending: rowsOfExec - done.length, confirmedBy: confirmed.map((c) => c.username), run };
    if (confirmed.length >= 2 && rowsOfExec === done.length) stage = 'done';
  }
  return {
    id,
    roundId: l.list.roundId,
    title: l.list.title,
    proposer: l.list.proposerName,
    createdAt: l.list.createdAt.toISOString(),
    version: l.version.n,
    sha256: l.version.sha256,
    stage,
    rows: l.version.rows,
    signatures: l.signatures.map((s) => ({ step: s.step, username: s.username, version: s.version, at: s.at.toISOString(), void: s.version !== l.version.n, note: s.note })),
    filing: filing ? { date: filing.date, reference: filing.reference, receipt: !!filing.receiptKey, receiptSha256: filing.receiptSha256, by: filing.by, version: filing.version, void: filing.version !== l.version.n } : null,
    approvedAt: head?.at.toISOString() ?? null,
    executableFrom: executableFrom(f, chain)?.toISOString() ?? null,
    cancelled: l.cancel ? { by: l.cancel.by, reason: l.cancel.reason, at: l.cancel.at.toISOString() } : null,
    execution,
    chain,
  };
}

export async function listLists(rt: Runtime): Promise<Array<Pick<ListView, 'id' | 'title' | 'proposer' | 'createdAt' | 'version' | 'stage' | 'roundId'> & { items: number }>> {
  const lists = await destructionListModel(rt.db).find({}).sort({ createdAt: -1 }).limit(500).lean<DestructionListDoc[]>();
  const out = [];
  for (const l of lists) {
    const v = await getList(rt, String(l._id));
    out.push({ id: v.id, title: v.title, proposer: v.proposer, createdAt: v.createdAt, version: v.version, stage: v.stage, roundId: v.roundId, items: v.rows.length });
  }
  return out;
}

function rowSha(rows: ListRow[]): string {
  return sha256Hex(JSON.stringify(rows));
}

/** 清册 row from the item as it is (regulations.md §4.4 fields). */
export function rowOf(item: ItemDoc, seq: number, reason: string, on: string): ListRow {
  const c = (item.classification ?? {}) as { retention?: string };
  const md = (item.metadata ?? {}) as { docNumber?: string | null; units?: Array<{ name: string | null }>; clerks?: Array<{ name: string }> };
  return {
    seq,
    itemId: String(item._id),
    archivalCode: item.archivalCode ?? null,
    title: item.title ?? null,
    docNumber: md.docNumber ?? null,
    responsible: md.units?.find((u) => u.name)?.name ?? item.fonds,
    formedOn: item.documentDate ?? null,
    pages: item.pageCount ?? 0,
    pieces: 1,
    retention: c.retention ?? null,
    yearsKept: yearsKept(item.documentDate ?? null, on),
    opinion: OPINION_ZH.destroy,
    reason,
  };
}

/** Compiles the 清册 from a closed round's destroy-agreed items (one list per round). */
export async function createList(rt: Runtime, who: Principal, input: { roundId: string; title?: string }): Promise<ListView> {
  if (!ID.test(input.roundId)) throw notFound('appraisal round', '鉴定');
  const round = await appraisalRoundModel(rt.db).findById(input.roundId).lean<AppraisalRoundDoc>();
  if (!round) throw notFound('appraisal round', '鉴定');
  const closure = await appraisalClosureModel(rt.db).findById(input.roundId).lean<AppraisalClosureDoc>();
  if (!closure) throw new AppError('conflict', { message: 'Close the appraisal round first', zh: '请先结束鉴定，再编制销毁清册' });
  const destroy = closure.outcomes.filter((o) => o.kind === 'destroy');
  if (!destroy.length) throw new AppError('conflict', { message: 'The round agreed to destroy nothing', zh: '本次鉴定没有拟销毁的档案' });
  const items = new Map((await itemModel(rt.db).find({ _id: { $in: destroy.map((o) => new Types.ObjectId(o.itemId)) } }).lean<ItemDoc[]>()).map((i) => [String(i._id), i]));
  const today = isoDay();
  const rows = destroy.filter((o) => items.has(o.itemId)).map((o, i) => rowOf(items.get(o.itemId)!, i + 1, o.reason, today));
  const list = (await destructionListModel(rt.db)
    .create({ roundId: input.roundId, title: input.title?.trim() || `${round.title} 销毁清册`, proposerId: who.id, proposerName: who.username, createdAt: new Date() })
    .catch((err: unknown) => {
      if (isDup(err)) throw new AppError('conflict', { message: 'This round already has a destruction list', zh: '该鉴定已编制销毁清册' });
      throw err;
    })).toObject() as DestructionListDoc;
  const listId = String(list._id);
  await listVersionModel(rt.db).create({ _id: `${listId}:1`, listId, n: 1, rows, sha256: rowSha(rows), note: 'compiled from the appraisal round', by: who.username, at: new Date() });
  await dispositionClaimModel(rt.db).updateMany({ roundId: input.roundId }, { $set: { listId } });
  await audit(rt, who, 'disposal.list.create', { type: 'destruction_list', id: listId }, 'success', { roundId: input.roundId, items: rows.length });
  return getList(rt, listId);
}

/**
 * Edits the list (the proposer, before destruction starts): remove items, change reasons. The edit
 * is a new version; every signature and the 备案 on earlier versions become void.
 */
export async function editList(rt: Runtime, who: Principal, listId: string, input: { removeItemIds?: string[]; reasons?: Record<string, string>; note: string; expectVersion?: number }): Promise<ListView> {
  const l = await loadList(rt, listId);
  const object = { type: 'destruction_list', id: listId };
  if (l.list.proposerId !== who.id) await refuse(rt, who, 'disposal.list.edit', object, 'not_proposer', { en: 'Only the proposer edits a list', zh: '只有清册编制人可以修改清册' });
  if (l.cancel || l.execution) throw new AppError('conflict', { message: 'The list can no longer be edited', zh: '清册已撤销或已开始销毁，不能修改' });
  if (input.expectVersion !== undefined && input.expectVersion !== l.version.n) throw new AppError('conflict', { message: `The list is at version ${l.version.n}`, zh: `清册已更新为第 ${l.version.n} 版`, details: { version: l.version.n } });
  if (!input.note || input.note.trim().length < 2) throw new AppError('validation_failed', { message: 'Say what changed (note)', zh: '请说明修改内容' });
  const remove = new Set(input.removeItemIds ?? []);
  const rows = l.version.rows
    .filter((r) => !remove.has(r.itemId))
    .map((r, i) => ({ ...r, seq: i + 1, reason: input.reasons?.[r.itemId]?.trim() || r.reason }));
  if (!rows.length) throw new AppError('validation_failed', { message: 'A list keeps at least one item (withdraw it instead)', zh: '清册至少保留一件（如需全部撤回，请撤销清册）' });
  const n = l.version.n + 1;
  if (!(await insertOnce(listVersionModel(rt.db).create({ _id: `${listId}:${n}`, listId, n, rows, sha256: rowSha(rows), note: input.note.trim(), by: who.username, at: new Date() })))) {
    throw new AppError('conflict', { message: 'Someone edited the list at the same time', zh: '清册正被他人修改，请刷新后重试' });
  }
  const removed = l.version.rows.filter((r) => remove.has(r.itemId)).map((r) => r.itemId);
  if (removed.length) await dispositionClaimModel(rt.db).deleteMany({ _id: { $in: removed }, listId });
  const voided = l.signatures.filter((s) => s.version === l.version.n);
  await audit(rt, who, 'disposal.list.edit', object, 'success', { version: n, removed, note: input.note.trim() });
  if (voided.length || l.filings.some((f) => f.version === l.version.n)) {
    await audit(rt, who, 'disposal.signatures.void', object, 'success', { version: l.version.n, signatures: voided.map((s) => `${s.step}:${s.username}`), filingVoided: l.filings.some((f) => f.version === l.version.n) });
  }
  return getList(rt, listId);
}

/**
 * A signature: `appraisal` (a member of the round's 鉴定小组) or `head` (主要负责人, destruction.approve).
 * Re-authentication with the signer's TOTP at this moment; separation of duties by rules.signRefusal.
 */
export async function signList(rt: Runtime, who: Principal, listId: string, input: { step: SignStep; totp?: string; password?: string; expectVersion?: number; note?: string }): Promise<ListView> {
  const l = await loadList(rt, listId);
  const object = { type: 'destruction_list', id: listId };
  const action = input.step === 'head' ? 'disposal.approve' : 'disposal.signoff';
  if (input.step === 'head') {
    const d = authorize(who, 'destruction.approve', { proposedBy: l.list.proposerId });
    if (!d.allowed) await refuse(rt, who, action, object, d.reason, { en: 'Only the agency head (主要负责人) approves, never their own list', zh: '由主要负责人批准，且不得批准本人编制的清册' });
  } else {
    const round = await appraisalRoundModel(rt.db).findById(l.list.roundId).lean<AppraisalRoundDoc>();
    if (!round?.members.some((m) => m.userId === who.id) || !authorize(who, 'appraisal.review').allowed) await refuse(rt, who, action, object, 'not_a_member', { en: 'Sign-offs come from members of the round\'s 鉴定小组', zh: '须由本次鉴定小组成员签署' });
  }
  if (input.expectVersion !== undefined && input.expectVersion !== l.version.n) throw new AppError('conflict', { message: `The list changed: it is at version ${l.version.n}; read it again before signing`, zh: `清册已修改为第 ${l.version.n} 版，请重新审阅后签署`, details: { version: l.version.n } });
  const chain = approvalChain(rt);
  const refusal = signRefusal(factsOf(l), chain, who.id, input.step);
  if (refusal === 'own_proposal' || refusal === 'already_signed') {
    await refuse(rt, who, action, object, refusal, refusal === 'own_proposal' ? { en: 'The proposer signs nothing on their own list', zh: '清册编制人不得签署或批准本人的清册' } : { en: 'Nobody signs a list twice', zh: '同一人不得重复签署同一清册' });
  }
  if (refusal) throw new AppError('conflict', { message: `Not the time for this signature (${listStage(factsOf(l), chain)})`, zh: '当前环节不能进行此项签署（须依次：鉴定小组签署 → 备案 → 主要负责人批准）', details: { reason: refusal, stage: listStage(factsOf(l), chain) } });
  await rt.auth.confirmSigner(who.id, { totp: input.totp, password: input.password });
  const sig: ListSignatureDoc = { _id: `${listId}:${l.version.n}:${who.id}`, listId, version: l.version.n, step: input.step, userId: who.id, username: who.username, listSha256: l.version.sha256, note: input.note?.trim() ?? '', at: new Date() };
  if (!(await insertOnce(listSignatureModel(rt.db).create(sig)))) await refuse(rt, who, action, object, 'already_signed', { en: 'Nobody signs a list twice', zh: '同一人不得重复签署同一清册' });
  await audit(rt, who, action, object, 'success', { version: l.version.n, listSha256: l.version.sha256, secondFactor: 'totp' });
  return getList(rt, listId);
}

/** 备案: the date, the administrative department's reference, and the receipt scan (encrypted blob). */
export async function fileList(rt: Runtime, who: Principal, listId: string, input: { date: string; reference: string; receipt?: Buffer; receiptType?: string }): Promise<ListView> {
  const l = await loadList(rt, listId);
  const object = { type: 'destruction_list', id: listId };
  if (!authorize(who, 'destruction.propose').allowed) await refuse(rt, who, 'disposal.file', object, 'no_role', { en: 'The compliance officer records the 备案', zh: '由合规专员登记备案' });
  const date = isoDay(input.date);
  const reference = (input.reference ?? '').trim();
  if (reference.length < 2) throw new AppError('validation_failed', { message: 'Give the administrative department\'s reference', zh: '请填写人社行政部门备案文号' });
  const stage = listStage(factsOf(l), approvalChain(rt));
  if (stage !== 'awaiting_filing') throw new AppError('conflict', { message: `Not the time for 备案 (${stage})`, zh: '当前环节不能备案（须在鉴定小组签署之后、负责人批准之前）', details: { stage } });
  let receiptKey: string | null = null;
  let receiptSha256: string | null = null;
  if (input.receipt?.length) {
    receiptKey = `disposition/lists/${listId}/v${l.version.n}/filing-receipt`;
    const put = await rt.storage.blobs.put(receiptKey, input.receipt, { contentType: input.receiptType ?? 'application/octet-stream' });
    receiptSha256 = put.sha256;
    await insertOnce(dispositionDocumentModel(rt.db).create({ _id: receiptKey, kind: 'filing_receipt', refId: listId, sha256: put.sha256, size: put.size, retention: 'Y', createdAt: new Date() }));
  }
  const doc: ListFilingDoc = { _id: `${listId}:${l.version.n}`, listId, version: l.version.n, date, reference, receiptKey, receiptSha256, by: who.username, at: new Date() };
  if (!(await insertOnce(listFilingModel(rt.db).create(doc)))) throw new AppError('conflict', { message: 'This version is already filed', zh: '该版本已备案' });
  await audit(rt, who, 'disposal.file', object, 'success', { version: l.version.n, date, reference, receiptSha256 });
  return getList(rt, listId);
}

/** Rejects (a signer or the head) or withdraws (the proposer) a list before destruction: its items stay. */
export async function cancelList(rt: Runtime, who: Principal, listId: string, reason: string): Promise<ListView> {
  const l = await loadList(rt, listId);
  const object = { type: 'destruction_list', id: listId };
  const may = l.list.proposerId === who.id || authorize(who, 'destruction.approve').allowed || authorize(who, 'appraisal.review').allowed;
  if (!may) await refuse(rt, who, 'disposal.reject', object, 'no_role', { en: 'Not allowed to reject this list', zh: '无权驳回该清册' });
  if (l.execution) throw new AppError('conflict', { message: 'Destruction has started; the list can no longer be rejected', zh: '已开始销毁，不能再驳回' });
  if (!reason || reason.trim().length < 2) throw new AppError('validation_failed', { message: 'Give the reason', zh: '请填写驳回理由' });
  if (!(await insertOnce(listCancelModel(rt.db).create({ _id: listId, by: who.username, reason: reason.trim(), at: new Date() })))) throw new AppError('conflict', { message: 'Already rejected', zh: '该清册已驳回或撤销' });
  await dispositionClaimModel(rt.db).deleteMany({ listId });
  await audit(rt, who, l.list.proposerId === who.id ? 'disposal.withdraw' : 'disposal.reject', object, 'success', { reason: reason.trim(), version: l.version.n });
  return getList(rt, listId);
}

/** The 清册 as a PDF (the current version, or a given one), with its signatures and 备案. */
export async function listPdf(rt: Runtime, listId: string, opts: { version?: number; extra?: Array<{ kind: 'heading' | 'text'; text: string }> } = {}): Promise<Buffer> {
  const v = await getList(rt, listId);
  const version = opts.version ?? v.version;
  const ver = await listVersionModel(rt.db).findById(`${listId}:${version}`).lean<ListVersionDoc>();
  if (!ver) throw notFound('list version', '清册版本');
  const sigs = v.signatures.filter((s) => s.version === version);
  return buildPdf({
    title: '档案销毁清册',
    subject: `destruction list ${listId} v${version}`,
    createdAt: ver.at,
    blocks: [
      { kind: 'text', text: `清册：${v.title}（编号 ${listId}，第 ${version} 版，SHA-256 ${ver.sha256}）\n编制人：${v.proposer}    编制时间：${v.createdAt.slice(0, 10)}    依据：鉴定 ${v.roundId}` },
      {
        kind: 'table',
        columns: [{ title: '序号', width: 0.6 }, { title: '档号', width: 3 }, { title: '题名', width: 3.5 }, { title: '文号', width: 1.6 }, { title: '责任者', width: 1.8 }, { title: '形成时间', width: 1.3 }, { title: '页数/件数', width: 1 }, { title: '原保管期限', width: 1 }, { title: '已保管期限', width: 1 }, { title: '鉴定意见', width: 1 }, { title: '销毁原因', width: 2.2 }],
        rows: ver.rows.map((r) => [String(r.seq), r.archivalCode ?? r.itemId, r.title ?? '', r.docNumber ?? '', r.responsible ?? '', r.formedOn ?? '', `${r.pages}/${r.pieces}`, periodLabel(r.retention), r.yearsKept === null ? '' : `${r.yearsKept}年`, r.opinion, r.reason]),
      },
      { kind: 'heading', text: '审批' },
      { kind: 'text', text: sigs.length ? sigs.map((s) => `${s.step === 'head' ? '主要负责人批准' : '鉴定小组签署'}：${s.username}  ${s.at}`).join('\n') : '（尚无签署）' },
      { kind: 'text', text: v.filing && v.filing.version === version ? `备案：${v.filing.date}  文号 ${v.filing.reference}${v.filing.receiptSha256 ? `  回执 SHA-256 ${v.filing.receiptSha256}` : ''}` : '备案：（尚未备案）' },
      ...(opts.extra ?? []),
    ],
  });
}

export { executableFrom };
