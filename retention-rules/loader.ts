import type { z } from 'zod';
import {
  scheduleSchema,
  titlePatternFileSchema,
  type AccountingRule,
  type Category,
  type Schedule,
  type ScheduleFile,
  type ScheduleItem,
  type TitlePatternFile,
} from './schema';

export interface RuleIssue {
  /** Where in the file, e.g. `items[3] (id "1-04").retention`. */
  path: string;
  message: string;
}

/**
 * A rule file that must not be used. One bad row fails the whole load: a schedule is a legal
 * instrument, and a half-loaded one would silently file documents under the wrong period.
 */
export class RuleFileError extends Error {
  readonly issues: readonly RuleIssue[];
  constructor(what: string, issues: RuleIssue[]) {
    super(`${what} is not valid:\n${issues.map((i) => `  - ${i.path}: ${i.message}`).join('\n')}`);
    this.name = 'RuleFileError';
    this.issues = issues;
  }
}

function describePath(path: readonly PropertyKey[], data: unknown): string {
  let out = '';
  let node: unknown = data;
  for (const key of path) {
    if (typeof key === 'number') {
      out += `[${key}]`;
      node = Array.isArray(node) ? node[key] : undefined;
      // Name the row by its id too: indexes shift when rows are added, ids do not.
      const id = node !== null && typeof node === 'object' ? (node as { id?: unknown }).id : undefined;
      if (typeof id === 'string') out += ` (id ${JSON.stringify(id)})`;
    } else {
      out += out === '' ? String(key) : `.${String(key)}`;
      node = node !== null && typeof node === 'object' ? (node as Record<PropertyKey, unknown>)[key] : undefined;
    }
  }
  return out === '' ? '(root)' : out;
}

function zodIssues(error: z.ZodError, data: unknown): RuleIssue[] {
  return error.issues.map((iss) => ({ path: describePath(iss.path, data), message: iss.message }));
}

function rowPath(index: number, id: string, field?: string): string {
  return `items[${index}] (id ${JSON.stringify(id)})${field ? `.${field}` : ''}`;
}

/** Checks that need the whole file: references, duplicates and contradictions between fields. */
function crossCheck(file: ScheduleFile): RuleIssue[] {
  const issues: RuleIssue[] = [];
  const categories = new Map<string, Category>();
  file.categories.forEach((c, i) => {
    if (categories.has(c.id)) issues.push({ path: `categories[${i}] (id ${JSON.stringify(c.id)}).id`, message: `duplicate category id ${JSON.stringify(c.id)}` });
    categories.set(c.id, c);
  });
  const accounting = new Map<string, AccountingRule>();
  file.accountingRules.forEach((r, i) => {
    const p = `accountingRules[${i}] (id ${JSON.stringify(r.id)})`;
    if (accounting.has(r.id)) issues.push({ path: `${p}.id`, message: `duplicate accounting rule id ${JSON.stringify(r.id)}` });
    if (r.retention === 'KJ') issues.push({ path: `${p}.retention`, message: 'an accounting sub-rule must name a concrete period, not KJ' });
    if (r.provisional && !r.provisionalReason) issues.push({ path: `${p}.provisionalReason`, message: 'a provisional sub-rule must say why it is provisional' });
    if (!r.provisional && r.provisionalReason) issues.push({ path: `${p}.provisional`, message: 'provisionalReason is set but the sub-rule is not marked provisional' });
    accounting.set(r.id, r);
  });

  const ids = new Map<string, number>();
  const numbers = new Map<string, number>();
  file.items.forEach((item, i) => {
    const at = (field?: string) => rowPath(i, item.id, field);
    const first = ids.get(item.id);
    if (first !== undefined) issues.push({ path: at('id'), message: `duplicate item id ${JSON.stringify(item.id)} (first used by items[${first}])` });
    else ids.set(item.id, i);

    if (!categories.has(item.category)) {
      issues.push({ path: at('category'), message: `unknown category ${JSON.stringify(item.category)}; known: ${[...categories.keys()].join(', ')}` });
    }
    if (item.no !== null) {
      const key = `${item.category}/${item.no}`;
      const firstNo = numbers.get(key);
      if (firstNo !== undefined) issues.push({ path: at('no'), message: `number ${item.no} is used twice in category ${item.category} (first by items[${firstNo}])` });
      else numbers.set(key, i);
    }

    if (item.retention === 'KJ') {
      if (!item.accounting || item.accounting.length === 0) {
        issues.push({ path: at('accounting'), message: 'retention KJ needs at least one accounting sub-rule (会计档案管理办法) in "accounting"' });
      } else {
        item.accounting.forEach((ref, j) => {
          if (!accounting.has(ref)) issues.push({ path: at(`accounting[${j}]`), message: `unknown accounting sub-rule ${JSON.stringify(ref)}` });
        });
      }
    } else if (item.accounting !== undefined) {
      issues.push({ path: at('accounting'), message: `accounting sub-rules are only allowed with retention KJ, not ${item.retention}` });
    }

    if (item.provisional && !item.provisionalReason) {
      issues.push({ path: at('provisionalReason'), message: 'a provisional row must say why it is provisional' });
    }
    if (!item.provisional && item.provisionalReason) {
      issues.push({ path: at('provisional'), message: 'provisionalReason is set but the row is not marked provisional' });
    }
    // An unknown or remembered row that is not provisional would let a guess authorise destruction.
    if (!item.provisional && (item.confidence === '?' || item.confidence === 'M-low' || item.confidence === 'M-med')) {
      issues.push({ path: at('provisional'), message: `confidence ${item.confidence} requires provisional: true until the row is confirmed` });
    }
  });
  return issues;
}

