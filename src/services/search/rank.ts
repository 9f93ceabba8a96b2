/**
 * Matching and ranking. Each clause is scored per page with BM25 over its tokens (bigrams,
 * skip-bigrams, the jieba word, or the exact code). A clause occurs exactly when its bigrams sit
 * at consecutive positions; otherwise it may still match fuzzily — enough of its bigrams and
 * skip-bigrams present that at most one character was misread — at a fraction of the score, so
 * exact hits rank first. Items must match every clause (on any page); clauses of one unquoted
 * chunk that sit close together on a page earn a proximity bonus, and a clause that is exactly a
 * person's ID number or name (by blind index) earns a large one.
 *
 * Scores live in flat typed arrays over the engine-wide page and item numbering: a common word
 * matches most of the archive, and per-page objects made the garbage collector the bottleneck.
 */
import type { LoadedSegment, SearchEngine } from './engine';
import type { Clause } from './query';
import { countPostings, PositionPool, postingCount, scanPostings, scanPostingsAt } from './segment';
import { bigramsOf, skipgramsOf, type TokenHasher } from './tokenize';

/** BM25 and boost weights, shared with the OpenSearch backend (opensearch.ts) so both order results alike. */
export const RANK_WEIGHTS = { K1: 1.2, B: 0.75, FUZZY_WEIGHT: 0.35, PERSON_BOOST: 8 } as const;
const { K1, B, FUZZY_WEIGHT, PERSON_BOOST } = RANK_WEIGHTS;
/**
 * A clause is common, matched by its bigrams' presence without positions or fuzzy matching, when
 * every bigram is on more than max(FUZZY_MAX_DF, FUZZY_MAX_SHARE × pages) pages of the caller's
 * view (shared with opensearch.ts, which decides the same way from its scoped counts).
 */
export const COMMON_LINE = { FUZZY_MAX_DF: 500, FUZZY_MAX_SHARE: 0.02 } as const;
const { FUZZY_MAX_DF, FUZZY_MAX_SHARE } = COMMON_LINE;
const CACHE_ENTRIES = 64;
const CACHE_MIN_ITEMS = 1000;
/** Above this many candidate items, rank() first asks which segments hold a clause's person at all. */
const BOOST_PRECHECK_ITEMS = 2000;
/**
 * A clause is evaluated only on the pages of the items the clauses before it matched when its
 * postings outnumber those pages this many times (reading a page's postings through the skip
 * table costs about a block's decoding; a whole list is cheaper when the pages are many).
 */
export const RANK_TUNING = { restrictRatio: 32 }; // a spec sets Infinity to get whole evaluations to compare with
/** Document frequencies kept per view (scope and index version); the oldest half goes when full. */
const VIEW_COUNTS_MAX = 8192;
/** Above this share of the index's pages a clause's results are kept in dense arrays, below in maps. */
const DENSE_SHARE = 1 / 16;

export interface RankContext {
  engine: SearchEngine;
  hasher: TokenHasher;
  /** What the caller may see: matching, counting and every ranking statistic stay inside it. */
  view: RankView;
}

/**
 * The caller's view of the index (their fonds and clearance, current versions only): per loaded
 * segment, 1 for each item they may see, and the page count and total length of those items.
 * BM25's N, average length and document frequencies are taken over this view only, so a score
 * says nothing about pages the caller cannot see (issue #13.6: with archive-wide statistics, the
 * score of an ID-number query revealed how many hidden pages held that number).
 */
export interface RankView {
  key: string;
  masks: Map<number, Uint8Array>;
  /** segments whose every item is in the view: their stored posting counts are exact */
  whole: Set<number>;
  docs: number;
  len: number;
  /**
   * Document frequencies of terms within this view, as counted (countPostings reads a whole list:
   * hundreds of thousands of postings for a common bigram at a million pages). The view belongs
   * to one scope and one index version (engine.viewOf makes a new one on any change), so a count
   * is never served to another scope nor after a change.
   */
  counts?: Map<number, number>;
}

/** A term's document frequency within the view: stored counts for whole segments, counted (once per view) otherwise. */
function viewCount(e: SearchEngine, view: RankView, hash: number): number {
  let exactFromStore = true;
  for (const l of e.segs.values()) if (!view.whole.has(l.id)) exactFromStore = false;
  if (exactFromStore) {
    let n = 0;
    for (const l of e.segs.values()) n += postingCount(l.seg, hash);
    return n;
  }
  const m = (view.counts ??= new Map());
  const hit = m.get(hash);
  if (hit !== undefined) return hit;
  let n = 0;
  for (const l of e.segs.values()) n += view.whole.has(l.id) ? postingCount(l.seg, hash) : countPostings(l.seg, hash, view.masks.get(l.id) ?? l.live);
  if (m.size >= VIEW_COUNTS_MAX) {
    let drop = m.size >> 1;
    for (const k of m.keys()) {
      if (drop-- <= 0) break;
      m.delete(k);
    }
  }
  m.set(hash, n);
  return n;
}

