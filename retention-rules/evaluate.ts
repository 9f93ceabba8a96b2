import { appraisalDueOn, assertIsoDate, isOnOrAfter, isoDateOf, longerPeriod, type IsoDate } from './clock';
import { isConfirmed, type AccountingRule, type PeriodCode, type RetentionCode, type Schedule, type ScheduleItem } from './schema';

export interface RetentionFacts {
  /** The appendix row the record was classified under. */
  itemId: string;
  /**
   * Date the record was formed (形成日期), YYYY-MM-DD; null when it is not known. Never substitute
   * the scan date: 3号令 第九条 counts the period from the year after formation, and the 年度 of the
   * 档号 is the formation year too. Without it there is no due date and the record is blocked.
   */
  formedOn: IsoDate | null;
  /** KJ rows only: which 会计档案管理办法 sub-rule the record falls under (voucher, ledger, report-annual…). */
  accountingRuleId?: string;
  /** Disputed, in litigation or with open debts (未结清的债权债务、未了事项). */
  legalHold?: boolean;
}

/** Why a record whose date has come is still not offered for appraisal. */
export type AppraisalBlocker = 'provisional_rule' | 'legal_hold' | 'no_formation_date';

export interface RetentionDecision {
  itemId: string;
  /** Rule identity recorded with the decision: the row, plus the accounting sub-rule for KJ rows. */
  ruleId: string;
  scheduleVersion: string;
  /** The concrete period that applies (KJ already resolved). */
  retention: PeriodCode;
  /** What the schedule row itself says (KJ stays KJ here). */
  scheduleRetention: RetentionCode;
  accountingRuleId: string | null;
  /** First day the record may be appraised; null for 永久. */
  dueOn: IsoDate | null;
  /**
   * True only when the due date has come and nothing blocks appraisal. Even then the record is only
   * offered to the 鉴定小组: 3号令 第九条 periods are minimum periods, never an order to destroy.
   */
  eligibleForAppraisal: boolean;
  provisional: boolean;
  blockers: AppraisalBlocker[];
  citation: string;
  /** Plain-language remarks for the reviewer (e.g. how a KJ row was resolved). */
  notes: string[];
}

export class RuleLookupError extends Error {
  readonly code: 'unknown_item' | 'unknown_accounting_rule' | 'invalid_date';
  constructor(code: RuleLookupError['code'], message: string) {
    super(message);
    this.name = 'RuleLookupError';
    this.code = code;
  }
}

export function findItem(schedule: Schedule, itemId: string): ScheduleItem {
  const item = schedule.itemsById.get(itemId);
  if (!item) throw new RuleLookupError('unknown_item', `schedule ${schedule.versionId} has no item ${JSON.stringify(itemId)}`);
  return item;
}

/** The accounting sub-rules a KJ row allows, in file order. */
export function accountingRulesOf(schedule: Schedule, item: ScheduleItem): AccountingRule[] {
  return (item.accounting ?? []).map((id) => {
    const rule = schedule.accountingById.get(id);
    // The loader already refused dangling references; this guards hand-built schedules.
    if (!rule) throw new RuleLookupError('unknown_accounting_rule', `item ${item.id} refers to unknown accounting rule ${id}`);
    return rule;
  });
}

interface Resolved {
  retention: PeriodCode;
  accounting: AccountingRule | null;
  /** Some rule the period rests on is not confirmed (the row, its sub-rule, or a possible sub-rule). */
  unconfirmed: boolean;
  notes: string[];
}

export interface AccountingKind {
  /** The sub-rule to record: the only candidate, or the longest-kept one when unsure. */
  accountingRuleId: string;
  /** False when the cues named several kinds or none: a person must confirm (the longest applies meanwhile). */
  certain: boolean;
  candidates: string[];
}

/**
 * Which 会计档案管理办法 sub-rule a KJ record falls under, from the kinds its cues point to.
 * Guessing never shortens a period: one candidate is taken as is; several (a voucher that mentions
 * 季度) or none leave the choice uncertain and take the longest-kept candidate (of all the row
 * allows when there is none), 3号令 第九条 periods being minimum periods. Ties keep file order.
 */
export function resolveAccountingKind(schedule: Schedule, itemId: string, cues: readonly string[]): AccountingKind {
  const allowed = accountingRulesOf(schedule, findItem(schedule, itemId));
  if (allowed.length === 0) throw new RuleLookupError('unknown_accounting_rule', `item ${itemId} is not an accounting (KJ) row`);
  const matched = allowed.filter((r) => cues.includes(r.id));
  const pool = matched.length > 0 ? matched : allowed;
  let longest = pool[0]!;
  for (const r of pool) if (longerPeriod(longest.retention as PeriodCode, r.retention as PeriodCode) !== longest.retention) longest = r;
  return { accountingRuleId: longest.id, certain: matched.length === 1 || allowed.length === 1, candidates: pool.map((r) => r.id) };
}

