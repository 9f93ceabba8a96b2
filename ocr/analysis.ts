// Pure pixel statistics on a small binarised copy of the page: skew, line direction, ink, borders.
// Kept free of sharp so it can be unit-tested on synthetic arrays.

export interface Ink {
  xs: Int32Array;
  ys: Int32Array;
  width: number;
  height: number;
}

/** Otsu's threshold over an 8-bit grey buffer: values below it are ink. */
export function otsu(grey: Uint8Array): number {
  return otsuOfHistogram(histogram(grey), grey.length);
}

/**
 * The 256-bin histogram of an 8-bit buffer. An indexed loop: `for…of` over a typed array goes
 * through its iterator, ~26 against ~16 ms on a 5.6-megapixel page.
 */
export function histogram(grey: Uint8Array): Uint32Array {
  const hist = new Uint32Array(256);
  for (let i = 0, n = grey.length; i < n; i++) hist[grey[i]!]!++;
  return hist;
}

/** Otsu's threshold from a 256-bin histogram of `total` pixels. */
function otsuOfHistogram(hist: Uint32Array, total: number): number {
  let sumAll = 0;
  for (let i = 0; i < 256; i++) sumAll += i * (hist[i] ?? 0);
  let wB = 0, sumB = 0, best = 0, threshold = 128;
  for (let t = 0; t < 256; t++) {
    wB += hist[t] ?? 0;
    if (wB === 0) continue;
    const wF = total - wB;
    if (wF === 0) break;
    sumB += t * (hist[t] ?? 0);
    const mB = sumB / wB, mF = (sumAll - sumB) / wF;
    const between = wB * wF * (mB - mF) ** 2;
    if (between > best) { best = between; threshold = t + 1; }
  }
  return threshold;
}

export function inkPoints(grey: Uint8Array, width: number, height: number, threshold: number): Ink {
  let n = 0;
  for (let i = 0, len = grey.length; i < len; i++) if (grey[i]! < threshold) n++;
  const xs = new Int32Array(n), ys = new Int32Array(n);
  let k = 0;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      if ((grey[row + x] ?? 255) < threshold) { xs[k] = x; ys[k] = y; k++; }
    }
  }
  return { xs, ys, width, height };
}

/** The same ink seen after turning the page 90° clockwise. */
export function turn90(ink: Ink): Ink {
  const xs = new Int32Array(ink.xs.length), ys = new Int32Array(ink.ys.length);
  for (let i = 0; i < xs.length; i++) { xs[i] = ink.height - 1 - (ink.ys[i] ?? 0); ys[i] = ink.xs[i] ?? 0; }
  return { xs, ys, width: ink.height, height: ink.width };
}

/**
 * How sharply the ink falls into horizontal lines when sheared by `deg` (clockwise positive): the
 * energy of the row-profile gradient per ink pixel. Unlike profile variance it does not depend on
 * how much empty margin surrounds the text, so scores of the two axes can be compared.
 */
export function profileScore(ink: Ink, deg: number): number {
  const t = Math.tan((deg * Math.PI) / 180);
  const pad = Math.ceil(Math.abs(t) * ink.width) + 1;
  const bins = new Float64Array(ink.height + 2 * pad + 1);
  for (let i = 0; i < ink.xs.length; i++) {
    const b = Math.round((ink.ys[i] ?? 0) - (ink.xs[i] ?? 0) * t) + pad;
    bins[b] = (bins[b] ?? 0) + 1;
  }
  let sq = 0;
  for (let i = 1; i < bins.length; i++) { const d = (bins[i] ?? 0) - (bins[i - 1] ?? 0); sq += d * d; }
  const n = ink.xs.length;
  return n === 0 ? 0 : sq / n;
}

export interface SkewEstimate { deg: number; score: number }

