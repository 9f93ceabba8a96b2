/**
 * 统一社会信用代码 (GB 32100-2015): 18 characters over a 31-character set (no I, O, S, V, Z):
 * 1 登记管理部门, 1 机构类别, 6 行政区划, 9 主体标识码 (the old 组织机构代码, GB 11714), 1 check
 * character = 31 − (Σ value×weight mod 31), weights 3^(i−1) mod 31.
 */
import { candidateSequences, repairByCheck, repairConfidence, toHalfWidth, type Repair, type SourceChar } from './ocr-repair';

export const CREDIT_CODE_CHARSET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28] as const;
// GB 32100-2015 附录: 1 机构编制, 2 外交, 3 司法行政, 4 文化, 5 民政, 6 旅游, 7 宗教, 8 工会, 9 工商,
// A 中央军委改革和编制办公室, N 农业, Y 其他.
const AUTHORITIES = '123456789ANY';

export type CreditCodeProblem = 'format' | 'authority' | 'region' | 'checksum';

export type CreditCodeCheck =
  | {
      valid: true;
      value: string;
      authority: string;
      category: string;
      regionCode: string;
      /** The embedded 组织机构代码 (主体标识码). */
      orgCode: string;
      /** Whether the embedded 组织机构代码 passes its own GB 11714 check; informative only. */
      orgCodeValid: boolean;
    }
  | { valid: false; problem: CreditCodeProblem; message: string };

export function creditCodeCheckChar(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const v = CREDIT_CODE_CHARSET.indexOf(first17[i] ?? '');
    if (v < 0) throw new RangeError(`character ${JSON.stringify(first17[i])} is not in the GB 32100 character set`);
    sum += v * (WEIGHTS[i] as number);
  }
  return CREDIT_CODE_CHARSET[(31 - (sum % 31)) % 31] as string;
}

/** GB 11714 组织机构代码 check: weights 3,7,9,10,5,8,4,2 over 8 characters; 10 → X, 11 → 0. */
export function orgCodeCheckChar(first8: string): string | null {
  const w = [3, 7, 9, 10, 5, 8, 4, 2];
  let sum = 0;
  for (let i = 0; i < 8; i++) {
    const ch = first8[i] ?? '';
    const v = /[0-9]/.test(ch) ? Number(ch) : /[A-Z]/.test(ch) ? ch.charCodeAt(0) - 55 : -1;
    if (v < 0) return null;
    sum += v * (w[i] as number);
  }
  const c = 11 - (sum % 11);
  return c === 10 ? 'X' : c === 11 ? '0' : String(c);
}

const MESSAGES: Record<CreditCodeProblem, string> = {
  format: `must be 18 characters from ${CREDIT_CODE_CHARSET}`,
  authority: 'the first character is not a registration-authority code',
  region: 'characters 3–8 must be a 6-digit region code',
  checksum: 'the check character does not match (GB 32100 MOD 31)',
};

export function validateCreditCode(input: string): CreditCodeCheck {
  const value = input.trim().toUpperCase();
  const fail = (problem: CreditCodeProblem): CreditCodeCheck => ({ valid: false, problem, message: MESSAGES[problem] });
  if (value.length !== 18 || [...value].some((c) => !CREDIT_CODE_CHARSET.includes(c))) return fail('format');
  if (!AUTHORITIES.includes(value[0] as string) || !/[1-9]/.test(value[1] as string)) return fail('authority');
  if (!/^\d{6}$/.test(value.slice(2, 8))) return fail('region');
  if (creditCodeCheckChar(value.slice(0, 17)) !== value[17]) return fail('checksum');
  const orgCode = value.slice(8, 17);
  return {
    valid: true,
    value,
    authority: value[0] as string,
    category: value[1] as string,
    regionCode: value.slice(2, 8),
    orgCode,
    orgCodeValid: orgCodeCheckChar(orgCode.slice(0, 8)) === orgCode[8],
  };
}

export function isValidCreditCode(input: string): boolean {
  return validateCreditCode(input).valid;
}

// Characters outside the set can only be misreadings; the options are what they can stand for.
const REQUIRED: Readonly<Record<string, readonly string[]>> = {
  O: ['0', 'D', 'Q'], o: ['0', 'D', 'Q'], I: ['1'], l: ['1'], '|': ['1'], i: ['1'],
  S: ['5'], s: ['5'], Z: ['2'], z: ['2'], V: ['U', 'Y'], v: ['U', 'Y'],
};
// Characters inside the set that OCR also confuses with each other; changed only if nothing else validates.
const OPTIONAL: Readonly<Record<string, readonly string[]>> = {
  '0': ['D', 'Q'], D: ['0'], Q: ['0'], '8': ['B'], B: ['8'], '6': ['G'], G: ['6'], '2': ['Z'], '5': ['S'],
};

function normalise(ch: string): string {
  const c = toHalfWidth(ch);
  // Lower-case letters that exist in upper case in the set are a case difference, not a misreading.
  return /[a-z]/.test(c) && c !== 'l' && c !== 'i' && CREDIT_CODE_CHARSET.includes(c.toUpperCase()) ? c.toUpperCase() : c;
}

function isCreditChar(ch: string): boolean {
  const c = normalise(ch);
  return CREDIT_CODE_CHARSET.includes(c) || c in REQUIRED;
}

export interface CreditCodeMatch {
  value: string;
  raw: string;
  start: number;
  end: number;
  repairs: Repair[];
  confidence: number;
}

/** Finds 统一社会信用代码 in OCR text, repairing only where exactly one reading passes the check. */
export function extractCreditCodes(text: string): CreditCodeMatch[] {
  const out: CreditCodeMatch[] = [];
  for (const seq of candidateSequences(text, isCreditChar)) {
    // Exactly 18: letters are part of the code, so a longer run cannot be trimmed safely.
    if (seq.length !== 18) continue;
    const norm: SourceChar[] = seq.map((c) => ({ ch: normalise(c.ch), offset: c.offset }));
    // A code has at least 10 digits (region code, most of the 主体标识码); fewer is a word, not a code.
    if (norm.filter((c) => /[0-9]/.test(c.ch)).length < 10) continue;
    const r = repairByCheck(
      norm,
      (_pos, ch) =>
        CREDIT_CODE_CHARSET.includes(ch) ? { keep: true, options: OPTIONAL[ch] ?? [] } : { keep: false, options: REQUIRED[ch] ?? [] },
      isValidCreditCode,
      1,
    );
    if (r.kind !== 'valid') continue;
    const first = seq[0] as SourceChar;
    const last = seq[seq.length - 1] as SourceChar;
    const repairs = r.repairs.map((rep) => ({ ...rep, from: text.slice(rep.offset, rep.offset + 1) }));
    out.push({
      value: r.value,
      raw: text.slice(first.offset, last.offset + 1),
      start: first.offset,
      end: last.offset + 1,
      repairs,
      confidence: repairConfidence(repairs.length - r.optionalRepairs, r.optionalRepairs),
    });
  }
  return out;
}
