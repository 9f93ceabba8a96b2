/**
 * The font of the searchable PDF's invisible text layer: a TrueType font of our own whose glyphs are
 * all empty, one per character it covers.
 *
 * The layer is drawn in render mode 3 (invisible), so no outline is ever seen; what a PDF reader
 * needs is a glyph per character, its advance (where a selection or a search hit lands) and the
 * ToUnicode map pdf-lib writes from the font's cmap (what search and copy find). A real CJK face
 * did the same job at a cost: the 10 MB face stayed in every capture process for its life (with its
 * 17 MB collection file read at the first item), and each PDF carried the outlines of every
 * character it used. This one is ~0.3 MB, built in a few milliseconds.
 *
 * Covered (RANGES): what recognition with chi_sim + eng can give, and more, 31,587 characters
 * (a real face covers about as many; a character outside both has no glyph, and the layer leaves
 * it out, as before). Halfwidth characters advance half an em, the rest one em, as printed.
 */

/** [first, last] code points, each range one run of glyph ids, and whether it is printed half-width. */
const RANGES: ReadonlyArray<readonly [number, number, boolean]> = [
  [0x0020, 0x007e, true], // ASCII
  [0x00a0, 0x024f, true], // Latin-1, Latin Extended-A and -B
  [0x0370, 0x04ff, true], // Greek, Cyrillic (μ, Ω; OCR of eng reads some glyphs so)
  [0x2000, 0x20cf, true], // general punctuation, super- and subscripts, currency
  [0x2100, 0x218f, true], // letterlike (℃ №), number forms (Ⅱ)
  [0x2190, 0x21ff, false], // arrows
  [0x2200, 0x22ff, false], // mathematical operators (√ ×)
  [0x2460, 0x24ff, false], // enclosed alphanumerics (①)
  [0x2500, 0x25ff, false], // box drawing, geometric shapes (□ ■ ○)
  [0x2e80, 0x2fdf, false], // CJK radicals, Kangxi radicals
  [0x3000, 0x303f, false], // CJK symbols and punctuation
  [0x3040, 0x30ff, false], // kana
  [0x3200, 0x33ff, false], // enclosed CJK (㈠), CJK compatibility (㎡ ㎏)
  [0x3400, 0x4dbf, false], // CJK Extension A
  [0x4e00, 0x9fff, false], // CJK Unified Ideographs
  [0xf900, 0xfaff, false], // compatibility ideographs
  [0xfe10, 0xfe1f, false], // vertical forms
  [0xfe30, 0xfe6f, false], // CJK compatibility forms, small form variants
  [0xff00, 0xff60, false], // full-width forms
  [0xff61, 0xffdc, true], // halfwidth forms
  [0xffe0, 0xffe6, false], // full-width signs (￥)
];

const UNITS_PER_EM = 1000;
const ASCENT = 880;
const DESCENT = -120;
const FULL = 1000;
const HALF = 500;
const NAME = 'SIArchiveTextLayer';

/** Number of glyphs: .notdef and one per covered code point. */
export const TEXT_LAYER_GLYPHS = 1 + RANGES.reduce((n, [a, b]) => n + b - a + 1, 0);

/** The font's bytes, a standalone TrueType file (~0.3 MB; the caller keeps what it needs). */
export function textLayerFont(): Buffer {
  const n = TEXT_LAYER_GLYPHS;
  if (n > 0xffff) throw new Error(`text layer font: ${n} glyphs`);
  const tables: Record<string, Buffer> = {
    'OS/2': os2(),
    cmap: cmap(),
    glyf: Buffer.alloc(0),
    head: head(),
    hhea: hhea(n),
    hmtx: hmtx(n),
    loca: Buffer.alloc(2 * (n + 1)), // short offsets, all 0: every glyph is empty
    maxp: maxp(n),
    name: name(),
    post: post(),
  };
  return sfnt(tables);
}

