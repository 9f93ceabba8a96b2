/**
 * Pure rules for reading the document date off OCR lines (3号令 第九条: retention counts from the
 * year of formation, so the date decides both the retention clock and the 年度 of the 档号):
 * glyph repairs, which lines deserve a second reading, and agreement between readings.
 */
import { extractDates, type DateMatch } from './dates';
import { agreement, moreReadingsMatter, tally } from './votes';

/**
 * A recognised line as these rules read it: the part of ocr's OcrLine (which adds word boxes)
 * that survives in stored page text. Structural, so domain/ stays free of the OCR package.
 */
export interface TextLine {
  text: string;
  bbox: { x0: number; y0: number; x1: number; y1: number };
  confidence: number;
  /** Second readings of the line's crop (OcrEngine.rereadLine), stored when the first was unusable. */
  rereads?: Array<{ text: string; confidence: number }>;
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
export function lineDate(text: string): string | null {
  return extractDates(repairDateGlyphs(text)).filter((d) => d.precision === 'day').at(-1)?.value ?? null;
}

/** Full dates in one reading, with every glyph repair, for voting. */
export function votingDates(text: string): DateMatch[] {
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
export function linesToReread<L extends TextLine>(lines: readonly L[]): L[] {
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
  return agreement(tally(readings, dateValues), readings.length, minVotes);
}

/** Whether `remaining` more rereads of a date line could still change agreedDate (they stop when not). */
export function dateRereadsSettled(readings: readonly string[], remaining: number, minVotes = 2): boolean {
  return !moreReadingsMatter(tally(readings, dateValues), remaining, minVotes);
}

const dateValues = (reading: string): string[] => votingDates(reading).map((d) => d.value);

