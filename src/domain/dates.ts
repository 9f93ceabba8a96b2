/**
 * Dates as written on social-insurance documents → ISO 8601. Dates decide retention (3号令 第九条
 * counts from the year of formation), so a date that cannot exist is refused, never rolled over, and
 * a month-only date says so instead of pretending to a day.
 */
import { toHalfWidth } from './ocr-repair';

export type DatePrecision = 'day' | 'month';
export type DateForm = 'cjk' | 'cjk-numeral' | 'dotted' | 'dashed' | 'slashed' | 'compact';

export interface ParsedDate {
  /** YYYY-MM-DD, or YYYY-MM when only the month is known. */
  value: string;
  precision: DatePrecision;
  year: number;
  month: number;
  day: number | null;
  form: DateForm;
}

export interface DateMatch extends ParsedDate {
  raw: string;
  start: number;
  end: number;
}

export type DateParseResult = ({ ok: true } & ParsedDate) | { ok: false; reason: 'unrecognised' | 'impossible_date' | 'out_of_range' };

export interface DateOptions {
  /**
   * Accept 8 bare digits (20160412). Only where the context says it is a date — a date column of a
   * table, the 日期 field of 归档文件目录 (DA/T 22) — since 8 digits in prose are as often a number.
   */
  compact?: boolean;
  minYear?: number;
  maxYear?: number;
}

const CJK_DIGIT: Readonly<Record<string, number>> = {
  〇: 0, '○': 0, 零: 0, O: 0, '0': 0, 一: 1, 二: 2, 三: 3, 四: 4, 五: 5, 六: 6, 七: 7, 八: 8, 九: 9,
};
const D = '一二三四五六七八九';
const YEAR_CHARS = '〇○零O0一二三四五六七八九';
const CJK_MONTH = `(十[一二]?|[${D}]|元)`;
const CJK_DAY = `(三十一?|二十[${D}]?|十[${D}]?|[${D}])`;
const S = '[ \\t\\u3000]*'; // OCR puts spaces between characters

const PATTERNS: { form: DateForm | 'separated'; re: RegExp; compactOnly?: boolean }[] = [
  { form: 'cjk', re: new RegExp(`(?<!\\d)(\\d{4})${S}年${S}(\\d{1,2})${S}月(?:${S}(\\d{1,2})${S}[日号])?`, 'gu') },
  { form: 'cjk-numeral', re: new RegExp(`([${YEAR_CHARS}]{4})${S}年${S}${CJK_MONTH}${S}月(?:${S}${CJK_DAY}${S}[日号])?`, 'gu') },
  // One separator throughout (2016.04.12, 2016-4-12, 2016/04/12), not part of a longer dotted number.
  { form: 'separated', re: /(?<![\d.\-/])(\d{4})([.\-/])(\d{1,2})\2(\d{1,2})(?!\d|[.\-/]\d)/gu },
  { form: 'compact', re: /(?<!\d)(\d{4})(\d{2})(\d{2})(?!\d)/gu, compactOnly: true },
];

function cjkNumber(s: string): number {
  // 十 = 10, 十二 = 12, 二十 = 20, 二十三 = 23, 三十一 = 31.
  if (s === '元') return 1;
  const i = s.indexOf('十');
  if (i < 0) return CJK_DIGIT[s] ?? NaN;
  const tens = i === 0 ? 1 : (CJK_DIGIT[s.slice(0, i)] ?? NaN);
  const ones = i === s.length - 1 ? 0 : (CJK_DIGIT[s.slice(i + 1)] ?? NaN);
  return tens * 10 + ones;
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function build(year: number, month: number, day: number | null, form: DateForm, opts: DateOptions): DateParseResult {
  if (year < (opts.minYear ?? 1900) || year > (opts.maxYear ?? 2100)) return { ok: false, reason: 'out_of_range' };
  if (month < 1 || month > 12) return { ok: false, reason: 'impossible_date' };
  if (day !== null && (day < 1 || day > daysIn(year, month))) return { ok: false, reason: 'impossible_date' };
  const ym = `${year}-${String(month).padStart(2, '0')}`;
  return {
    ok: true,
    value: day === null ? ym : `${ym}-${String(day).padStart(2, '0')}`,
    precision: day === null ? 'month' : 'day',
    year,
    month,
    day,
    form,
  };
}

function fromMatch(form: DateForm | 'separated', m: RegExpExecArray, opts: DateOptions): DateParseResult {
  const g = (i: number) => m[i];
  switch (form) {
    case 'cjk':
      return build(Number(g(1)), Number(g(2)), g(3) === undefined ? null : Number(g(3)), 'cjk', opts);
    case 'cjk-numeral': {
      const year = Number([...(g(1) ?? '')].map((c) => CJK_DIGIT[c]).join(''));
      return build(year, cjkNumber(g(2) ?? ''), g(3) === undefined ? null : cjkNumber(g(3) ?? ''), 'cjk-numeral', opts);
    }
    case 'separated': {
      const sep = g(2);
      const f: DateForm = sep === '.' ? 'dotted' : sep === '-' ? 'dashed' : 'slashed';
      return build(Number(g(1)), Number(g(3)), Number(g(4)), f, opts);
    }
    default:
      return build(Number(g(1)), Number(g(2)), Number(g(3)), 'compact', opts);
  }
}

/** Same length as the input, so offsets found in it are offsets in the original. */
function normalise(text: string): string {
  let out = '';
  for (const ch of text) out += ch.length === 1 ? toHalfWidth(ch) : ch;
  return out;
}

/** Parses a string that is one date and nothing else. */
export function parseDate(input: string, opts: DateOptions = {}): DateParseResult {
  const text = normalise(input.trim());
  for (const p of PATTERNS) {
    if (p.compactOnly && !opts.compact) continue;
    p.re.lastIndex = 0;
    const m = p.re.exec(text);
    if (m && m.index === 0 && m[0].length === text.length) return fromMatch(p.form, m, opts);
  }
  return { ok: false, reason: 'unrecognised' };
}

/** Every date in a text, in order, with offsets into the original. Impossible dates are left out. */
export function extractDates(text: string, opts: DateOptions = {}): DateMatch[] {
  const norm = normalise(text);
  const found: DateMatch[] = [];
  for (const p of PATTERNS) {
    if (p.compactOnly && !opts.compact) continue;
    p.re.lastIndex = 0;
    for (let m = p.re.exec(norm); m; m = p.re.exec(norm)) {
      const r = fromMatch(p.form, m, opts);
      if (!r.ok) continue;
      const { ok: _ok, ...parsed } = r;
      found.push({ ...parsed, raw: text.slice(m.index, m.index + m[0].length), start: m.index, end: m.index + m[0].length });
    }
  }
  found.sort((a, b) => a.start - b.start || b.end - a.end);
  const out: DateMatch[] = [];
  for (const f of found) {
    const prev = out[out.length - 1];
    if (prev && f.start < prev.end) continue;
    out.push(f);
  }
  return out;
}

/** YYYYMMDD, as the 日期 column of 归档文件目录 is written (DA/T 22-2015). */
export function toCompactDate(iso: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(iso)) throw new RangeError(`${JSON.stringify(iso)} is not YYYY-MM-DD`);
  return iso.replace(/-/g, '');
}