function head(): Buffer {
  const b = Buffer.alloc(54);
  b.writeUInt32BE(0x00010000, 0); // version
  b.writeUInt32BE(0x00010000, 4); // fontRevision
  // 8: checkSumAdjustment, set by sfnt()
  b.writeUInt32BE(0x5f0f3cf5, 12); // magicNumber
  b.writeUInt16BE(0x000b, 16); // flags: baseline at y=0, lsb at x=0, integer scaling
  b.writeUInt16BE(UNITS_PER_EM, 18);
  // 20-35: created, modified (0: no date, so the file is the same on every build)
  b.writeInt16BE(0, 36); // xMin
  b.writeInt16BE(DESCENT, 38); // yMin
  b.writeInt16BE(FULL, 40); // xMax
  b.writeInt16BE(ASCENT, 42); // yMax
  b.writeUInt16BE(0, 44); // macStyle
  b.writeUInt16BE(8, 46); // lowestRecPPEM
  b.writeInt16BE(2, 48); // fontDirectionHint
  b.writeInt16BE(0, 50); // indexToLocFormat: short
  b.writeInt16BE(0, 52); // glyphDataFormat
  return b;
}

function hhea(n: number): Buffer {
  const b = Buffer.alloc(36);
  b.writeUInt32BE(0x00010000, 0);
  b.writeInt16BE(ASCENT, 4);
  b.writeInt16BE(DESCENT, 6);
  b.writeInt16BE(0, 8); // lineGap
  b.writeUInt16BE(FULL, 10); // advanceWidthMax
  b.writeInt16BE(0, 12); // minLeftSideBearing
  b.writeInt16BE(0, 14); // minRightSideBearing
  b.writeInt16BE(FULL, 16); // xMaxExtent
  b.writeInt16BE(1, 18); // caretSlopeRise
  b.writeInt16BE(0, 20); // caretSlopeRun
  b.writeUInt16BE(n, 34); // numberOfHMetrics: every glyph has its own advance
  return b;
}

function hmtx(n: number): Buffer {
  const b = Buffer.alloc(4 * n);
  b.writeUInt16BE(FULL, 0); // .notdef
  let g = 1;
  for (const [a, z, half] of RANGES) for (let c = a; c <= z; c++, g++) b.writeUInt16BE(half ? HALF : FULL, 4 * g);
  return b;
}

function maxp(n: number): Buffer {
  const b = Buffer.alloc(32);
  b.writeUInt32BE(0x00010000, 0);
  b.writeUInt16BE(n, 4);
  b.writeUInt16BE(2, 14); // maxZones
  return b;
}

/** A (3,10) format 12 subtable: each range maps to consecutive glyph ids. */
function cmap(): Buffer {
  const groups = RANGES.length;
  const sub = Buffer.alloc(16 + 12 * groups);
  sub.writeUInt16BE(12, 0);
  sub.writeUInt32BE(sub.length, 4);
  sub.writeUInt32BE(groups, 12);
  let g = 1;
  RANGES.forEach(([a, z], i) => {
    sub.writeUInt32BE(a, 16 + 12 * i);
    sub.writeUInt32BE(z, 20 + 12 * i);
    sub.writeUInt32BE(g, 24 + 12 * i);
    g += z - a + 1;
  });
  const index = Buffer.alloc(12);
  index.writeUInt16BE(0, 0); // version
  index.writeUInt16BE(1, 2); // one subtable
  index.writeUInt16BE(3, 4); // Windows
  index.writeUInt16BE(10, 6); // full Unicode
  index.writeUInt32BE(12, 8);
  return Buffer.concat([index, sub]);
}

function post(): Buffer {
  const b = Buffer.alloc(32);
  b.writeUInt32BE(0x00030000, 0); // format 3: no glyph names
  b.writeInt16BE(-100, 8); // underlinePosition
  b.writeInt16BE(50, 10); // underlineThickness
  return b;
}

