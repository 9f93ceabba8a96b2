// Real tesseract.js on generated scans. Thresholds are character error rates (edit distance over
// reference length, whitespace ignored), not exact strings: OCR output may shift by a glyph.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  buildSearchablePdf, createOcrEngine, iteratePages, preparePage, type OcrEngine, type OcrPageResult, type PreparedPage,
} from '../../../ocr/index';
import sharp from 'sharp';
import Tesseract from 'tesseract.js';
import { dropModelFiles } from '../../../ocr/engine';
import { pgm } from '../../../ocr/pgm';
import { resolveLangPath } from '../../../ocr/tessdata';
import { DOCUMENTS, cer, makePage, renderText, toJpeg, toPdf, toTiff, toTiffG4, type Condition, type FixturePage } from '../../helpers/fixtures/ocr-fixtures';

const LIMITS: Partial<Record<Condition, number>> = {
  clean: 0.05, border: 0.05, lowdpi: 0.1, rot90: 0.1, rot180: 0.1, rot270: 0.1, 'skew4': 0.1, 'skew-3': 0.1, noise: 0.1, seal: 0.1,
};

describe('ocr pipeline (slow: real tesseract.js)', function () {
  this.timeout(120_000);
  let engine: OcrEngine;
  before(() => { engine = createOcrEngine({ workers: 2 }); });
  after(async () => { await engine.close(); });

  async function run(buf: Uint8Array): Promise<Array<{ prep: PreparedPage; res: OcrPageResult }>> {
    const out = [];
    for await (const page of iteratePages(buf)) {
      const prep = await preparePage(page, { orientation: engine });
      out.push({ prep, res: await engine.recognizePage(prep) });
    }
    return out;
  }

  // Alternate the two fonts across conditions; each page is a small 5-line form.
  const conditions = Object.keys(LIMITS) as Condition[];
  for (const [i, condition] of conditions.entries()) {
    const doc = i % 2 ? 'contribution' : 'registration';
    const font = i % 2 ? 'serif' : 'sans';
    it(`${condition} (${doc}, ${font}): CER < ${LIMITS[condition]}`, async () => {
      const f = await makePage(doc, font, condition);
      const [page] = await run(f.png);
      assert.ok(page);
      const e = cer(f.expected, page.res.text);
      assert.ok(e < (LIMITS[condition] ?? 0), `CER ${e.toFixed(3)}: ${JSON.stringify(page.res.text)}`);
      assert.doesNotMatch(page.res.text, /\p{Script=Han} \p{Script=Han}/u, 'no spaces between Chinese characters');
      if (condition.startsWith('rot')) assert.equal(page.prep.rotation, { rot90: 270, rot180: 180, rot270: 90 }[condition as 'rot90']);
      if (condition === 'skew4') assert.ok(Math.abs(page.prep.skewDeg - 4) < 0.5, `skew ${page.prep.skewDeg}`);
      if (condition === 'seal') assert.equal(page.prep.sealRemoved, true);
      if (condition === 'border') assert.ok(page.prep.cropped);
      assert.equal(page.prep.lowDpi, condition === 'lowdpi');
      assert.ok(page.res.lines.length >= 4 && page.res.lines.every((l) => l.bbox.x1 > l.bbox.x0 && l.confidence > 0));
      if (condition === 'clean') {
        // Boxes are in PreparedPage.image pixels: the title starts at the fixture's 0.35 in margin.
        const margin = 0.35 * f.dpi;
        const first = page.res.lines[0]?.bbox;
        assert.ok(first && Math.abs(first.x0 - margin) < 15 && Math.abs(first.y0 - margin) < 25, JSON.stringify(first));
      }
    });
  }

  it('aged paper (grey, faded ink) is read as black on white; the stored image stays as scanned', async () => {
    const f = await makePage('contribution', 'serif', 'clean');
    const { data, info } = await sharp(f.png).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
    // Paper at ~190, ink at ~100, grain: a 1990s file.
    let seed = 3;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    for (let i = 0; i < data.length; i++) data[i] = Math.round(100 + (data[i]! / 255) * 90 + (rnd() - 0.5) * 30);
    const png = await sharp(data, { raw: { width: info.width, height: info.height, channels: 1 } }).png().withMetadata({ density: 300 }).toBuffer();
    const [page] = await run(png);
    assert.ok(page);
    const mean = page.prep.ocrImage.reduce((a, v) => a + v, 0) / page.prep.ocrImage.length;
    assert.ok(mean > 220, `the paper tesseract reads is white (mean grey ${mean.toFixed(0)}; as scanned ~180)`);
    const view = await sharp(page.prep.image).extractChannel(0).raw().toBuffer();
    assert.ok(view.filter((v) => v === 255).length < view.length * 0.05, 'the stored view keeps its grey paper');
    const e = cer(f.expected, page.res.text);
    assert.ok(e < 0.05, `CER ${e.toFixed(3)}: ${JSON.stringify(page.res.text)}`);
  });

  it('large type (16 and 20 pt) is read reduced to body size, upright and upside down; 11 pt as scanned', async () => {
    const expected = DOCUMENTS.contribution.join('\n');
    for (const pt of [16, 20]) {
      const upright = await renderText(DOCUMENTS.contribution, 'serif', 300, pt);
      for (const [label, png, rotation] of [['upright', upright, 0], ['upside down', await sharp(upright).rotate(180).png().withMetadata({ density: 300 }).toBuffer(), 180]] as const) {
        const [page] = await run(png);
        assert.ok(page);
        // The orientation strips are sized to the type: at 150 dpi a strip of 20 pt type cut its glyphs in half and read as nonsense both ways.
        assert.equal(page.prep.rotation, rotation, `${pt} pt ${label}: rotation ${page.prep.rotation}`);
        // Lines ~40 px high (TEXT_PX_TARGET): 16 pt at 300 dpi is ~58 px, 20 pt ~75 px.
        assert.ok(page.prep.ocrScale > 0.45 && page.prep.ocrScale < 0.75, `${pt} pt: scale ${page.prep.ocrScale}`);
        const e = cer(expected, page.res.text);
        assert.ok(e < 0.06, `${pt} pt ${label}: CER ${e.toFixed(3)}: ${JSON.stringify(page.res.text)}`);
        assert.ok(page.res.lines.every((l) => l.bbox.x1 <= page.prep.width && l.bbox.y1 <= page.prep.height), 'boxes on the view image');
      }
    }
    const [body] = await run(await renderText(DOCUMENTS.contribution, 'serif', 300));
    assert.equal(body?.prep.ocrScale, 1);
  });

  it('a deskewed page keeps its bands: grey and colour scans at 2° read as well as upright ones, boxes on the view image', async () => {
    const f = await makePage('registration', 'sans', 'clean');
    // The same page turned 2° and kept grey (one band), and turned 2° in colour (three bands).
    const turned = await sharp(f.png).rotate(2, { background: '#ffffff' }).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
    // No density: sharp's withMetadata would make it sRGB again; the 300 dpi assumed is the fixture's.
    const greyTurned = await sharp(turned.data, { raw: { width: turned.info.width, height: turned.info.height, channels: 1 } }).toColourspace('b-w').png().toBuffer();
    // A blue pen mark in a corner makes it a colour page (a grey page saved as RGB is read as grey).
    const mark = await sharp({ create: { width: 12, height: 12, channels: 3, background: '#2040c0' } }).png().toBuffer();
    const colourTurned = await sharp(await sharp(f.png).rotate(2, { background: '#ffffff' }).png().toBuffer()).composite([{ input: mark, left: 8, top: 8 }])
      .toColourspace('srgb').png().withMetadata({ density: f.dpi }).toBuffer();
    for (const [label, buf, channels] of [['grey', greyTurned, 1], ['colour', colourTurned, 3]] as const) {
      const pages = [];
      for await (const p of iteratePages(buf)) pages.push(p);
      assert.equal(pages[0]!.channels, channels, `${label}: ${pages[0]!.channels} bands`);
      const [page] = await run(buf);
      assert.ok(page);
      assert.ok(Math.abs(page.prep.skewDeg - 2) < 0.5, `${label}: skew ${page.prep.skewDeg}`);
      assert.equal(page.prep.ocrImage.length, page.prep.ocrWidth * page.prep.ocrHeight, `${label}: one grey byte per recognition pixel`);
      const e = cer(f.expected, page.res.text);
      assert.ok(e < 0.05, `${label}: CER ${e.toFixed(3)}: ${JSON.stringify(page.res.text)}`);
      assert.ok(page.res.lines.every((l) => l.bbox.x1 <= page.prep.width && l.bbox.y1 <= page.prep.height), `${label}: boxes inside the view image`);
    }
  });

  it('blank page is flagged and not OCRed', async () => {
    const f = await makePage('registration', 'sans', 'blank');
    const [page] = await run(f.png);
    assert.equal(page?.prep.blank, true);
    assert.equal(page?.res.skipped, 'blank');
    assert.equal(page?.res.text, '');
  });

  it('multi-page G4 TIFF, LZW TIFF, JPEG and scanned PDF all read', async () => {
    const a = await makePage('registration', 'sans', 'clean');
    const b = await makePage('contribution', 'serif', 'rot180');
    const check = (pages: Array<{ res: OcrPageResult }>, expect: FixturePage[], limit: number) => {
      assert.equal(pages.length, expect.length);
      pages.forEach((p, i) => assert.ok(cer(expect[i]?.expected ?? '', p.res.text) < limit, p.res.text));
    };
    const g4 = await run(await toTiffG4([a, b]));
    assert.deepEqual(g4.map((p) => p.prep.colorMode), ['bilevel', 'bilevel']);
    check(g4, [a, b], 0.1);
    check(await run(await toTiff([b], 'lzw')), [b], 0.1);
    check(await run(await toJpeg(a)), [a], 0.05);
    check(await run(await toPdf([a])), [a], 0.05);
  });

  it('searchable PDF: pdftotext finds the Chinese text without inner spaces; metadata set', async () => {
    const f = await makePage('registration', 'sans', 'skew4');
    const [page] = await run(f.png);
    assert.ok(page);
    const pdf = await buildSearchablePdf(
      [{ image: page.prep.image, width: page.prep.width, height: page.prep.height, dpi: page.prep.dpi, lines: page.res.lines }],
      { title: '参保人员登记表 张伟', itemId: 'item-42', createdAt: new Date('2024-03-15T08:00:00Z') },
    );
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ocr-pdf-'));
    try {
      const file = path.join(dir, 'out.pdf');
      fs.writeFileSync(file, pdf);
      const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
      assert.ok(cer(f.expected, text) < 0.1, text);
      assert.match(text, /参保人员登记表/);
      assert.match(text, /110101199003071234/);
      const info = execFileSync('pdfinfo', [file], { encoding: 'utf8' });
      assert.match(info, /Title:\s+参保人员登记表 张伟/);
      assert.match(info, /Subject:\s+item-42/);
      // Page size follows the image at its DPI.
      const [, w] = /Page size:\s+([\d.]+) x/.exec(info) ?? [];
      assert.ok(Math.abs(Number(w) - (page.prep.width * 72) / page.prep.dpi) < 1);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rereads a numeral date line on a noisy serif page: most ways read the date', async () => {
    // The kind of page bench:extract's date misses come from: 宋体, grain, JPEG q70.
    const png = await renderText(['参保单位登记表', '经办人：陈海燕', '登记日期：二〇二三年二月九日'], 'serif', 300);
    const { data, info } = await sharp(png).greyscale().raw().toBuffer({ resolveWithObject: true });
    let seed = 6;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (let i = 0; i < data.length; i++) data[i] = Math.max(0, Math.min(255, data[i]! + Math.round((rnd() + rnd() + rnd() - 1.5) * 30)));
    const jpeg = await sharp(data, { raw: { width: info.width, height: info.height, channels: 1 } }).jpeg({ quality: 70 }).withMetadata({ density: 300 }).toBuffer();
    const [page] = await run(jpeg);
    assert.ok(page);
    const line = page.res.lines.at(-1)!;
    const readings = await engine.rereadLine(page.prep, line.bbox);
    assert.equal(readings.length, 5);
    const right = readings.filter((r) => /二[〇O○]二三年二月九日/u.test(r.text));
    assert.ok(right.length >= 2, `first pass ${JSON.stringify(line.text)}, rereads ${JSON.stringify(readings)}`);
    // Empty paper has no line to read.
    const { x0, y1 } = page.res.lines[0]!.bbox;
    assert.deepEqual(await engine.rereadLine(page.prep, { x0, y0: y1 + 2, x1: x0 + 200, y1: y1 + 6 }), []);
  });

  it('a recogniser reads the same after its model files are dropped from its in-memory file system', async () => {
    const f = await makePage('registration', 'sans', 'clean');
    const prep = await preparePage((await iteratePages(f.png).next()).value!);
    const image = pgm({ data: prep.ocrImage, info: { width: prep.ocrWidth, height: prep.ocrHeight } });
    const lang = resolveLangPath({ variant: '4.0.0_best_int' });
    const w = await Tesseract.createWorker(['chi_sim', 'eng'], Tesseract.OEM.LSTM_ONLY, { langPath: lang.langPath, gzip: lang.gzip, cacheMethod: 'none' });
    try {
      const files = async () => (await w.FS('readdir', ['/'])).data as unknown as string[];
      const before = (await w.recognize(image)).data.text;
      assert.ok((await files()).includes('chi_sim.traineddata'), 'tesseract.js keeps the model file (else there is nothing to drop)');
      await dropModelFiles(w, ['chi_sim', 'eng']);
      assert.deepEqual((await files()).filter((n) => n.endsWith('.traineddata')), []);
      const after = (await w.recognize(image)).data.text;
      assert.match(after.replace(/\s+/gu, ''), /参保人员登记表/u, 'it still reads');
      assert.equal(after, before, 'the same reading');
    } finally {
      await w.terminate();
    }
  });

  it('recycles workers after N pages and keeps working', async () => {
    const small = createOcrEngine({ workers: 1, recycleAfterPages: 1 });
    try {
      const f = await makePage('registration', 'sans', 'clean');
      for await (const p of iteratePages(f.png)) {
        const prep = await preparePage(p);
        for (let i = 0; i < 2; i++) assert.ok(cer(f.expected, (await small.recognizePage(prep)).text) < 0.05);
      }
      assert.ok(small.stats().workersStarted >= 2);
    } finally {
      await small.close();
    }
  });

  it('callers of one recogniser each read with their own parameters, in any order; a worn one is replaced between them', async () => {
    // A page (automatic layout), a line read as one line (psm 7) and its rereads take turns on one
    // recogniser. Had any of them left its parameters behind, the page would be read as a single line.
    const one = createOcrEngine({ workers: 1 });
    const worn = createOcrEngine({ workers: 1, recycleAfterPages: 1 });
    try {
      const f = await makePage('registration', 'sans', 'clean');
      const prep = await preparePage((await iteratePages(f.png).next()).value!);
      const page = await one.recognizePage(prep);
      const title = page.lines[0]!, last = page.lines.at(-1)!;
      const line = await one.readLineScaled(prep, title.bbox, 1);
      const rereads = await one.rereadLine(prep, last.bbox);
      assert.ok(page.lines.length >= 4 && cer(f.expected, page.text) < 0.05, page.text);
      const [p1, l1, r1, p2] = await Promise.all([one.recognizePage(prep), one.readLineScaled(prep, title.bbox, 1), one.rereadLine(prep, last.bbox), one.recognizePage(prep)]);
      assert.equal(p1.text, page.text);
      assert.equal(p2.text, page.text);
      assert.deepEqual(l1, line);
      assert.deepEqual(r1, rereads);
      assert.equal(one.stats().workersStarted, 1);
      // Three pages at once on a recogniser replaced after each: every page is read.
      const texts = await Promise.all([0, 1, 2].map(async () => (await worn.recognizePage(prep)).text));
      assert.deepEqual(texts, [page.text, page.text, page.text]);
      assert.ok(worn.stats().workersStarted >= 2, `${worn.stats().workersStarted} started`);
    } finally {
      await one.close();
      await worn.close();
    }
  });
});
