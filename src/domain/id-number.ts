/**
 * 公民身份号码 (GB 11643-1999): 6-digit address code, 8-digit birth date, 3-digit sequence (odd = male),
 * 1 check character by ISO 7064 MOD 11-2 (value 10 written X). 社会保险法 第58条: it is also the
 * person's 社会保障号码, so every dossier hangs on it and a wrong digit files a record to a stranger.
 */
import { candidateSequences, repairByCheck, repairConfidence, toHalfWidth, windows, type Repair, type SourceChar } from './ocr-repair';
import { agreement, moreReadingsMatter, tally } from './votes';

// MOD 11-2 weights 2^(17-i) mod 11 for positions 1..17.
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
const CHECK_CHARS = '10X98765432';

// GB/T 2260 province-level codes; 71 台湾, 81 香港, 82 澳门; 83 is used by residence permits of
// Taiwan residents (港澳台居民居住证 use 810000/820000/830000 as address codes).
export const PROVINCE_CODES: ReadonlySet<string> = new Set([
  '11', '12', '13', '14', '15', '21', '22', '23', '31', '32', '33', '34', '35', '36', '37',
  '41', '42', '43', '44', '45', '46', '50', '51', '52', '53', '54', '61', '62', '63', '64', '65',
  '71', '81', '82', '83',
]);

export type IdNumberProblem = 'format' | 'region' | 'birth_date' | 'birth_in_future' | 'checksum';

export type IdNumberCheck =
  | { valid: true; value: string; regionCode: string; birthDate: string; sex: 'M' | 'F' }
  | { valid: false; problem: IdNumberProblem; message: string };

export interface IdOptions {
  /** Today's date (YYYY-MM-DD) for the "not born in the future" rule; defaults to today in UTC. */
  today?: string;
}

/** The check character for the first 17 digits. */
export function idCheckDigit(first17: string): string {
  if (!/^\d{17}$/.test(first17)) throw new RangeError('the first 17 characters of an ID number must be digits');
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * (WEIGHTS[i] as number);
  return CHECK_CHARS[sum % 11] as string;
}

function todayUtc(): string {
  return new Date().toISOString().slice(0, 10);
}

function realDate(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  return d <= new Date(Date.UTC(y, m, 0)).getUTCDate();
}

function checkBirth(yyyymmdd: string, today: string): IdNumberProblem | null {
  const y = Number(yyyymmdd.slice(0, 4));
  const m = Number(yyyymmdd.slice(4, 6));
  const d = Number(yyyymmdd.slice(6, 8));
  if (y < 1850 || !realDate(y, m, d)) return 'birth_date';
  const iso = `${yyyymmdd.slice(0, 4)}-${yyyymmdd.slice(4, 6)}-${yyyymmdd.slice(6, 8)}`;
  return iso > today ? 'birth_in_future' : null;
}

const MESSAGES: Record<IdNumberProblem, string> = {
  format: 'must be 17 digits followed by a digit or X',
  region: 'the first two digits are not a province code',
  birth_date: 'the birth date is not a real date',
  birth_in_future: 'the birth date is in the future',
  checksum: 'the check character does not match (GB 11643 MOD 11-2)',
};

/** Validates an 18-character 公民身份号码 (a lower-case x is accepted and upper-cased). */
export function validateIdNumber(input: string, opts: IdOptions = {}): IdNumberCheck {
  const value = input.trim().toUpperCase();
  const fail = (problem: IdNumberProblem): IdNumberCheck => ({ valid: false, problem, message: MESSAGES[problem] });
  if (!/^\d{17}[\dX]$/.test(value)) return fail('format');
  if (!PROVINCE_CODES.has(value.slice(0, 2))) return fail('region');
  const birth = checkBirth(value.slice(6, 14), opts.today ?? todayUtc());
  if (birth) return fail(birth);
  if (idCheckDigit(value.slice(0, 17)) !== value[17]) return fail('checksum');
  return {
    valid: true,
    value,
    regionCode: value.slice(0, 6),
    birthDate: `${value.slice(6, 10)}-${value.slice(10, 12)}-${value.slice(12, 14)}`,
    sex: Number(value[16]) % 2 === 1 ? 'M' : 'F',
  };
}