/** Coarse-to-fine search for the shear that best lines up rows of text (±maxDeg). */
export function estimateSkew(ink: Ink, maxDeg = 8): SkewEstimate {
  let best: SkewEstimate = { deg: 0, score: profileScore(ink, 0) };
  for (let d = -maxDeg; d <= maxDeg + 1e-9; d += 0.5) {
    const score = profileScore(ink, d);
    if (score > best.score) best = { deg: d, score };
  }
  const centre = best.deg;
  for (let d = centre - 0.45; d <= centre + 0.45 + 1e-9; d += 0.05) {
    const score = profileScore(ink, d);
    if (score > best.score) best = { deg: Math.round(d * 100) / 100, score };
  }
  return best;
}

/**
 * Dark scanner borders: rows/columns from each edge that are mostly ink. Only the outer 15% is
 * searched so a heavy black table rule inside the page is never mistaken for a border.
 */
export function darkBorders(grey: Uint8Array, width: number, height: number, threshold = 90, fraction = 0.6): { left: number; top: number; right: number; bottom: number } {
  const rowDark = (y: number) => { let c = 0; for (let x = 0; x < width; x++) if ((grey[y * width + x] ?? 255) < threshold) c++; return c / width; };
  const colDark = (x: number) => { let c = 0; for (let y = 0; y < height; y++) if ((grey[y * width + x] ?? 255) < threshold) c++; return c / height; };
  const scan = (len: number, dark: (i: number) => number, fromEnd: boolean) => {
    let k = 0;
    const lim = Math.floor(len * 0.15);
    while (k < lim && dark(fromEnd ? len - 1 - k : k) > fraction) k++;
    return k;
  };
  return { top: scan(height, rowDark, false), bottom: scan(height, rowDark, true), left: scan(width, colDark, false), right: scan(width, colDark, true) };
}

/** Share of dark pixels whose four neighbours are all light: scanner speckle, not strokes. */
export function speckleRatio(grey: Uint8Array, width: number, height: number, threshold: number): number {
  let dark = 0, isolated = 0;
  for (let y = 1; y < height - 1; y += 2) {
    for (let x = 1; x < width - 1; x++) {
      const i = y * width + x;
      if ((grey[i] ?? 255) >= threshold) continue;
      dark++;
      if ((grey[i - 1] ?? 0) >= threshold && (grey[i + 1] ?? 0) >= threshold && (grey[i - width] ?? 0) >= threshold && (grey[i + width] ?? 0) >= threshold) isolated++;
    }
  }
  return dark === 0 ? 0 : isolated / dark;
}

export interface LineAlignment {
  /** Text lines found (full-width rules and borders left out). */
  lines: number;
  /** Share of lines that start at the text block's left edge / end at its right edge. */
  left: number;
  right: number;
}

/**
 * Whether the lines of text share a left edge or a right edge, read on ink already turned so that
 * lines run horizontally and sheared by the skew `deg`. Chinese forms and letters are set flush
 * left (labels, paragraphs, dates) with ragged right ends; turned upside down, the same page is
 * flush right. Lines spanning most of the block (table rules, borders) say nothing and are left out.
 */
