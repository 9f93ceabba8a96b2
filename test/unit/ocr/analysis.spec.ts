import assert from 'node:assert/strict';
import sharp from 'sharp';
import { bandingDirection, estimateSkew, headingEnd, inkPoints, lineContinuity, lineAlignment, median3, otsu, stretchContrast, textLineHeight, turn90 } from '../../../ocr/analysis';
import { rng } from '../../helpers/si-corpus';

/** Rows of "text": dark bars 6 px high every 20 px, sheared by `deg` clockwise. */
function bars(w: number, h: number, deg: number): Uint8Array {
  const g = new Uint8Array(w * h).fill(255);
  const t = Math.tan((deg * Math.PI) / 180);
  for (let y = 0; y < h; y++) for (let x = 20; x < w - 20; x++) {
    const y0 = y - x * t;
    if (y0 > 20 && y0 < h - 40 && ((Math.floor(y0) % 20) + 20) % 20 < 6 && x % 9 !== 0) g[y * w + x] = 0;
  }
  return g;
}

describe('ocr analysis (projection profiles)', () => {
  for (const deg of [-5, -2.5, 0, 3, 5]) {
    it(`finds a ${deg}° skew within 0.2°`, () => {
      const g = bars(400, 300, deg);
      const est = estimateSkew(inkPoints(g, 400, 300, otsu(g)));
      assert.ok(Math.abs(est.deg - deg) <= 0.2, `estimated ${est.deg}`);
    });
  }
  it('scores horizontal lines higher than the same page turned 90°', () => {
    const g = bars(400, 300, 0);
    const ink = inkPoints(g, 400, 300, 128);
    assert.ok(estimateSkew(ink).score > 1.5 * estimateSkew(turn90(ink)).score);
  });

  /** Lines 8 px high every 20 px, each `lengths[i]` px long, set flush left (or flush right). */
  function lines(lengths: number[], flushRight = false, w = 400): { g: Uint8Array; w: number; h: number } {
    const h = 40 + 20 * lengths.length;
    const g = new Uint8Array(w * h).fill(255);
    lengths.forEach((len, i) => {
      for (let y = 20 + 20 * i; y < 28 + 20 * i; y++) {
        for (let x = 0; x < len; x++) if (x % 7 !== 0) g[y * w + (flushRight ? w - 20 - x : 20 + x)] = 0;
      }
    });
    return { g, w, h };
  }
  it('line alignment: flush-left lines share their left edge; the same page upside down, its right edge', () => {
    const lengths = [200, 340, 120, 260, 90, 300];
    const up = lines(lengths);
    const a = lineAlignment(inkPoints(up.g, up.w, up.h, 128), 0);
    assert.equal(a.left, 1);
    assert.ok(a.right <= 0.35, `right ${a.right}`);
    const down = lines(lengths, true);
    const b = lineAlignment(inkPoints(down.g, down.w, down.h, 128), 0);
    assert.equal(b.right, 1);
    assert.ok(b.left <= 0.35, `left ${b.left}`);
  });
  it('line alignment: lines that span the block (table rules) are left out', () => {
    const ruled = lines([360, 150, 360, 200, 360, 100, 360]);
    const a = lineAlignment(inkPoints(ruled.g, ruled.w, ruled.h, 128), 0);
    assert.equal(a.lines, 3);
  });

  describe('text line height (the size of the type, for the recognition scale)', () => {
    /** Lines `heights[i]` px high (ink rows), 10 px apart, 300 px long, with gaps between glyphs. */
    function page(heights: number[], extra?: (g: Uint8Array, w: number, h: number) => void): { g: Uint8Array; w: number; h: number } {
      const w = 400;
      const h = 40 + heights.reduce((a, x) => a + x + 10, 0);
      const g = new Uint8Array(w * h).fill(255);
      let y0 = 20;
      for (const lh of heights) {
        for (let y = y0; y < y0 + lh; y++) for (let x = 30; x < 330; x++) if (x % 12 < 9) g[y * w + x] = 0;
        y0 += lh + 10;
      }
      extra?.(g, w, h);
      return { g, w, h };
    }
    const measure = (p: { g: Uint8Array; w: number; h: number }, deg = 0) => textLineHeight(inkPoints(p.g, p.w, p.h, 128), deg);

    it('is the height of the body lines', () => {
      assert.equal(measure(page([12, 12, 12, 12, 12])), 12);
    });
    it('a title in large type does not move it: the median line', () => {
      assert.equal(measure(page([30, 12, 12, 12, 12, 12])), 12);
    });
    it('the vertical rules of a table (ink in every row) do not join the lines into one', () => {
      const ruled = page([12, 12, 12, 12, 12, 12], (g, w, h) => {
        for (const x of [25, 120, 250, 335]) for (let y = 10; y < h - 10; y++) g[y * w + x] = 0;
      });
      assert.equal(measure(ruled), 12);
    });
    it('horizontal rules (a row or two of ink) are not lines of text', () => {
      const ruled = page([12, 12, 12, 12], (g, w) => {
        for (const y of [16, 17, 48, 80]) for (let x = 20; x < 380; x++) g[y * w + x] = 0;
      });
      assert.equal(measure(ruled), 12);
    });
    it('is measured along the skew', () => {
      const g = bars(400, 300, 3);
      const h = textLineHeight(inkPoints(g, 400, 300, 128), 3);
      assert.ok(h !== null && Math.abs(h - 6) <= 1, `measured ${h}`);
    });
    it('says nothing on a page without lines of text', () => {
      assert.equal(measure(page([])), null);
      assert.equal(measure(page([12])), null);
    });
  });

  describe('line continuity (which way the lines run, on a short form)', () => {
    /**
     * A short form in square type on a grid: 12-px characters (strokes 2 px wide, 3 px apart), 13 px
     * apart along a line, lines 20 px apart, every line starting in the same column, so the
     * characters line up in columns as well as in rows.
     */
    function grid(lineChars: number[]): { g: Uint8Array; w: number; h: number } {
      const w = 420, h = 40 + 20 * lineChars.length;
      const g = new Uint8Array(w * h).fill(255);
      lineChars.forEach((n, line) => {
        for (let c = 0; c < n; c++) {
          const x0 = 20 + 13 * c, y0 = 20 + 20 * line;
          for (let y = 0; y < 12; y++) for (let x = 0; x < 12; x++) if (y % 5 < 2 || x % 5 < 2) g[(y0 + y) * w + x0 + x] = 0;
        }
      });
      return { g, w, h };
    }
    const form = grid([24, 9, 14, 6, 20]);
    it('a line of text is covered end to end; a column crosses the lines and the space between them', () => {
      const ink = inkPoints(form.g, form.w, form.h, 128);
      const along = lineContinuity(ink, 0, 12)!, across = lineContinuity(turn90(ink), 0, 12)!;
      assert.ok(along >= 0.9, `along ${along}`);
      assert.ok(across <= 0.75, `across ${across}`);
    });
    it('the same form turned 90° is continuous the other way', () => {
      const ink = turn90(inkPoints(form.g, form.w, form.h, 128));
      assert.ok(lineContinuity(turn90(ink), 0, 12)! - lineContinuity(ink, 0, 12)! >= 0.25);
    });
    it('says nothing on fewer than two bands', () => {
      assert.equal(lineContinuity(inkPoints(grid([10]).g, 420, 60, 128), 0, 12), null);
    });
  });

  describe('banding (which way the lines run, on a full page of running text)', () => {
    /**
     * Running text: `lines` lines of 12-px square characters, `pitch` px apart along a line (so
     * `pitch` - 12 px of tracking), lines `lead` px apart; `ragged` shifts each line by a few px
     * (digits and half-width punctuation put the columns out of step).
     */
    function text(lines: number, chars: number, pitch: number, lead: number, ragged = false): { g: Uint8Array; w: number; h: number } {
      const w = 40 + pitch * chars + 10, h = 40 + lead * lines;
      const g = new Uint8Array(w * h).fill(255);
      const r = rng(5);
      for (let line = 0; line < lines; line++) {
        const shift = ragged ? Math.floor(r() * pitch) : 0;
        for (let c = 0; c < chars; c++) {
          const x0 = 20 + shift + pitch * c, y0 = 20 + lead * line;
          for (let y = 0; y < 12; y++) for (let x = 0; x < 12; x++) if (y % 5 < 2 || x % 5 < 2) g[(y0 + y) * w + x0 + x] = 0;
        }
      }
      return { g, w, h };
    }
    const dir = (p: { g: Uint8Array; w: number; h: number }, turned = false) => {
      const ink = inkPoints(p.g, p.w, p.h, 128);
      return turned ? bandingDirection(turn90(ink), ink, 0, 0, 12) : bandingDirection(ink, turn90(ink), 0, 0, 12);
    };

    it('a character grid: the lines are the bands with the wider gaps between them (leading is wider than tracking)', () => {
      const grid = text(30, 28, 13, 18);
      assert.equal(dir(grid), 0);
      assert.equal(dir(grid, true), 90, 'the same page turned 90°');
    });
    it('columns put out of step by the text: one block across the lines\' length, bands across them', () => {
      const ragged = text(30, 28, 13, 18, true);
      assert.equal(dir(ragged), 0);
      assert.equal(dir(ragged, true), 90);
    });
    it('says nothing when leading and tracking are alike (a grid with lines as close as characters)', () => {
      assert.equal(dir(text(30, 28, 15, 15)), null);
    });
    it('says nothing on a block with no bands either way (a photo, a seal)', () => {
      const w = 300, h = 300;
      const g = new Uint8Array(w * h).fill(255);
      for (let y = 50; y < 250; y++) for (let x = 50; x < 250; x++) if ((x + y) % 3) g[y * w + x] = 0;
      assert.equal(dir({ g, w, h }), null);
    });
    it('bands far from the type\'s size are not characters (a table\'s columns of cells): only the gap rule needs them', () => {
      // Five columns of cells, each 50 px wide, 30 px apart; 12-px lines 18 px apart. The columns'
      // gaps are five times the lines', but the columns are four times the type's size: cells, not
      // characters, so their gaps say nothing about tracking (read as such, the page would turn).
      const w = 440, h = 40 + 18 * 20;
      const g = new Uint8Array(w * h).fill(255);
      for (let line = 0; line < 20; line++) for (let cell = 0; cell < 5; cell++) for (let y = 0; y < 12; y++) for (let x = 0; x < 50; x++) if (x % 4 !== 3) g[(20 + 18 * line + y) * w + 20 + 80 * cell + x] = 0;
      assert.equal(dir({ g, w, h }), null);
    });
  });

  describe('heading end (where the large type and the blank space are: the page\'s way up)', () => {
    /**
     * A 400 × `h` page with lines `heights[i]` px high (glyph-like gaps), 10 px apart from y = 30,
     * 300 px long; `flip` turns it upside down; `extra` draws more on it (rules, a seal).
     */
    function page(heights: number[], h = 600, flip = false, extra?: (g: Uint8Array, w: number, h: number) => void): { g: Uint8Array; w: number; h: number } {
      const w = 400;
      const g = new Uint8Array(w * h).fill(255);
      let y0 = 30;
      for (const lh of heights) {
        for (let y = y0; y < y0 + lh; y++) for (let x = 40; x < 340; x++) if (x % 12 < 9) g[y * w + x] = 0;
        y0 += lh + 10;
      }
      extra?.(g, w, h);
      if (flip) g.reverse();
      return { g, w, h };
    }
    const read = (p: { g: Uint8Array; w: number; h: number }) => headingEnd(inkPoints(p.g, p.w, p.h, 128), 0);

    it('a short form upright: the title is at the top and the blank space below', () => {
      const r = read(page([22, 12, 12, 12, 12]));
      assert.equal(r.heading, 'top');
      assert.equal(r.lines, 5);
      assert.ok(r.above < 0.06 && r.below > 0.6, JSON.stringify(r));
    });
    it('the same form upside down: the title is at the bottom and the blank space above', () => {
      const r = read(page([22, 12, 12, 12, 12], 600, true));
      assert.equal(r.heading, 'bottom');
      assert.ok(r.above > 0.6 && r.below < 0.06, JSON.stringify(r));
    });
    it('lines all of one size place no heading', () => {
      assert.equal(read(page([12, 12, 12, 12, 12])).heading, null);
    });
    it('large lines at both ends (a title and a large signature line) place no heading', () => {
      assert.equal(read(page([22, 12, 12, 12, 12, 12, 22])).heading, null);
    });
    it('a seal-sized blot at the foot of an upright page is not a heading (the title still is)', () => {
      const r = read(page([22, 12, 12, 12, 12, 12], 600, false, (g, w) => {
        for (let y = 150; y < 210; y++) for (let x = 250; x < 310; x++) g[y * w + x] = 0;
      }));
      assert.equal(r.heading, 'top', JSON.stringify(r));
    });
    it('fewer than three lines place no heading', () => {
      assert.equal(read(page([22, 12])).heading, null);
    });
    it('a table\'s vertical rules do not join its rows into one tall line', () => {
      const r = read(page([22, 12, 12, 12, 12, 12], 600, true, (g, w) => {
        for (const x of [35, 150, 345]) for (let y = 60; y < 140; y++) g[y * w + x] = 0;
      }));
      assert.equal(r.heading, 'bottom', JSON.stringify(r));
    });
  });

  describe('contrast stretch (grey paper, faded ink)', () => {
    /** A page of `paper` with 5 % of its pixels ink at `ink`, and some grain. */
    function page(paper: number, ink: number, inkShare = 0.05): Uint8Array {
      const g = new Uint8Array(20_000);
      for (let i = 0; i < g.length; i++) g[i] = (i % Math.round(1 / inkShare) === 0 ? ink : paper) + ((i * 7919) % 9) - 4;
      return g;
    }
    it('grey paper with faded ink becomes white paper with black ink', () => {
      const g = page(180, 90);
      assert.equal(stretchContrast(g), true);
      const paper = g.filter((_, i) => i % 20 !== 0), ink = g.filter((_, i) => i % 20 === 0);
      assert.ok(paper.reduce((a, v) => a + v, 0) / paper.length > 245, 'paper white');
      assert.ok(ink.reduce((a, v) => a + v, 0) / ink.length < 15, 'ink black');
    });
    it('a page that is already near black on near white is left as it is (its grain is not amplified)', () => {
      const g = page(245, 30);
      const before = Uint8Array.from(g);
      assert.equal(stretchContrast(g), false);
      assert.deepEqual(g, before);
    });
    it('paper with almost no ink, or no contrast, is not stretched (grain would become ink)', () => {
      assert.equal(stretchContrast(page(230, 60, 0.0005)), false);
      assert.equal(stretchContrast(page(200, 185)), false);
    });
  });

  describe('3×3 median (despeckle)', () => {
    /** A seeded mix of salt, pepper and grey, the noise the median is there for. */
    function noisy(w: number, h: number, seed: number): Buffer {
      const rnd = rng(seed);
      const g = Buffer.alloc(w * h);
      for (let i = 0; i < g.length; i++) { const r = rnd(); g[i] = r < 0.2 ? 0 : r < 0.4 ? 255 : Math.floor(rnd() * 256); }
      return g;
    }
    it("is libvips' median(3) byte for byte, edges and corners included, on images from 3×3 up", async () => {
      for (const [w, h, seed] of [[3, 3, 1], [4, 3, 2], [3, 7, 3], [17, 5, 4], [64, 48, 5], [301, 97, 6]] as const) {
        const src = noisy(w, h, seed);
        const want = await sharp(src, { raw: { width: w, height: h, channels: 1 } }).median(3).extractChannel(0).raw().toBuffer();
        assert.ok(median3(src, w, h).equals(want), `${w}×${h}`);
      }
    });
    it('removes an isolated speck and keeps a stroke', () => {
      const w = 9, h = 9, g = Buffer.alloc(w * h, 255);
      g[2 * w + 2] = 0; // a speck
      for (let y = 1; y < 8; y++) for (let x = 5; x < 8; x++) g[y * w + x] = 0; // a stroke three pixels wide
      const m = median3(g, w, h);
      assert.equal(m[2 * w + 2], 255);
      assert.equal(m[4 * w + 6], 0);
    });
  });
});
