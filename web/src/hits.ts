// Where the search terms stand on a page: the OCR words that make up each occurrence.

export interface Bbox {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}
export interface OcrWord {
  text: string;
  bbox: Bbox;
}
export interface OcrLine {
  text: string;
  bbox: Bbox;
  words?: OcrWord[];
}

/** Query words to find on the page (phrases whole, exclusions left out). */
export function terms(q: string): string[] {
  return [...q.matchAll(/(-?)"([^"]+)"|(-?)(\S+)/g)]
    .filter((m) => !(m[1] || m[3]))
    .map((m) => (m[2] ?? m[4] ?? '').replace(/\s+/g, ''))
    .filter(Boolean);
}

/** A character of a line and where it stands across the page. */
interface PlacedChar {
  ch: string;
  x0: number;
  x1: number;
}

// Ideographs, kana and hangul, CJK punctuation and full-width forms take a whole em; the rest
// (digits, Latin, ASCII punctuation and spaces inside one word) about half of one.
const FULL_WIDTH = /[\u1100-\u11ff\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/u;
// Among Chinese, OCR writes a full-width colon or comma as ASCII: it still takes an em there.
const weight = (ch: string, chinese: boolean) => (FULL_WIDTH.test(ch) || (chinese && /\p{P}/u.test(ch)) ? 1 : 0.55);
/** A word with a letter or a digit: tesseract's boxes for these hold to the ink. */
const anchors = (text: string) => /[A-Za-z0-9]/.test(text);

/**
 * Where each character of a line stands. Tesseract's boxes for Chinese words drift: a word's box
 * starts and ends up to half a character to the right of its ink (欧阳 boxed over 阳 and half of 欧),
 * while the line's own ends and the boxes of numbers hold. Chinese type is set on an em grid, so
 * between two points that hold (the start of a run of words, a number's box, the end of the run)
 * the characters are laid out by their widths. Words further apart than an em (a field's gap) start
 * a new run. A line set vertically keeps tesseract's boxes.
 */
export function placeChars(line: OcrLine): PlacedChar[] {
  const words = (line.words?.length ? line.words : [{ text: line.text, bbox: line.bbox }]).map((w) => ({ ...w, chars: [...w.text].filter((c) => !/\s/u.test(c)) }));
  const out: PlacedChar[] = [];
  const em = line.bbox.y1 - line.bbox.y0;
  const spread = (chars: string[], x0: number, x1: number) => {
    const chinese = chars.some((c) => FULL_WIDTH.test(c));
    const total = chars.reduce((a, c) => a + weight(c, chinese), 0) || 1;
    let x = x0;
    for (const ch of chars) {
      const w = ((x1 - x0) * weight(ch, chinese)) / total;
      out.push({ ch, x0: Math.round(x), x1: Math.round(x + w) });
      x += w;
    }
  };
  if (em <= 0 || em > line.bbox.x1 - line.bbox.x0) {
    for (const w of words) spread(w.chars, w.bbox.x0, w.bbox.x1);
    return out;
  }
  let i = 0;
  while (i < words.length) {
    // One run: words no more than an em apart.
    let j = i + 1;
    while (j < words.length && words[j]!.bbox.x0 - words[j - 1]!.bbox.x1 <= em) j++;
    let from = words[i]!.bbox.x0;
    let k = i;
    while (k < j) {
      if (anchors(words[k]!.text)) {
        spread(words[k]!.chars, words[k]!.bbox.x0, words[k]!.bbox.x1);
        from = words[k]!.bbox.x1;
        k++;
        continue;
      }
      // Words without a number or letter, up to the next that has one (or the run's end).
      let m = k;
      while (m < j && !anchors(words[m]!.text)) m++;
      const to = m < j ? words[m]!.bbox.x0 : words[m - 1]!.bbox.x1;
      spread(words.slice(k, m).flatMap((w) => w.chars), from, Math.max(from, to));
      k = m;
    }
    i = j;
  }
  return out;
}

/** One box for each occurrence of a term on a line: the characters it spans, the height of the line. */
export function hitBoxes(lines: OcrLine[] | undefined, words: string[]): Bbox[] {
  const boxes: Bbox[] = [];
  for (const line of lines ?? []) {
    const chars = placeChars(line);
    const s = chars.map((c) => c.ch).join('');
    for (const t of words) {
      const n = [...t].length;
      // Code points, not UTF-16 units: the index into chars (an ideograph outside the BMP is two units).
      const cps = [...s];
      for (let at = 0; at + n <= cps.length; at++) {
        if (cps.slice(at, at + n).join('') !== t) continue;
        boxes.push({ x0: chars[at]!.x0, y0: line.bbox.y0, x1: chars[at + n - 1]!.x1, y1: line.bbox.y1 });
      }
    }
  }
  return boxes;
}

/**
 * The box of a span of the page's text (an extracted field's evidence: its start and end in the page
 * text, the lines joined by newlines): the characters it covers on its line, at the line's height.
 * Null when the span is not on a line read with boxes (the caller falls back to the line's box).
 */
export function spanBox(lines: OcrLine[] | undefined, pageText: string, start: number, end: number): Bbox | null {
  let at = 0;
  for (const line of lines ?? []) {
    const idx = pageText.indexOf(line.text, at);
    if (idx < 0) continue;
    at = idx + line.text.length;
    if (start < idx || start > at) continue;
    // The span's characters among the line's (placeChars leaves whitespace out, and counts code points).
    const chars = placeChars(line);
    let k = 0;
    let first = -1;
    let last = -1;
    for (let u = 0; u < line.text.length; ) {
      const ch = String.fromCodePoint(line.text.codePointAt(u)!);
      if (!/\s/u.test(ch)) {
        if (idx + u >= start && idx + u < end) {
          if (first < 0) first = k;
          last = k;
        }
        k++;
      }
      u += ch.length;
    }
    // The layout names as many characters as the words hold; the line's text may differ (a reread).
    if (first < 0 || last >= chars.length || k !== chars.length) return null;
    return { x0: chars[first]!.x0, y0: line.bbox.y0, x1: chars[last]!.x1, y1: line.bbox.y1 };
  }
  return null;
}
