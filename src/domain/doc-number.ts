/**
 * 发文字号 (文号): 机关代字 + 〔年份〕 + 序号 + 号, e.g. 京人社工伤认字〔2019〕123号. GB/T 9704-2012
 * prescribes the hexagonal brackets 〔〕 and a 序号 without leading zeros or 第; scans and typed copies
 * use [] ［］ （） () 【】 instead, so the stored form is normalised to 〔〕 to make 文号 searchable.
 */
import { toHalfWidth } from './ocr-repair';

export interface DocNumber {
  /** 机关代字, e.g. 京人社工伤认字. */
  issuer: string;
  year: number;
  /** 序号 without leading zeros. */
  serial: number;
  /** 京人社工伤认字〔2019〕123号 */
  normalized: string;
}

export interface DocNumberMatch extends DocNumber {
  raw: string;
  start: number;
  end: number;
}

const OPEN = '〔[［(（【';
const CLOSE = '〕]］)）】';
// Words that run straight into a 文号 in prose ("根据京人社…〔2019〕1号") but are not part of an issuer
// code; the issuer is cut after the last of them. Single characters such as 经 or 发 are left out on
// purpose: they occur inside real codes (京经信委发).
const LEAD_INS = ['根据', '依据', '按照', '依照', '参照', '关于', '转发', '印发', '执行', '通知', '决定', '文件', '见', '及', '和', '与', '的'];
const ISSUER = '[\\u4e00-\\u9fffA-Za-z0-9]{1,20}';
const S = '[ \\t\\u3000]*';
const esc = (s: string) => s.replace(/[[\]()\\]/g, '\\$&');

const DOC_RE = new RegExp(
  `(${ISSUER})${S}[${esc(OPEN)}]${S}((?:19|20)\\d{2})${S}[${esc(CLOSE)}]${S}第?${S}(\\d{1,6})${S}号`,
  'gu',
);

function trimIssuer(raw: string): { issuer: string; cut: number } {
  let cut = 0;
  for (const lead of LEAD_INS) {
    const i = raw.lastIndexOf(lead);
    // Keep at least two characters of issuer; a lead-in word at the very end is part of the code.
    if (i >= 0 && i + lead.length > cut && raw.length - (i + lead.length) >= 2) cut = i + lead.length;
  }
  return { issuer: raw.slice(cut), cut };
}

function normaliseText(text: string): string {
  let out = '';
  for (const ch of text) out += ch.length === 1 ? toHalfWidth(ch) : ch;
  return out;
}

export function formatDocNumber(issuer: string, year: number, serial: number): string {
  return `${issuer}〔${year}〕${serial}号`;
}

/** Parses a string that is one 文号 and nothing else. */
export function parseDocNumber(input: string): DocNumber | null {
  const text = normaliseText(input.trim());
  DOC_RE.lastIndex = 0;
  const m = DOC_RE.exec(text);
  if (!m || m.index !== 0 || m[0].length !== text.length) return null;
  return fromMatch(m[1] ?? '', m[2] ?? '', m[3] ?? '');
}

function fromMatch(issuer: string, year: string, serial: string): DocNumber | null {
  const n = Number(serial);
  if (n < 1) return null;
  return { issuer, year: Number(year), serial: n, normalized: formatDocNumber(issuer, Number(year), n) };
}

/** Every 文号 in a text, normalised, with offsets into the original. */
export function extractDocNumbers(text: string): DocNumberMatch[] {
  const norm = normaliseText(text);
  const out: DocNumberMatch[] = [];
  DOC_RE.lastIndex = 0;
  for (let m = DOC_RE.exec(norm); m; m = DOC_RE.exec(norm)) {
    const { issuer, cut } = trimIssuer(m[1] ?? '');
    const parsed = fromMatch(issuer, m[2] ?? '', m[3] ?? '');
    if (!parsed) continue;
    const start = m.index + cut;
    const end = m.index + m[0].length;
    out.push({ ...parsed, raw: text.slice(start, end), start, end });
  }
  return out;
}
