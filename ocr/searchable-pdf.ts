import fs from 'node:fs';
import fontkit from '@pdf-lib/fontkit';
import {
  PDFDocument, PDFOperator, PDFOperatorNames, PDFNumber, TextRenderingMode, beginText, endText,
  popGraphicsState, pushGraphicsState, setFontAndSize, setTextMatrix, setTextRenderingMode, showText,
} from 'pdf-lib';
import { extractTtcFace, findCjkFont } from './font';
import { textLayerFont } from './text-layer-font';
import type { BBox } from './types';

export interface SearchablePdfPage {
  /** JPEG or PNG bytes (PreparedPage.image). */
  image: Buffer;
  width: number;
  height: number;
  dpi: number;
  /** Recognised lines with boxes in image pixels; their text becomes the invisible layer. */
  lines: Array<{ text: string; bbox: BBox }>;
}

export interface SearchablePdfMeta {
  title: string;
  itemId: string;
  createdAt: Date;
}

export interface SearchablePdfOptions {
  /** A TTF/OTF/TTC with CJK coverage for the text layer; default: our font of empty glyphs (text-layer-font.ts). */
  fontPath?: string;
}

/**
 * fontkit as pdf-lib sees it, parsing each font file once per process instead of once per PDF:
 * pdf-lib would parse the 10 MB CJK face for every item (about 30 ms of CPU and a copy of the
 * file each time). Sharing is safe: each document makes its own subset (font.createSubset()), and
 * what the parsed font keeps are its tables and a glyph cache, never a document's state.
 */
type Fontkit = Parameters<PDFDocument['registerFontkit']>[0];
type Font = ReturnType<Fontkit['create']>;
const parsedFonts = new WeakMap<Uint8Array, Font>();
const sharedFontkit: Fontkit = {
  create(bytes, postscriptName) {
    if (postscriptName !== undefined) return fontkit.create(bytes, postscriptName);
    let font = parsedFonts.get(bytes);
    if (!font) parsedFonts.set(bytes, (font = fontkit.create(bytes)));
    return font;
  },
};

/**
 * The text layer's font bytes, as the key pdf-lib hands back to sharedFontkit: by default our own
 * font of empty glyphs (text-layer-font.ts); a real face when a caller names one. fontkit copies
 * the bytes it parses into a buffer of its own, which the parsed font keeps: that copy is the one
 * kept here, so the process holds the font once, not twice.
 */
let cachedFont: { path: string | undefined; bytes: Uint8Array } | undefined;
function fontBytes(explicit?: string): Uint8Array {
  if (!cachedFont || cachedFont.path !== explicit) {
    const font = fontkit.create(explicit === undefined ? textLayerFont() : extractTtcFace(fs.readFileSync(findCjkFont(explicit))));
    const bytes = (font as unknown as { stream: { buffer: Uint8Array } }).stream.buffer;
    parsedFonts.set(bytes, font);
    cachedFont = { path: explicit, bytes };
  }
  return cachedFont.bytes;
}

/**
 * Page images with an invisible (render mode 3) text layer, one text object per OCR line, stretched
 * horizontally to the line's box so selection and search highlights land on the printed words.
 * Pages may come one at a time (an async iterable): the caller need not hold every page's image
 * and text; the document itself keeps each page's encoded image until it is written.
 */
export async function buildSearchablePdf(pages: Iterable<SearchablePdfPage> | AsyncIterable<SearchablePdfPage>, meta: SearchablePdfMeta, opts: SearchablePdfOptions = {}): Promise<Uint8Array> {
  const pdf = await PDFDocument.create();
  pdf.registerFontkit(sharedFontkit);
  pdf.setTitle(meta.title);
  pdf.setSubject(meta.itemId);
  pdf.setCreationDate(meta.createdAt);
  pdf.setModificationDate(meta.createdAt);
  pdf.setProducer('si-archive ocr');
  pdf.setCreator('si-archive');
  // Embedded at the first page with text; subsetting keeps the file small: only glyphs that occur.
  let font: Awaited<ReturnType<typeof pdf.embedFont>> | undefined;

  for await (const p of pages) {
    if (!font && p.lines.some((l) => l.text.trim())) font = await pdf.embedFont(fontBytes(opts.fontPath), { subset: true });
    const isPng = p.image[0] === 0x89 && p.image[1] === 0x50;
    const img = isPng ? await pdf.embedPng(p.image) : await pdf.embedJpg(p.image);
    const k = 72 / p.dpi; // image pixels → PDF points
    const page = pdf.addPage([p.width * k, p.height * k]);
    page.drawImage(img, { x: 0, y: 0, width: p.width * k, height: p.height * k });
    if (!font) continue;
    const fontKey = page.node.newFontDictionary(font.name, font.ref);
    const ops: PDFOperator[] = [pushGraphicsState(), beginText(), setTextRenderingMode(TextRenderingMode.Invisible)];
    for (const line of p.lines) {
      const text = line.text.replace(/\s+/g, ' ').trim();
      if (!text) continue;
      const h = Math.max(1, (line.bbox.y1 - line.bbox.y0) * k);
      const w = Math.max(1, (line.bbox.x1 - line.bbox.x0) * k);
      const size = h * 0.85;
      const natural = font.widthOfTextAtSize(text, size);
      const stretch = natural > 0 ? (100 * w) / natural : 100;
      // Baseline a little above the box bottom, as descenders hang below it.
      const baseline = p.height * k - line.bbox.y1 * k + h * 0.12;
      ops.push(
        setFontAndSize(fontKey, size),
        PDFOperator.of(PDFOperatorNames.SetTextHorizontalScaling, [PDFNumber.of(stretch)]),
        setTextMatrix(1, 0, 0, 1, line.bbox.x0 * k, baseline),
        showText(font.encodeText(text)),
      );
    }
    ops.push(endText(), popGraphicsState());
    page.pushOperators(...ops);
  }
  return pdf.save();
}
