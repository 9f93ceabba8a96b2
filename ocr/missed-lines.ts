/**
 * Text that tesseract's page layout analysis left out. On clean pages it sometimes drops a whole
 * line: a large title with wide letter spacing (社会保险参保人员基本信息登记表 on a held-out 楷体
 * form, read by neither our pipeline nor the tesseract CLI) reads as separate blobs that the layout
 * pass does not join into a text line. The title is what classifies the item, so a page must not
 * lose it silently.
 *
 * This finds bands of ink that no recognised line covers and that look like a line of text: rows
 * crossed by many short ink runs (glyph strokes), not by one long run (a table rule) or a few
 * (the vertical rules of a table), over a height that text has. The caller reads each band again
 * as a single line (OcrEngine.rereadLine) and keeps what reads confidently.
 */
import type { BBox } from './types';
import type { PreparedPage } from './prepare';

export interface MissedBandOptions {
  /** At most this many bands, most ink first (default 8). */
  max?: number;
}

/** Runs of ink longer than this many inches are rules or bars, not glyph strokes. */
const MAX_STROKE_IN = 0.25;
/** Vertical runs longer than this (in inches, a 22 pt glyph) are taken for rules: a cell border of a one-line table row is about twice that; a tall glyph losing a stroke still leaves its others. */
const MAX_RULE_GLYPH_IN = 0.3;
/** Strokes further apart than this many band heights belong to different lines (table cells). */
const MAX_GAP_HEIGHTS = 1.5;
/** A row of a text line crosses at least this many strokes … */
const MIN_RUNS_PER_ROW = 10;
/**
 * … and this much ink, in inches (about five 3 mm glyphs' worth of strokes). A two- or three-
 * character field alone in a cell stays below these: lower thresholds (6 runs, 0.08 in, bands from
 * 0.25 in) let salt-and-pepper noise join a noisy page's title into one band too tall to read.
 */
const MIN_INK_PER_ROW_IN = 0.12;
/** Text from about 7 pt to 50 pt: band heights in inches. */
const MIN_BAND_IN = 0.06;
const MAX_BAND_IN = 0.75;
/** Rows that do not qualify inside a band (the gaps between strokes), in inches. */
const MAX_GAP_IN = 0.03;
/** A band must span at least this much width, in inches (a few glyphs). */
const MIN_WIDTH_IN = 0.4;

/**
 * Bands of uncovered text-like ink, as boxes in PreparedPage.image pixels (the coordinates
 * recognizePage gives lines in). `lines` are the recognised lines' boxes in the same pixels.
 */
