/**
 * Snippets from decrypted page text at query time (the index holds no text). Highlights exact
 * occurrences of the query's clauses, or, where the page only matched fuzzily, the window that
 * differs from the clause in one character.
 */
import type { Clause } from './query';
import { normalizeChars } from './tokenize';
import type { Snippet } from './types';

const BEFORE = 24;
const WIDTH = 90;

function occurrences(chars: string[], needle: string[], fuzzy: boolean): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const L = needle.length;
  if (!L) return out;
  const allowed = fuzzy && L >= 3 ? 1 : 0;
  for (let i = 0; i + L <= chars.length; i++) {
    let miss = 0;
    for (let j = 0; j < L && miss <= allowed; j++) if (chars[i + j] !== needle[j]) miss++;
    if (miss <= allowed && (miss === 0 || chars[i] === needle[0] || chars[i + L - 1] === needle[L - 1])) {
      out.push([i, i + L]);
      i += L - 1;
    }
  }
  return out;
}

export function makeSnippet(text: string, page: number, clauses: Clause[]): Snippet {
  const orig = [...text];
  const norm = normalizeChars(text);
  let ranges: Array<[number, number]> = [];
  for (const c of clauses) {
    if (c.negate) continue;
    let occ = occurrences(norm, c.chars, false);
    if (!occ.length && !c.exact) occ = occurrences(norm, c.chars, true);
    ranges.push(...occ);
  }
  ranges.sort((a, b) => a[0] - b[0]);
  const first = ranges[0]?.[0] ?? 0;
  const start = Math.max(0, Math.min(first - BEFORE, orig.length - WIDTH));
  const end = Math.min(orig.length, start + WIDTH);
  ranges = ranges.filter(([s, e]) => s >= start && e <= end);
  const merged: Array<[number, number]> = [];
  for (const [s, e] of ranges.map(([a, b]) => [a - start, b - start] as const)) {
    const last = merged[merged.length - 1];
    if (last && s <= last[1]) last[1] = Math.max(last[1], e);
    else merged.push([s, e]);
  }
  // Newlines become spaces so a snippet is one line; lengths stay the same.
  const body = orig.slice(start, end).map((ch) => (ch === '\n' || ch === '\r' ? ' ' : ch));
  return { page, text: body.join(''), highlights: merged.map(([s, e]) => [s, e] as [number, number]) };
}

/** Snippet text with highlights in 【】, for terminals and logs. */
export function markSnippet(s: Snippet): string {
  const chars = [...s.text];
  let out = '';
  let at = 0;
  for (const [a, b] of s.highlights) {
    out += chars.slice(at, a).join('') + '【' + chars.slice(a, b).join('') + '】';
    at = b;
  }
  return out + chars.slice(at).join('');
}
