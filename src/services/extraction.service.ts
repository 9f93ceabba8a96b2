/**
 * Proposes an item's description from its OCR text: persons (name + 公民身份号码), units (name +
 * 统一社会信用代码), the document's date, 文号, amounts, 险种 and title. Every field carries where
 * it was found (page, character range, the line's box) and how sure we are.
 */
import { extractCreditCodes } from '../domain/credit-code';
import { extractDates, type DateMatch } from '../domain/dates';
import { extractDocNumbers } from '../domain/doc-number';
import { extractIdNumbers } from '../domain/id-number';
import { extractInsuranceTypes, extractLabelledNames, extractUnits } from '../domain/labels';

export interface OcrLine {
  text: string;
  bbox: { x0: number; y0: number; x1: number; y1: number };
  confidence: number;
  /** Second readings of the line's crop (OcrEngine.rereadLine), stored when the first was unusable. */
  rereads?: Array<{ text: string; confidence: number }>;
}

export interface PageText {
  n: number;
  text: string;
  confidence: number;
  lines: OcrLine[];
}

export interface Evidence {
  page: number;
  start: number;
  end: number;
  bbox: OcrLine['bbox'] | null;
  confidence: number;
  raw?: string;
}

export interface ExtractedMetadata {
  title: string | null;
  persons: Array<{ name: string | null; idNumber: string | null; evidence: Evidence[] }>;
  clerks: Array<{ name: string; label: string; evidence: Evidence }>;
  units: Array<{ name: string | null; creditCode: string | null; evidence: Evidence[] }>;
  documentDate: string | null;
  documentDateEvidence: Evidence | null;
  docNumber: string | null;
  amounts: Array<{ value: number; evidence: Evidence }>;
  insuranceTypes: string[];
}

function lineBox(page: PageText, start: number): { bbox: OcrLine['bbox'] | null; confidence: number } {
  // Page text is the lines joined by newlines: walk to the line holding `start`.
  let at = 0;
  for (const line of page.lines) {
    const idx = page.text.indexOf(line.text, at);
    if (idx < 0) continue;
    if (start >= idx && start <= idx + line.text.length) return { bbox: line.bbox, confidence: line.confidence / 100 };
    at = idx + line.text.length;
  }
  return { bbox: null, confidence: page.confidence / 100 };
}

/** Each line with its character range in the page text (lines joined by newlines). */
function lineSpans(page: PageText): Array<{ line: OcrLine; start: number; end: number }> {
  const out: Array<{ line: OcrLine; start: number; end: number }> = [];
  let at = 0;
  for (const line of page.lines) {
    const idx = page.text.indexOf(line.text, at);
    if (idx < 0) continue;
    out.push({ line, start: idx, end: idx + line.text.length });
    at = idx + line.text.length;
  }
  return out;
}

const DATE_LABEL = /(日期|时间|于|落款)\s*[:：]?\s*$/u;

function evidence(page: PageText, start: number, end: number, fieldConfidence: number, raw?: string): Evidence {
  const { bbox, confidence } = lineBox(page, start);
  return { page: page.n, start, end, bbox, confidence: Math.round(Math.min(fieldConfidence, confidence || fieldConfidence) * 1000) / 1000, ...(raw ? { raw } : {}) };
}

const TITLE_ENDINGS = /(表|书|单|证明|通知|决定|报告|材料|清册|申请|登记|凭证|协议|函|批复|意见)$/u;

function pickTitle(pages: PageText[]): string | null {
  const first = pages.find((p) => p.text.trim());
  if (!first) return null;
  const lines = first.text.split('\n').map((l) => l.replace(/\s+/g, '')).filter((l) => /[\u4e00-\u9fff]{3}/u.test(l));
  return lines.slice(0, 5).find((l) => TITLE_ENDINGS.test(l) && l.length <= 40) ?? lines[0]?.slice(0, 40) ?? null;
}

/**
 * OCR often reads the 日 closing a date as 目 or 曰, or drops a stray glyph just before it
 * (2010年2月8有日). Rewrites those, one character for one so offsets stay valid, only right after
 * "…年…月<day>", where nothing else can be meant.
 */