export function missedTextBands(page: PreparedPage, lines: readonly BBox[], opts: MissedBandOptions = {}): BBox[] {
  const W = page.ocrWidth;
  const H = page.ocrHeight;
  const img = page.ocrImage;
  if (page.blank || W < 16 || H < 16) return [];
  const s = page.ocrScale;
  const { x: dx, y: dy } = page.ocrOffset;
  const dpi = page.dpi * s;

  // Paper and ink levels from the histogram (the page is mostly paper): ink is darker than halfway.
  const hist = new Uint32Array(256);
  for (let i = 0; i < img.length; i += 7) hist[img[i]!]!++;
  const total = hist.reduce((a, b) => a + b, 0);
  const level = (q: number): number => {
    let acc = 0;
    for (let v = 0; v < 256; v++) if ((acc += hist[v]!) >= total * q) return v;
    return 255;
  };
  const paper = level(0.5);
  const ink = level(0.01);
  if (paper - ink < 40) return [];
  const threshold = paper - (paper - ink) / 2;

  // Covered pixels: every recognised line's box, padded a little (its glyphs overhang the box).
  const covered = new Uint8Array(W * H);
  for (const b of lines) {
    const pad = Math.round((b.y1 - b.y0) * s * 0.15) + 2;
    const x0 = Math.max(0, Math.floor((b.x0 - dx) * s) - pad);
    const x1 = Math.min(W, Math.ceil((b.x1 - dx) * s) + pad);
    const y0 = Math.max(0, Math.floor((b.y0 - dy) * s) - pad);
    const y1 = Math.min(H, Math.ceil((b.y1 - dy) * s) + pad);
    for (let y = y0; y < y1; y++) covered.fill(1, y * W + x0, y * W + x1);
  }

  // Vertical rules (table borders) are ink too, one short run per row: taken out like covered text,
  // so that they neither make a row look like text nor stretch a band across the table.
  const maxStroke = Math.max(3, Math.round(MAX_STROKE_IN * dpi));
  const ruleLen = Math.round(MAX_RULE_GLYPH_IN * dpi);
  for (let x = 0; x < W; x++) {
    for (let y = 0; y < H; ) {
      if (img[y * W + x]! >= threshold || covered[y * W + x]) {
        y++;
        continue;
      }
      const start = y;
      while (y < H && img[y * W + x]! < threshold && !covered[y * W + x]) y++;
      if (y - start > ruleLen) for (let k = start; k < y; k++) covered[k * W + x] = 1;
    }
  }

  const minInk = MIN_INK_PER_ROW_IN * dpi;
  // Per row: does it look like a row through a text line? And where are its strokes?
  const rowOk = new Uint8Array(H);
  const rowX0 = new Int32Array(H).fill(W);
  const rowX1 = new Int32Array(H).fill(-1);
  for (let y = 0; y < H; y++) {
    const row = y * W;
    let runs = 0;
    let inkPx = 0;
    let x = 0;
    let first = W;
    let last = -1;
    while (x < W) {
      if (img[row + x]! >= threshold || covered[row + x]) {
        x++;
        continue;
      }
      const start = x;
      while (x < W && img[row + x]! < threshold && !covered[row + x]) x++;
      const len = x - start;
      if (len > maxStroke) continue;
      runs++;
      inkPx += len;
      if (start < first) first = start;
      last = x - 1;
    }
    if (runs >= MIN_RUNS_PER_ROW && inkPx >= minInk) {
      rowOk[y] = 1;
      rowX0[y] = first;
      rowX1[y] = last;
    }
  }

  const bands: { box: BBox; ink: number }[] = [];
  const maxGap = Math.max(1, Math.round(MAX_GAP_IN * dpi));
  for (let y = 0; y < H; ) {
    if (!rowOk[y]) {
      y++;
      continue;
    }
    let end = y;
    let gap = 0;
    let x0 = W;
    let x1 = -1;
    let rows = 0;
    for (let k = y; k < H; k++) {
      if (rowOk[k]) {
        end = k;
        gap = 0;
        rows++;
        if (rowX0[k]! < x0) x0 = rowX0[k]!;
        if (rowX1[k]! > x1) x1 = rowX1[k]!;
      } else if (++gap > maxGap) break;
    }
    const height = end - y + 1;
    if (height >= MIN_BAND_IN * dpi && height <= MAX_BAND_IN * dpi && x1 - x0 >= MIN_WIDTH_IN * dpi) {
      // Uncovered stroke ink per column over the band; clusters apart by more than a glyph gap
      // are separate pieces (the cells of a table row), each a band of its own.
      const cols = new Uint8Array(x1 - x0 + 1);
      for (let k = y; k <= end; k++) {
        if (!rowOk[k]) continue;
        const row = k * W;
        for (let x = x0; x <= x1; x++) if (img[row + x]! < threshold && !covered[row + x]) cols[x - x0] = 1;
      }
      const split = Math.round(height * MAX_GAP_HEIGHTS);
      let c0 = -1;
      let c1 = -1;
      const flush = (): void => {
        if (c0 < 0 || c1 - c0 < MIN_WIDTH_IN * dpi) return;
        // Back into page pixels, with the glyphs' full height (the qualifying rows are their middle).
        const grow = Math.round(height * 0.25);
        bands.push({
          box: {
            x0: Math.round((x0 + c0) / s + dx),
            y0: Math.round(Math.max(0, y - grow) / s + dy),
            x1: Math.round((x0 + c1 + 1) / s + dx),
            y1: Math.round(Math.min(H, end + 1 + grow) / s + dy),
          },
          ink: rows * (c1 - c0),
        });
      };
      for (let i = 0; i < cols.length; i++) {
        if (!cols[i]) continue;
        if (c0 >= 0 && i - c1 > split) {
          flush();
          c0 = -1;
        }
        if (c0 < 0) c0 = i;
        c1 = i;
      }
      flush();
    }
    y = end + 1;
  }
  return bands
    .sort((a, b) => b.ink - a.ink)
    .slice(0, opts.max ?? 8)
    .map((b) => b.box)
    .sort((a, b) => a.y0 - b.y0);
}
