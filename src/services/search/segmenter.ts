/**
 * Chinese word segmentation over jieba's dictionary, held compactly.
 *
 * Why our own: the native jieba (`@node-rs/jieba`) keeps its 349 000-word dictionary as a trie of
 * records, ~40 MB resident in every process that indexes, which is what kept the capture worker
 * over its memory target (#12). Here the same dictionary lives in a few typed arrays (~9 MB): the
 * words' UTF-16 units in one pool and an open-addressing hash table over them. The segmentation is
 * jieba's own, step for step, so that an index built before stays findable:
 *
 *   1. the text is split into blocks of "han" characters (CJK ideographs, ASCII letters and digits,
 *      `+#&._%-`); everything else is a token per character (`\r\n` together);
 *   2. in a block, every dictionary word starting at each character is an edge of a DAG; the route
 *      maximises the sum of ln(freq/total) from the end, a character with no word being one step of
 *      frequency 1, a tie going to the longer step;
 *   3. single-character steps in a row are gathered: one character stays a token; a run that is a
 *      dictionary word is split into its characters; any other run goes to jieba's HMM (the native
 *      one, given a one-word dictionary, so it costs no memory: the HMM model is built into it).
 *
 * Search mode adds, for a token of more than two characters, its 2-grams (and for more than three,
 * its 3-grams) that are dictionary words, before the token.
 *
 * Exactness matters to the last bit: the route compares sums of logarithms. V8's Math.log is 1 ulp
 * off the C library's log (which the native code uses) for 77 of the dictionary's 5 088 distinct
 * frequencies; `exactLn` rounds correctly, which agrees with glibc's log on every one of them and
 * on their total (checked against Python's math.log; glibc itself is not correctly rounded
 * everywhere, 2 of 45 000 integers tried, none of them a dictionary frequency).
 * test/unit/search/segmenter.spec.ts checks token for token against the native segmenter.
 */

import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/** A segmenter of unknown runs: each run (2+ han characters, no dictionary word) → its words. */
export type RunCutter = (runs: string[]) => string[][];

export interface NativeJieba {
  cut(text: string, hmm?: boolean): string[];
}

/** `@node-rs/jieba`'s class, as far as we use it. */
export interface NativeJiebaClass {
  withDict(dict: Uint8Array): NativeJieba;
}

/** Private-use characters: outside jieba's blocks, so never part of a text it segments. */
const ONE_WORD_NO_TEXT_CONTAINS = '\uE000\uE001';

/**
 * The native jieba's HMM for unknown runs, all runs of a text in one call: a newline is outside
 * jieba's blocks, so it comes back as a token of its own between the runs' words. The native
 * instance's dictionary holds one word no text contains: for a run it finds no word and goes
 * straight to the HMM, as the full one does for a run it found no word in.
 */
export function hmmRunCutter(Jieba: NativeJiebaClass): RunCutter {
  const hmmOnly = Jieba.withDict(Buffer.from(`${ONE_WORD_NO_TEXT_CONTAINS} 1 x\n`));
  return (runs) => {
    const out: string[][] = [[]];
    for (const w of hmmOnly.cut(runs.join('\n'), true)) {
      if (w === '\n') out.push([]);
      else out[out.length - 1]!.push(w);
    }
    return out;
  };
}

/** jieba's dictionary (the file `@node-rs/jieba` ships), held compactly, with the native HMM. */
export function loadJiebaSegmenter(): Segmenter {
  const req = createRequire(__filename);
  const { Jieba } = req('@node-rs/jieba') as { Jieba: NativeJiebaClass };
  // Read here, not through the package's dict module, which also reads the 6 MB IDF table
  // (keyword extraction, unused) and keeps both for the life of the process.
  const dictPath = path.join(path.dirname(req.resolve('@node-rs/jieba/dict')), 'dict.txt');
  return new Segmenter(new CompactDictionary(fs.readFileSync(dictPath)), hmmRunCutter(Jieba));
}

// FNV-1a over UTF-16 units: the table's hash, computed whole (loading, lookups) or a unit at a time (prefixes).
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