export function repairDateGlyphs(text: string): string {
  return text
    .replace(/(年\s*[0-9一二三四五六七八九十]{1,3}\s*月\s*[0-9一二三四五六七八九十〇]{1,3})[目曰]/gu, '$1日')
    .replace(/(年\s*[0-9]{1,2}\s*月\s*[0-9]{1,2})[^0-9\s日](?=日)/gu, '$1日');
}

/**
 * Reads the 〇 of a numeral year where OCR gave O, o, 0, D, @, 口 or two glyphs (二O〇一八), one
 * character for one (see repairYearRun). Only for voting (agreedDate): the same page once read
 * "二@一三年一月九目" for 二〇二三年二月九日, so a year repaired this way is a candidate that a
 * second reading must confirm, never a date on its own.
 */
export function repairYearGlyphs(text: string): string {
  return text.replace(YEAR_RUN, (run) => repairYearRun(run) ?? run);
}

// Glyphs tesseract gives for 〇 in the serif (宋体) fonts of printed forms.
const ZERO_GLYPHS = '〇○零O0oD@Q◎口';
const YEAR_NUMERALS = '一二三四五六七八九';
// A numeral year as OCR leaves it: starts with 一 or 二 (1xxx, 2xxx), four to six numeral or
// zero-like glyphs, right before 年, not part of a longer run.
const YEAR_RUN = new RegExp(`(?<![${ZERO_GLYPHS}${YEAR_NUMERALS}])[一二][${ZERO_GLYPHS}${YEAR_NUMERALS}]{3,5}(?=[ \\t]*年)`, 'gu');

/**
 * A year run with its zero glyphs read as 〇. Five or six glyphs are four with a 〇 split in two
 * (OO, O〇, DO): each surplus glyph must merge into a zero glyph beside it, and every way of
 * dropping the surplus must give the same year, else the run is left alone (never a guess which
 * digit is extra). The dropped glyphs become leading spaces so the text keeps its length.
 */
function repairYearRun(run: string): string | null {
  const chars = [...run];
  const zero = (c: string | undefined) => c !== undefined && ZERO_GLYPHS.includes(c);
  const asYear = (cs: string[]) => cs.map((c) => (zero(c) ? '〇' : c)).join('');
  if (chars.length === 4) return asYear(chars);
  const surplus = chars.length - 4;
  const droppable = chars.flatMap((c, i) => (zero(c) && (zero(chars[i - 1]) || zero(chars[i + 1])) ? [i] : []));
  const years = new Set<string>();
  const choose = (from: number, left: number, drop: number[]) => {
    if (left === 0) {
      // Each dropped glyph merges into a kept zero next to it; dropping both halves loses the 〇.
      const kept = (i: number) => zero(chars[i]) && !drop.includes(i);
      if (drop.every((i) => kept(i - 1) || kept(i + 1))) years.add(asYear(chars.filter((_, i) => !drop.includes(i))));
      return;
    }
    for (let k = from; k < droppable.length; k++) choose(k + 1, left - 1, [...drop, droppable[k]!]);
  };
  choose(0, surplus, []);
  if (years.size !== 1) return null;
  return ' '.repeat(surplus) + [...years][0]!;
}

/** The last full (day-precision) date in a line of OCR text, after the 日-glyph repairs. */
function lineDate(text: string): string | null {
  return extractDates(repairDateGlyphs(text)).filter((d) => d.precision === 'day').at(-1)?.value ?? null;
}

/** Full dates in one reading, with every glyph repair, for voting. */
function votingDates(text: string): DateMatch[] {
  return extractDates(repairDateGlyphs(repairYearGlyphs(text))).filter((d) => d.precision === 'day');
}

// A line meant to hold a day-precision date: the 日期/时间 label, the "…年…月…日" shape (日 often
// read as 目 or 曰), or a separated numeric date. A bare 期 counts only on an unsure line, since OCR
// often loses the 日 of 日期 first while 期 also opens 期间, 期限 on lines that read fine.
const DATE_HINT = /日期|时间|年.{0,6}月.{0,6}[日目曰]|\d{4}[.\-/]\d{1,2}[.\-/]\d/u;
const UNSURE_HINT = /期/u;
const UNSURE_LINE = 75;
// Below this line confidence a page without any readable date gets its lines reread: a date line
// can come out as a single wrong glyph ("有") that no hint matches.
const UNREADABLE_LINE = 60;
const MAX_REREAD_LINES = 4;

