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

/** Boxes of the OCR words that make up each occurrence of a term on a line. */
export function hitBoxes(lines: OcrLine[] | undefined, words: string[]): Bbox[] {
  const boxes: Bbox[] = [];
  for (const line of lines ?? []) {
    const ws = line.words ?? [];
    let s = '';
    const spans = ws.map((w) => {
      const t = w.text.replace(/\s+/g, '');
      const span: [number, number] = [s.length, s.length + t.length];
      s += t;
      return span;
    });
    for (const t of words) {
      for (let at = s.indexOf(t); at >= 0; at = s.indexOf(t, at + 1)) {
        ws.forEach((w, i) => {
          if (spans[i]![0] < at + t.length && spans[i]![1] > at) boxes.push(w.bbox);
        });
      }
    }
  }
  return boxes;
}