const HAN_ASCII = new Uint8Array(128);
for (const ch of 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+#&._%-') HAN_ASCII[ch.charCodeAt(0)] = 1;

/** jieba's block class (RE_HAN_DEFAULT): CJK ideographs with extensions, ASCII alphanumerics, `+#&._%-`. */
function isHanDefault(cp: number): boolean {
  if (cp < 0x80) return HAN_ASCII[cp] === 1;
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2ebef) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

// ln(x) to 2^-PREC in fixed point: 2·atanh((m-1)/(m+1)) on the mantissa m ∈ [1, 2).
const PREC = 128n;
function lnFixedMantissa(num: bigint, den: bigint): bigint {
  // z = (m-1)/(m+1) ≤ 1/3, so each term gains > 3 bits; 50 terms pass 2^-128.
  const z = ((num - den) << PREC) / (num + den);
  const z2 = (z * z) >> PREC;
  let term = z;
  let sum = 0n;
  for (let k = 1n; term !== 0n; k += 2n) {
    sum += term / k;
    term = (term * z2) >> PREC;
  }
  return 2n * sum;
}
const LN2_FIXED = lnFixedMantissa(2n, 1n);

/** ln(n) for a positive integer, correctly rounded to a double (what glibc's log gives for every frequency in jieba's dictionary). */
export function exactLn(n: number): number {
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`exactLn: ${n}`);
  if (n === 1) return 0;
  const big = BigInt(n);
  const k = big.toString(2).length - 1;
  const fixed = BigInt(k) * LN2_FIXED + lnFixedMantissa(big, 1n << BigInt(k));
  // Round the fixed-point value to 53 significant bits, half to even.
  const bits = fixed.toString(2).length;
  const shift = BigInt(bits - 53);
  let mant = fixed >> shift;
  const rest = fixed - (mant << shift);
  const half = 1n << (shift - 1n);
  if (rest > half || (rest === half && (mant & 1n) === 1n)) mant += 1n;
  return Number(mant) * 2 ** (bits - 53 - Number(PREC));
}

const isAsciiSpace = (c: number): boolean => c === 32 || (c >= 9 && c <= 13);

/** Calls back with the byte ranges of each line's word and frequency fields (empty lines skipped). */
function forEachEntry(b: Uint8Array, fn: (ws: number, we: number, fs: number, fe: number) => void): void {
  for (let pos = 0; pos < b.length; ) {
    let eol = b.indexOf(10, pos);
    if (eol < 0) eol = b.length;
    let ws = pos;
    while (ws < eol && isAsciiSpace(b[ws]!)) ws++;
    let we = ws;
    while (we < eol && !isAsciiSpace(b[we]!)) we++;
    let fs = we;
    while (fs < eol && isAsciiSpace(b[fs]!)) fs++;
    let fe = fs;
    while (fe < eol && !isAsciiSpace(b[fe]!)) fe++;
    pos = eol + 1;
    if (we > ws) fn(ws, we, fs, fe);
  }
}

/** UTF-8 bytes b[from, to) as UTF-16 units into out[at…] (or only counted when out is null). */
function decodeUtf8(b: Uint8Array, from: number, to: number, out: Uint16Array | null, at: number): number {
  let k = at;
  for (let i = from; i < to; ) {
    const c = b[i]!;
    let cp: number;
    if (c < 0x80) {
      cp = c;
      i += 1;
    } else if (c < 0xe0) {
      cp = ((c & 0x1f) << 6) | (b[i + 1]! & 0x3f);
      i += 2;
    } else if (c < 0xf0) {
      cp = ((c & 0x0f) << 12) | ((b[i + 1]! & 0x3f) << 6) | (b[i + 2]! & 0x3f);
      i += 3;
    } else {
      cp = ((c & 0x07) << 18) | ((b[i + 1]! & 0x3f) << 12) | ((b[i + 2]! & 0x3f) << 6) | (b[i + 3]! & 0x3f);
      i += 4;
    }
    if (cp > 0xffff) {
      if (out) {
        out[k] = 0xd800 + ((cp - 0x10000) >> 10);
        out[k + 1] = 0xdc00 + ((cp - 0x10000) & 0x3ff);
      }
      k += 2;
    } else {
      if (out) out[k] = cp;
      k += 1;
    }
  }
  return k - at;
}

