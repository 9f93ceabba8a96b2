import assert from 'node:assert/strict';
import fs from 'node:fs';
import fontkit from '@pdf-lib/fontkit';
import { extractTtcFace, findCjkFont } from '../../../ocr/font';

// Needs `bash scripts/system-deps.sh fonts` (the test script runs it).
describe('ocr CJK font (a named face for the PDF text layer, and the certificates)', () => {
  it('finds an installed CJK font and makes a standalone face of a TTC that covers 社保', () => {
    const file = findCjkFont();
    const face = extractTtcFace(fs.readFileSync(file));
    assert.notEqual(face.toString('latin1', 0, 4), 'ttcf');
    const font = fontkit.create(face) as unknown as { hasGlyphForCodePoint(c: number): boolean; numGlyphs: number };
    assert.ok(font.numGlyphs > 10_000);
    for (const ch of '社会保险参保人员登记表') assert.ok(font.hasGlyphForCodePoint(ch.codePointAt(0) ?? 0), ch);
  });
  it('passes a plain TTF through and names the fix when no font exists', () => {
    const ttf = Buffer.from([0, 1, 0, 0, 0, 0]);
    assert.equal(extractTtcFace(ttf), ttf);
    assert.throws(() => findCjkFont('/nonexistent/font.ttc'), /system-deps\.sh fonts/);
  });
});
