/**
 * An immutable index segment: the items it covers (filter/facet fields in clear, persons only as
 * blind-index hashes), its pages (item, page number, length) and, per term hash, a posting list
 * of (page, tf[, positions]) as varints. Segments are written once and never updated, which is
 * what makes them safe on a database without transactions or atomic read-modify-write: a new
 * version of an item is a new segment, and the log says which version is current.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { PageTokens, TokenHasher } from './tokenize';

export interface SegItem {
  id: string;
  fonds: string;
  title: string | null;
  code: string | null;
  documentType: string | null;
  category: string | null;
  insurance: string[];
  retention: string | null;
  year: number | null;
  date: string | null;
  access: number;
  /** blind-index hashes of the persons' ID numbers and names */
  pids: string[];
  names: string[];
}

export interface SegmentInputPage {
  item: number;
  page: number;
  tokens: PageTokens;
}

export interface Segment {
  items: SegItem[];
  terms: Float64Array;
  offsets: Uint32Array;
  positional: Uint8Array;
  /** postings per term: lets a query judge a term's rarity before decoding it */
  df: Uint32Array;
  docItem: Uint32Array;
  docPage: Uint32Array;
  docLen: Uint32Array;
  postings: Buffer;
}

/** Growable byte buffer for varints. Values stay below 2^28 (pages, positions, tf), so decoding can use 32-bit shifts. */
function varintSize(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : 4;
}