/**
 * The matched items as parallel typed arrays (engine-wide item numbers, scores, exactness): a
 * common word matches tens of thousands of items, and an object per item was garbage for the
 * collector on every query.
 */
export interface Ranking {
  count: number;
  items: Int32Array;
  scores: Float64Array;
  exact: Uint8Array;
  /** the loaded segment and index within it of an engine-wide item number */
  locate: (it: number) => { l: LoadedSegment; idx: number };
  /** pages of a matched item with hits, best first (computed for the returned window only) */
  pagesOf: (it: number) => number[];
}

/**
 * Per clause: score and first exact start per page (engine-wide doc number), best score and
 * exactness per item. Dense arrays over the whole index when the clause matches much of it (a
 * common word), maps otherwise: dense arrays cost ≈14 MB per clause at a million pages, for a
 * name that matches a handful of pages, and their allocation drove the garbage collector.
 */
class ClauseResult {
  items: number[] = [];
  /** whether docStart was computed (positions read); without it the clause adds no proximity */
  positioned = false;
  /** true when evaluated only on some items' pages (rank.ts: never cached, never a driver for others) */
  restricted = false;
  private readonly dScore: Float32Array | null;
  private readonly dStart: Int32Array | null;
  private readonly iScore: Float32Array | null;
  private readonly iExact: Uint8Array | null;
  private readonly sDoc: Map<number, number> | null;
  private readonly sItem: Map<number, number> | null;
  constructor(e: SearchEngine, pages: number, positioned: boolean) {
    const dense = pages > e.docSpace * DENSE_SHARE;
    this.positioned = positioned;
    this.dScore = dense ? new Float32Array(e.docSpace) : null;
    // Without positions every start is "none": no array (a common word's result is dense).
    this.dStart = dense && positioned ? new Int32Array(e.docSpace) : null;
    this.iScore = dense ? new Float32Array(e.itemSpace) : null;
    this.iExact = dense ? new Uint8Array(e.itemSpace) : null;
    // Maps of (doc → slot), (item → slot) into small arrays would do as well; a float score and a
    // start (or exactness) packed in one number keeps it to one lookup.
    this.sDoc = dense ? null : new Map();
    this.sItem = dense ? null : new Map();
  }
  setDoc(g: number, score: number, start: number): void {
    if (this.dScore) {
      this.dScore[g] = score;
      if (this.dStart) this.dStart[g] = start + 1;
    } else this.sDoc!.set(g, pack(Math.fround(score), start + 1));
  }
  /** Records a page's score for its item: the item's best page counts; exact if any page is. */
  addItem(it: number, score: number, exact: boolean): void {
    if (this.iScore) {
      if (this.iScore[it] === 0) this.items.push(it);
      if (score > this.iScore[it]!) this.iScore[it] = score;
      if (exact) this.iExact![it] = 1;
      return;
    }
    const prev = this.sItem!.get(it);
    if (prev === undefined) this.items.push(it);
    const ps = prev === undefined ? 0 : unpackScore(prev);
    const pe = prev === undefined ? 0 : unpackTag(prev);
    this.sItem!.set(it, pack(Math.fround(score > ps ? score : ps), exact ? 1 : pe));
  }
  docScore(g: number): number {
    if (this.dScore) return this.dScore[g]!;
    const v = this.sDoc!.get(g);
    return v === undefined ? 0 : unpackScore(v);
  }
  /** first exact start + 1 on the page (0: none) */
  docStart(g: number): number {
    if (this.dStart) return this.dStart[g]!;
    if (this.dScore) return 0;
    const v = this.sDoc!.get(g);
    return v === undefined ? 0 : unpackTag(v);
  }
  /**
   * Keeps, in place, the items of `its[0..n)` this clause matched; returns how many and their
   * pages (`docsOf`: pages per item). A typed-array loop for a dense result: a common word's
   * items are hundreds of thousands, and a call per item was most of a repeated browse.
   */
  keepMatched(its: Int32Array, n: number, docsOf: Int32Array): { kept: number; pages: number } {
    let kept = 0;
    let pages = 0;
    const iS = this.iScore;
    for (let k = 0; k < n; k++) {
      const it = its[k]!;
      if ((iS ? iS[it]! : this.itemScore(it)) > 0) {
        its[kept++] = it;
        pages += docsOf[it]!;
      }
    }
    return { kept, pages };
  }
  /** Adds this clause's item scores to `scores` and clears `exacts` where it is not exact, item by item of `its`. */
  addScores(its: Int32Array, scores: Float64Array, exacts: Uint8Array): void {
    const iS = this.iScore;
    const iE = this.iExact;
    if (iS && iE) {
      for (let m = 0; m < its.length; m++) {
        const it = its[m]!;
        scores[m]! += iS[it]!;
        if (iE[it] !== 1) exacts[m] = 0;
      }
      return;
    }
    for (let m = 0; m < its.length; m++) {
      const v = this.sItem!.get(its[m]!);
      if (v === undefined) {
        exacts[m] = 0;
        continue;
      }
      scores[m]! += unpackScore(v);
      if (unpackTag(v) !== 1) exacts[m] = 0;
    }
  }
  itemScore(it: number): number {
    if (this.iScore) return this.iScore[it]!;
    const v = this.sItem!.get(it);
    return v === undefined ? 0 : unpackScore(v);
  }
  itemExact(it: number): boolean {
    if (this.iExact) return this.iExact[it] === 1;
    const v = this.sItem!.get(it);
    return v !== undefined && unpackTag(v) === 1;
  }
}

