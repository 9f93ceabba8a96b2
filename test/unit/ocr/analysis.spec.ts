import assert from 'node:assert/strict';
import { estimateSkew, inkPoints, otsu, turn90 } from '../../../ocr/analysis';

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
});
