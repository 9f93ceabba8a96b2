/**
 * The one door of retention-rules/: the retention schedule of 3号令's appendix as reviewed data,
 * its loader, the appraisal-due clock, schedule diffs and title classification. Pure: no I/O beyond
 * the bundled rule files, which arrive as module imports.
 */
import scheduleV1 from './rules/3hao-ling-2009.v1.json';
import titlePatternsV1 from './rules/title-patterns.v1.json';
import { loadSchedule, loadTitlePatterns } from './loader';
import { compileTitlePatterns, type FuzzyCandidate, type TitleCandidate, type TitleMatcher } from './titles';
import type { Schedule } from './schema';

export { RETENTION_CODES, PERIOD_CODES, CONFIDENCE_TAGS, isRealDate } from './schema';
export type { RetentionCode, PeriodCode, ConfidenceTag, Schedule, ScheduleItem, Category, AccountingRule, TitlePattern, TitlePatternFile } from './schema';
export { loadSchedule, loadTitlePatterns, RuleFileError, type RuleIssue } from './loader';
export { appraisalDueOn, periodStartsOn, periodYears, isoDateOf, longerPeriod, type IsoDate } from './clock';
export { evaluate, findItem, citationOf, RuleLookupError, type RetentionFacts, type RetentionDecision, type AppraisalBlocker } from './evaluate';
export { diffSchedules, type ScheduleChange, type ChangeKind, type RowSummary } from './diff';
export { compileTitlePatterns, normaliseTitle, substringDistance, type FuzzyCandidate, type TitleCandidate, type TitleMatcher } from './titles';

let current: Schedule | undefined;
let matcher: TitleMatcher | undefined;

/** The bundled schedule in force (validated once, then cached). */
export function currentSchedule(): Schedule {
  current ??= loadSchedule(scheduleV1, 'rules/3hao-ling-2009.v1.json');
  return current;
}

/** The bundled title patterns, checked against the bundled schedule. */
export function currentTitleMatcher(): TitleMatcher {
  matcher ??= compileTitlePatterns(loadTitlePatterns(titlePatternsV1, currentSchedule(), 'rules/title-patterns.v1.json'));
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