// A float32 score and a small non-negative integer (a start + 1 below 2^21, or a flag) in one
// double: the score's 32 bits times 2^21 plus the integer, exact below 2^53.
const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);
const TAG = 2 ** 21;
function pack(score: number, tag: number): number {
  F32[0] = score;
  return U32[0]! * TAG + Math.min(tag, TAG - 1);
}
function unpackScore(v: number): number {
  U32[0] = Math.floor(v / TAG);
  return F32[0]!;
}
function unpackTag(v: number): number {
  return v % TAG;
}

function clauseTokens(c: Clause): { tokens: string[]; bigrams: number; skips: number } {
  if (c.kind === 'code') return { tokens: [`x:${c.text}`], bigrams: 0, skips: 0 };
  if (c.chars.length === 1) return { tokens: [`w:${c.text}`], bigrams: 0, skips: 0 };
  const bg = bigramsOf(c.chars);
  const sk = skipgramsOf(c.chars);
  return { tokens: [...bg, ...sk, `w:${c.text}`], bigrams: bg.length, skips: sk.length };
}

/** First start position where every bigram of the clause follows the previous one, or -1. */
function exactStart(pool: Int32Array, posAt: Int32Array, tfs: Uint16Array, base: number, nBigrams: number): number {
  const a0 = posAt[base]!;
  if (a0 < 0) return -1;
  for (let k = 0; k < tfs[base]!; k++) {
    const s = pool[a0 + k]!;
    let ok = true;
    for (let i = 1; i < nBigrams && ok; i++) {
      const at = posAt[base + i]!;
      ok = false;
      if (at < 0) break;
      for (let j = 0; j < tfs[base + i]!; j++) {
        if (pool[at + j] === s + i) {
          ok = true;
          break;
        }
      }
    }
    if (ok) return s;
  }
  return -1;
}

/**
 * Clause results per engine state: the common words of an archive (养老保险, 待遇, 有限公司) recur
 * across users' queries and are the expensive ones. Any change to the index clears the cache.
 */
const caches = new WeakMap<SearchEngine, { version: number; m: Map<string, ClauseResult> }>();

function cacheOf(ctx: RankContext): Map<string, ClauseResult> {
  let cache = caches.get(ctx.engine);
  if (!cache || cache.version !== ctx.engine.version) caches.set(ctx.engine, (cache = { version: ctx.engine.version, m: new Map() }));
  return cache.m;
}
const cacheKey = (ctx: RankContext, c: Clause) => `${ctx.view.key}|${c.kind}|${c.exact || c.negate ? 1 : 0}|${c.text}`;

/** The clause's whole result if a query evaluated it lately (the cache is per view, see cacheKey). */
function cachedClause(ctx: RankContext, c: Clause): ClauseResult | null {
  return cacheOf(ctx).get(cacheKey(ctx, c)) ?? null;
}

/**
 * A clause on the given pages only (`cand`: per loaded segment, ascending page numbers): what
 * evalClause would give for those pages, never cached. See rank() for when this is used.
 */
function evalClauseOn(ctx: RankContext, c: Clause, cand: Map<number, { docs: Int32Array; n: number }>): ClauseResult {
  const r = evalClause(ctx, { ...c, exact: c.exact || c.negate }, cand);
  r.restricted = true;
  return r;
}

function evalClauseCached(ctx: RankContext, c: Clause): ClauseResult {
  const m = cacheOf(ctx);
  const key = cacheKey(ctx, c);
  const hit = m.get(key);
  if (hit) {
    m.delete(key);
    m.set(key, hit);
    return hit;
  }
  const cache = { m };
  const r = evalClause(ctx, { ...c, exact: c.exact || c.negate });
  // Only common clauses are worth a slot: rare ones (names, ID numbers) are cheap to recompute
  // and would push the common ones out.
  if (r.items.length >= CACHE_MIN_ITEMS) {
    if (cache.m.size >= CACHE_ENTRIES) cache.m.delete(cache.m.keys().next().value!);
    cache.m.set(key, r);
  }
  return r;
}