export function lineAlignment(ink: Ink, deg: number): LineAlignment {
  const t = Math.tan((deg * Math.PI) / 180);
  const pad = Math.ceil(Math.abs(t) * ink.width) + 1;
  const H = ink.height + 2 * pad + 1;
  const count = new Int32Array(H);
  const minX = new Int32Array(H).fill(ink.width);
  const maxX = new Int32Array(H).fill(-1);
  for (let i = 0; i < ink.xs.length; i++) {
    const x = ink.xs[i]!;
    const y = Math.round(ink.ys[i]! - x * t) + pad;
    count[y]!++;
    if (x < minX[y]!) minX[y] = x;
    if (x > maxX[y]!) maxX[y] = x;
  }
  // Rows with ink, grouped into lines across gaps of at most one empty row.
  const spans: Array<{ l: number; r: number }> = [];
  let cur: { l: number; r: number; rows: number } | null = null;
  let gap = 0;
  for (let y = 0; y < H; y++) {
    if (count[y]! > 0) {
      if (!cur) cur = { l: minX[y]!, r: maxX[y]!, rows: 0 };
      cur.l = Math.min(cur.l, minX[y]!);
      cur.r = Math.max(cur.r, maxX[y]!);
      cur.rows++;
      gap = 0;
    } else if (cur && ++gap > 1) {
      if (cur.rows >= 3) spans.push({ l: cur.l, r: cur.r });
      cur = null;
    }
  }
  if (cur && cur.rows >= 3) spans.push({ l: cur.l, r: cur.r });
  if (!spans.length) return { lines: 0, left: 0, right: 0 };
  const L = Math.min(...spans.map((s) => s.l)), R = Math.max(...spans.map((s) => s.r));
  const block = Math.max(1, R - L);
  const text = spans.filter((s) => s.r - s.l < 0.9 * block);
  if (!text.length) return { lines: 0, left: 0, right: 0 };
  const tl = Math.min(...text.map((s) => s.l)), tr = Math.max(...text.map((s) => s.r));
  const tol = Math.max(2, 0.02 * block);
  return {
    lines: text.length,
    left: text.filter((s) => s.l - tl <= tol).length / text.length,
    right: text.filter((s) => tr - s.r <= tol).length / text.length,
  };
}

/**
 * The typical height of a line of text, in the ink's pixels, read on ink turned so that lines run
 * horizontally and sheared by the skew `deg`: the median height of the runs of rows that hold a
 * real share of ink (at least a sixth of what the busiest rows hold, so that a table's vertical
 * rules, a few pixels in every row, do not join its lines into one), grouped across gaps of one
 * row. Runs of one or two rows are rules, not text. Null with fewer than two lines.
 */
export function textLineHeight(ink: Ink, deg: number): number | null {
  const heights = textRuns(ink, deg).runs.map((r) => r.end - r.start + 1);
  if (heights.length < 2) return null;
  heights.sort((a, b) => a - b);
  return heights[Math.floor(heights.length / 2)]!;
}

/**
 * The runs of rows that hold a real share of ink (textLineHeight's lines), top to bottom, in the
 * sheared frame: rows 0..rows-1, where the page's own rows lie between `pad` and rows - pad.
 */
function textRuns(ink: Ink, deg: number): TextRuns {
  // Asked for up to seven times per page (line height, continuity and bands on both axes, then
  // the heading on the chosen one) on two sheared frames: each frame's pass is made once.
  let byDeg = runsCache.get(ink);
  if (!byDeg) runsCache.set(ink, (byDeg = new Map()));
  let r = byDeg.get(deg);
  if (!r) byDeg.set(deg, (r = findTextRuns(ink, deg)));
  return r;
}

interface TextRuns { readonly runs: ReadonlyArray<{ readonly start: number; readonly end: number }>; readonly pad: number; readonly rows: number }
const runsCache = new WeakMap<Ink, Map<number, TextRuns>>();

function findTextRuns(ink: Ink, deg: number): TextRuns {
  const t = Math.tan((deg * Math.PI) / 180);
  const pad = Math.ceil(Math.abs(t) * ink.width) + 1;
  const H = ink.height + 2 * pad + 1;
  const count = new Int32Array(H);
  for (let i = 0; i < ink.xs.length; i++) count[Math.round(ink.ys[i]! - ink.xs[i]! * t) + pad]!++;
  const busy = Array.from(count).filter((c) => c > 0).sort((a, b) => a - b);
  const runs: Array<{ start: number; end: number }> = [];
  if (!busy.length) return { runs, pad, rows: H };
  const floor = Math.max(1, busy[Math.floor(0.9 * (busy.length - 1))]! / 6);
  let start = -1, last = -1;
  for (let y = 0; y <= H; y++) {
    if (y < H && count[y]! >= floor) {
      if (start < 0) start = y;
      last = y;
    } else if (start >= 0 && (y === H || y - last > 1)) {
      if (last - start + 1 >= 3) runs.push({ start, end: last });
      start = -1;
    }
  }
  return { runs, pad, rows: H };
}