/** jieba's dictionary: word → frequency, as a pool of UTF-16 units and a hash table over it. */
export class CompactDictionary {
  private pool: Uint16Array;
  private readonly start: Int32Array;
  private readonly len: Uint16Array;
  /** Index of each word's ln(freq) in `logs` (a dictionary has a few thousand distinct frequencies). */
  private readonly freqIdx: Uint16Array;
  private readonly logs: Float64Array;
  private readonly table: Int32Array;
  private readonly mask: number;
  readonly size: number;
  readonly logTotal: number;
  /** Longest word, in UTF-16 units: no prefix search looks further. */
  readonly maxUnits: number;
  /**
   * Longest word starting with each UTF-16 unit (64 KB): a prefix search from 的 stops after four
   * units instead of trying all sixteen, which most characters' words never reach.
   */
  private readonly longestFrom = new Uint8Array(0x10000);

  /**
   * Parses jieba's `word freq [tag]` lines straight from the file's bytes (no decoded copy of the
   * 5 MB file: this runs in the capture worker while OCR holds its most memory). A word given twice
   * keeps its last frequency and a missing frequency is 0, as in jieba.
   */
  constructor(dictFile: Uint8Array) {
    // First pass: how many entries and UTF-16 units, so each array is allocated once at its size.
    let lines = 0;
    let units = 0;
    forEachEntry(dictFile, (ws, we) => {
      lines++;
      units += decodeUtf8(dictFile, ws, we, null, 0);
    });
    this.pool = new Uint16Array(units);
    this.start = new Int32Array(lines);
    this.len = new Uint16Array(lines);
    this.freqIdx = new Uint16Array(lines);
    let cap = 1;
    while (cap < lines * 2) cap <<= 1; // load ≤ 0.5: a miss (the usual probe) ends within ~2 slots
    this.table = new Int32Array(cap);
    this.mask = cap - 1;
    const wordFreq = new Float64Array(lines);
    let poolEnd = 0;
    let n = 0;
    let maxUnits = 0;
    forEachEntry(dictFile, (ws, we, fs, fe) => {
      const length = decodeUtf8(dictFile, ws, we, this.pool, poolEnd);
      let freq = 0;
      for (let i = fs; i < fe; i++) {
        const d = dictFile[i]! - 48;
        if (d < 0 || d > 9) throw new Error(`jieba dictionary: bad frequency at byte ${fs}`);
        freq = freq * 10 + d;
      }
      if (length > 0xffff) throw new Error(`jieba dictionary: a word of ${length} characters at byte ${ws}`);
      const h = this.hashUnits(this.pool, poolEnd, length);
      let slot = h & this.mask;
      for (let id = this.table[slot]! - 1; id >= 0; id = this.table[slot]! - 1) {
        if (this.len[id] === length && this.samePooled(this.start[id]!, poolEnd, length)) {
          wordFreq[id] = freq;
          return;
        }
        slot = (slot + 1) & this.mask;
      }
      this.table[slot] = n + 1;
      this.start[n] = poolEnd;
      this.len[n] = length;
      wordFreq[n] = freq;
      poolEnd += length;
      if (length > maxUnits) maxUnits = length;
      const first = this.pool[poolEnd - length]!;
      if (length > this.longestFrom[first]!) this.longestFrom[first] = Math.min(length, 255);
      n++;
    });
    if (poolEnd < units) this.pool = this.pool.slice(0, poolEnd);
    const freqs: number[] = [];
    const freqSlot = new Map<number, number>();
    let total = 0;
    for (let i = 0; i < n; i++) {
      const f = wordFreq[i]!;
      total += f;
      let s = freqSlot.get(f);
      if (s === undefined) {
        s = freqs.length;
        freqSlot.set(f, s);
        freqs.push(f);
      }
      this.freqIdx[i] = s;
    }
    if (freqs.length > 0xffff) throw new Error('jieba dictionary: too many distinct frequencies');
    // ln(0) is -Infinity, as in jieba (a word of frequency 0 is never chosen over another).
    this.logs = Float64Array.from(freqs, (f) => (f === 0 ? -Infinity : exactLn(f)));
    this.size = n;
    this.logTotal = total === 0 ? -Infinity : exactLn(total);
    this.maxUnits = maxUnits;
  }

  private samePooled(a: number, b: number, length: number): boolean {
    for (let i = 0; i < length; i++) if (this.pool[a + i] !== this.pool[b + i]) return false;
    return true;
  }