/**
 * Per engine: page (engine-wide number) → its slot in the clause being evaluated, 0 when none.
 * Evaluation is synchronous, so one array serves every query; it is all zero between clauses.
 */
const slotScratches = new WeakMap<SearchEngine, Int32Array>();

function slotScratch(e: SearchEngine): Int32Array {
  let a = slotScratches.get(e);
  if (!a || a.length < e.docSpace) slotScratches.set(e, (a = new Int32Array(Math.max(1024, e.docSpace + (e.docSpace >> 3)))));
  return a;
}

/** Per engine: the items still in the running during rank() (synchronous, so one array serves every query). */
const runningScratches = new WeakMap<SearchEngine, Int32Array>();

function runningScratch(e: SearchEngine, n: number): Int32Array {
  let a = runningScratches.get(e);
  if (!a || a.length < n) runningScratches.set(e, (a = new Int32Array(Math.max(1024, n + (n >> 2)))));
  return a;
}

/** Slots of the pages a clause's postings touch: per slot its segment, page, and per token tf and position start. */
class Slots {
  n = 0;
  /** per slot: index of its segment in the scan's order, and its page in the segment */
  seg: Int32Array;
  doc: Int32Array;
  tfs: Uint16Array;
  posAt: Int32Array;
  /**
   * `positions`: whether posAt is read (a clause matched without positions never reads it, and
   * filling it per slot was a tenth of a common word's evaluation).
   */
  constructor(
    private readonly T: number,
    private readonly positions: boolean,
  ) {
    this.seg = new Int32Array(256);
    this.doc = new Int32Array(256);
    this.tfs = new Uint16Array(256 * T);
    this.posAt = new Int32Array(positions ? 256 * T : 0);
  }

  /** A new slot (1-based) for a page: tfs 0, positions none (-1). */
  add(seg: number, doc: number): number {
    const T = this.T;
    const n = this.n;
    if (n === this.seg.length) {
      const grow = <A extends Int32Array | Uint16Array>(a: A, make: (len: number) => A): A => {
        const b = make(a.length * 2);
        b.set(a);
        return b;
      };
      this.seg = grow(this.seg, (len) => new Int32Array(len));
      this.doc = grow(this.doc, (len) => new Int32Array(len));
      this.tfs = grow(this.tfs, (len) => new Uint16Array(len));
      if (this.positions) this.posAt = grow(this.posAt, (len) => new Int32Array(len));
    }
    if (this.positions) this.posAt.fill(-1, n * T, (n + 1) * T);
    this.seg[n] = seg;
    this.doc[n] = doc;
    return (this.n = n + 1);
  }
}