function resolvePeriod(schedule: Schedule, item: ScheduleItem, accountingRuleId: string | undefined): Resolved {
  if (item.retention !== 'KJ') {
    if (accountingRuleId !== undefined) {
      throw new RuleLookupError('unknown_accounting_rule', `item ${item.id} is not an accounting (KJ) row; accountingRuleId ${JSON.stringify(accountingRuleId)} does not apply`);
    }
    return { retention: item.retention, accounting: null, unconfirmed: !isConfirmed(item), notes: [] };
  }
  const allowed = accountingRulesOf(schedule, item);
  if (accountingRuleId !== undefined) {
    const rule = allowed.find((r) => r.id === accountingRuleId);
    if (!rule) {
      throw new RuleLookupError('unknown_accounting_rule', `item ${item.id} allows accounting rules ${allowed.map((r) => r.id).join(', ')}, not ${JSON.stringify(accountingRuleId)}`);
    }
    return { retention: rule.retention as PeriodCode, accounting: rule, unconfirmed: !isConfirmed(item) || !isConfirmed(rule), notes: [] };
  }
  const only = allowed.length === 1 ? allowed[0] : undefined;
  if (only) return { retention: only.retention as PeriodCode, accounting: only, unconfirmed: !isConfirmed(item) || !isConfirmed(only), notes: [] };
  // Not told which kind of accounting record this is: keep it as long as the longest kind allows.
  const longest = allowed.reduce<PeriodCode>((acc, r) => longerPeriod(acc, r.retention as PeriodCode), 'D10');
  return {
    retention: longest,
    accounting: null,
    unconfirmed: !isConfirmed(item) || allowed.some((r) => !isConfirmed(r)),
    notes: [`accounting kind not given; the longest period among ${allowed.map((r) => r.id).join(', ')} applies`],
  };
}

export function citationOf(schedule: Schedule, item: ScheduleItem, accounting: AccountingRule | null): string {
  const category = schedule.categoriesById.get(item.category);
  const where = `${category?.no ?? item.category}、${category?.name ?? ''}${item.no ?? '（序号未核实）'}`;
  const row = `${schedule.instrument}${where}${item.name}`;
  return accounting ? `${row}；${accounting.citation}：${accounting.name}` : row;
}

/**
 * Applies a schedule to one record. Pure apart from the default `asOf` (today, UTC); pass `asOf`
 * wherever the answer must be reproducible.
 */
export function evaluate(schedule: Schedule, facts: RetentionFacts, asOf?: IsoDate): RetentionDecision {
  const item = findItem(schedule, facts.itemId);
  try {
    if (facts.formedOn !== null) assertIsoDate(facts.formedOn, 'formedOn');
    if (asOf !== undefined) assertIsoDate(asOf, 'asOf');
  } catch (err) {
    throw new RuleLookupError('invalid_date', (err as Error).message);
  }
  const today = asOf ?? isoDateOf(new Date());
  const { retention, accounting, unconfirmed, notes } = resolvePeriod(schedule, item, facts.accountingRuleId);
  const dueOn = facts.formedOn === null ? null : appraisalDueOn(facts.formedOn, retention);

  const blockers: AppraisalBlocker[] = [];
  // A provisional row carries a guessed (if cautious) period: until a compliance officer confirms it,
  // nothing filed under it may move towards destruction. A rule that is not confirmed ([P], [M-*],
  // [?]) counts as provisional whatever its flag says (digest §1.4), in every schedule version.
  const provisional = item.provisional || unconfirmed;
  if (provisional) blockers.push('provisional_rule');
  if (facts.legalHold) blockers.push('legal_hold');
  if (facts.formedOn === null) {
    blockers.push('no_formation_date');
    if (retention !== 'Y') notes.push('formation date unknown: no due date until a person records it (never the scan date)');
  }

  if (facts.formedOn !== null && facts.formedOn < schedule.effectiveFrom) {
    notes.push(`formed before the schedule took effect (${schedule.effectiveFrom}); the schedule still governs its retention`);
  }

  return {
    itemId: item.id,
    ruleId: accounting ? `${item.id}/${accounting.id}` : item.id,
    scheduleVersion: schedule.versionId,
    retention,
    scheduleRetention: item.retention,
    accountingRuleId: accounting?.id ?? null,
    dueOn,
    eligibleForAppraisal: dueOn !== null && isOnOrAfter(today, dueOn) && blockers.length === 0,
    provisional,
    blockers,
    citation: citationOf(schedule, item, accounting),
    notes,
  };
}