/**
 * Gaps closed along a band, as a share of the type's size: those between characters and inside
 * them, not those between the lines of a form (set at 1.5 lines and up).
 */
const CLOSE_GAP = 0.5;

/**
 * How continuous the lines are along their length, read on ink turned so that the candidate lines
 * run horizontally and sheared by the skew `deg`: for each of textRuns' bands, the share of its
 * extent that its ink covers once gaps of up to half the type's size `typePx` are closed; the mean
 * over the bands, weighted by their ink. (The type's size, not the band's: across the lines, the
 * narrow gaps between characters join columns into bands many characters wide.) A band that is a
 * line of text is covered end to end (the gaps between characters are narrow), and a column band
 * of the same page crosses the lines and the blank space between them alternately. Null with
 * fewer than two bands. Dense text, whose line gaps are narrow too, is continuous both ways and
 * says nothing.
 */
export function lineContinuity(ink: Ink, deg: number, typePx: number): number | null {
  const { runs, pad, rows } = textRuns(ink, deg);
  if (runs.length < 2) return null;
  const t = Math.tan((deg * Math.PI) / 180);
  const bandOf = new Int32Array(rows).fill(-1);
  runs.forEach((r, i) => bandOf.fill(i, r.start, r.end + 1));
  const W = ink.width;
  const occupied = runs.map(() => new Uint8Array(W));
  const inkIn = new Float64Array(runs.length);
  for (let i = 0; i < ink.xs.length; i++) {
    const x = ink.xs[i]!;
    const band = bandOf[Math.round(ink.ys[i]! - x * t) + pad]!;
    if (band < 0) continue;
    occupied[band]![x] = 1;
    inkIn[band]!++;
  }
  const gap = Math.max(1, Math.floor(typePx * CLOSE_GAP));
  let sum = 0, weight = 0;
  runs.forEach((r, i) => {
    const occ = occupied[i]!;
    let first = -1, last = -1, covered = 0;
    for (let x = 0; x < W; x++) {
      if (!occ[x]) continue;
      if (first < 0) { first = x; covered = 1; } else covered += x - last - 1 <= gap ? x - last : 1;
      last = x;
    }
    if (first < 0) return;
    sum += (covered / (last - first + 1)) * inkIn[i]!;
    weight += inkIn[i]!;
  });
  return weight ? sum / weight : null;
}

/** Bands this many times further apart one way than the other tell lines (leading) from characters (tracking). */
const GAP_SURE = 2;
/** Bands between these multiples of the type's size are lines or columns of characters, not cells or rules. */
const BAND_MIN_TYPE = 0.5;
const BAND_MAX_TYPE = 2.5;

/**
 * Which way the lines run on a page of running text (0: along the rows of `ink`, 90: along its
 * columns, read from `turned90`), from how the ink bands, or null when that says nothing. The
 * cue is a habit of typesetting: lines are set further apart (leading, a third of the type's size
 * and up) than characters are (tracking, a tenth or less; 0 in a 公文 set on its grid). Across the
 * lines the ink falls into bands with wide gaps between them; along the lines it either forms one
 * block (digits and half-width punctuation put the columns out of step) or bands with narrow gaps
 * (a character grid). lineContinuity cannot see this on a full page: the leading is under its
 * closing gap there, so the page is continuous both ways.
 */
export function bandingDirection(ink: Ink, turned90: Ink, hDeg: number, vDeg: number, typePx: number): 0 | 90 | null {
  const h = bands(ink, hDeg), v = bands(turned90, vDeg);
  // Bands one way, a single block the other.
  if (h.count >= 3 && v.count <= 1) return 0;
  if (v.count >= 3 && h.count <= 1) return 90;
  if (h.count < 3 || v.count < 3) return null;
  // Bands both ways: the wider gaps are between the lines, if both are bands of characters.
  const textSized = (b: typeof h) => b.height >= BAND_MIN_TYPE * typePx && b.height <= BAND_MAX_TYPE * typePx;
  if (!textSized(h) || !textSized(v)) return null;
  if (h.gap >= GAP_SURE * v.gap) return 0;
  if (v.gap >= GAP_SURE * h.gap) return 90;
  return null;
}