export function isValidIdNumber(input: string, opts: IdOptions = {}): boolean {
  return validateIdNumber(input, opts).valid;
}

/**
 * The 15-digit form (issued before 1999: 6 address + YYMMDD + 3 sequence, no check character) as
 * 18 digits: century 19 inserted, check character computed. GB 11643-1999 upgraded all of them so.
 */
export function convert15To18(input: string, opts: IdOptions = {}): string {
  const v = input.trim();
  if (!/^\d{15}$/.test(v)) throw new RangeError('a 15-digit ID number must be 15 digits');
  const first17 = `${v.slice(0, 6)}19${v.slice(6)}`;
  const full = first17 + idCheckDigit(first17);
  const check = validateIdNumber(full, opts);
  if (!check.valid) throw new RangeError(`15-digit ID number is not valid: ${check.message}`);
  return full;
}

/**
 * For lists, exports and logs (个保法 第51条 去标识化): keep the address code and the last four,
 * star the birth date and sequence. Length is kept so the mask does not hide what kind of number it was.
 */
export function maskIdNumber(input: string): string {
  const v = input.trim();
  if (v.length < 11) return '*'.repeat(v.length);
  return v.slice(0, 6) + '*'.repeat(v.length - 10) + v.slice(-4);
}

// OCR confusions with a digit (or X at the check position). Each maps to what it can only be.
const DIGIT_CONFUSIONS: Readonly<Record<string, string>> = {
  O: '0', o: '0', D: '0', Q: '0', '〇': '0', '○': '0',
  l: '1', I: '1', '|': '1', i: '1', '丨': '1', '!': '1',
  Z: '2', z: '2',
  S: '5', s: '5',
  B: '8',
};
const X_CONFUSIONS = new Set(['×', '乂', 'ㄨ', '╳', 'Ⅹ']);

function isIdChar(ch: string): boolean {
  const c = toHalfWidth(ch);
  return /[0-9Xx]/.test(c) || c in DIGIT_CONFUSIONS || X_CONFUSIONS.has(c);
}

/** Whether a character can stand for a digit (or the X) of a 公民身份号码 as OCR writes it. */
export function isIdNumberChar(ch: string): boolean {
  return isIdChar(ch);
}

const isRealDigit = (ch: string) => /[0-9]/.test(toHalfWidth(ch));
/** A character as the digit (or X) it stands for, for the shape test. */
const asIdDigit = (ch: string) => {
  const c = toHalfWidth(ch);
  return /[0-9]/.test(c) ? c : c === 'x' || c === 'X' || X_CONFUSIONS.has(c) ? 'X' : (DIGIT_CONFUSIONS[c] ?? '?');
};
const SHAPE_18 = /^\d{6}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dX]$/;
const SHAPE_15 = /^\d{8}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}$/;
// What a reader can rebuild a number from: 12 characters hold the birth date, sequence and check
// digit, i.e. everything the standard mask hides. Longer than 18 is another kind of number (a bank
// account: the extractor never takes a window with digits beside it).
const MIN_RUN = 12;
const MAX_RUN = 18;
const MIN_REAL_DIGITS = 8;

/** Offsets (code units) of the characters of one number-like run, spaces between parts excluded. */
type Run = number[];

/**
 * Runs of ID-number characters in text, as the extractor reads them: digits, full-width digits,
 * OCR confusions (O/o/D/Q/〇 for 0, l/I/|/丨 for 1, Z for 2, S for 5, B for 8, ×/乂 for X), with
 * single spaces inside (boxed-digit forms). A spaced run counts as one number when it has the
 * length and shape of one (or is all short groups); otherwise each part counts on its own.
 */
