import type { TitlePatternFile } from './schema';

export interface TitleCandidate {
  itemId: string;
  /** 0–1: noisy-or of the weights of the patterns that matched. */
  score: number;
  /** The patterns that matched, as written in the pattern file (evidence for a reviewer). */
  matched: string[];
  /**
   * What each of those patterns found, in the same order: the words of a substring pattern, the
   * text a regular expression matched (the title, evened out by normaliseTitle). A name for the
   * document (文件类型); a pattern's source is not one.
   */
  found: string[];
}

export interface FuzzyCandidate extends TitleCandidate {
  /** Fewest character edits (substitution, insertion, deletion) between a pattern and the text. */
  distance: number;
}

export interface TitleMatcher {
  readonly version: string;
  match(text: string, opts?: { limit?: number; minScore?: number }): TitleCandidate[];
  /**
   * The substring patterns found in OCR text with up to one misread character (two for patterns of
   * seven distinctive characters or more): 社会保险入核通知书 still finds 稽核通知书. A pattern's
   * weight is discounted by 15 % per edit. Only the distinctive characters count (see GENERIC), and
   * patterns with fewer than five of them match exactly only (a slip in a short one matches too much).
   */
  fuzzy(text: string, opts?: { limit?: number }): FuzzyCandidate[];
}

/**
 * Characters every social-insurance title shares (社会保险, the five 险种, 基本, 人员): a pattern
 * that differs from the text only in its one distinctive character (社会保险卡 against 社会保险稽…)
 * is no match: a pattern is matched fuzzily only when five or more of its characters are not these.
 */
const GENERIC = new Set([...'社会保险养老医疗失业工伤生育基本人员']);
function distinctive(t: string): string[] {
  return [...t].filter((c) => !GENERIC.has(c));
}

/** Fewest edits turning `needle` into some substring of `hay` (Sellers' approximate matching). */
export function substringDistance(needle: string[], hay: string[], cap: number): number {
  const m = needle.length;
  let prev = new Array<number>(m + 1);
  for (let i = 0; i <= m; i++) prev[i] = i;
  let best = prev[m]!;
  for (let j = 1; j <= hay.length; j++) {
    const cur = new Array<number>(m + 1);
    cur[0] = 0;
    for (let i = 1; i <= m; i++) {
      const v = Math.min(prev[i]! + 1, cur[i - 1]! + 1, prev[i - 1]! + (needle[i - 1] === hay[j - 1] ? 0 : 1));
      cur[i] = v;
    }
    if (cur[m]! < best) best = cur[m]!;
    if (best === 0) return 0;
    prev = cur;
  }
  return best <= cap ? best : cap + 1;
}

// Titles are short; looking further into OCR text only adds false hits and regex cost.
const MAX_TEXT = 4000;

/**
 * OCR output of Chinese titles arrives with stray spaces between characters, full-width letters
 * and digits, and mixed bracket widths; substrings only match after all of that is evened out.
 */
export function normaliseTitle(text: string): string {
  return text.normalize('NFKC').replace(/\s+/gu, '').toLowerCase();
}

interface Compiled {
  itemId: string;
  label: string;
  weight: number;
  /** The text the pattern finds in the normalised title, or null. */
  find: (normalised: string) => string | null;
}

export function compileTitlePatterns(file: TitlePatternFile): TitleMatcher {
  const compiled: Compiled[] = file.patterns.map((p) => {
    if (p.contains !== undefined) {
      const needle = normaliseTitle(p.contains);
      return { itemId: p.itemId, label: p.contains, weight: p.weight, find: (t) => (t.includes(needle) ? p.contains! : null) };
    }
    const re = new RegExp(p.regex ?? '', 'u');
    return { itemId: p.itemId, label: `/${p.regex ?? ''}/`, weight: p.weight, find: (t) => re.exec(t)?.[0] ?? null };
  });
  const needles = file.patterns
    .filter((p) => p.contains !== undefined)
    .map((p) => ({ itemId: p.itemId, label: p.contains!, weight: p.weight, chars: [...normaliseTitle(p.contains!)], own: distinctive(normaliseTitle(p.contains!)).length }))
    .filter((n) => n.own >= 5);
  return {
    version: file.version,
    fuzzy(text, opts = {}) {
      const hay = [...normaliseTitle(text.slice(0, MAX_TEXT))];
      const byItem = new Map<string, { miss: number; matched: string[]; found: string[]; distance: number }>();
      for (const n of needles) {
        const cap = n.own >= 7 ? 2 : 1;
        const d = substringDistance(n.chars, hay, cap);
        if (d > cap) continue;
        const acc = byItem.get(n.itemId) ?? { miss: 1, matched: [], found: [], distance: d };
        acc.miss *= 1 - n.weight * (1 - 0.15 * d);
        acc.matched.push(n.label);
        // What the title should read, not what OCR made of it.
        acc.found.push(n.label);
        acc.distance = Math.min(acc.distance, d);
        byItem.set(n.itemId, acc);
      }
      const out = [...byItem]
        .map(([itemId, a]) => ({ itemId, score: Math.round((1 - a.miss) * 1000) / 1000, matched: a.matched, found: a.found, distance: a.distance }))
        .sort((x, y) => y.score - x.score || x.itemId.localeCompare(y.itemId));
      return opts.limit === undefined ? out : out.slice(0, opts.limit);
    },
    match(text, opts = {}) {
      const t = normaliseTitle(text.slice(0, MAX_TEXT));
      const byItem = new Map<string, { miss: number; matched: string[]; found: string[] }>();
      for (const c of compiled) {
        const found = c.find(t);
        if (found === null) continue;
        const acc = byItem.get(c.itemId) ?? { miss: 1, matched: [], found: [] };
        acc.miss *= 1 - c.weight;
        acc.matched.push(c.label);
        acc.found.push(found);
        byItem.set(c.itemId, acc);
      }
      const minScore = opts.minScore ?? 0;
      const out = [...byItem]
        .map(([itemId, a]) => ({ itemId, score: Math.round((1 - a.miss) * 1000) / 1000, matched: a.matched, found: a.found }))
        .filter((c) => c.score >= minScore)
        .sort((x, y) => y.score - x.score || y.matched.length - x.matched.length || x.itemId.localeCompare(y.itemId));
      return opts.limit === undefined ? out : out.slice(0, opts.limit);
    },
  };
}