function evalClause(ctx: RankContext, c: Clause, cand: Map<number, { docs: Int32Array; n: number }> | null = null): ClauseResult {
  const e = ctx.engine;
  const { tokens, bigrams, skips } = clauseTokens(c);
  const hashes = tokens.map((t) => ctx.hasher.hash(t));
  const T = tokens.length;
  const view = ctx.view;
  const N = Math.max(1, view.docs);
  const avgLen = view.docs ? view.len / view.docs : 1;
  const maskOf = (l: LoadedSegment) => view.masks.get(l.id) ?? l.live;
  const grams = bigrams + skips;
  // One misread character breaks at most two bigrams and two skip-bigrams; a three-character
  // name keeps only one of its three grams when its middle character is misread.
  const need = grams === 0 ? 1 : bigrams <= 2 ? 1 : Math.max(1, grams - 4, Math.ceil(0.4 * grams));
  const pool = new PositionPool();
  // A common unquoted clause (on more than a few percent of pages) is matched by its bigrams
  // being present, without positions or fuzzy matching: for such words exact hits fill any
  // result page, and decoding positions and skip-bigrams would triple the work. Rarer clauses
  // (names, unusual words) and quoted phrases get positions (exactness, proximity, phrases) and,
  // unless quoted, skip-bigrams for OCR-error tolerance.
  // Which bigram is rarest only orders the work (stored counts will do); whether the clause is
  // common changes how it scores, so that is decided on the caller's view: a stored count is an
  // upper bound, and only a bigram above the line is counted exactly.
  const stored = hashes.slice(0, bigrams).map((h) => {
    let n = 0;
    for (const l of e.segs.values()) n += postingCount(l.seg, h);
    return n;
  });
  let rarest = 0;
  for (let gi = 1; gi < bigrams; gi++) if (stored[gi]! < stored[rarest]!) rarest = gi;
  const line = Math.max(FUZZY_MAX_DF, FUZZY_MAX_SHARE * N);
  let common = bigrams > 0;
  for (const gi of [...stored.keys()].sort((a, b) => stored[a]! - stored[b]!)) {
    if (!common) break;
    if (stored[gi]! <= line) common = false;
    else {
      if (viewCount(e, view, hashes[gi]!) <= line) common = false;
    }
  }
  const positions = bigrams > 0 && (c.exact || !common);
  const fuzzy = !c.exact && skips > 0 && !common;
  // Document frequency per token among the pages in the view, counted as its postings are read.
  const df = new Float64Array(T);
  // The pages with a posting get a slot, in the order first seen; per slot, each token's tf and
  // where its positions start in the pool. Sized by the pages read, not by the index: per-page
  // arrays of every token over the whole index cost more than the query at a million pages.
  const slots = slotScratch(e);
  const S = new Slots(T, positions);
  const segs = [...e.segs.values()];
  // The pages to read, per segment (null: all): the caller's candidates, or a phrase's rarest bigram's pages.
  let on = cand;
  const scan = (from: number, to: number, restrict = false) => {
    for (let si = 0; si < segs.length; si++) {
      const l = segs[si]!;
      const mask = maskOf(l);
      const nd = l.seg.docItem.length;
      const slotOf = slots.subarray(l.docBase, l.docBase + nd);
      // Where term gi's posting on a page goes: the page's slot (made on first sight), its tf and positions.
      const into = (gi: number) => (doc: number, tf: number, posAt: number) => {
        let sl = slotOf[doc]!;
        if (sl === 0) slotOf[doc] = sl = S.add(si, doc);
        const k = (sl - 1) * T + gi;
        S.tfs[k] = tf > 65535 ? 65535 : tf;
        if (positions) S.posAt[k] = posAt;
      };
      if (on) {
        // Only the candidate pages: their postings through the skip tables; the document
        // frequencies are the view's counts (below), the same numbers a whole scan counts.
        const at = on.get(l.id);
        if (!at) continue;
        for (let gi = from; gi < to; gi++) {
          if (restrict && gi === rarest) continue;
          scanPostingsAt(l.seg, hashes[gi]!, mask, pool, positions, into(gi), at.docs, at.n);
        }
        continue;
      }
      for (let gi = from; gi < to; gi++) {
        if (restrict && gi === rarest) continue;
        df[gi]! += scanPostings(l.seg, hashes[gi]!, mask, pool, positions, into(gi), restrict ? slotOf : null);
      }
    }
  };
  try {
    if (cand) {
      scan(0, bigrams);
      scan(grams, T);
      if (fuzzy) scan(bigrams, grams);
      for (let gi = 0; gi < T; gi++) if (gi < bigrams || gi >= grams || fuzzy) df[gi] = viewCount(e, view, hashes[gi]!);
    } else if (c.exact && bigrams > 1) {
      // A phrase can only occur on pages with its rarest bigram: the other lists are read for
      // those pages only (skip tables), their document frequencies taken from the view's counts.
      scan(rarest, rarest + 1);
      const pages = new Map<number, { docs: Int32Array; n: number }>();
      // The rarest bigram's pages got their slots segment by segment, ascending within each.
      for (let k = 0; k < S.n; ) {
        let j = k;
        while (j < S.n && S.seg[j] === S.seg[k]) j++;
        pages.set(segs[S.seg[k]!]!.id, { docs: S.doc.slice(k, j), n: j - k });
        k = j;
      }
      on = pages;
      scan(0, bigrams, true);
      scan(grams, T, true);
      for (let gi = 0; gi < T; gi++) if (gi !== rarest && (gi < bigrams || gi >= grams)) df[gi] = viewCount(e, view, hashes[gi]!);
    } else {
      scan(0, bigrams);
      scan(grams, T);
      if (fuzzy) scan(bigrams, grams);
    }
  } finally {
    // The scratch is shared by every query of this engine: leave it all zero.
    for (let k = 0; k < S.n; k++) slots[segs[S.seg[k]!]!.docBase + S.doc[k]!] = 0;
  }
  // Scored segment by segment, pages in the order first seen in each (a stable counting sort):
  // the order of res.items, which orders exact ties in the ranking.
  const start0 = new Int32Array(segs.length + 1);
  for (let k = 0; k < S.n; k++) start0[S.seg[k]! + 1]!++;
  for (let si = 0; si < segs.length; si++) start0[si + 1]! += start0[si]!;
  const order = new Int32Array(S.n);
  for (let k = 0; k < S.n; k++) order[start0[S.seg[k]!]!++] = k;
  // Document frequencies within the view, whichever pages a phrase restricted the scan to (a
  // restricted scan still reads every posting). A token never read scores nowhere.
  const idf = Array.from(df, (d) => Math.log(1 + (N - Math.min(d, N) + 0.5) / (d + 0.5)));
  const buf = pool.a;
  const { tfs, posAt } = S;
  const res = new ClauseResult(e, S.n, positions);
  {
    for (let o = 0; o < S.n; o++) {
      const k = order[o]!;
      const l = segs[S.seg[k]!]!;
      const doc = S.doc[k]!;
      const base = k * T;
      let present = 0;
      for (let gi = 0; gi < grams; gi++) if (tfs[base + gi]! > 0) present++;
      let start = -1;
      let exact: boolean;
      if (grams === 0) exact = tfs[base]! > 0;
      else if (!positions) {
        let all = true;
        for (let gi = 0; gi < bigrams && all; gi++) if (tfs[base + gi] === 0) all = false;
        exact = all || tfs[base + T - 1]! > 0;
      } else {
        start = present >= bigrams ? exactStart(buf, posAt, tfs, base, bigrams) : -1;
        exact = start >= 0;
      }
      if (!exact && (!fuzzy || present < need)) continue;
      const len = l.seg.docLen[doc]!;
      let bm = 0;
      for (let gi = 0; gi < T; gi++) {
        const tf = tfs[base + gi]!;
        if (tf > 0) bm += (idf[gi]! * (tf * (K1 + 1))) / (tf + K1 * (1 - B + (B * len) / avgLen));
      }
      const score = exact ? bm : bm * FUZZY_WEIGHT * (present / Math.max(1, grams));
      res.setDoc(l.docBase + doc, score, start);
      res.addItem(l.itemBase + l.seg.docItem[doc]!, score, exact);
    }
  }
  return res;
}

