/**
 * missedTextBands: ink that no recognised line covers and that looks like a line of text is
 * found (and only that piece of the row); table rules, covered text and speckle are not.
 */
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { missedTextBands, type BBox, type PreparedPage } from '../../../ocr';
import { FONTS } from '../../helpers/fixtures/ocr-fixtures';

const W = 2000;
const H = 900;

/** A 300 dpi page: a widely spaced title, a two-cell table row under it, in page pixels = OCR pixels. */
async function page(opts: { title?: boolean; table?: boolean; cellText?: boolean } = {}): Promise<PreparedPage> {
  const parts: string[] = [];
  if (opts.title ?? true) parts.push(`<text x="1000" y="180" font-family="${FONTS.serif}" font-size="92" letter-spacing="40" text-anchor="middle">社会保险稽核通知书</text>`);
  if (opts.table ?? true) {
    parts.push('<rect x="150" y="400" width="1700" height="160" fill="none" stroke="#000" stroke-width="5"/>', '<line x1="650" y1="400" x2="650" y2="560" stroke="#000" stroke-width="5"/>');
  }
  if (opts.cellText) parts.push(`<text x="190" y="500" font-family="${FONTS.sans}" font-size="50">单位名称</text>`, `<text x="700" y="500" font-family="${FONTS.sans}" font-size="50">江苏恒信精密模具有限公司</text>`);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}"><rect width="100%" height="100%" fill="#fff"/>${parts.join('')}</svg>`;
  const raw = await sharp(Buffer.from(svg), { density: 72 }).greyscale().raw().toBuffer();
  return {
    ocrImage: raw, ocrWidth: W, ocrHeight: H, ocrScale: 1, ocrOffset: { x: 0, y: 0 }, dpi: 300, blank: false,
  } as unknown as PreparedPage;
}

const contains = (outer: BBox, inner: BBox): boolean => outer.x0 <= inner.x0 && outer.y0 <= inner.y0 && outer.x1 >= inner.x1 && outer.y1 >= inner.y1;

describe('ocr: text that the layout pass left out (missedTextBands)', function () {
  this.timeout(20_000);

  it('finds an uncovered widely spaced title as one band around it, not the table under it', async () => {
    const bands = missedTextBands(await page(), []);
    assert.equal(bands.length, 1, JSON.stringify(bands));
    const [b] = bands;
    // Nine glyphs of 92 px, 40 px apart, centred: x ~405-1595; baseline at y 180 (glyphs ~100-190).
    assert.ok(b!.x0 < 450 && b!.x1 > 1550, `band ${JSON.stringify(b)} misses part of the title`);
    assert.ok(b!.y0 < 130 && b!.y1 > 175 && b!.y1 < 400, `band ${JSON.stringify(b)} is not the title's row`);
  });

  it('nothing once a recognised line covers the title; table rules alone are never text', async () => {
    const title: BBox = { x0: 280, y0: 95, x1: 1720, y1: 200 };
    assert.deepEqual(missedTextBands(await page(), [title]), []);
    assert.deepEqual(missedTextBands(await page({ title: false }), []), []);
  });

  it('a table row with one cell read: a band for the other cell only, within its cell', async () => {
    const labelRead: BBox = { x0: 185, y0: 450, x1: 395, y1: 505 };
    const bands = missedTextBands(await page({ title: false, cellText: true }), [labelRead]);
    assert.equal(bands.length, 1, JSON.stringify(bands));
    assert.ok(bands[0]!.x0 > 650, `band ${JSON.stringify(bands[0])} reaches into the read cell`);
    assert.ok(contains({ x0: 650, y0: 400, x1: 1850, y1: 560 }, { ...bands[0]!, y0: Math.max(bands[0]!.y0, 400), y1: Math.min(bands[0]!.y1, 560) }));
  });
});
