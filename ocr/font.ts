import fs from 'node:fs';

/**
 * CJK fonts installed by scripts/system-deps.sh (group `fonts`), for PDFs whose Chinese text is
 * seen (销毁清册, certificates, reports). The searchable PDF's invisible text layer does not need
 * one: it uses text-layer-font.ts unless a face is named.
 */
export const CJK_FONT_CANDIDATES = [
  '/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc',
  '/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc',
  '/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf',
  '/usr/share/fonts/truetype/arphic/uming.ttc',
];

export function findCjkFont(explicit?: string): string {
  const found = explicit ?? CJK_FONT_CANDIDATES.find((f) => fs.existsSync(f));
  if (!found || !fs.existsSync(found)) {
    throw new Error(`No CJK font found (tried ${explicit ?? CJK_FONT_CANDIDATES.join(', ')}); run: bash scripts/system-deps.sh fonts`);
  }
  return found;
}

/**
 * Debian ships most CJK fonts as TrueType Collections, which pdf-lib cannot embed. Copy one face's
 * tables into a standalone sfnt (table offsets in a TTC are file-absolute, so each table is moved).
 */
export function extractTtcFace(ttc: Buffer, face = 0): Buffer {
  if (ttc.toString('latin1', 0, 4) !== 'ttcf') return ttc;
  const numFonts = ttc.readUInt32BE(8);
  if (face >= numFonts) throw new Error(`TTC has ${numFonts} faces, not ${face + 1}`);
  const dir = ttc.readUInt32BE(12 + 4 * face);
  const numTables = ttc.readUInt16BE(dir + 4);
  const headerLen = 12 + 16 * numTables;
  const tables = Array.from({ length: numTables }, (_, i) => {
    const rec = dir + 12 + 16 * i;
    return { rec: ttc.subarray(rec, rec + 16), offset: ttc.readUInt32BE(rec + 8), length: ttc.readUInt32BE(rec + 12) };
  });
  const pad = (n: number) => (n + 3) & ~3;
  const total = headerLen + tables.reduce((s, t) => s + pad(t.length), 0);
  const out = Buffer.alloc(total);
  ttc.copy(out, 0, dir, dir + 12);
  let at = headerLen;
  tables.forEach((t, i) => {
    const rec = 12 + 16 * i;
    t.rec.copy(out, rec);
    out.writeUInt32BE(at, rec + 8);
    ttc.copy(out, at, t.offset, t.offset + t.length);
    at += pad(t.length);
  });
  return out;
}
