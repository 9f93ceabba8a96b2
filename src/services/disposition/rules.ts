/**
 * The law's rules for appraisal and destruction, as pure functions (no I/O), so every path of the
 * state machine can be tested without a database and every service step asks them the same way.
 * Sources: shared/domain/regulations.md (R2-R6, R10, §1.1 articles ~9-12, §4.3, §4.4).
 */
import { appraisalDueOn, periodYears, type IsoDate, type PeriodCode } from '../../../retention-rules';

/** 鉴定小组 capacities (3号令 第十条 ≈ R4): 有关负责人, 业务人员, 档案管理人员, 人社行政部门有关人员. */
export const MEMBER_CAPACITIES = ['agency_leader', 'business_staff', 'archivist', 'hrss_representative'] as const;
export type MemberCapacity = (typeof MEMBER_CAPACITIES)[number];
export const CAPACITY_ZH: Record<MemberCapacity, string> = {
  agency_leader: '经办机构有关负责人',
  business_staff: '业务人员',
  archivist: '档案管理人员',
  hrss_representative: '人社行政部门有关人员',
};

/** 处置意见 (R4): destroy, extend (re-set the period), keep permanently. */
export const OPINIONS = ['destroy', 'extend', 'keep'] as const;
export type OpinionKind = (typeof OPINIONS)[number];
export const OPINION_ZH: Record<OpinionKind, string> = { destroy: '销毁', extend: '延长保管期限', keep: '永久保存' };

export interface Opinion {
  userId: string;
  opinion: OpinionKind;
  /** extend: the new period (longer than the current one), or … */
  period?: PeriodCode | null;
  /** … extend: years from the appraisal date until the next appraisal. */
  years?: number | null;
  reason: string;
}

export type Outcome =
  | { kind: 'destroy'; reason: string }
  | { kind: 'extend'; retention: PeriodCode; dueOn: IsoDate; reason: string }
  | { kind: 'keep'; reason: string }
  | { kind: 'none'; reason: string };

const RANK: Record<PeriodCode, number> = { D10: 10, D30: 30, D50: 50, D100: 100, Y: Number.POSITIVE_INFINITY };

export function isLonger(a: PeriodCode, b: PeriodCode): boolean {
  return RANK[a] > RANK[b];
}

/** Checks one member's opinion against the item's current period; returns a problem or null. */
export function opinionProblem(op: Omit<Opinion, 'userId'>, current: PeriodCode): string | null {
  if (!op.reason || op.reason.trim().length < 2) return 'reason_required';
  if (op.opinion !== 'extend') return op.period || op.years ? 'period_only_for_extend' : null;
  if (!op.period && !op.years) return 'extend_needs_period';
  if (op.period === 'Y') return 'use_keep_for_permanent';
  if (op.period && !isLonger(op.period, current)) return 'extend_must_lengthen';
  if (op.years !== undefined && op.years !== null && (!Number.isInteger(op.years) || op.years < 1 || op.years > 100)) return 'years_out_of_range';
  return null;
}

/** The next appraisal date an extend opinion sets (the later of the new period's date and appraisal date + years). */
export function extendedDueOn(formedOn: IsoDate, appraisedOn: IsoDate, op: Pick<Opinion, 'period' | 'years'>, current: PeriodCode): { retention: PeriodCode; dueOn: IsoDate } {
  const retention = op.period ?? current;
  const byPeriod = appraisalDueOn(formedOn, retention);
  const byYears = op.years ? `${String(Number(appraisedOn.slice(0, 4)) + op.years).padStart(4, '0')}-01-01` : null;
  const dates = [byPeriod, byYears].filter((d): d is string => !!d).sort();
  return { retention, dueOn: dates[dates.length - 1]! };
}

/**
 * The group's decision on one item. R4 + 3号令 第十条: the 鉴定小组 proposes the 处置意见 together;
 * an item is decided only when every member has given an opinion and all give the same kind.
 * Anything else (a missing opinion, a split) is no agreement: the item stays as it is (R2: expiry
 * never destroys by itself). Extensions that differ take the longest (longer retention is lawful,
 * early destruction is not, regulations.md header).
 */
export function decideItem(memberIds: readonly string[], opinions: readonly Opinion[], ctx: { formedOn: IsoDate; appraisedOn: IsoDate; current: PeriodCode }): Outcome {
  const byMember = new Map(opinions.filter((o) => memberIds.includes(o.userId)).map((o) => [o.userId, o]));
  if (memberIds.length === 0 || byMember.size < memberIds.length) return { kind: 'none', reason: `${byMember.size}/${memberIds.length} 名成员已提出意见 / opinions given` };
  const all = [...byMember.values()];
  const kinds = new Set(all.map((o) => o.opinion));
  if (kinds.size > 1) return { kind: 'none', reason: `意见不一致 / no agreement: ${all.map((o) => o.opinion).join(', ')}` };
  const reason = [...new Set(all.map((o) => o.reason.trim()))].join('；');
  const kind = all[0]!.opinion;
  if (kind === 'destroy') return { kind, reason };
  if (kind === 'keep') return { kind, reason };
  // The longest period any member set, and the latest next-appraisal date any member set.
  let retention: PeriodCode = ctx.current;
  let dueOn: IsoDate = '0000-01-01';
  for (const o of all) {
    const e = extendedDueOn(ctx.formedOn, ctx.appraisedOn, o, ctx.current);
    if (isLonger(e.retention, retention)) retention = e.retention;
    if (e.dueOn > dueOn) dueOn = e.dueOn;
  }
  return { kind: 'extend', retention, dueOn, reason };
}