function numberRuns(text: string): Run[] {
  const out: Run[] = [];
  let parts: Run[] = [];
  let part: Run = [];
  const flush = () => {
    if (part.length) parts.push(part);
    part = [];
    if (!parts.length) return;
    const whole = parts.flat();
    const n = whole.length;
    const shape = whole.map((i) => asIdDigit(text[i]!)).join('');
    const short = parts.every((p) => p.length <= 3);
    if (parts.length > 1 && ((n >= 15 && n <= MAX_RUN && (short || SHAPE_18.test(shape) || SHAPE_15.test(shape))) || (n >= MIN_RUN && n <= MAX_RUN && parts.every((p) => p.length <= 2)))) out.push(whole);
    else out.push(...parts);
    parts = [];
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (isIdChar(ch)) part.push(i);
    else if ((ch === ' ' || ch === '\u3000') && part.length && i + 1 < text.length && isIdChar(text[i + 1]!)) {
      parts.push(part);
      part = [];
    } else flush();
  }
  flush();
  return out;
}

/** A lower-case hex identifier (item and job ids, hashes) is not a number to mask. */
function inHexIdentifier(text: string, run: Run): boolean {
  let a = run[0]!;
  let b = run[run.length - 1]! + 1;
  while (a > 0 && /[0-9A-Za-z]/.test(text[a - 1]!)) a--;
  while (b < text.length && /[0-9A-Za-z]/.test(text[b]!)) b++;
  return b - a >= 20 && /^[0-9a-f]+$/.test(text.slice(a, b)) && /[a-f]/.test(text.slice(a, b));
}

/** The characters of the run to star, or none: the number it may be, trimmed of letters at its ends. */
function toStar(text: string, run: Run): number[] {
  let a = 0;
  let b = run.length;
  // Too long for one number: letters at its ends are words around it ("No110105…"), not digits.
  while (b - a > MAX_RUN && !isRealDigit(text[run[a]!]!)) a++;
  while (b - a > MAX_RUN && !isRealDigit(text[run[b - 1]!]!) && asIdDigit(text[run[b - 1]!]!) !== 'X') b--;
  const core = run.slice(a, b);
  const n = core.length;
  if (n < MIN_RUN || n > MAX_RUN || core.filter((i) => isRealDigit(text[i]!)).length < MIN_REAL_DIGITS) return [];
  if (inHexIdentifier(text, core)) return [];
  // A whole number keeps what maskIdNumber keeps (address code, last four); a part of one shows nothing.
  return n === 18 || n === 15 ? core.slice(6, n - 4) : core;
}

/**
 * Masks every 公民身份号码 in free text (OCR text, evidence, snippets, titles, queries in the audit
 * trail) the way a reader could rebuild it: every form the extractor reads (spaced, full-width,
 * OCR-confused characters, 15 or 18 long), checksum or not (a misread check digit is still
 * somebody's number), and a run of 12-17 such characters (a number cut by a window or a line)
 * starred whole. Lengths are kept, so highlight offsets into the text stay valid. The one masking
 * function: answers, CLI output and the audit trail all go through it (services/access
 * personal-data.ts).
 */
export function maskIdNumbersInText(text: string): string {
  let chars: string[] | null = null;
  for (const run of numberRuns(text)) {
    for (const i of toStar(text, run)) (chars ??= text.split(''))[i] = '*';
  }
  return chars ? chars.join('') : text;
}

/** Whether the text holds anything maskIdNumbersInText would mask. */
export function containsIdNumber(text: string): boolean {
  return numberRuns(text).some((run) => toStar(text, run).length > 0);
}

export interface IdNumberMatch {
  /** Normalised 18-character number (15-digit forms converted). */
  value: string;
  /** The text as it stood in the source. */
  raw: string;
  start: number;
  end: number;
  form: 18 | 15;
  repairs: Repair[];
  /** 1 for a clean, checked number; lower with each repair; 0.7 for a 15-digit form (no check character). */
  confidence: number;
}

/**
 * Finds 公民身份号码 in OCR text. Characters that cannot be digits are repaired only where the check
 * character then validates and exactly one repair does; a 15-digit form has no check character, so
 * it is taken only when every character is already a digit.
 */
export function extractIdNumbers(text: string, opts: IdOptions = {}): IdNumberMatch[] {
  const out: IdNumberMatch[] = [];
  for (const seq of candidateSequences(text, isIdChar)) {
    const found: IdNumberMatch[] = [];
    let ambiguous = false;
    for (const window of windows(seq, [18, 15])) {
      const r = readWindow(text, window, opts);
      if (r === 'ambiguous') ambiguous = true;
      else if (r) found.push(r);
    }
    const distinct = new Set(found.map((f) => f.value));
    if (!ambiguous && distinct.size === 1) out.push(found[0] as IdNumberMatch);
  }
  return out;
}

