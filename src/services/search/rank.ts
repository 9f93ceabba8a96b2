/**
 * Matching and ranking. Each clause is scored per page with BM25 over its tokens (bigrams,
 * skip-bigrams, the jieba word, or the exact code). A clause occurs exactly when its bigrams sit
 * at consecutive positions; otherwise it may still match fuzzily — enough of its bigrams and
 * skip-bigrams present that at most one character was misread — at a fraction of the score, so
 * exact hits rank first. Items must match every clause (on any page); clauses of one unquoted
 * chunk that sit close together on a page earn a proximity bonus, and a clause that is exactly a
 * person's ID number or name (by blind index) earns a large one.
 */
import type { LoadedSegment, SearchEngine } from './engine';
import type { Clause } from './query';
import { forEachPosting, type SegItem } from './segment';
import { bigramsOf, skipgramsOf, type TokenHasher } from './tokenize';

const K1 = 1.2;
const B = 0.75;
const FUZZY_WEIGHT = 0.35;
const PERSON_BOOST = 8;

export interface RankContext {
  engine: SearchEngine;
  hasher: TokenHasher;
}

export interface RankedItem {
  item: SegItem;
  score: number;
  pages: number[];
  exact: boolean;
}

interface PageMatch {
  score: number;
  exact: boolean;
  starts: number[];
}

interface ItemMatch {
  l: LoadedSegment;
  idx: number;
  best: number;
  exact: boolean;
  pages: Map<number, PageMatch>;
}

interface Acc {
  tf: number[];
  pos: Array<number[] | null>;
}

function clauseTokens(c: Clause): { tokens: string[]; bigrams: number; skips: number } {
  if (c.kind === 'code') return { tokens: [`x:${c.text}`], bigrams: 0, skips: 0 };
  if (c.chars.length === 1) return { tokens: [`w:${c.text}`], bigrams: 0, skips: 0 };
  const bg = bigramsOf(c.chars);
  const sk = skipgramsOf(c.chars);
  return { tokens: [...bg, ...sk, `w:${c.text}`], bigrams: bg.length, skips: sk.length };
}

/** Start positions where every bigram of the clause follows the previous one. */
function exactStarts(acc: Acc, nBigrams: number): number[] {
  const first = acc.pos[0];
  if (!first) return [];
  if (nBigrams === 1) return first;
  const rest: Array<Set<number>> = [];
  for (let i = 1; i < nBigrams; i++) {
    const p = acc.pos[i];
    if (!p) return [];
    rest.push(new Set(p));
  }
  return first.filter((s) => rest.every((set, i) => set.has(s + i + 1)));
}

function evalClause(ctx: RankContext, c: Clause): Map<string, ItemMatch> {
  const e = ctx.engine;
  const { tokens, bigrams, skips } = clauseTokens(c);
  const hashes = tokens.map((t) => ctx.hasher.hash(t));
  const N = Math.max(1, e.liveDocs);
  const avgLen = e.liveDocs ? e.liveLen / e.liveDocs : 1;
  const grams = bigrams + skips;
  const need = grams === 0 ? 1 : bigrams === 1 ? 1 : Math.max(1, grams - 4, Math.ceil(0.4 * grams));
  const df = new Array<number>(tokens.length).fill(0);
  const perSeg: Array<{ l: LoadedSegment; accs: Map<number, Acc> }> = [];
  for (const l of e.segs.values()) {
    const accs = new Map<number, Acc>();
    hashes.forEach((h, gi) => {
      forEachPosting(l.seg, h, (doc, tf, positions) => {
        if (!l.live[l.seg.docItem[doc]!]) return;
        df[gi]!++;
        let a = accs.get(doc);
        if (!a) accs.set(doc, (a = { tf: new Array<number>(tokens.length).fill(0), pos: [] }));
        a.tf[gi] = tf;
        if (gi < bigrams) a.pos[gi] = positions;
      });
    });
    if (accs.size) perSeg.push({ l, accs });
  }
  const idf = df.map((d) => Math.log(1 + (N - Math.min(d, N) + 0.5) / (d + 0.5)));
  const out = new Map<string, ItemMatch>();
  for (const { l, accs } of perSeg) {
    for (const [doc, a] of accs) {
      let present = 0;
      for (let gi = 0; gi < grams; gi++) if (a.tf[gi]! > 0) present++;
      let starts: number[] = [];
      let exact: boolean;
      if (grams === 0) exact = a.tf[0]! > 0;
      else {
        starts = exactStarts(a, bigrams);
        exact = starts.length > 0;
      }
      if (!exact && (c.exact || present < need)) continue;
      const len = l.seg.docLen[doc]!;
      let bm = 0;
      a.tf.forEach((tf, gi) => {
        if (tf > 0) bm += (idf[gi]! * (tf * (K1 + 1))) / (tf + K1 * (1 - B + (B * len) / avgLen));
      });
      const score = exact ? bm : bm * FUZZY_WEIGHT * (present / Math.max(1, grams));
      const idx = l.seg.docItem[doc]!;
      const key = `${l.id}:${idx}`;
      let m = out.get(key);
      if (!m) out.set(key, (m = { l, idx, best: 0, exact: false, pages: new Map() }));
      m.best = Math.max(m.best, score);
      m.exact ||= exact;
      m.pages.set(l.seg.docPage[doc]!, { score, exact, starts });
    }
  }
  return out;
}