/** 已保管期限: whole years the period has run by `on` (counted from 1 January after formation, R3). */
export function yearsKept(formedOn: IsoDate | null, on: IsoDate): number | null {
  if (!formedOn) return null;
  return Math.max(0, Number(on.slice(0, 4)) - (Number(formedOn.slice(0, 4)) + 1));
}

export function periodLabel(code: PeriodCode | string | null): string {
  if (!code) return '';
  if (code === 'Y') return '永久';
  const years = periodYears(code as PeriodCode);
  return years ? `${years}年` : String(code);
}

// ——— the approval chain (R5, 3号令 第十一条) ———

export interface ApprovalChain {
  /** 鉴定小组 sign-offs needed on the list, none by the proposer */
  appraisalSignoffs: number;
  /** 报同级人社行政部门备案 before the head approves */
  filing: boolean;
  /** days between the head's approval and the earliest start of destruction */
  coolingOffDays: number;
}

export const DEFAULT_CHAIN: ApprovalChain = { appraisalSignoffs: 2, filing: true, coolingOffDays: 7 };

export type SignStep = 'appraisal' | 'head';

export interface Signature {
  step: SignStep;
  userId: string;
  version: number;
  at: Date;
}

export interface ListFacts {
  proposerId: string;
  version: number;
  signatures: readonly Signature[];
  filedVersion: number | null;
  cancelled: boolean;
  executionStarted: boolean;
}

export type ListStage = 'cancelled' | 'executing' | 'awaiting_signoffs' | 'awaiting_filing' | 'awaiting_approval' | 'approved';

/** Only the current version's signatures count: an edit after a signature voids every earlier one. */
export function currentSignatures(f: ListFacts): Signature[] {
  return f.signatures.filter((s) => s.version === f.version);
}

export function listStage(f: ListFacts, chain: ApprovalChain): ListStage {
  if (f.cancelled) return 'cancelled';
  if (f.executionStarted) return 'executing';
  const sigs = currentSignatures(f);
  if (sigs.filter((s) => s.step === 'appraisal').length < chain.appraisalSignoffs) return 'awaiting_signoffs';
  if (chain.filing && f.filedVersion !== f.version) return 'awaiting_filing';
  if (!sigs.some((s) => s.step === 'head')) return 'awaiting_approval';
  return 'approved';
}

export type SignRefusal = 'own_proposal' | 'already_signed' | 'wrong_stage' | 'cancelled';

/**
 * Separation of duties for a signature: the proposer approves nothing, nobody signs a version twice
 * (in any step), and each step comes in the chain's order.
 */
export function signRefusal(f: ListFacts, chain: ApprovalChain, userId: string, step: SignStep): SignRefusal | null {
  if (f.cancelled) return 'cancelled';
  if (userId === f.proposerId) return 'own_proposal';
  if (currentSignatures(f).some((s) => s.userId === userId)) return 'already_signed';
  const stage = listStage(f, chain);
  if (step === 'appraisal' && stage !== 'awaiting_signoffs') return 'wrong_stage';
  if (step === 'head' && stage !== 'awaiting_approval') return 'wrong_stage';
  return null;
}

/** When destruction may start: the head's approval plus the cooling-off period. */
export function executableFrom(f: ListFacts, chain: ApprovalChain): Date | null {
  if (listStage(f, chain) !== 'approved') return null;
  const head = currentSignatures(f).find((s) => s.step === 'head')!;
  return new Date(head.at.getTime() + chain.coolingOffDays * 86_400_000);
}

export type SupervisorRefusal = 'two_supervisors' | 'same_person' | 'is_proposer' | 'is_approver';

/** R6 + 3号令 第十二条: two supervisors (监销人), neither the proposer nor an approver of this list. */
export function supervisorRefusal(f: ListFacts, supervisorIds: readonly string[]): SupervisorRefusal | null {
  if (supervisorIds.length < 2) return 'two_supervisors';
  if (new Set(supervisorIds).size !== supervisorIds.length) return 'same_person';
  if (supervisorIds.includes(f.proposerId)) return 'is_proposer';
  const signers = new Set(currentSignatures(f).map((s) => s.userId));
  if (supervisorIds.some((s) => signers.has(s))) return 'is_approver';
  return null;
}
