import { appraisalDueOn, assertIsoDate, isOnOrAfter, isoDateOf, longerPeriod, type IsoDate } from './clock';
import type { AccountingRule, PeriodCode, RetentionCode, Schedule, ScheduleItem } from './schema';

export interface RetentionFacts {
  /** The appendix row the record was classified under. */
  itemId: string;
  /** Date the record was formed (形成日期), YYYY-MM-DD. */
  formedOn: IsoDate;
  /** KJ rows only: which 会计档案管理办法 sub-rule the record falls under (voucher, ledger, report-annual…). */
  accountingRuleId?: string;
  /** Disputed, in litigation or with open debts (未结清的债权债务、未了事项). */
  legalHold?: boolean;
}

/** Why a record whose date has come is still not offered for appraisal. */
export type AppraisalBlocker = 'provisional_rule' | 'legal_hold';

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
  notes: string[];
}

function resolvePeriod(schedule: Schedule, item: ScheduleItem, accountingRuleId: string | undefined): Resolved {
  if (item.retention !== 'KJ') {
    if (accountingRuleId !== undefined) {
      throw new RuleLookupError('unknown_accounting_rule', `item ${item.id} is not an accounting (KJ) row; accountingRuleId ${JSON.stringify(accountingRuleId)} does not apply`);
    }
    return { retention: item.retention, accounting: null, notes: [] };
  }
  const allowed = accountingRulesOf(schedule, item);
  if (accountingRuleId !== undefined) {
    const rule = allowed.find((r) => r.id === accountingRuleId);
    if (!rule) {
      throw new RuleLookupError('unknown_accounting_rule', `item ${item.id} allows accounting rules ${allowed.map((r) => r.id).join(', ')}, not ${JSON.stringify(accountingRuleId)}`);
    }
    return { retention: rule.retention as PeriodCode, accounting: rule, notes: [] };
  }
  const only = allowed.length === 1 ? allowed[0] : undefined;
  if (only) return { retention: only.retention as PeriodCode, accounting: only, notes: [] };
  // Not told which kind of accounting record this is: keep it as long as the longest kind allows.
  const longest = allowed.reduce<PeriodCode>((acc, r) => longerPeriod(acc, r.retention as PeriodCode), 'D10');
  return {
    retention: longest,
    accounting: null,
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
    assertIsoDate(facts.formedOn, 'formedOn');
    if (asOf !== undefined) assertIsoDate(asOf, 'asOf');
  } catch (err) {
    throw new RuleLookupError('invalid_date', (err as Error).message);
  }
  const today = asOf ?? isoDateOf(new Date());
  const { retention, accounting, notes } = resolvePeriod(schedule, item, facts.accountingRuleId);
  const dueOn = appraisalDueOn(facts.formedOn, retention);

  const blockers: AppraisalBlocker[] = [];
  // A provisional row carries a guessed (if cautious) period: until a compliance officer confirms it,
  // nothing filed under it may move towards destruction.
  if (item.provisional) blockers.push('provisional_rule');
  if (facts.legalHold) blockers.push('legal_hold');

  if (facts.formedOn < schedule.effectiveFrom) {
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
    provisional: item.provisional,
    blockers,
    citation: citationOf(schedule, item, accounting),
    notes,
  };
}