/** Closeness of consecutive clauses on one page: 1 when adjacent, falling with the gap. */
function proximity(clauses: Clause[], matches: Array<PageMatch | undefined>): number {
  let bonus = 0;
  for (let i = 0; i + 1 < clauses.length; i++) {
    const a = matches[i];
    const b = matches[i + 1];
    if (!a?.starts.length || !b?.starts.length || clauses[i]!.group !== clauses[i + 1]!.group) continue;
    const la = clauses[i]!.chars.length;
    let gap = Infinity;
    for (const sa of a.starts.slice(0, 50)) for (const sb of b.starts.slice(0, 50)) gap = Math.min(gap, Math.abs(sb - (sa + la)));
    bonus += 1 / (1 + gap / 2);
  }
  return bonus;
}

export function rank(ctx: RankContext, clauses: Clause[]): RankedItem[] {
  const positive = clauses.filter((c) => !c.negate);
  const negative = clauses.filter((c) => c.negate);
  const excluded = new Set<string>();
  for (const c of negative) for (const [k, m] of evalClause(ctx, c)) if (m.exact) excluded.add(k);
  const out: RankedItem[] = [];
  if (!positive.length) {
    for (const l of ctx.engine.segs.values()) {
      l.live.forEach((v, idx) => {
        if (v && !excluded.has(`${l.id}:${idx}`)) out.push({ item: l.seg.items[idx]!, score: 0, pages: [], exact: true });
      });
    }
    return out;
  }
  // Rarest clause first keeps the intersection small.
  const perClause = positive.map((c) => evalClause(ctx, c));
  const order = perClause.map((m, i) => i).sort((a, b) => perClause[a]!.size - perClause[b]!.size);
  const blinds = positive.map((c) => (c.kind === 'code' ? ctx.hasher.blind('pid', c.text) : ctx.hasher.blind('name', c.text)));
  for (const [key, first] of perClause[order[0]!]!) {
    if (excluded.has(key)) continue;
    const ms = perClause.map((m) => m.get(key));
    if (ms.some((m) => !m)) continue;
    const item = first.l.seg.items[first.idx]!;
    let score = 0;
    const pageScore = new Map<number, number>();
    ms.forEach((m, i) => {
      score += m!.best;
      const c = positive[i]!;
      const list = c.kind === 'code' ? item.pids : item.names;
      if (list.includes(blinds[i]!)) score += PERSON_BOOST + m!.best;
      for (const [p, pm] of m!.pages) pageScore.set(p, (pageScore.get(p) ?? 0) + pm.score);
    });
    if (positive.length > 1) {
      let prox = 0;
      for (const p of pageScore.keys()) prox = Math.max(prox, proximity(positive, ms.map((m) => m!.pages.get(p))));
      score += (prox * score) / positive.length;
    }
    const pages = [...pageScore].sort((a, b) => b[1] - a[1] || a[0] - b[0]).map(([p]) => p);
    out.push({ item, score, pages, exact: ms.every((m) => m!.exact) });
  }
  return out;
}