/** textRuns' bands: how many, their median height and the median gap between neighbours. */
function bands(ink: Ink, deg: number): { count: number; height: number; gap: number } {
  const { runs } = textRuns(ink, deg);
  const median = (a: number[]): number => (a.length ? a.sort((x, y) => x - y)[Math.floor(a.length / 2)]! : 0);
  return {
    count: runs.length,
    height: median(runs.map((r) => r.end - r.start + 1)),
    gap: median(runs.slice(1).map((r, i) => r.start - runs[i]!.end - 1)),
  };
}

export interface HeadingEnd {
  /** Lines of text found (textLineHeight's runs). */
  lines: number;
  /** Where the lines set in larger type (a title) are: at the top of the text, at its bottom, or neither/both. */
  heading: 'top' | 'bottom' | null;
  /** Share of the page's height left blank above the first line of text, and below the last. */
  above: number;
  below: number;
}

/** A line this much taller than the body's lines is set in larger type (titles are 1.3-2.5 times the body). */
const HEADING_MIN = 1.3;
/** A "line" this much taller is not type at all: a seal, a photo, a signature scrawl, merged rows. */
const HEADING_MAX = 3;

/**
 * Where a page's heading and its blank space are, read on ink turned so that lines run
 * horizontally and sheared by the skew `deg`. Documents put their title, in larger type, above the
 * body, and a short document leaves the bottom of the sheet blank; the same page upside down has
 * its large line at the bottom of the text and its blank space above. The heading is placed only
 * when every large line falls in one third of the text (top or bottom) and there are at least three
 * lines; lines over HEADING_MAX times the body (a greyscale seal) are not headings.
 */
export function headingEnd(ink: Ink, deg: number): HeadingEnd {
  const { runs, pad } = textRuns(ink, deg);
  const page = Math.max(1, ink.height);
  if (!runs.length) return { lines: 0, heading: null, above: 0, below: 0 };
  const above = Math.max(0, runs[0]!.start - pad) / page;
  const below = Math.max(0, page - 1 - (runs[runs.length - 1]!.end - pad)) / page;
  const heights = runs.map((r) => r.end - r.start + 1);
  const body = [...heights].sort((a, b) => a - b)[Math.floor(heights.length / 2)]!;
  let heading: HeadingEnd['heading'] = null;
  if (runs.length >= 3) {
    const top = runs[0]!.start, span = Math.max(1, runs[runs.length - 1]!.end - top);
    const large = runs.filter((_, i) => heights[i]! >= HEADING_MIN * body && heights[i]! <= HEADING_MAX * body);
    // Where each large line's middle falls within the text, 0 (first line) to 1 (last line).
    const at = large.map((r) => ((r.start + r.end) / 2 - top) / span);
    if (at.length && at.every((a) => a < 1 / 3)) heading = 'top';
    else if (at.length && at.every((a) => a > 2 / 3)) heading = 'bottom';
  }
  return { lines: runs.length, heading, above, below };
}

/**
 * Stretches a grey page in place so that its paper is white and its ink black: Otsu's threshold
 * splits the pixels into ink and paper; the ink's core (its darkest tenth) is mapped to 0 and the
 * paper's median to 255 (values beyond them clip). Quantiles of each class rather than extremes,
 * so that neither a few dark specks nor the share of the page that is ink moves the mapping.
 * Returns whether it changed anything. Left as it is: a page whose ink and paper are less than
 * MIN_STRETCH_CONTRAST apart or with under 0.1 % ink (nothing to tell ink from paper by), and one
 * already near black on near white.
 */
