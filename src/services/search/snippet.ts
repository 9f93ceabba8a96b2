/**
 * Snippets from decrypted page text at query time (the index holds no text). Highlights exact
 * occurrences of the query's clauses, or, where the page only matched fuzzily, the window that
 * differs from the clause in one character.
 */
import { isIdNumberChar } from '../../domain/id-number';
import type { Clause } from './query';
import { normalizeChars } from './tokenize';
import type { Snippet } from './types';

const BEFORE = 24;
const WIDTH = 90;
/** How far a window edge moves to get out of a number (longer than any 公民身份号码 written spaced). */
const NUMBER_REACH = 40;
/** How far a window edge moves to a word or field boundary (a line, a space, punctuation). */
const BOUNDARY_REACH = 10;
const isBoundary = (ch: string | undefined) => ch === undefined || /[\s，。；：、,.;:!?！？（）()《》“”]/u.test(ch);

/**
 * Whether the cut between chars[p - 1] and chars[p] falls inside a number (digits, OCR-confused
 * digits, single spaces between them). A window cut there would show part of an ID number that
 * the mask, which needs the whole, could not recognise (issue #13.2).
 */
function insideNumber(chars: string[], p: number): boolean {
  const id = (i: number) => i >= 0 && i < chars.length && isIdNumberChar(chars[i]!);
  const space = (i: number) => chars[i] === ' ' || chars[i] === '\u3000';
  return (id(p - 1) && id(p)) || (space(p - 1) && id(p - 2) && id(p)) || (space(p) && id(p - 1) && id(p + 1));
}

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
  let start = Math.max(0, Math.min(first - BEFORE, orig.length - WIDTH));
  let end = Math.min(orig.length, start + WIDTH);
  // Start and end at a boundary when one is near (not "定书 …" from inside 工伤认定决定书); the start
  // only back towards the text before the first hit, the end only forward.
  for (let k = 1; k <= BOUNDARY_REACH && start > 0 && !isBoundary(orig[start - 1]); k++) {
    if (isBoundary(orig[start - 1 - k]) || start - k === 0) { start -= k; break; }
  }
  for (let k = 1; k <= BOUNDARY_REACH && end < orig.length && !isBoundary(orig[end]); k++) {
    if (isBoundary(orig[end + k]) || end + k === orig.length) { end += k; break; }
  }
  // Never start or end inside a number: widen to take all of it (then the mask sees it whole).
  for (let k = 0; k < NUMBER_REACH && start > 0 && insideNumber(orig, start); k++) start--;
  for (let k = 0; k < NUMBER_REACH && end < orig.length && insideNumber(orig, end); k++) end++;
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
