/**
 * The query language: free text, "quoted phrases" (also “…” and 「…」), -exclusions (-word or
 * -"phrase"). Unquoted Chinese is cut into words (each may match with one misrecognised
 * character); a quoted phrase must occur exactly. Codes (ID numbers, 档号, digits) are exact.
 */
import { isCjk, normalizeChars, splitWords } from './tokenize';

export interface Clause {
  kind: 'cjk' | 'code';
  chars: string[];
  text: string;
  /** quoted or negated: only an exact occurrence counts */
  exact: boolean;
  negate: boolean;
  /** clauses from one unquoted chunk: proximity between them is rewarded */
  group: number;
}

const CODE_CHAR = /[0-9A-Z]/;
const JOINER = /[-·./_]/;
const SHORT = 4;

function runsOf(chars: string[]): Array<{ kind: 'cjk' | 'code'; chars: string[] }> {
  const out: Array<{ kind: 'cjk' | 'code'; chars: string[] }> = [];
  type Run = { kind: 'cjk' | 'code'; chars: string[] };
  let cur = null as Run | null;
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    let kind: 'cjk' | 'code' | null = isCjk(ch) ? 'cjk' : CODE_CHAR.test(ch) ? 'code' : null;
    // 档号 joiners stay inside a code when a code character follows.
    if (!kind && cur?.kind === 'code' && JOINER.test(ch) && CODE_CHAR.test(chars[i + 1] ?? '')) kind = 'code';
    if (kind && cur?.kind === kind) cur.chars.push(ch);
    else {
      if (cur) out.push(cur);
      cur = kind ? { kind, chars: [ch] } : null;
    }
  }
  if (cur) out.push(cur);
  return out;
}

export function parseQuery(q: string): Clause[] {
  const clauses: Clause[] = [];
  const src = q.replace(/[“”「」『』＂]/g, '"');
  let group = 0;
  for (const m of src.matchAll(/(-?)"([^"]*)"?|(-?)([^\s"]+)/g)) {
    const negate = (m[1] ?? m[3]) === '-';
    const quoted = m[2] !== undefined;
    const body = (quoted ? m[2] : m[4]) ?? '';
    group++;
    // Inside a phrase spaces are OCR or typing noise: Chinese text has none.
    const chars = normalizeChars(quoted ? body.replace(/\s+/g, '') : body);
    for (const run of runsOf(chars)) {
      if (run.kind === 'code') {
        clauses.push({ kind: 'code', chars: run.chars, text: run.chars.join(''), exact: true, negate, group });
      } else if (quoted || negate) {
        clauses.push({ kind: 'cjk', chars: run.chars, text: run.chars.join(''), exact: true, negate, group });
      } else if (run.chars.length <= SHORT) {
        // Short runs are mostly names, which jieba tends to split; kept whole, one misread
        // character is tolerated across the name rather than failing one of its halves.
        clauses.push({ kind: 'cjk', chars: run.chars, text: run.chars.join(''), exact: false, negate, group });
      } else {
        for (const w of splitWords(run.chars.join(''))) clauses.push({ kind: 'cjk', chars: [...w], text: w, exact: false, negate, group });
      }
    }
  }
  return clauses;
}