/** Closeness of consecutive clauses of one chunk on one page: 1 when adjacent, falling with the gap. */
function proximity(clauses: Clause[], rs: ClauseResult[], g: number): number {
  let bonus = 0;
  for (let i = 0; i + 1 < clauses.length; i++) {
    if (clauses[i]!.group !== clauses[i + 1]!.group) continue;
    const a = rs[i]!.docStart(g) - 1;
    const b = rs[i + 1]!.docStart(g) - 1;
    if (a < 0 || b < 0) continue;
    bonus += 1 / (1 + Math.abs(b - (a + clauses[i]!.chars.length)) / 2);
  }
  return bonus;
}

/**
 * Per engine: its loaded segments by item base, and for each engine-wide item number the index of
 * its segment there (a typed-array lookup instead of a binary search and an object per item, in
 * loops over hundreds of thousands of matches). Rebuilt when a segment is loaded or dropped.
 */
const itemSegs = new WeakMap<SearchEngine, { space: number; count: number; segs: LoadedSegment[]; segOf: Int32Array; docsOf: Int32Array }>();

function itemSegments(e: SearchEngine): { segs: LoadedSegment[]; segOf: Int32Array; docsOf: Int32Array } {
  const c = itemSegs.get(e);
  if (c && c.space === e.itemSpace && c.count === e.segs.size) return c;
  const segs = [...e.segs.values()].sort((a, b) => a.itemBase - b.itemBase);
  const segOf = new Int32Array(e.itemSpace);
  segs.forEach((l, si) => segOf.fill(si, l.itemBase, l.itemBase + l.live.length));
  // Pages per engine-wide item number (segments are immutable: their items' page counts too).
  const docsOf = new Int32Array(e.itemSpace);
  for (const l of segs) docsOf.set(l.itemDocs.subarray(0, l.live.length), l.itemBase);
  const made = { space: e.itemSpace, count: e.segs.size, segs, segOf, docsOf };
  itemSegs.set(e, made);
  return made;
}

const B64 = new Int8Array(128).fill(-1);
[...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'].forEach((ch, i) => (B64[ch.charCodeAt(0)] = i));

/** The first 48 bits of a blind-index key (base64url, 22 characters), as a number. */
function blindPrefix(b: string): number {
  let v = 0;
  for (let i = 0; i < 8; i++) v = v * 64 + (B64[b.charCodeAt(i) & 127]! & 63);
  return v;
}

/** Per loaded segment (immutable): the sorted prefixes of every person key (ID numbers and names) in it. */
const segBlinds = new WeakMap<LoadedSegment, Float64Array>();

function blindPrefixes(l: LoadedSegment): Float64Array {
  let a = segBlinds.get(l);
  if (a) return a;
  const out: number[] = [];
  for (const it of l.seg.items) {
    for (const b of it.pids) out.push(blindPrefix(b));
    for (const b of it.names) out.push(blindPrefix(b));
  }
  a = Float64Array.from(out).sort();
  segBlinds.set(l, a);
  return a;
}

function sortedHas(a: Float64Array, v: number): boolean {
  let lo = 0;
  let hi = a.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] === v) return true;
    if (a[mid]! < v) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