  private hashUnits(units: ArrayLike<number>, from: number, length: number): number {
    let h = FNV_OFFSET;
    for (let i = 0; i < length; i++) h = Math.imul(h ^ units[from + i]!, FNV_PRIME);
    return h ^ (h >>> 15);
  }

  /** Word id of text[from, from+length), or -1. */
  private find(text: string, from: number, length: number): number {
    let h = FNV_OFFSET;
    for (let i = 0; i < length; i++) h = Math.imul(h ^ text.charCodeAt(from + i), FNV_PRIME);
    return this.probe(text, from, length, h);
  }

  private probe(text: string, from: number, length: number, h: number): number {
    let slot = (h ^ (h >>> 15)) & this.mask;
    for (;;) {
      const id = this.table[slot]! - 1;
      if (id < 0) return -1;
      if (this.len[id] === length) {
        const s = this.start[id]!;
        let i = 0;
        while (i < length && this.pool[s + i] === text.charCodeAt(from + i)) i++;
        if (i === length) return id;
      }
      slot = (slot + 1) & this.mask;
    }
  }

  /** Word id of text[from, to) in UTF-16 units, or -1. */
  lookup(text: string, from: number, to: number): number {
    return this.find(text, from, to - from);
  }

  has(word: string): boolean {
    return this.find(word, 0, word.length) >= 0;
  }

  logFreq(id: number): number {
    return this.logs[this.freqIdx[id]!]!;
  }

  /**
   * The dictionary words that start at text[from] and end at a character boundary no later than
   * `limit`, shortest first: their ends (UTF-16 units) and ids into `ends` and `ids` (room for
   * maxUnits), and how many there are.
   */
  prefixes(text: string, from: number, limit: number, ends: Int32Array, ids: Int32Array): number {
    const longest = this.longestFrom[text.charCodeAt(from)]!;
    const stop = Math.min(limit, from + (longest === 255 ? this.maxUnits : longest));
    let h = FNV_OFFSET;
    let n = 0;
    for (let end = from; end < stop; ) {
      const c = text.charCodeAt(end);
      h = Math.imul(h ^ c, FNV_PRIME);
      end++;
      // A word never ends between the halves of a surrogate pair.
      if (c >= 0xd800 && c <= 0xdbff && end < stop) continue;
      const id = this.probe(text, from, end - from, h);
      if (id >= 0) {
        ends[n] = end;
        ids[n++] = id;
      }
    }
    return n;
  }
}

const isHigh = (c: number): boolean => c >= 0xd800 && c <= 0xdbff;
const isLow = (c: number): boolean => c >= 0xdc00 && c <= 0xdfff;
const SURROGATE = /[\ud800-\udfff]/;

export class Segmenter {
  // Scratch for one block, grown as needed and reused: a page has hundreds of short blocks.
  // Indexed by UTF-16 unit; only units that start a character are used.
  private prob = new Float64Array(256);
  private next = new Int32Array(256);
  private readonly ends: Int32Array;
  private readonly ids: Int32Array;

  constructor(
    private readonly dict: CompactDictionary,
    private readonly cutRuns: RunCutter,
  ) {
    this.ends = new Int32Array(dict.maxUnits + 1);
    this.ids = new Int32Array(dict.maxUnits + 1);
  }

  /** jieba `cut(text, hmm = true)`. */
  cut(text: string): string[] {
    const words: string[] = [];
    // Unknown runs wait for the HMM, all of a text's in one call: `runAt[r]` is where run r's
    // words go in `words` (an empty placeholder there until then).
    const runs: string[] = [];
    const runAt: number[] = [];
    this.segment(text, words, runs, runAt);
    if (runs.length === 0) return words;
    const cutRuns = this.cutRuns(runs);
    if (cutRuns.length !== runs.length) throw new Error(`segmenter: ${runs.length} unknown runs, ${cutRuns.length} cut`);
    const out: string[] = [];
    let from = 0;
    runAt.forEach((at, r) => {
      for (let i = from; i < at; i++) out.push(words[i]!);
      for (const w of cutRuns[r]!) out.push(w);
      from = at + 1;
    });
    for (let i = from; i < words.length; i++) out.push(words[i]!);
    return out;
  }

