/**
 * Check-character-guided repair of OCR'd identifiers. The only licence to change a character is a
 * check character that then validates, and only when exactly one reading validates: two valid
 * readings mean the text does not say which number it is, and we never invent one.
 */

export interface Repair {
  /** Offset of the repaired character in the source text. */
  offset: number;
  from: string;
  to: string;
}

export interface SourceChar {
  ch: string;
  offset: number;
}

export interface Alternatives {
  /** The character may stand as read (after plain normalisation). */
  keep: boolean;
  /** Readings to try: required when `keep` is false, optional (second pass) when true. */
  options: readonly string[];
}

export type RepairResult =
  | { kind: 'valid'; value: string; repairs: Repair[]; optionalRepairs: number }
  | { kind: 'ambiguous'; values: string[] }
  | { kind: 'invalid' };

// Enough for a handful of unreadable characters; beyond that the text is too damaged to trust.
const MAX_COMBINATIONS = 4096;

/**
 * Tries the readings with the fewest optional changes first: required repairs (characters that
 * cannot stand as read) with no optional change, then with one optional change of a character that
 * could stand but is a known confusion. Stops at the first level where anything validates.
 */
export function repairByCheck(
  chars: readonly SourceChar[],
  alternativesAt: (position: number, ch: string) => Alternatives,
  isValid: (candidate: string) => boolean,
  maxOptional = 1,
): RepairResult {
  const alts = chars.map((c, i) => alternativesAt(i, c.ch));
  let combinations = 1;
  for (const a of alts) {
    if (!a.keep && a.options.length === 0) return { kind: 'invalid' };
    if (!a.keep) combinations *= a.options.length;
  }
  if (combinations > MAX_COMBINATIONS) return { kind: 'invalid' };

  const optionalPositions = alts.flatMap((a, i) => (a.keep && a.options.length > 0 ? [i] : []));
  for (let level = 0; level <= maxOptional; level++) {
    const found = new Map<string, Repair[]>();
    for (const changed of subsets(optionalPositions, level)) {
      const slots = alts.map((a, i) => {
        const c = chars[i] as SourceChar;
        if (changed.includes(i)) return a.options;
        return a.keep ? [c.ch] : a.options;
      });
      for (const reading of product(slots)) {
        const value = reading.join('');
        if (found.has(value) || !isValid(value)) continue;
        const repairs: Repair[] = [];
        reading.forEach((to, i) => {
          const c = chars[i] as SourceChar;
          if (to !== c.ch) repairs.push({ offset: c.offset, from: c.ch, to });
        });
        found.set(value, repairs);
      }
    }
    if (found.size === 1) {
      const [[value, repairs]] = [...found] as [[string, Repair[]]];
      return { kind: 'valid', value, repairs, optionalRepairs: level };
    }
    if (found.size > 1) return { kind: 'ambiguous', values: [...found.keys()].sort() };
  }
  return { kind: 'invalid' };
}

function* subsets(positions: readonly number[], size: number, start = 0): Generator<number[]> {
  if (size === 0) {
    yield [];
    return;
  }
  for (let i = start; i <= positions.length - size; i++) {
    for (const rest of subsets(positions, size - 1, i + 1)) yield [positions[i] as number, ...rest];
  }
}

function* product(slots: readonly (readonly string[])[], i = 0, acc: string[] = []): Generator<string[]> {
  if (i === slots.length) {
    yield acc.slice();
    return;
  }
  for (const option of slots[i] as readonly string[]) {
    acc.push(option);
    yield* product(slots, i + 1, acc);
    acc.pop();
  }
}

/** Full-width forms of ASCII (０–９, Ａ–Ｚ, ａ–ｚ) to ASCII; plain normalisation, not a repair. */
export function toHalfWidth(ch: string): string {
  const code = ch.charCodeAt(0);
  if (ch.length === 1 && code >= 0xff01 && code <= 0xff5e) return String.fromCharCode(code - 0xfee0);
  if (ch === '\u3000') return ' ';
  return ch;
}

/** Confidence for a repaired reading: each required repair costs 0.1, each optional one 0.2. */
export function repairConfidence(requiredRepairs: number, optionalRepairs: number): number {
  return Math.max(0.5, Math.round((1 - 0.1 * requiredRepairs - 0.2 * optionalRepairs) * 100) / 100);
}

/**
 * Runs of identifier-like characters in the text. Single spaces inside a run are allowed because
 * boxed-digit forms come out of OCR as "1 1 0 1 0 5 …"; if the whole run is not a plausible length,
 * each space-separated part is tried on its own.
 */
export function candidateSequences(text: string, isChar: (ch: string) => boolean): SourceChar[][] {
  const out: SourceChar[][] = [];
  let run: SourceChar[] = [];
  let parts: SourceChar[][] = [];
  let part: SourceChar[] = [];
  const flush = () => {
    if (part.length > 0) parts.push(part);
    if (run.length > 0) {
      if (parts.length > 1 && (run.length === 18 || run.length === 15)) out.push(run);
      else out.push(...parts);
    }
    run = [];
    parts = [];
    part = [];
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (isChar(ch)) {
      run.push({ ch, offset: i });
      part.push({ ch, offset: i });
    } else if ((ch === ' ' || ch === '\u3000') && run.length > 0 && i + 1 < text.length && isChar(text[i + 1] as string)) {
      if (part.length > 0) parts.push(part);
      part = [];
    } else flush();
  }
  flush();
  return out;
}

/**
 * Windows of the given lengths inside a sequence. Characters left outside a window must not be
 * digits: a digit next to it means the window is part of a longer number (a bank account, say).
 */
export function windows(seq: SourceChar[], lengths: number[]): SourceChar[][] {
  const out: SourceChar[][] = [];
  const isDigit = (c: SourceChar | undefined) => c !== undefined && /[0-9]/.test(toHalfWidth(c.ch));
  for (const len of lengths) {
    for (let i = 0; i + len <= seq.length; i++) {
      const outside = [...seq.slice(0, i), ...seq.slice(i + len)];
      if (outside.some(isDigit)) continue;
      out.push(seq.slice(i, i + len));
    }
  }
  return out;
}