function readWindow(text: string, chars: SourceChar[], opts: IdOptions): IdNumberMatch | 'ambiguous' | null {
  const start = (chars[0] as SourceChar).offset;
  const last = chars[chars.length - 1] as SourceChar;
  const base = { raw: text.slice(start, last.offset + last.ch.length), start, end: last.offset + last.ch.length };
  const norm = chars.map((c) => ({ ch: toHalfWidth(c.ch), offset: c.offset }));

  if (chars.length === 15) {
    const digits = norm.map((c) => c.ch).join('');
    if (!/^\d{15}$/.test(digits)) return null;
    try {
      return { ...base, value: convert15To18(digits, opts), form: 15, repairs: [], confidence: 0.7 };
    } catch {
      return null;
    }
  }

  const r = repairByCheck(
    norm,
    (pos, ch) => {
      if (pos === 17) {
        if (/[0-9X]/.test(ch)) return { keep: true, options: [] };
        if (ch === 'x' || X_CONFUSIONS.has(ch)) return { keep: false, options: ['X'] };
      } else if (/[0-9]/.test(ch)) return { keep: true, options: [] };
      const d = DIGIT_CONFUSIONS[ch];
      return { keep: false, options: d ? [d] : [] };
    },
    (candidate) => isValidIdNumber(candidate, opts),
    0,
  );
  if (r.kind === 'ambiguous') return 'ambiguous';
  if (r.kind === 'invalid') return null;
  // A lower-case x is how many people write X: normalisation, not a repair.
  const repairs = r.repairs
    .filter((rep) => !(rep.from === 'x' && rep.to === 'X'))
    .map((rep) => ({ ...rep, from: text.slice(rep.offset, rep.offset + 1) }));
  // Fewer than 12 real digits means we would be building a number out of letters.
  if (repairs.length > 6) return null;
  return { ...base, value: r.value, form: 18, repairs, confidence: repairConfidence(repairs.length, 0) };
}

/** A run as long as one number (15 or 18, give or take a glyph OCR added or lost), mostly real digits. */
const ID_LIKE_RUN = { min: 14, max: 20, realDigits: 12 };

/** Where the first run of number characters as long as a 公民身份号码 lies in the text (code units), if any. */
export function idLikeRun(text: string): { start: number; end: number } | null {
  let len = 0;
  let real = 0;
  for (let i = 0; i <= text.length; i++) {
    const ch = text[i];
    if (ch !== undefined && isIdChar(ch)) {
      len++;
      if (isRealDigit(ch)) real++;
      continue;
    }
    if (len >= ID_LIKE_RUN.min && len <= ID_LIKE_RUN.max && real >= ID_LIKE_RUN.realDigits) return { start: i - len, end: i };
    len = 0;
    real = 0;
  }
  return null;
}

/**
 * Lines worth a second OCR pass for a 公民身份号码: they hold a run of number characters as long as
 * one, from which extractIdNumbers takes nothing (the check character fails, or OCR added or lost a
 * digit). A number that validates is never read again: a reread is not more trustworthy than a
 * reading whose check character already holds.
 */
export function idLinesToReread<L extends { text: string }>(lines: readonly L[]): L[] {
  return lines.filter((l) => idLikeRun(l.text) !== null && extractIdNumbers(l.text).length === 0);
}

/**
 * The number that several independent readings of one line agree on: at least two readings hold
 * it as a valid 公民身份号码 and no other number has as many. One reading alone never decides (a
 * misread digit can still pass the check character one time in eleven).
 */
export function agreedIdNumber(readings: readonly string[]): { value: string; votes: number; of: number } | null {
  return agreement(tally(readings, idValues), readings.length, 2);
}

/** Whether `remaining` more rereads of an ID-number line could still change agreedIdNumber (they stop when not). */
export function idRereadsSettled(readings: readonly string[], remaining: number): boolean {
  return !moreReadingsMatter(tally(readings, idValues), remaining, 2);
}

const idValues = (reading: string): string[] => extractIdNumbers(reading).map((m) => m.value);
