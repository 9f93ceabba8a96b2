import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fontkit from '@pdf-lib/fontkit';
import sharp from 'sharp';
import { buildSearchablePdf } from '../../../ocr/searchable-pdf';
import { TEXT_LAYER_GLYPHS, textLayerFont } from '../../../ocr/text-layer-font';

interface Parsed {
  numGlyphs: number;
  unitsPerEm: number;
  postscriptName: string;
  glyphForCodePoint(c: number): { id: number; advanceWidth: number; path: { commands: unknown[] } };
}

describe('ocr text-layer font (empty glyphs, one per character)', () => {
  it('is a font fontkit reads, every covered character its own empty glyph, half-width where print is', () => {
    const font = fontkit.create(textLayerFont()) as unknown as Parsed;
    assert.equal(font.numGlyphs, TEXT_LAYER_GLYPHS);
    assert.equal(font.postscriptName, 'SIArchiveTextLayer');
    const seen = new Set<number>();
    for (const ch of '社保稽核〇㐀龥，。：（）「」、《》①Ⅱ□■○√℃№—…ａＡ０ｶA0z·éμ㎡￥⼀') {
      const g = font.glyphForCodePoint(ch.codePointAt(0)!);
      assert.ok(g.id > 0, `${ch} has a glyph`);
      assert.ok(!seen.has(g.id), `${ch} has a glyph of its own`);
      seen.add(g.id);
      assert.equal(g.path.commands.length, 0, 'and it draws nothing');
    }
    assert.equal(font.glyphForCodePoint(0x4e00).advanceWidth, font.unitsPerEm);
    assert.equal(font.glyphForCodePoint('A'.codePointAt(0)!).advanceWidth, font.unitsPerEm / 2);
    assert.equal(font.glyphForCodePoint('ｶ'.codePointAt(0)!).advanceWidth, font.unitsPerEm / 2, 'halfwidth katakana');
    assert.equal(font.glyphForCodePoint('Ａ'.codePointAt(0)!).advanceWidth, font.unitsPerEm, 'full-width letters');
    assert.equal(font.glyphForCodePoint(0x1f600).id, 0, 'not covered: .notdef');
    assert.ok(textLayerFont().length < 400_000);
  });

  it('gives a searchable PDF whose text pdftotext extracts as recognised, Chinese, digits and punctuation', async () => {
    const lines = ['社会保险稽核通知书', '公民身份号码：33010619880214331X', '单位名称：杭州恒达机械制造有限公司（盖章）', '① 缴费基数 4,350.00 元 № 12 — 2023年3月1日'];
    const white = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#fff' } }).jpeg().toBuffer();
    const pdf = await buildSearchablePdf(
      [{ image: white, width: 1240, height: 1754, dpi: 150, lines: lines.map((text, i) => ({ text, bbox: { x0: 100, y0: 100 + 60 * i, x1: 1100, y1: 140 + 60 * i } })) }],
      { title: '稽核', itemId: 'x', createdAt: new Date(0) },
    );
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tl-')), 'p.pdf');
    fs.writeFileSync(file, pdf);
    const text = execFileSync('pdftotext', [file, '-'], { encoding: 'utf8' });
    for (const l of lines) assert.ok(text.includes(l), `${l} in ${JSON.stringify(text)}`);
    const fonts = execFileSync('pdffonts', [file], { encoding: 'utf8' });
    assert.match(fonts, /SIArchiveTextLayer/);
    assert.ok(pdf.length < 20_000, `a page of text costs the PDF little (${pdf.length} bytes)`);
  });
});
