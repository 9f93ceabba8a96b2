import { z } from 'zod';

// 3号令 第九条: 永久 and 定期 (100/50/30/10年). KJ marks rows the appendix hands over to
// 《会计档案管理办法》; it is resolved to one accounting sub-rule before any date is computed.
export const RETENTION_CODES = ['Y', 'D100', 'D50', 'D30', 'D10', 'KJ'] as const;
export type RetentionCode = (typeof RETENTION_CODES)[number];
/** A code that names a concrete period (what a 档号 and a due date are built from). */
export type PeriodCode = Exclude<RetentionCode, 'KJ'>;
export const PERIOD_CODES = ['Y', 'D100', 'D50', 'D30', 'D10'] as const satisfies readonly PeriodCode[];

// The digest's tags: found in a source, found only in English, inferred from a confirmed pattern,
// from memory at three levels, or unknown.
export const CONFIDENCE_TAGS = ['S', 'S-en', 'P', 'M-high', 'M-med', 'M-low', '?'] as const;
export type ConfidenceTag = (typeof CONFIDENCE_TAGS)[number];

const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date written YYYY-MM-DD')
  .refine((s) => isRealDate(s), 'is not a real calendar date');

const nonEmpty = z.string().trim().min(1, 'must not be empty');

const retentionCode = z.enum(RETENTION_CODES, {
  error: (iss) => `retention ${JSON.stringify(iss.input)} is not one of ${RETENTION_CODES.join(', ')}`,
});

const confidence = z.enum(CONFIDENCE_TAGS, {
  error: (iss) => `confidence ${JSON.stringify(iss.input)} is not one of ${CONFIDENCE_TAGS.join(', ')}`,
});

export const categorySchema = z.strictObject({
  id: nonEmpty,
  no: nonEmpty,
  name: nonEmpty,
});

export const accountingRuleSchema = z.strictObject({
  id: nonEmpty,
  name: nonEmpty,
  retention: retentionCode,
  citation: nonEmpty,
  source: nonEmpty,
  confidence,
  /** Not confirmed from the official text: records under it can be filed, never destroyed. */
  provisional: z.boolean().default(false),
  provisionalReason: nonEmpty.optional(),
});

export const scheduleItemSchema = z.strictObject({
  id: z.string().regex(/^[0-9A-Za-z][0-9A-Za-z.-]*$/, 'item id must be letters, digits, "." or "-"'),
  category: nonEmpty,
  /** The appendix's own number, e.g. （三）; null where the digest did not see it. */
  no: nonEmpty.nullable(),
  name: nonEmpty,
  typicalDocuments: z.array(nonEmpty).default([]),
  retention: retentionCode,
  /** KJ rows only: the 会计档案管理办法 sub-rules that can apply to this row's documents. */
  accounting: z.array(nonEmpty).optional(),
  source: nonEmpty,
  confidence,
  confidenceNote: nonEmpty.optional(),
  provisional: z.boolean().default(false),
  provisionalReason: nonEmpty.optional(),
});

export const scheduleSchema = z.strictObject({
  $comment: z.string().optional(),
  id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'schedule id must be lower-case letters, digits and "-"'),
  version: z.string().regex(/^v\d+$/, 'version must look like v1, v2…'),
  title: nonEmpty,
  instrument: nonEmpty,
  shortCitation: nonEmpty,
  effectiveFrom: isoDate,
  /**
   * The day this version starts to govern new filings in the system (default: effectiveFrom).
   * Among the bundled versions the one with the latest inForceFrom on or before today is in force,
   * unless configuration pins another; a version never rewrites past decisions by itself.
   */
  inForceFrom: isoDate.optional(),
  categories: z.array(categorySchema).min(1, 'a schedule needs at least one category'),
  accountingRules: z.array(accountingRuleSchema).default([]),
  items: z.array(scheduleItemSchema).min(1, 'a schedule needs at least one item'),
});

export type Category = z.infer<typeof categorySchema>;
export type AccountingRule = z.infer<typeof accountingRuleSchema>;
export type ScheduleItem = z.infer<typeof scheduleItemSchema>;
export type ScheduleFile = z.infer<typeof scheduleSchema>;

/** A validated schedule: the file plus lookup maps built once by the loader. */
export interface Schedule extends ScheduleFile {
  /** `${id}.${version}`, e.g. 3hao-ling-2009.v1; recorded with every decision. */
  readonly versionId: string;
  readonly itemsById: ReadonlyMap<string, ScheduleItem>;
  readonly categoriesById: ReadonlyMap<string, Category>;
  readonly accountingById: ReadonlyMap<string, AccountingRule>;
}

// Title patterns: substrings (preferred for Chinese) or regexes, each pointing at one item.
export const titlePatternSchema = z
  .strictObject({
    itemId: nonEmpty,
    contains: nonEmpty.optional(),
    regex: nonEmpty.max(200, 'regex is longer than 200 characters').optional(),
    /** How specific the pattern is, 0 < weight ≤ 1. */
    weight: z.number().gt(0, 'weight must be > 0').lte(1, 'weight must be ≤ 1'),
  })
  .refine((p) => (p.contains === undefined) !== (p.regex === undefined), 'give exactly one of "contains" or "regex"');

export const titlePatternFileSchema = z.strictObject({
  $comment: z.string().optional(),
  version: z.string().regex(/^v\d+$/, 'version must look like v1, v2…'),
  schedule: nonEmpty,
  patterns: z.array(titlePatternSchema).min(1),
});

export type TitlePattern = z.infer<typeof titlePatternSchema>;
export type TitlePatternFile = z.infer<typeof titlePatternFileSchema>;

/**
 * Tags that count as confirmed: seen in a published source (or its English translation). Every
 * other tag — inferred [P], remembered [M-*], unknown [?] — makes a row or an accounting sub-rule
 * provisional whatever its flag says (digest §1.4: longer retention is lawful, early destruction
 * is not), so no guess can ever make a record eligible for destruction.
 */
export const CONFIRMED_TAGS: readonly ConfidenceTag[] = ['S', 'S-en'];

export function isConfirmed(row: { confidence: ConfidenceTag; provisional?: boolean }): boolean {
  return !row.provisional && CONFIRMED_TAGS.includes(row.confidence);
}

export function isRealDate(iso: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (mo < 1 || mo > 12 || d < 1) return false;
  return d <= new Date(Date.UTC(y, mo, 0)).getUTCDate();
}