  /** jieba `cut_for_search(text, hmm = true)`: each token preceded by its 2- and 3-character dictionary words. */
  cutForSearch(text: string): string[] {
    const out: string[] = [];
    const dict = this.dict;
    for (const w of this.cut(text)) {
      // Two units are at most two characters: no 2- or 3-grams to add.
      if (w.length > 2) {
        if (!SURROGATE.test(w)) {
          for (let i = 0; i + 2 <= w.length; i++) if (dict.lookup(w, i, i + 2) >= 0) out.push(w.slice(i, i + 2));
          if (w.length > 3) for (let i = 0; i + 3 <= w.length; i++) if (dict.lookup(w, i, i + 3) >= 0) out.push(w.slice(i, i + 3));
        } else {
          const chars = [...w];
          if (chars.length > 2) {
            for (let i = 0; i + 2 <= chars.length; i++) {
              const g = chars[i]! + chars[i + 1]!;
              if (dict.has(g)) out.push(g);
            }
          }
          if (chars.length > 3) {
            for (let i = 0; i + 3 <= chars.length; i++) {
              const g = chars[i]! + chars[i + 1]! + chars[i + 2]!;
              if (dict.has(g)) out.push(g);
            }
          }
        }
      }
      out.push(w);
    }
    return out;
  }

  private segment(text: string, words: string[], runs: string[], runAt: number[]): void {
    let i = 0;
    while (i < text.length) {
      const cp = text.codePointAt(i)!;
      const han = isHanDefault(cp);
      let j = i + (cp > 0xffff ? 2 : 1);
      while (j < text.length) {
        const c = text.codePointAt(j)!;
        if (isHanDefault(c) !== han) break;
        j += c > 0xffff ? 2 : 1;
      }
      if (han) this.segmentBlock(text.slice(i, j), words, runs, runAt);
      else {
        for (let k = i; k < j; ) {
          const c = text.codePointAt(k)!;
          const w = c === 13 && text.charCodeAt(k + 1) === 10 ? 2 : c > 0xffff ? 2 : 1;
          words.push(text.slice(k, k + w));
          k += w;
        }
      }
      i = j;
    }
  }

  /** Route over the block's DAG, then the gathering of single characters (steps 2 and 3 above). */
  private segmentBlock(block: string, words: string[], runs: string[], runAt: number[]): void {
    const len = block.length;
    if (this.prob.length < len + 1) {
      this.prob = new Float64Array(2 * len + 2);
      this.next = new Int32Array(2 * len + 2);
    }
    const { prob, next, ends, ids, dict } = this;
    const lt = dict.logTotal;
    // The unit after the character at u.
    const step = (u: number): number => (isHigh(block.charCodeAt(u)) && isLow(block.charCodeAt(u + 1)) ? u + 2 : u + 1);
    prob[len] = 0;
    for (let u = len - 1; u >= 0; u--) {
      if (isLow(block.charCodeAt(u)) && u > 0 && isHigh(block.charCodeAt(u - 1))) continue;
      const n = dict.prefixes(block, u, len, ends, ids);
      let bestProb = 0;
      let bestEnd = -1;
      for (let k = 0; k < n; k++) {
        const end = ends[k]!;
        const p = dict.logFreq(ids[k]!) - lt + prob[end]!;
        if (bestEnd < 0 || p > bestProb || (p === bestProb && end > bestEnd)) {
          bestProb = p;
          bestEnd = end;
        }
      }
      if (bestEnd < 0) {
        bestEnd = step(u);
        bestProb = 0 - lt + prob[bestEnd]!;
      }
      prob[u] = bestProb;
      next[u] = bestEnd;
    }

    let left = -1;
    const flush = (from: number, to: number): void => {
      if (step(from) === to) words.push(block.slice(from, to));
      else if (dict.lookup(block, from, to) < 0) {
        runAt.push(words.length);
        runs.push(block.slice(from, to));
        words.push('');
      } else for (let u = from; u < to; u = step(u)) words.push(block.slice(u, step(u)));
    };
    for (let u = 0; u < len; ) {
      const end = next[u]!;
      if (end === step(u)) {
        if (left < 0) left = u;
      } else {
        if (left >= 0) flush(left, u);
        left = -1;
        words.push(block.slice(u, end));
      }
      u = end;
    }
    if (left >= 0) flush(left, len);
  }
}