/**
 * Lines worth a second OCR pass for the document date (3号令 第九条: retention counts from the
 * year of formation): date lines whose date did not parse, and, on a page with no readable date
 * at all, the lines OCR was least sure of. Lines that read fine are left alone: a reread is not
 * more trustworthy than a reading that already parses (see agreedDate).
 */
export function linesToReread<L extends OcrLine>(lines: readonly L[]): L[] {
  const unparsed = lines.filter((l) => lineDate(l.text) === null);
  const hinted = unparsed.filter((l) => DATE_HINT.test(l.text) || (l.confidence < UNSURE_LINE && UNSURE_HINT.test(l.text)));
  const pageHasDate = unparsed.length < lines.length;
  const unsure = pageHasDate ? [] : unparsed.filter((l) => !hinted.includes(l) && l.confidence < UNREADABLE_LINE).sort((a, b) => a.confidence - b.confidence);
  return [...hinted, ...unsure].slice(0, MAX_REREAD_LINES);
}

/**
 * The date that several independent readings of one line agree on. One reading alone never
 * decides, nor does a tie: OCR misreads 〇 as O, OO or O〇 and 三 as 二, so a single reading can
 * parse to a wrong but valid date, while two readings of differently binarised crops rarely
 * make the same mistake. Each reading votes once for each distinct full date it holds.
 */
export function agreedDate(readings: readonly string[], minVotes = 2): { value: string; votes: number; of: number } | null {
  const votes = new Map<string, number>();
  for (const r of readings) {
    for (const v of new Set(votingDates(r).map((d) => d.value))) votes.set(v, (votes.get(v) ?? 0) + 1);
  }
  const ranked = [...votes].sort((a, b) => b[1] - a[1]);
  const [best, next] = ranked;
  if (!best || best[1] < minVotes || (next && next[1] === best[1])) return null;
  return { value: best[0], votes: best[1], of: readings.length };
}

const AMOUNT = /(?:金额|合计|总计|人民币|小写|[￥¥])\s*[:：]?\s*[￥¥]?\s*(\d{1,3}(?:,\d{3})+|\d+)(\.\d{1,2})?\s*元?|(\d{1,3}(?:,\d{3})+|\d+)(\.\d{2})\s*元/gu;

