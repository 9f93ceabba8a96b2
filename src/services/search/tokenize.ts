/**
 * Tokens for the search index. Chinese has no spaces, so a page yields three kinds of CJK token:
 * jieba words (what a reader would call a word), character bigrams with their positions (so
 * names and OCR-damaged words that jieba does not know are still found, and phrases can be
 * checked exactly), and skip-bigrams (chars i and i+2, so a word whose middle character was
 * misrecognised still shares a token with the query). Codes — ID numbers, 档号, 文号 digits —
 * are exact tokens. Every token is stored only as a keyed hash (see hashToken).
 */
import { createHmac } from 'node:crypto';

import { loadJiebaSegmenter, type Segmenter } from './segmenter';

let jieba: Segmenter | undefined;
function segmenter(): Segmenter {
  // The dictionary load costs ~0.15 s; only pay it in processes that tokenise.
  jieba ??= loadJiebaSegmenter();
  return jieba;
}

/**
 * Loads the dictionary now. A process about to search calls it while it waits for the index to
 * arrive (open()), so the ~0.1–0.2 s of dictionary load overlaps network waits instead of
 * adding to the first query.
 */
export function warmTokenizer(): void {
  segmenter();
}

// Compatibility ideographs (U+F900…) are folded into this range by normalizeChars.
const CJK = /[\u3007\u3400-\u4dbf\u4e00-\u9fff]/u;
export function isCjk(ch: string): boolean {
  return CJK.test(ch);
}

/**
 * One code point in, one code point out, so positions in the normalised text are positions in
 * the original: full-width letters and digits become ASCII, Latin letters upper case (codes are
 * written in capitals: 档号, the X of an ID number).
 */
export function normalizeChars(text: string): string[] {
  const out: string[] = [];
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    // Fast path: ASCII and unified ideographs are already normal (this runs on every page).
    if (c < 0x80) out.push(c >= 0x61 && c <= 0x7a ? ch.toUpperCase() : ch);
    else if (c >= 0x4e00 && c <= 0x9fff) out.push(ch);
    else {
      const n = ch.normalize('NFKC');
      out.push([...n].length === 1 ? n.toUpperCase() : ch);
    }
  }
  return out;
}

export type TokenKind = 'w' | 'b' | 's' | 'x';

export interface PageTokens {
  /** bigram key (pairKey) → code-point positions: the only tokens with positions */
  bigrams: Map<number, number[]>;
  /** skip-bigram key (pairKey) → count */
  skips: Map<number, number>;
  /** word and code tokens (kind-prefixed strings) → count */
  words: Map<string, number>;
  /** Document length for BM25: bigram and code occurrences. */
  length: number;
}

/**
 * Key of a CJK character pair as a small integer (both characters lie in U+3000…U+9FFF), so
 * tokenising a page allocates no string per bigram and maps stay on V8's fast integer keys.
 */
export function pairKey(a: string, b: string): number {
  return (a.codePointAt(0)! - 0x3000) * 0x7000 + (b.codePointAt(0)! - 0x3000);
}

function pairToken(kind: 'b' | 's', key: number): string {
  return `${kind}:${String.fromCodePoint(Math.floor(key / 0x7000) + 0x3000)}${String.fromCodePoint((key % 0x7000) + 0x3000)}`;
}

/** A code: letters/digits, optionally joined by - · . / _ (档号 A1-YL·2020-Y-…, 人社发〔2020〕12号 digits). */
const CODE_RE = /[0-9A-Z]+(?:[-·./_][0-9A-Z]+)*/g;

/** Exact tokens for a code: the whole code and, for joined codes, each part of two or more characters. */
export function codeTokens(code: string): string[] {
  const out = [`x:${code}`];
  const parts = code.split(/[-·./_]/);
  if (parts.length > 1) for (const p of parts) if (p.length >= 2) out.push(`x:${p}`);
  return out;
}

const isCjkCode = (c: number): boolean => c === 0x3007 || (c >= 0x3400 && c <= 0x9fff);

