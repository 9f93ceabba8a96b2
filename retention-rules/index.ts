/**
 * The one door of retention-rules/: the retention schedule of 3号令's appendix as reviewed data,
 * its loader, the appraisal-due clock, schedule diffs and title classification. Pure: no I/O beyond
 * the bundled rule files, which arrive as module imports.
 */
import titlePatternsV1 from './rules/title-patterns.v1.json';
import { loadTitlePatterns } from './loader';
import { isoDateOf } from './clock';
import { scheduleInForce, scheduleVersion } from './versions';
import { compileTitlePatterns, type FuzzyCandidate, type TitleCandidate, type TitleMatcher } from './titles';
import type { Schedule } from './schema';

export { RETENTION_CODES, PERIOD_CODES, CONFIDENCE_TAGS, CONFIRMED_TAGS, isConfirmed, isRealDate } from './schema';
export type { RetentionCode, PeriodCode, ConfidenceTag, Schedule, ScheduleItem, Category, AccountingRule, TitlePattern, TitlePatternFile } from './schema';
export { loadSchedule, loadTitlePatterns, RuleFileError, type RuleIssue } from './loader';
export { appraisalDueOn, periodStartsOn, periodYears, isoDateOf, longerPeriod, type IsoDate } from './clock';
export { evaluate, findItem, citationOf, resolveAccountingKind, RuleLookupError, type RetentionFacts, type RetentionDecision, type AppraisalBlocker, type AccountingKind } from './evaluate';
export { scheduleVersions, scheduleVersion, scheduleInForce, inForceFrom, ScheduleVersionError } from './versions';
export { diffSchedules, type ScheduleChange, type ChangeKind, type RowSummary } from './diff';
export { compileTitlePatterns, normaliseTitle, substringDistance, type FuzzyCandidate, type TitleCandidate, type TitleMatcher } from './titles';

let matcher: TitleMatcher | undefined;

/**
 * The bundled schedule in force today by date (no pinned version). The app asks
 * `scheduleInForce({ version: config, asOf })` instead, so configuration can pin a version.
 */
export function currentSchedule(): Schedule {
  return scheduleInForce({ asOf: isoDateOf(new Date()) });
}

/**
 * The bundled title patterns, checked against the schedule version they were written for. They
 * point at row ids; a row missing from the version in force sends the item to review.
 */
export function currentTitleMatcher(): TitleMatcher {
  matcher ??= compileTitlePatterns(loadTitlePatterns(titlePatternsV1, scheduleVersion(titlePatternsV1.schedule), 'rules/title-patterns.v1.json'));
  return matcher;
}

/** Ranked appendix rows whose title patterns occur in `text` (best first). */
export function matchTitle(text: string, opts?: { limit?: number; minScore?: number }): TitleCandidate[] {
  return currentTitleMatcher().match(text, opts);
}

/** Ranked appendix rows whose title patterns occur in OCR text with a misread character or two. */
export function fuzzyMatchTitle(text: string, opts?: { limit?: number }): FuzzyCandidate[] {
  return currentTitleMatcher().fuzzy(text, opts);
}