export function extractMetadata(pages: PageText[], preregistered?: { idNumber?: string; name?: string; unit?: string } | null): ExtractedMetadata {
  const persons: ExtractedMetadata['persons'] = [];
  const clerks: ExtractedMetadata['clerks'] = [];
  const units: ExtractedMetadata['units'] = [];
  const amounts: ExtractedMetadata['amounts'] = [];
  const dates: Array<{ value: string; ev: Evidence; labelled: boolean }> = [];
  let docNumber: string | null = null;
  const allText = pages.map((p) => p.text).join('\n');

  for (const page of pages) {
    const ids = extractIdNumbers(page.text);
    const names = extractLabelledNames(page.text);
    const used = new Set<number>();
    for (const nm of names) {
      if (nm.role === 'clerk') {
        clerks.push({ name: nm.name, label: nm.label, evidence: evidence(page, nm.start, nm.end, 0.9) });
        continue;
      }
      // The person's number is the nearest one after the name, in the same part of the form.
      const idx = ids.findIndex((m, i) => !used.has(i) && m.start > nm.end && m.start - nm.end < 240);
      const id = idx >= 0 ? ids[idx]! : undefined;
      if (idx >= 0) used.add(idx);
      const existing = persons.find((p) => p.name === nm.name && (p.idNumber === null || p.idNumber === id?.value || id === undefined));
      if (existing) {
        if (!existing.idNumber && id) existing.idNumber = id.value;
        existing.evidence.push(evidence(page, nm.start, nm.end, 0.9));
        if (id) existing.evidence.push(evidence(page, id.start, id.end, id.confidence, id.raw));
        continue;
      }
      persons.push({
        name: nm.name,
        idNumber: id?.value ?? null,
        evidence: [evidence(page, nm.start, nm.end, 0.9), ...(id ? [evidence(page, id.start, id.end, id.confidence, id.raw)] : [])],
      });
    }
    for (const [i, id] of ids.entries()) {
      if (used.has(i) || persons.some((p) => p.idNumber === id.value)) continue;
      persons.push({ name: null, idNumber: id.value, evidence: [evidence(page, id.start, id.end, id.confidence, id.raw)] });
    }
    const codes = extractCreditCodes(page.text);
    const codeUsed = new Set<number>();
    for (const u of extractUnits(page.text)) {
      const idx = codes.findIndex((c, i) => !codeUsed.has(i) && Math.abs(c.start - u.end) < 200);
      if (idx >= 0) codeUsed.add(idx);
      const c = idx >= 0 ? codes[idx] : undefined;
      units.push({ name: u.name, creditCode: c?.value ?? null, evidence: [evidence(page, u.start, u.end, 0.85), ...(c ? [evidence(page, c.start, c.end, c.confidence, c.raw)] : [])] });
    }
    for (const [i, c] of codes.entries()) {
      if (!codeUsed.has(i)) units.push({ name: null, creditCode: c.value, evidence: [evidence(page, c.start, c.end, c.confidence, c.raw)] });
    }
    const pageDates: typeof dates = [];
    for (const d of extractDates(repairDateGlyphs(page.text))) {
      if (d.precision !== 'day') continue;
      const before = page.text.slice(Math.max(0, d.start - 8), d.start);
      // A reading that needed a glyph repair is less sure than one OCR gave as is.
      const repaired = page.text.slice(d.start, d.end) !== d.raw;
      pageDates.push({ value: d.value, ev: evidence(page, d.start, d.end, repaired ? 0.7 : 0.9, d.raw), labelled: DATE_LABEL.test(before) });
    }
    for (const { line, start, end } of lineSpans(page)) {
      if (!line.rereads?.length || lineDate(line.text) !== null) continue;
      // The first reading votes too: a year it only reads after a glyph repair needs a reread to agree.
      const readings = [{ text: line.text, confidence: line.confidence }, ...line.rereads];
      const agreed = agreedDate(readings.map((r) => r.text));
      if (!agreed) continue;
      const support = readings.filter((r) => votingDates(r.text).some((d) => d.value === agreed.value));
      const raw = support[0]!.text;
      const meanConfidence = support.reduce((a, r) => a + r.confidence, 0) / support.length / 100;
      // Lower than a direct reading (0.9): the value rests on rereads, scaled by how many agreed.
      const confidence = Math.round(Math.min(0.75, meanConfidence) * (agreed.votes / agreed.of) * 1000) / 1000;
      const at = votingDates(raw).find((d) => d.value === agreed.value)!;
      const labelled = DATE_LABEL.test(raw.slice(Math.max(0, at.start - 8), at.start)) || /日期|时间/u.test(line.text);
      pageDates.push({ value: agreed.value, ev: { page: page.n, start, end, bbox: line.bbox, confidence, raw }, labelled });
    }
    dates.push(...pageDates.sort((a, b) => a.ev.start - b.ev.start));
    if (!docNumber) docNumber = extractDocNumbers(page.text)[0]?.normalized ?? null;
    for (const m of page.text.matchAll(AMOUNT)) {
      const digits = (m[1] ?? m[3] ?? '').replace(/,/g, '') + (m[2] ?? m[4] ?? '');
      const value = Number(digits);
      if (Number.isFinite(value) && value > 0) amounts.push({ value, evidence: evidence(page, m.index!, m.index! + m[0].length, 0.8, m[0]) });
    }
  }

  if (preregistered?.idNumber) {
    // The separator sheet was printed from registered data: it outranks OCR.
    const p = persons.find((x) => x.idNumber === preregistered.idNumber);
    if (p) p.name ??= preregistered.name ?? null;
    else persons.unshift({ name: preregistered.name ?? null, idNumber: preregistered.idNumber, evidence: [] });
  }
  if (preregistered?.unit && !units.some((u) => u.name === preregistered.unit)) units.unshift({ name: preregistered.unit, creditCode: null, evidence: [] });

  // The formation date: a labelled date (…日期：) if there is one, else the last date (the 落款 at the foot).
  const chosen = dates.filter((d) => d.labelled).at(-1) ?? dates.at(-1) ?? null;
  return {
    title: pickTitle(pages),
    persons,
    clerks,
    units,
    documentDate: chosen?.value ?? null,
    documentDateEvidence: chosen?.ev ?? null,
    docNumber,
    amounts,
    insuranceTypes: extractInsuranceTypes(allText),
  };
}