/**
 * Postings a clause's evaluation reads (stored counts): which clause to evaluate first, and
 * whether a later one is read on the running items' pages only. A quoted phrase reads its rarest
 * bigram's list and the other lists on those pages only (evalClause), so it costs about its
 * rarest bigram per token: "温州天成商贸有限公司" is cheap although 有限 and 公司 are on half the
 * archive. Counted as the sum of every list, it went after a common word (职工退休), which was
 * then read across the archive instead of on the phrase's few pages.
 */
function clauseCost(e: SearchEngine, hasher: TokenHasher, c: Clause): number {
  const { tokens, bigrams } = clauseTokens(c);
  const counts = tokens.map((t) => {
    const h = hasher.hash(t);
    let n = 0;
    for (const l of e.segs.values()) n += postingCount(l.seg, h);
    return n;
  });
  if ((c.exact || c.negate) && bigrams > 1) {
    let rarest = Infinity;
    for (let gi = 0; gi < bigrams; gi++) rarest = Math.min(rarest, counts[gi]!);
    return rarest * tokens.length;
  }
  return counts.reduce((a, b) => a + b, 0);
}

/** Per loaded segment, the ascending page numbers of the given items (engine-wide numbers). */
function pagesOfItems(segs: LoadedSegment[], segOf: Int32Array, items: Int32Array): Map<number, { docs: Int32Array; n: number }> {
  const sorted = items.slice().sort();
  const out = new Map<number, { docs: Int32Array; n: number }>();
  let cur: { docs: number[]; id: number } | null = null;
  const flush = () => {
    if (cur) out.set(cur.id, { docs: Int32Array.from(cur.docs), n: cur.docs.length });
  };
  for (const it of sorted) {
    const l = segs[segOf[it]!]!;
    if (!cur || cur.id !== l.id) {
      flush();
      cur = { docs: [], id: l.id };
    }
    const idx = it - l.itemBase;
    const first = l.itemFirst[idx]!;
    for (let d = first; d < first + l.itemDocs[idx]!; d++) cur.docs.push(d);
  }
  flush();
  return out;
}

