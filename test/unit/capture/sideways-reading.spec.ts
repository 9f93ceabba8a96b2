import assert from 'node:assert/strict';
import type { OcrLine, OcrPageResult } from '../../../ocr';
import { sidewaysTurn } from '../../../src/services/capture/capture';

// Issue #12 §1: tesseract (chi_sim) reads a page that lies on its side as vertical lines, and
// reads it well when the characters were turned a quarter clockwise: the text is right, the
// confidence is good, but the page would be filed sideways. The reading's own boxes show it.
describe('capture: a good reading of a page on its side', () => {
  /** A line of `n` one-character words stepping from (x, y) by (dx, dy); boxes 40 px square. */
  const line = (text: string, x: number, y: number, dx: number, dy: number): OcrLine => {
    const chars = [...text];
    const words = chars.map((c, i) => ({ text: c, confidence: 90, bbox: { x0: x + i * dx, y0: y + i * dy, x1: x + i * dx + 40, y1: y + i * dy + 40 } }));
    const xs = words.flatMap((w) => [w.bbox.x0, w.bbox.x1]), ys = words.flatMap((w) => [w.bbox.y0, w.bbox.y1]);
    return { text, confidence: 90, words, bbox: { x0: Math.min(...xs), y0: Math.min(...ys), x1: Math.max(...xs), y1: Math.max(...ys) } };
  };
  const reading = (lines: OcrLine[]): OcrPageResult => ({ text: lines.map((l) => l.text).join('\n'), confidence: 90, lines, ms: 0 });
  const across = (i: number) => line('社会保险稽核通知书', 100, 100 + i * 60, 44, 0);
  const down = (i: number) => line('社会保险稽核通知书', 1000 - i * 60, 100, 0, 44);
  const up = (i: number) => line('社会保险稽核通知书', 100 + i * 60, 900, 0, -44);

  it('lines running across the page: upright, no turn', () => {
    assert.equal(sidewaysTurn(reading([0, 1, 2, 3].map(across))), null);
  });

  it('lines running down the page, read top to bottom: the page was turned clockwise; a quarter turn back (270)', () => {
    assert.equal(sidewaysTurn(reading([0, 1, 2, 3].map(down))), 270);
  });

  it('lines running up the page: the page was turned counter-clockwise; a quarter turn on (90)', () => {
    assert.equal(sidewaysTurn(reading([0, 1, 2, 3].map(up))), 90);
  });

  it('a few vertical lines among many across (a stamp, a side margin note) do not turn the page', () => {
    assert.equal(sidewaysTurn(reading([...[0, 1, 2, 3, 4, 5].map(across), down(0)])), null);
  });

  it('short lines of one or two characters say nothing about direction, however their boxes fall', () => {
    const short = [0, 1, 2, 3].map((i) => line('盖章', 100, 100 + i * 200, 0, 44));
    assert.equal(sidewaysTurn(reading(short)), null);
  });

  it('an empty reading is not turned', () => {
    assert.equal(sidewaysTurn(reading([])), null);
  });
});
