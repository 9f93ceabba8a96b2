import { isRealDate, type PeriodCode } from './schema';

/** Calendar dates only (YYYY-MM-DD): a retention date has no time of day and no time zone. */
export type IsoDate = string;

const PERIOD_YEARS: Record<PeriodCode, number | null> = { Y: null, D100: 100, D50: 50, D30: 30, D10: 10 };

/** Years in a period code; null for 永久. */
export function periodYears(code: PeriodCode): number | null {
  return PERIOD_YEARS[code];
}

export function assertIsoDate(value: string, name = 'date'): IsoDate {
  if (!isRealDate(value)) throw new RangeError(`${name} ${JSON.stringify(value)} is not a real calendar date written YYYY-MM-DD`);
  return value;
}

/**
 * The calendar date of an instant in UTC. Callers that mean "today at the agency" should pass the
 * local date string instead; this helper exists so a Date never reaches the arithmetic below.
 */
export function isoDateOf(instant: Date): IsoDate {
  return instant.toISOString().slice(0, 10);
}

/**
 * The day a record becomes due for appraisal.
 *
 * 3号令 第九条: the period runs 自形成之日的次年1月1日起算, so a record formed in year F with an N-year
 * period is due on 1 January of F + 1 + N (formed 2010-05-03, 10年 → 2021-01-01). Only the year of
 * formation matters, so a record formed on 29 February needs no special case.
 * 会计档案管理办法 counts from the day after the accounting year ends — with a calendar accounting
 * year that is the same 1 January, so KJ sub-rules use the same formula.
 * 永久 (Y) is never due: returns null.
 */
export function appraisalDueOn(formedOn: IsoDate, period: PeriodCode): IsoDate | null {
  assertIsoDate(formedOn, 'formedOn');
  const years = periodYears(period);
  if (years === null) return null;
  const formationYear = Number(formedOn.slice(0, 4));
  return `${String(formationYear + 1 + years).padStart(4, '0')}-01-01`;
}

/** The first day the period runs (次年1月1日). */
export function periodStartsOn(formedOn: IsoDate): IsoDate {
  assertIsoDate(formedOn, 'formedOn');
  return `${String(Number(formedOn.slice(0, 4)) + 1).padStart(4, '0')}-01-01`;
}

/** ISO calendar dates compare correctly as strings; this names the intent. */
export function isOnOrAfter(a: IsoDate, b: IsoDate): boolean {
  return a >= b;
}

const RANK: Record<PeriodCode, number> = { D10: 10, D30: 30, D50: 50, D100: 100, Y: Number.POSITIVE_INFINITY };

/** The longer of two periods (the safe choice when a rule is not known precisely). */
export function longerPeriod(a: PeriodCode, b: PeriodCode): PeriodCode {
  return RANK[a] >= RANK[b] ? a : b;
}