function freeze(file: ScheduleFile): Schedule {
  return Object.freeze({
    ...file,
    versionId: `${file.id}.${file.version}`,
    itemsById: new Map<string, ScheduleItem>(file.items.map((i) => [i.id, i])),
    categoriesById: new Map<string, Category>(file.categories.map((c) => [c.id, c])),
    accountingById: new Map<string, AccountingRule>(file.accountingRules.map((r) => [r.id, r])),
  });
}

/** Validates parsed JSON (or YAML) as a retention schedule. Throws RuleFileError listing every problem. */
export function loadSchedule(data: unknown, what = 'retention schedule'): Schedule {
  const parsed = scheduleSchema.safeParse(data);
  if (!parsed.success) throw new RuleFileError(what, zodIssues(parsed.error, data));
  const issues = crossCheck(parsed.data);
  if (issues.length > 0) throw new RuleFileError(what, issues);
  return freeze(parsed.data);
}

const FORBIDDEN_REGEX = [
  // Chinese has no spaces, so \b never matches inside 社保档案 (design/examples.md §7.3).
  { re: /\\[bB]/, why: 'uses \\b word boundaries, which never match inside Chinese text; use a substring' },
  // Nested quantifiers are the usual catastrophic-backtracking shape; titles are matched on the hot path.
  { re: /\([^)]*[+*][^)]*\)[+*{]/, why: 'has a nested quantifier (catastrophic backtracking risk)' },
];

/** Validates a title-pattern file against the schedule it points at. */
export function loadTitlePatterns(data: unknown, schedule: Schedule, what = 'title patterns'): TitlePatternFile {
  const parsed = titlePatternFileSchema.safeParse(data);
  if (!parsed.success) throw new RuleFileError(what, zodIssues(parsed.error, data));
  const file = parsed.data;
  const issues: RuleIssue[] = [];
  if (file.schedule !== schedule.versionId) {
    issues.push({ path: 'schedule', message: `patterns are for ${JSON.stringify(file.schedule)}, not ${JSON.stringify(schedule.versionId)}` });
  }
  const seen = new Set<string>();
  file.patterns.forEach((p, i) => {
    const at = `patterns[${i}] (item ${JSON.stringify(p.itemId)})`;
    if (!schedule.itemsById.has(p.itemId)) issues.push({ path: `${at}.itemId`, message: `unknown item id ${JSON.stringify(p.itemId)}` });
    const key = `${p.itemId}\u0000${p.contains ?? ''}\u0000${p.regex ?? ''}`;
    if (seen.has(key)) issues.push({ path: at, message: 'duplicate pattern' });
    seen.add(key);
    if (p.regex !== undefined) {
      for (const f of FORBIDDEN_REGEX) if (f.re.test(p.regex)) issues.push({ path: `${at}.regex`, message: `regex ${f.why}` });
      try {
        new RegExp(p.regex, 'u');
      } catch (err) {
        issues.push({ path: `${at}.regex`, message: `regex does not compile: ${(err as Error).message}` });
      }
    }
  });
  if (issues.length > 0) throw new RuleFileError(what, issues);
  return file;
}