export function rank(ctx: RankContext, clauses: Clause[]): Ranking {
  const e = ctx.engine;
  const positive = clauses.filter((c) => !c.negate);
  const negative = clauses.filter((c) => c.negate);
  // Only a query with -words needs it (an array over every item, per query, was garbage).
  const excluded = new Uint8Array(negative.length ? e.itemSpace : 0);
  const { segs, segOf, docsOf } = itemSegments(e);
  const locate = (it: number): { l: LoadedSegment; idx: number } => {
    const l = segs[segOf[it]!]!;
    return { l, idx: it - l.itemBase };
  };
  if (!positive.length) {
    for (const c of negative) {
      const r = evalClauseCached(ctx, c);
      for (const it of r.items) if (r.itemExact(it)) excluded[it] = 1;
    }
    const maskOf = (l: LoadedSegment) => ctx.view.masks.get(l.id) ?? l.live;
    let n = 0;
    for (const l of segs) for (let idx = 0, m = maskOf(l); idx < m.length; idx++) if (m[idx] && !excluded[l.itemBase + idx]) n++;
    const items = new Int32Array(n);
    n = 0;
    for (const l of segs) for (let idx = 0, m = maskOf(l); idx < m.length; idx++) if (m[idx] && !excluded[l.itemBase + idx]) items[n++] = l.itemBase + idx;
    return { count: n, items, scores: new Float64Array(n), exact: new Uint8Array(n).fill(1), locate, pagesOf: () => [] };
  }
  // Conjunctive: an item must match every positive clause. The clause that reads the fewest
  // postings is evaluated first (a cached one costs nothing); each later clause whose postings
  // far outnumber the pages of the items still in the running is evaluated on those pages only
  // (through the skip tables), so a name with a company name reads 有限 and 公司 on a few dozen
  // pages instead of across the archive. Scores are the same either way: a page's score depends
  // on its own postings and the view's counts only.
  const cost = positive.map((c) => (cachedClause(ctx, c) ? 0 : clauseCost(e, ctx.hasher, c)));
  const order = positive.map((_, i) => i).sort((a, b) => cost[a]! - cost[b]!);
  const rs: ClauseResult[] = new Array<ClauseResult>(positive.length);
  // The items still in the running (matched by every clause so far) and their pages, filtered in
  // place in one scratch array: a common word keeps hundreds of thousands of items at a million
  // pages, and a new array per clause (filter) was most of a repeated browse's time and garbage.
  let running: Int32Array | null = null;
  let nRunning = 0;
  let runningPages = 0;
  const restrictTo = () => pagesOfItems(segs, segOf, running!.subarray(0, nRunning));
  for (const i of order) {
    const c = positive[i]!;
    const r: ClauseResult = running !== null && cost[i]! > RANK_TUNING.restrictRatio * runningPages ? evalClauseOn(ctx, c, restrictTo()) : evalClauseCached(ctx, c);
    rs[i] = r;
    runningPages = 0;
    if (running === null) {
      running = runningScratch(e, r.items.length);
      for (let k = 0; k < r.items.length; k++) {
        const it = r.items[k]!;
        running[k] = it;
        runningPages += docsOf[it]!;
      }
      nRunning = r.items.length;
    } else {
      const { kept, pages } = r.keepMatched(running, nRunning, docsOf);
      nRunning = kept;
      runningPages = pages;
    }
  }
  for (const c of negative) {
    const r: ClauseResult = clauseCost(e, ctx.hasher, c) > RANK_TUNING.restrictRatio * runningPages ? evalClauseOn(ctx, c, restrictTo()) : evalClauseCached(ctx, c);
    for (const it of r.items) if (r.itemExact(it)) excluded[it] = 1;
  }
  // The items in the running now matched every positive clause: they are the candidates (their
  // order does not matter, search() orders ties by item number).
  const matched = running!.subarray(0, nRunning);
  const blinds = positive.map((c) => (c.kind === 'code' ? ctx.hasher.blind('pid', c.text) : ctx.hasher.blind('name', c.text)));
  const items = new Int32Array(matched.length);
  const scores = new Float64Array(matched.length);
  const exacts = new Uint8Array(matched.length).fill(1);
  // Clause by clause (in the order of the clauses, so the sums are the same as item by item).
  for (const r of rs) r.addScores(matched, scores, exacts);
  // Proximity needs exact starts from two neighbouring clauses of one chunk: common words are
  // matched without positions, so a query of common words only (browsing) skips it per item.
  let proximityPossible = false;
  for (let i = 0; i + 1 < positive.length; i++) if (positive[i]!.group === positive[i + 1]!.group && rs[i]!.positioned && rs[i + 1]!.positioned) proximityPossible = true;
  // Whether a segment holds a person with a clause's blind index at all: for a common word
  // (hundreds of thousands of matches) checking every matched item's persons cost more than the
  // rest of the intersection; a segment without it is skipped in one test.
  const P = positive.length;
  let boostable: Uint8Array | null = null;
  if (matched.length > BOOST_PRECHECK_ITEMS) {
    boostable = new Uint8Array(segs.length * P);
    const wanted = blinds.map(blindPrefix);
    segs.forEach((l, si) => {
      const have = blindPrefixes(l);
      for (let i = 0; i < P; i++) boostable![si * P + i] = sortedHas(have, wanted[i]!) ? 1 : 0;
    });
  }
  let n = 0;
  for (let m = 0; m < matched.length; m++) {
    const it = matched[m]!;
    if (excluded.length && excluded[it]) continue;
    let score = scores[m]!;
    const exact = exacts[m]!;
    const si = segOf[it]!;
    const l = segs[si]!;
    const idx = it - l.itemBase;
    const base = score;
    for (let i = 0; i < P; i++) {
      if (boostable && !boostable[si * P + i]) continue;
      // The item's object only when its segment may hold the person (one object load per
      // matched item was most of this loop for a common word).
      const item = l.seg.items[idx]!;
      const list = positive[i]!.kind === 'code' ? item.pids : item.names;
      if (list.length && list.includes(blinds[i]!)) score += PERSON_BOOST + rs[i]!.itemScore(it);
    }
    if (proximityPossible) {
      let prox = 0;
      const first = l.docBase + l.itemFirst[idx]!;
      for (let g = first; g < first + l.itemDocs[idx]!; g++) prox = Math.max(prox, proximity(positive, rs, g));
      score += (prox * base) / positive.length;
    }
    items[n] = it;
    scores[n] = score;
    exacts[n] = exact;
    n++;
  }
  const pagesOf = (it: number): number[] => {
    const { l, idx } = locate(it);
    const first = l.itemFirst[idx]!;
    const pages: Array<[number, number]> = [];
    for (let d = first; d < first + l.itemDocs[idx]!; d++) {
      let s = 0;
      for (const r of rs) s += r.docScore(l.docBase + d);
      if (s > 0) pages.push([l.seg.docPage[d]!, s]);
    }
    return pages.sort((a, b) => b[1] - a[1] || a[0] - b[0]).map(([p]) => p);
  };
  return { count: n, items, scores, exact: exacts, locate, pagesOf };
}
