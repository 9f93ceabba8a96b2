import type { TitlePatternFile } from './schema';

export interface TitleCandidate {
  itemId: string;
  /** 0–1: noisy-or of the weights of the patterns that matched. */
  score: number;
  /** The patterns that matched, as written in the pattern file. */
  matched: string[];
}

export interface TitleMatcher {
  readonly version: string;
  match(text: string, opts?: { limit?: number; minScore?: number }): TitleCandidate[];
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
  test: (normalised: string) => boolean;
}

export function compileTitlePatterns(file: TitlePatternFile): TitleMatcher {
  const compiled: Compiled[] = file.patterns.map((p) => {
    if (p.contains !== undefined) {
      const needle = normaliseTitle(p.contains);
      return { itemId: p.itemId, label: p.contains, weight: p.weight, test: (t) => t.includes(needle) };
    }
    const re = new RegExp(p.regex ?? '', 'u');
    return { itemId: p.itemId, label: `/${p.regex ?? ''}/`, weight: p.weight, test: (t) => re.test(t) };
  });
  return {
    version: file.version,
    match(text, opts = {}) {
      const t = normaliseTitle(text.slice(0, MAX_TEXT));
      const byItem = new Map<string, { miss: number; matched: string[] }>();
      for (const c of compiled) {
        if (!c.test(t)) continue;
        const acc = byItem.get(c.itemId) ?? { miss: 1, matched: [] };
        acc.miss *= 1 - c.weight;
        acc.matched.push(c.label);
        byItem.set(c.itemId, acc);
      }
      const minScore = opts.minScore ?? 0;
      const out = [...byItem]
        .map(([itemId, a]) => ({ itemId, score: Math.round((1 - a.miss) * 1000) / 1000, matched: a.matched }))
        .filter((c) => c.score >= minScore)
        .sort((x, y) => y.score - x.score || y.matched.length - x.matched.length || x.itemId.localeCompare(y.itemId));
      return opts.limit === undefined ? out : out.slice(0, opts.limit);
    },
  };
}