function os2(): Buffer {
  const b = Buffer.alloc(96);
  b.writeUInt16BE(4, 0); // version
  b.writeInt16BE(FULL, 2); // xAvgCharWidth
  b.writeUInt16BE(400, 4); // usWeightClass
  b.writeUInt16BE(5, 6); // usWidthClass: medium
  b.writeUInt16BE(0, 8); // fsType: installable embedding, no restriction
  b.write('NONE', 58, 'latin1'); // achVendID
  b.writeUInt16BE(0x0040, 62); // fsSelection: regular
  b.writeUInt16BE(0x0020, 64); // usFirstCharIndex
  b.writeUInt16BE(0xffff, 66); // usLastCharIndex
  b.writeInt16BE(ASCENT, 68); // sTypoAscender
  b.writeInt16BE(DESCENT, 70); // sTypoDescender
  b.writeUInt16BE(ASCENT, 74); // usWinAscent
  b.writeUInt16BE(-DESCENT, 76); // usWinDescent
  b.writeInt16BE(500, 86); // sxHeight
  b.writeInt16BE(700, 88); // sCapHeight
  b.writeUInt16BE(0x20, 92); // usBreakChar
  return b;
}

function name(): Buffer {
  const records: Array<[number, string]> = [
    [1, NAME],
    [2, 'Regular'],
    [3, `${NAME}-1`],
    [4, NAME],
    [6, NAME],
  ];
  const strings = records.map(([, s]) => Buffer.from(s, 'utf16le').swap16()); // UTF-16BE
  const header = Buffer.alloc(6 + 12 * records.length);
  header.writeUInt16BE(0, 0);
  header.writeUInt16BE(records.length, 2);
  header.writeUInt16BE(header.length, 4);
  let offset = 0;
  records.forEach(([id], i) => {
    const r = 6 + 12 * i;
    header.writeUInt16BE(3, r); // Windows
    header.writeUInt16BE(1, r + 2); // Unicode BMP
    header.writeUInt16BE(0x0409, r + 4); // en-US
    header.writeUInt16BE(id, r + 6);
    header.writeUInt16BE(strings[i]!.length, r + 8);
    header.writeUInt16BE(offset, r + 10);
    offset += strings[i]!.length;
  });
  return Buffer.concat([header, ...strings]);
}

function checksum(b: Buffer): number {
  let sum = 0;
  const padded = b.length % 4 === 0 ? b : Buffer.concat([b, Buffer.alloc(4 - (b.length % 4))]);
  for (let i = 0; i < padded.length; i += 4) sum = (sum + padded.readUInt32BE(i)) >>> 0;
  return sum;
}

/** The table directory and the tables, 4-byte aligned, with checksums and head's adjustment. */
function sfnt(tables: Record<string, Buffer>): Buffer {
  const tags = Object.keys(tables).sort();
  const count = tags.length;
  let pow = 1;
  let log = 0;
  while (pow * 2 <= count) {
    pow *= 2;
    log++;
  }
  const dir = Buffer.alloc(12 + 16 * count);
  dir.writeUInt32BE(0x00010000, 0);
  dir.writeUInt16BE(count, 4);
  dir.writeUInt16BE(pow * 16, 6);
  dir.writeUInt16BE(log, 8);
  dir.writeUInt16BE(count * 16 - pow * 16, 10);
  const parts: Buffer[] = [dir];
  let offset = dir.length;
  tags.forEach((tag, i) => {
    const t = tables[tag]!;
    const r = 12 + 16 * i;
    dir.write(tag.padEnd(4, ' '), r, 'latin1');
    dir.writeUInt32BE(checksum(t), r + 4);
    dir.writeUInt32BE(offset, r + 8);
    dir.writeUInt32BE(t.length, r + 12);
    const padded = (t.length + 3) & ~3;
    parts.push(t, Buffer.alloc(padded - t.length));
    offset += padded;
  });
  const file = Buffer.concat(parts);
  const headAt = dir.readUInt32BE(12 + 16 * tags.indexOf('head') + 8);
  file.writeUInt32BE((0xb1b0afba - checksum(file)) >>> 0, headAt + 8);
  return file;
}