export function tokenizePage(text: string): PageTokens {
  const chars = normalizeChars(text);
  const cps = chars.map((ch) => ch.codePointAt(0)! - 0x3000);
  const bigrams = new Map<number, number[]>();
  const skips = new Map<number, number>();
  const words = new Map<string, number>();
  let length = 0;
  let runStart = -1;
  for (let i = 0; i <= cps.length; i++) {
    if (i < cps.length && isCjkCode(cps[i]! + 0x3000)) {
      if (runStart < 0) runStart = i;
      continue;
    }
    if (runStart < 0) continue;
    const s = runStart;
    runStart = -1;
    if (i - s === 1) length++;
    for (let k = s; k + 1 < i; k++) {
      const key = cps[k]! * 0x7000 + cps[k + 1]!;
      const p = bigrams.get(key);
      if (p) p.push(k);
      else bigrams.set(key, [k]);
      length++;
      if (k + 2 < i) {
        const sk = cps[k]! * 0x7000 + cps[k + 2]!;
        skips.set(sk, (skips.get(sk) ?? 0) + 1);
      }
    }
  }
  const norm = chars.join('');
  for (const m of norm.matchAll(CODE_RE)) {
    for (const t of codeTokens(m[0])) words.set(t, (words.get(t) ?? 0) + 1);
    length++;
  }
  for (const w of segmenter().cutForSearch(norm)) {
    if (w.length >= 1 && CJK.test(w) && [...w].every(isCjk)) words.set(`w:${w}`, (words.get(`w:${w}`) ?? 0) + 1);
  }
  return { bigrams, skips, words, length };
}

/** Query words: jieba's cut (not the search cut), with single characters glued to a neighbour. */
export function splitWords(cjk: string): string[] {
  const words = segmenter().cut(cjk).filter((w) => w.length > 0);
  const out: string[] = [];
  for (const w of words) {
    const last = out[out.length - 1];
    if (last !== undefined && ([...w].length === 1 || [...last].length === 1)) out[out.length - 1] = last + w;
    else out.push(w);
  }
  return out;
}

export function bigramsOf(chars: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < chars.length; i++) out.push(`b:${chars[i]}${chars[i + 1]}`);
  return out;
}

export function skipgramsOf(chars: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 2 < chars.length; i++) out.push(`s:${chars[i]}${chars[i + 2]}`);
  return out;
}

/**
 * Keyed hash of a token: HMAC-SHA256 under the index key, first 48 bits, as a safe integer.
 * 48 bits make collisions between the ~10^6 distinct tokens of an archive improbable (about one
 * pair in 300) and keep the dictionary at 8 bytes a term. Cached per key: the CJK vocabulary is
 * small, and one HMAC costs more than tokenising a line.
 */
export class TokenHasher {
  // Tokens get small integer numbers with their hash alongside: building a segment then works on
  // integer-keyed maps, and each distinct token is HMACed once per process.
  private readonly words = new Map<string, number>();
  private readonly pairs = { b: new Map<number, number>(), s: new Map<number, number>() };
  private hashes = new Float64Array(1 << 16);
  private n = 0;
  constructor(private readonly key: Buffer) {}

  private register(token: string): number {
    if (this.n === this.hashes.length) {
      const h = new Float64Array(this.n * 2);
      h.set(this.hashes);
      this.hashes = h;
    }
    this.hashes[this.n] = createHmac('sha256', this.key).update(token).digest().readUIntBE(0, 6);
    return this.n++;
  }

  /** Forgets the numbering when it grows large; only between segment builds, which hold numbers. */
  trim(): void {
    if (this.n < 4_000_000) return;
    this.words.clear();
    this.pairs.b.clear();
    this.pairs.s.clear();
    this.n = 0;
  }

  term(token: string): number {
    let t = this.words.get(token);
    if (t === undefined) this.words.set(token, (t = this.register(token)));
    return t;
  }

  pairTerm(kind: 'b' | 's', key: number): number {
    const m = this.pairs[kind];
    let t = m.get(key);
    if (t === undefined) m.set(key, (t = this.register(pairToken(kind, key))));
    return t;
  }

  termHash(term: number): number {
    return this.hashes[term]!;
  }

  hash(token: string): number {
    return this.termHash(this.term(token));
  }

  hashPair(kind: 'b' | 's', key: number): number {
    return this.termHash(this.pairTerm(kind, key));
  }

  /** Blind index for exact lookups of a field value (ID numbers, names): a separate domain per field. */
  blind(field: string, value: string): string {
    return createHmac('sha256', this.key).update(`blind:${field}:${value}`).digest('base64url').slice(0, 22);
  }
}