class VarintWriter {
  buf = Buffer.allocUnsafe(1 << 20);
  n = 0;
  put(v: number): void {
    if (this.n + 5 > this.buf.length) {
      const b = Buffer.allocUnsafe(this.buf.length * 2);
      this.buf.copy(b, 0, 0, this.n);
      this.buf = b;
    }
    while (v > 0x7f) {
      this.buf[this.n++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[this.n++] = v;
  }
}

/** A growable Int32Array. */
/** A growable list of 32-bit integers (doubling), read back as `a.subarray(0, n)`. */
export class IntList {
  a: Int32Array;
  n = 0;
  constructor(cap: number) {
    this.a = new Int32Array(cap);
  }
  push(v: number): void {
    if (this.n === this.a.length) {
      const b = new Int32Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = v;
  }
}

export function buildSegment(items: SegItem[], pages: SegmentInputPage[], hasher: TokenHasher): Segment {
  hasher.trim();
  const docItem = new Uint32Array(pages.length);
  const docPage = new Uint32Array(pages.length);
  const docLen = new Uint32Array(pages.length);
  // Two passes over the pages' tokens into one flat array, instead of a growing JS array per
  // term (garbage the collector spent as long on as the build itself). Pass 1 numbers the terms
  // in order of first occurrence and sizes each term's [doc, tf, pos…] entries; pass 2 writes them.
  const local = new Map<number, number>();
  const termOf = new IntList(1 << 14);
  const isPos = new IntList(1 << 14);
  const size = new IntList(1 << 14);
  const seq = new IntList(1 << 16);
  const localOf = (t: number, pos: number): number => {
    let lt = local.get(t);
    if (lt === undefined) {
      lt = termOf.n;
      local.set(t, lt);
      termOf.push(t);
      isPos.push(pos);
      size.push(0);
    }
    seq.push(lt);
    return lt;
  };
  pages.forEach((p, doc) => {
    docItem[doc] = p.item;
    docPage[doc] = p.page;
    docLen[doc] = p.tokens.length;
    // (The term's number first: localOf may grow size.a, which must then be read afresh.)
    for (const [key, positions] of p.tokens.bigrams) {
      const lt = localOf(hasher.pairTerm('b', key), 1);
      size.a[lt]! += 2 + positions.length;
    }
    for (const key of p.tokens.skips.keys()) {
      const lt = localOf(hasher.pairTerm('s', key), 0);
      size.a[lt]! += 2;
    }
    for (const tok of p.tokens.words.keys()) {
      const lt = localOf(hasher.term(tok), 0);
      size.a[lt]! += 2;
    }
  });
  const T = termOf.n;
  const start = new Int32Array(T + 1);
  for (let lt = 0; lt < T; lt++) start[lt + 1] = start[lt]! + size.a[lt]!;
  const data = new Int32Array(start[T]!);
  const at = start.slice(0, T);
  let k = 0;
  pages.forEach((p, doc) => {
    for (const positions of p.tokens.bigrams.values()) {
      const lt = seq.a[k++]!;
      let w = at[lt]!;
      data[w++] = doc;
      data[w++] = positions.length;
      for (const x of positions) data[w++] = x;
      at[lt] = w;
    }
    for (const tf of p.tokens.skips.values()) {
      const lt = seq.a[k++]!;
      data[at[lt]!] = doc;
      data[at[lt]! + 1] = tf;
      at[lt]! += 2;
    }
    for (const tf of p.tokens.words.values()) {
      const lt = seq.a[k++]!;
      data[at[lt]!] = doc;
      data[at[lt]! + 1] = tf;
      at[lt]! += 2;
    }
  });
  // Terms by hash (a stable sort: equal hashes keep their first-occurrence order).
  const order = Array.from({ length: T }, (_, lt) => lt).sort((a, b) => hasher.termHash(termOf.a[a]!) - hasher.termHash(termOf.a[b]!));
  const terms = Float64Array.from(order, (lt) => hasher.termHash(termOf.a[lt]!));
  const offsets = new Uint32Array(terms.length + 1);
  const positional = new Uint8Array(terms.length);
  const df = new Uint32Array(terms.length);
  const w = new VarintWriter();
  order.forEach((lt, i) => {
    const pos = isPos.a[lt] === 1;
    positional[i] = pos ? 1 : 0;
    const end = start[lt + 1]!;
    let prevDoc = -1;
    for (let k = start[lt]!; k < end; ) {
      const doc = data[k++]!;
      const tf = data[k++]!;
      w.put(doc - prevDoc - 1);
      w.put(tf);
      df[i]!++;
      prevDoc = doc;
      if (pos) {
        // The block's byte length first, so a query that needs no positions jumps over them.
        let len = 0;
        let prev = 0;
        for (let j = 0; j < tf; j++) {
          len += varintSize(data[k + j]! - prev);
          prev = data[k + j]!;
        }
        w.put(len);
        prev = 0;
        for (let j = 0; j < tf; j++) {
          const p = data[k++]!;
          w.put(p - prev);
          prev = p;
        }
      }
    }
    offsets[i + 1] = w.n;
  });
  return { items, terms, offsets, positional, df, docItem, docPage, docLen, postings: Buffer.from(w.buf.subarray(0, w.n)) };
}

export interface Posting {
  doc: number;
  tf: number;
  positions: number[] | null;
}

function termIndex(seg: Segment, hash: number): number {
  let lo = 0;
  let hi = seg.terms.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = seg.terms[mid]!;
    if (v === hash) return mid;
    if (v < hash) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** Calls fn for every posting of a term; returns the posting count (the segment's df). */
export function forEachPosting(seg: Segment, hash: number, fn: (doc: number, tf: number, positions: number[] | null) => void): number {
  const i = termIndex(seg, hash);
  if (i < 0) return 0;
  const c = new PostingCursor(seg, i);
  let n = 0;
  while (c.next()) {
    fn(c.doc, c.tf, c.positional ? c.positions() : null);
    n++;
  }
  return n;
}

/**
 * One term's postings, read in order without allocating: per page the delta-coded page number,
 * its term frequency and, for a positional term, the byte length of its delta-coded positions
 * (the format buildSegment writes). Every reader of postings goes through it. After next(),
 * `doc` and `tf` describe the posting; its positions are read only if asked for, else skipped.
 */
class PostingCursor {
  private readonly buf: Uint8Array;
  private readonly end: number;
  readonly positional: boolean;
  private at: number;
  /** Where the current posting ends (its positions included): the next one starts there. */
  posEnd: number;
  doc = -1;
  tf = 0;

  constructor(seg: Segment, i: number) {
    this.buf = seg.postings;
    this.at = this.posEnd = seg.offsets[i]!;
    this.end = seg.offsets[i + 1]!;
    this.positional = seg.positional[i] === 1;
  }

  get done(): boolean {
    return this.posEnd >= this.end;
  }

  private varint(): number {
    const buf = this.buf;
    let b = buf[this.at++]!;
    if (b < 0x80) return b; // most deltas, counts and lengths fit one byte
    let v = b & 0x7f;
    let shift = 7;
    do {
      b = buf[this.at++]!;
      v |= (b & 0x7f) << shift;
      shift += 7;
    } while (b & 0x80);
    return v;
  }

  /** Moves to the next posting; false at the end of the list. */
  next(): boolean {
    if (this.posEnd >= this.end) return false;
    this.at = this.posEnd;
    this.doc += this.varint() + 1;
    this.tf = this.varint();
    const len = this.positional ? this.varint() : 0;
    this.posEnd = this.at + len;
    return true;
  }

  /** Continues from a skip entry: the posting that starts at byte `at`, after page `doc`. */
  jumpTo(at: number, doc: number): void {
    this.posEnd = at;
    this.doc = doc;
  }

  /** The current posting's positions, appended to `pool`. */
  pushPositions(pool: PositionPool): void {
    let p = 0;
    for (let j = 0; j < this.tf; j++) pool.push((p += this.varint()));
  }

  positions(): number[] {
    const out = new Array<number>(this.tf);
    let p = 0;
    for (let j = 0; j < this.tf; j++) out[j] = p += this.varint();
    return out;
  }
}

// ---- serialisation: one deflated buffer, split into chunks by the store ----

const MAGIC = 'SSG2';

/** A segment's nine sections in their stored order (both forms below): the items' JSON, then the arrays' bytes as they are. */
function segmentSections(seg: Segment): Buffer[] {
  const view = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  return [Buffer.from(JSON.stringify({ items: seg.items }), 'utf8'), view(seg.terms), view(seg.offsets), view(seg.positional), view(seg.df), view(seg.docItem), view(seg.docPage), view(seg.docLen), seg.postings];
}

export function encodeSegment(seg: Segment): Buffer {
  const sections = segmentSections(seg);
  const lens = Buffer.alloc(4 * sections.length);
  sections.forEach((s, i) => lens.writeUInt32LE(s.length, i * 4));
  // Level 1: the varints are already dense; higher levels cost indexing time for a few percent.
  return deflateRawSync(Buffer.concat([Buffer.from(MAGIC), lens, ...sections]), { level: 1 });
}

export function decodeSegment(data: Buffer): Segment {
  const raw = inflateRawSync(data);
  if (raw.subarray(0, 4).toString() !== MAGIC) throw new Error('not a search segment');
  const n = 9;
  const lens = Array.from({ length: n }, (_, i) => raw.readUInt32LE(4 + i * 4));
  let at = 4 + 4 * n;
  const take = (i: number): Buffer => {
    const b = raw.subarray(at, at + lens[i]!);
    at += lens[i]!;
    return b;
  };
  // Copies give the typed arrays aligned buffers of their own.
  const copy = <T>(b: Buffer, C: { new (ab: ArrayBuffer): T }): T => {
    const ab = new ArrayBuffer(b.length);
    new Uint8Array(ab).set(b);
    return new C(ab);
  };
  const header = JSON.parse(take(0).toString('utf8')) as { items: SegItem[] };
  return {
    items: header.items,
    terms: copy(take(1), Float64Array),
    offsets: copy(take(2), Uint32Array),
    positional: copy(take(3), Uint8Array),
    df: copy(take(4), Uint32Array),
    docItem: copy(take(5), Uint32Array),
    docPage: copy(take(6), Uint32Array),
    docLen: copy(take(7), Uint32Array),
    postings: Buffer.from(take(8)),
  };
}

// ---- the snapshot mirror's form (snapshot.ts): the same sections, not deflated, 8-byte aligned ----
//
// A process starting from a snapshot reads every mirror: inflating and copying them cost more
// than the bytes saved (the blob store is local and decrypts at GB/s). Aligned sections let the
// typed arrays view the buffer as read, without a copy.

const RAW_MAGIC = 'SSR1';

export function encodeSegmentRaw(seg: Segment): Buffer {
  const sections = segmentSections(seg);
  const pad = (n: number) => (8 - (n % 8)) % 8;
  const head = Buffer.alloc(8 + 8 * sections.length);
  head.write(RAW_MAGIC, 0);
  sections.forEach((x, i) => head.writeUInt32LE(x.length, 8 + i * 8));
  const parts: Buffer[] = [head];
  for (const x of sections) parts.push(x, Buffer.alloc(pad(x.length)));
  return Buffer.concat(parts);
}

/** Decodes a mirror: the raw form above, or a segment as the database stores it (deflated). */
export function decodeMirror(data: Buffer): Segment {
  if (data.length < 8 || data.toString('latin1', 0, 4) !== RAW_MAGIC) return decodeSegment(data);
  const n = 9;
  const lens = Array.from({ length: n }, (_, i) => data.readUInt32LE(8 + i * 8));
  // Views need the sections 8-byte aligned in memory, not only in the file: copy once if not.
  const buf = data.byteOffset % 8 === 0 ? data : Buffer.from(data);
  const base = buf.byteOffset;
  let at = 8 + 8 * n;
  const take = (i: number): number => {
    const start = at;
    at += lens[i]! + ((8 - (lens[i]! % 8)) % 8);
    return start;
  };
  const header = JSON.parse(buf.toString('utf8', take(0), 8 + 8 * n + lens[0]!)) as { items: SegItem[] };
  const view = <T>(i: number, C: { new (ab: ArrayBufferLike, off: number, len: number): T; BYTES_PER_ELEMENT: number }): T => new C(buf.buffer, base + take(i), lens[i]! / C.BYTES_PER_ELEMENT);
  const terms = view(1, Float64Array);
  const offsets = view(2, Uint32Array);
  const positional = view(3, Uint8Array);
  const df = view(4, Uint32Array);
  const docItem = view(5, Uint32Array);
  const docPage = view(6, Uint32Array);
  const docLen = view(7, Uint32Array);
  const p = take(8);
  return { items: header.items, terms, offsets, positional, df, docItem, docPage, docLen, postings: buf.subarray(p, p + lens[8]!) };
}

/** Positions decoded by scanPostings, appended to one growable buffer instead of an array each. */
export class PositionPool extends IntList {
  constructor() {
    super(1 << 16);
  }
}

/**
 * The query-path decoder: skips documents whose item is not live without materialising their
 * positions, and appends the positions of the rest to `pool` (posAt = -1 for non-positional terms).
 * With `only`, pages where it is 0 are skipped the same way (a phrase's rarest bigram picks them).
 */
export function scanPostings(
  seg: Segment,
  hash: number,
  live: Uint8Array,
  pool: PositionPool,
  withPositions: boolean,
  fn: (doc: number, tf: number, posAt: number) => void,
  only: Uint8Array | Int32Array | null = null,
): number {
  const i = termIndex(seg, hash);
  if (i < 0) return 0;
  let counted = 0;
  const c = new PostingCursor(seg, i);
  while (c.next()) {
    const doc = c.doc;
    const visible = live[seg.docItem[doc]!] === 1;
    if (visible) counted++;
    if (!visible || (only !== null && only[doc] === 0)) continue;
    let posAt = -1;
    if (c.positional && withPositions) {
      posAt = pool.n;
      c.pushPositions(pool);
    }
    fn(doc, c.tf, posAt);
  }
  return counted;
}

/**
 * Postings of a term on pages of items marked in `live`: its document frequency among the pages a
 * caller may see (postingCount counts every page, hidden and superseded ones included).
 */
export function countPostings(seg: Segment, hash: number, live: Uint8Array): number {
  const i = termIndex(seg, hash);
  if (i < 0) return 0;
  const c = new PostingCursor(seg, i);
  let n = 0;
  while (c.next()) if (live[seg.docItem[c.doc]!] === 1) n++;
  return n;
}

/** Postings of a term across segments (dead pages included): its rarity, before decoding. */
export function postingCount(seg: Segment, hash: number): number {
  const i = termIndex(seg, hash);
  return i < 0 ? 0 : seg.df[i]!;
}

/**
 * Skip entries of long posting lists, so that a query can read a common term's postings on a few
 * given pages without decoding the whole list (rank.ts: a clause evaluated only on the pages of
 * the items another, rarer clause matched). Every SKIP_EVERY-th posting: its byte offset and the
 * page of the posting before it. Built on first use from one pass over the list; segments are
 * immutable, so a table never goes stale. Short lists get none (reading them whole is as cheap).
 */
const SKIP_EVERY = 64;
const SKIP_MIN_DF = 4 * SKIP_EVERY;
const skipTables = new WeakMap<Segment, Map<number, Int32Array>>();

function skipTable(seg: Segment, i: number): Int32Array {
  let m = skipTables.get(seg);
  if (!m) skipTables.set(seg, (m = new Map()));
  const hit = m.get(i);
  if (hit) return hit;
  const c = new PostingCursor(seg, i);
  const out = new Int32Array(2 * Math.ceil(seg.df[i]! / SKIP_EVERY));
  for (let p = 0; !c.done; p++) {
    if (p % SKIP_EVERY === 0) {
      out[2 * (p / SKIP_EVERY)] = c.posEnd;
      out[2 * (p / SKIP_EVERY) + 1] = c.doc;
    }
    c.next();
  }
  m.set(i, out);
  return out;
}

/**
 * scanPostings restricted to the pages `docs[0..n)` (ascending, this segment's numbering): the
 * postings of those pages only, found through the skip table, so the cost follows the number of
 * pages asked for rather than the length of the list. Returns nothing: the caller takes document
 * frequencies from counts over the whole list (rank.ts), not from what it read here.
 */
export function scanPostingsAt(
  seg: Segment,
  hash: number,
  live: Uint8Array,
  pool: PositionPool,
  withPositions: boolean,
  fn: (doc: number, tf: number, posAt: number) => void,
  docs: Int32Array,
  n: number,
): void {
  const i = termIndex(seg, hash);
  if (i < 0 || n === 0) return;
  const c = new PostingCursor(seg, i);
  const skip = seg.df[i]! >= SKIP_MIN_DF ? skipTable(seg, i) : null;
  const blocks = skip ? skip.length >> 1 : 0;
  let block = 0;
  let p = 0;
  let k = 0;
  while (!c.done && k < n) {
    const target = docs[k]!;
    if (skip && c.doc < target - 1) {
      // Jump to the last block whose preceding page is before the target, if that is ahead.
      let j = block;
      while (j + 1 < blocks && skip[2 * (j + 1) + 1]! < target) j++;
      if (j > block) {
        block = j;
        c.jumpTo(skip[2 * j]!, skip[2 * j + 1]!);
        p = j * SKIP_EVERY;
      }
    }
    c.next();
    const doc = c.doc;
    p++;
    if (p % SKIP_EVERY === 0) block = p / SKIP_EVERY;
    while (k < n && docs[k]! < doc) k++;
    if (k < n && docs[k] === doc && live[seg.docItem[doc]!] === 1) {
      let posAt = -1;
      if (c.positional && withPositions) {
        posAt = pool.n;
        c.pushPositions(pool);
      }
      fn(doc, c.tf, posAt);
      k++;
    }
  }
}