export function stretchContrast(grey: Uint8Array): boolean {
  const hist = histogram(grey);
  const t = otsuOfHistogram(hist, grey.length);
  let inkN = 0;
  for (let v = 0; v < t; v++) inkN += hist[v]!;
  const paperN = grey.length - inkN;
  if (inkN < grey.length * 0.001 || paperN === 0) return false;
  const quantile = (from: number, to: number, n: number, q: number): number => {
    let seen = 0;
    for (let v = from; v < to; v++) if ((seen += hist[v]!) >= n * q) return v;
    return to - 1;
  };
  // The ink's level is its strokes' cores (a tenth of the ink class is darker): most ink pixels of
  // thin or resampled strokes are their grey edges, and a median of them called black ink grey.
  const lo = quantile(0, t, inkN, 0.1), hi = quantile(t, 256, paperN, 0.5);
  // Already near black on near white: stretching would only amplify the grain (noisy white pages
  // of our tuning set read at 3.1 % CER stretched, 2.4 % as they were).
  if (hi - lo < MIN_STRETCH_CONTRAST || (lo <= BLACK_ENOUGH && hi >= WHITE_ENOUGH)) return false;
  const lut = new Uint8Array(256);
  for (let v = 0; v < 256; v++) lut[v] = Math.max(0, Math.min(255, Math.round(((v - lo) * 255) / (hi - lo))));
  for (let i = 0; i < grey.length; i++) grey[i] = lut[grey[i]!]!;
  return true;
}

/** Ink and paper closer than this (grey levels: ink core, paper median) are not stretched apart. */
const MIN_STRETCH_CONTRAST = 30;
/** Ink this dark and paper this light need no stretch. */
const BLACK_ENOUGH = 60;
const WHITE_ENOUGH = 235;

/**
 * 3×3 median of a grey image, edges extended by copying (what libvips' `median(3)` gives, byte for
 * byte, and unlike it also on images under 3×3). libvips ranks every window anew (350-620 ms for
 * an A4 page at 300 dpi on a 2-core CI machine); this sorts each column of three once and takes the
 * median of the window as the median of its columns' lows' maximum, middles' median and highs'
 * minimum, which is exact for 3×3 (190-260 ms; docs/benchmarks.md, bench:ocr (10)).
 */
export function median3(src: Uint8Array, width: number, height: number): Buffer {
  const out = Buffer.allocUnsafe(width * height);
  // Each column's sorted triple for the current output row, with one copied column at each end.
  const lo = new Int32Array(width + 2), mid = new Int32Array(width + 2), hi = new Int32Array(width + 2);
  // Math.min/max rather than compare-and-swap: on scanner noise the branches mispredict half the time.
  for (let y = 0; y < height; y++) {
    const up = (y > 0 ? y - 1 : 0) * width, row = y * width, down = (y < height - 1 ? y + 1 : y) * width;
    for (let x = 0; x < width; x++) {
      const a = src[up + x]!, b = src[row + x]!, c = src[down + x]!;
      const l = Math.min(Math.min(a, b), c), h = Math.max(Math.max(a, b), c);
      lo[x + 1] = l; hi[x + 1] = h; mid[x + 1] = a + b + c - l - h;
    }
    lo[0] = lo[1]!; mid[0] = mid[1]!; hi[0] = hi[1]!;
    lo[width + 1] = lo[width]!; mid[width + 1] = mid[width]!; hi[width + 1] = hi[width]!;
    for (let x = 0; x < width; x++) {
      const maxLo = Math.max(Math.max(lo[x]!, lo[x + 1]!), lo[x + 2]!);
      const minHi = Math.min(Math.min(hi[x]!, hi[x + 1]!), hi[x + 2]!);
      const m0 = mid[x]!, m1 = mid[x + 1]!, m2 = mid[x + 2]!;
      const medMid = m0 + m1 + m2 - Math.min(Math.min(m0, m1), m2) - Math.max(Math.max(m0, m1), m2);
      out[row + x] = maxLo + medMid + minHi - Math.min(Math.min(maxLo, medMid), minHi) - Math.max(Math.max(maxLo, medMid), minHi);
    }
  }
  return out;
}
