import assert from 'node:assert/strict';
import sharp from 'sharp';
import { OcrInputError, detectFormat, iteratePages, type InputLimits, type OcrInputErrorCode } from '../../../ocr/index';
import { greyOf } from '../../../ocr/inputs';
import { htmlAsJpg, manyPageTiff, pngBomb, toPdf, type FixturePage } from '../../helpers/fixtures/ocr-fixtures';

async function pages(buf: Uint8Array, limits?: InputLimits) {
  const out = [];
  for await (const p of iteratePages(buf, limits)) out.push(p);
  return out;
}

async function rejects(buf: Uint8Array, code: OcrInputErrorCode, limits?: InputLimits) {
  await assert.rejects(pages(buf, limits), (e: unknown) => {
    assert.ok(e instanceof OcrInputError, `expected OcrInputError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return true;
  });
}

/** A small page with some ink; enough for decoders, no OCR needed here. */
async function smallPage(): Promise<Buffer> {
  return sharp({ create: { width: 300, height: 200, channels: 3, background: '#ffffff' } })
    .composite([{ input: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="300" height="200"><rect x="20" y="20" width="200" height="20"/></svg>') }])
    .png().withMetadata({ density: 150 }).toBuffer();
}

const fixture = async (): Promise<FixturePage> => ({ name: 'x', condition: 'clean', expected: '', png: await smallPage(), dpi: 150 });

describe('ocr detectFormat (magic bytes, never the name)', () => {
  it('recognises each supported format', async () => {
    const png = await smallPage();
    assert.equal(detectFormat(png), 'png');
    assert.equal(detectFormat(await sharp(png).jpeg().toBuffer()), 'jpeg');
    assert.equal(detectFormat(await sharp(png).tiff().toBuffer()), 'tiff');
    assert.equal(detectFormat(Buffer.from('MM\0*\0\0\0\x08', 'latin1')), 'tiff');
    assert.equal(detectFormat(Buffer.from('%PDF-1.7\n')), 'pdf');
    assert.equal(detectFormat(Buffer.from('\n\n%PDF-1.4\n')), 'pdf');
  });
  it('rejects HTML named .jpg and empty files with typed errors', () => {
    assert.throws(() => detectFormat(htmlAsJpg()), (e: unknown) => e instanceof OcrInputError && e.code === 'unsupported_media_type');
    assert.throws(() => detectFormat(Buffer.alloc(0)), (e: unknown) => e instanceof OcrInputError && e.code === 'empty_file');
    assert.throws(() => detectFormat(Buffer.from('GIF89a')), (e: unknown) => e instanceof OcrInputError && e.code === 'unsupported_media_type');
  });
});

describe('ocr iteratePages on hostile input', () => {
  it('zero bytes → empty_file', () => rejects(Buffer.alloc(0), 'empty_file'));
  it('HTML named .jpg → unsupported_media_type', () => rejects(htmlAsJpg(), 'unsupported_media_type'));
  it('truncated JPEG → corrupt_file', async () => {
    const jpg = await sharp(await smallPage()).jpeg().toBuffer();
    await rejects(jpg.subarray(0, Math.floor(jpg.length / 2)), 'corrupt_file');
  });
  it('truncated PNG → corrupt_file', async () => {
    const png = await smallPage();
    await rejects(png.subarray(0, Math.floor(png.length * 0.6)), 'corrupt_file');
  });
  it('truncated TIFF → corrupt_file', async () => {
    const tif = await sharp(await smallPage()).tiff({ compression: 'lzw' }).toBuffer();
    await rejects(tif.subarray(0, 200), 'corrupt_file');
  });
  it('PNG decompression bomb (10 G pixels) → too_large, fast and without the memory', async () => {
    const t0 = Date.now();
    const rss0 = process.memoryUsage().rss;
    await rejects(pngBomb(), 'too_large');
    assert.ok(Date.now() - t0 < 2000);
    assert.ok(process.memoryUsage().rss - rss0 < 200 * 1024 * 1024);
  });
  it('2000-page TIFF → too_many_pages; the limit is configurable', async () => {
    const tif = manyPageTiff(2000);
    await rejects(tif, 'too_many_pages');
    const few = manyPageTiff(3);
    assert.equal((await pages(few)).length, 3);
    await rejects(few, 'too_many_pages', { maxPages: 2 });
  });
  it('file over maxBytes → too_large', async () => rejects(await smallPage(), 'too_large', { maxBytes: 100 }));
  it('garbage after a PDF header → corrupt_file', () => rejects(Buffer.from('%PDF-1.4\nnot really a pdf'), 'corrupt_file'));

  it('PDF with JavaScript → pdf_javascript', async () => rejects(await toPdf([await fixture()], { javascript: true }), 'pdf_javascript'));
  it('encrypted PDF → encrypted_pdf', async () => rejects(await toPdf([await fixture()], { encrypted: true }), 'encrypted_pdf'));
});

describe('ocr iteratePages metadata', () => {
  it('reads DPI from the file and flags a missing one', async () => {
    const withDpi = await pages(await smallPage());
    assert.equal(withDpi[0]?.dpi, 150);
    assert.equal(withDpi[0]?.dpiAssumed, false);
    const noDpi = await pages(await sharp(await smallPage()).jpeg().toBuffer());
    assert.equal(noDpi[0]?.dpiAssumed, true);
    assert.equal(noDpi[0]?.dpi, 300);
  });
  it('an RGB file whose every pixel is grey is read as one grey channel, the same values as its red channel', async () => {
    const png = await smallPage();
    assert.ok(((await sharp(png).metadata()).channels ?? 0) >= 3); // saved as colour (RGBA)
    const [p] = await pages(png);
    assert.deepEqual([p?.colorMode, p?.channels, p?.image.length], ['grey', 1, 300 * 200]);
    const red = await sharp(png).extractChannel(0).raw().toBuffer();
    assert.ok(p?.image.equals(red));
  });
  it('the grey test reads four pixels per step and still sees one channel off by one anywhere, at any length and offset', () => {
    for (const px of [1, 3, 4, 5, 8, 11, 64, 1001]) {
      for (const offset of [0, 1, 4]) {
        const mem = Buffer.alloc(px * 3 + offset + 8);
        const rgb = mem.subarray(offset, offset + px * 3);
        for (let p = 0; p < px; p++) rgb.fill((p * 37) % 256, p * 3, p * 3 + 3);
        const grey = greyOf(rgb);
        assert.ok(grey, `${px} px at offset ${offset}`);
        assert.deepEqual([...grey], Array.from({ length: px }, (_, p) => (p * 37) % 256));
        for (let i = 0; i < rgb.length; i++) {
          const off = Buffer.from(rgb);
          off[i] = (off[i]! + 1) % 256;
          assert.equal(greyOf(off), null, `${px} px, byte ${i} changed`);
        }
      }
    }
  });
  it('one coloured pixel keeps an RGB page in colour (a red seal, a blue tick)', async () => {
    const tick = await sharp({ create: { width: 1, height: 1, channels: 3, background: '#2040c0' } }).png().toBuffer();
    const png = await sharp(await smallPage()).composite([{ input: tick, left: 299, top: 199 }]).png().toBuffer();
    const [p] = await pages(png);
    assert.deepEqual([p?.colorMode, p?.channels, p?.image.length], ['color', 3, 300 * 200 * 3]);
  });
  it('multi-page G4 TIFF: one bilevel page at a time', async () => {
    const a = await sharp(await smallPage()).png().toBuffer();
    const tif = await sharp([a, a], { join: { animated: true } }).extractChannel(0).threshold(128)
      .tiff({ compression: 'ccittfax4', bitdepth: 1, xres: 300 / 25.4, yres: 300 / 25.4 }).toBuffer();
    const ps = await pages(tif);
    assert.deepEqual(ps.map((p) => [p.n, p.colorMode, p.channels, p.width, p.height, p.dpi]), [[1, 'bilevel', 1, 300, 200, 300], [2, 'bilevel', 1, 300, 200, 300]]);
  });
  it('scanned PDF pages are rasterised at the configured DPI with the text layer as a hint', async () => {
    const pdf = await toPdf([await fixture()], { textLayer: 'Hint 123' });
    const ps = await pages(pdf, { pdfDpi: 100 });
    assert.equal(ps.length, 1);
    assert.equal(ps[0]?.dpi, 100);
    assert.equal(ps[0]?.width, 200); // 300 px at 150 dpi = 2 in
    assert.equal(ps[0]?.textHint, 'Hint 123');
  });
});

describe('ocr page resolution (DA/T 31-2017 §6: issue #12 §3)', () => {
  const page = (dpi: number): Promise<FixturePage> =>
    sharp({ create: { width: Math.round(8.27 * dpi), height: Math.round(2 * dpi), channels: 3, background: '#ffffff' } })
      .png().toBuffer().then((png) => ({ name: 'x', condition: 'clean', expected: '', png, dpi }));

  it("a PDF page's scan resolution comes from its image's pixels and drawn size, not the 300 dpi it is rendered at", async () => {
    const [low, high] = await pages(await toPdf([await page(150), await page(400)]));
    assert.equal(low!.dpi, 300);
    assert.ok(Math.abs(low!.scanDpi! - 150) <= 1, String(low!.scanDpi));
    assert.ok(Math.abs(high!.scanDpi! - 400) <= 1, String(high!.scanDpi));
    assert.equal(low!.dpiAssumed, false);
  });

  it('an image without resolution information is marked dpiAssumed (flagged dpi_unknown, not judged)', async () => {
    const png = await sharp({ create: { width: 400, height: 300, channels: 3, background: '#ffffff' } }).png().toBuffer();
    const [p] = await pages(png);
    assert.equal(p!.dpiAssumed, true);
    const withDensity = await sharp(png).withMetadata({ density: 150 }).png().toBuffer();
    const [q] = await pages(withDensity);
    assert.equal(q!.dpiAssumed, false);
    assert.equal(q!.dpi, 150);
  });
});
