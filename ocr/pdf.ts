import path from 'node:path';
import sharp from 'sharp';
import { OcrInputError } from './errors';
import type { InputLimits, PageImage } from './types';

// pdf.js (legacy build, for Node) + @napi-rs/canvas: both install from npm without install scripts
// (the canvas ships prebuilt binaries as optional dependencies) and never fetch anything at run
// time. poppler/mupdf would be faster but are system binaries or AGPL.
type PdfJs = typeof import('pdfjs-dist/legacy/build/pdf.mjs', { with: { 'resolution-mode': 'import' } });
let pdfjsPromise: Promise<PdfJs> | undefined;
function loadPdfJs(): Promise<PdfJs> {
  pdfjsPromise ??= import('pdfjs-dist/legacy/build/pdf.mjs');
  return pdfjsPromise;
}

const pdfjsRoot = path.dirname(require.resolve('pdfjs-dist/package.json'));

/** /Encrypt lives in the trailer (or xref-stream dictionary), which is never inside an object stream. */
function declaresEncryption(buf: Uint8Array): boolean {
  return /\/Encrypt[\s/<]/.test(Buffer.from(buf.buffer, buf.byteOffset, buf.length).toString('latin1'));
}

function mentionsJavaScript(buf: Uint8Array): boolean {
  return /\/(JavaScript|JS)[\s/<(]/.test(Buffer.from(buf.buffer, buf.byteOffset, buf.length).toString('latin1'));
}

export async function* pdfPages(buf: Uint8Array, lim: Required<InputLimits>): AsyncGenerator<PageImage> {
  if (declaresEncryption(buf)) throw new OcrInputError('encrypted_pdf', 'The PDF is encrypted; upload an unprotected copy.');
  const pdfjs = await loadPdfJs();
  const task = pdfjs.getDocument({
    // pdf.js detaches the array it is given; copy so the caller's buffer stays usable.
    data: new Uint8Array(buf),
    isEvalSupported: false,
    enableXfa: false,
    useSystemFonts: false,
    stopAtErrors: false,
    verbosity: 0,
    standardFontDataUrl: path.join(pdfjsRoot, 'standard_fonts') + path.sep,
    cMapUrl: path.join(pdfjsRoot, 'cmaps') + path.sep,
    cMapPacked: true,
    wasmUrl: path.join(pdfjsRoot, 'wasm') + path.sep,
  });
  let doc: Awaited<typeof task.promise>;
  try {
    doc = await task.promise;
  } catch (e) {
    await task.destroy().catch(() => undefined);
    const name = (e as { name?: string }).name;
    if (name === 'PasswordException') throw new OcrInputError('encrypted_pdf', 'The PDF is password protected.', {}, { cause: e });
    throw new OcrInputError('corrupt_file', 'The PDF could not be parsed.', { reason: String((e as Error).message ?? e) }, { cause: e });
  }
  try {
    if (doc.numPages > lim.maxPages) {
      throw new OcrInputError('too_many_pages', `PDF has ${doc.numPages} pages; the limit is ${lim.maxPages}.`, { pages: doc.numPages, maxPages: lim.maxPages });
    }
    await rejectJavaScript(doc, buf);
    for (let n = 1; n <= doc.numPages; n++) yield await renderPage(doc, n, lim, pdfjs);
  } finally {
    await doc.destroy().catch(() => undefined);
  }
}

type PdfDoc = Awaited<ReturnType<PdfJs['getDocument']>['promise']>;

// Archives keep documents for decades; active content has no place in them and is a classic
// malware carrier, so it is refused rather than silently stripped.
async function rejectJavaScript(doc: PdfDoc, buf: Uint8Array): Promise<void> {
  const found = async (): Promise<boolean> => {
    if (mentionsJavaScript(buf)) return true;
    if (await doc.hasJSActions().catch(() => false)) return true;
    const js = await doc.getJSActions().catch(() => null);
    if (js && Object.keys(js).length > 0) return true;
    const open = await doc.getOpenAction().catch(() => null) as { action?: string } | null;
    if (open?.action) return true;
    for (let n = 1; n <= doc.numPages; n++) {
      const page = await doc.getPage(n);
      const annots = await page.getAnnotations().catch(() => []) as Array<{ actions?: object; unsafeUrl?: string }>;
      if (annots.some((a) => (a.actions && Object.keys(a.actions).length > 0) || /^\s*javascript:/i.test(a.unsafeUrl ?? ''))) return true;
    }
    return false;
  };
  if (await found()) throw new OcrInputError('pdf_javascript', 'The PDF contains JavaScript; it is not accepted into the archive.');
}

type PdfPage = Awaited<ReturnType<PdfDoc['getPage']>>;

/**
 * The resolution the page was scanned at: the largest image drawn on it, its pixels against the
 * size it is drawn at (the current transformation matrix at the paint operator, in points). A
 * 150-dpi scan wrapped in an A4 PDF is 150 dpi, whatever resolution we render the page at
 * (DA/T 31-2017 §6 sets the minimum on the scan). Undefined for a page with no image (born digital).
 */
export async function scannedImageDpi(page: PdfPage, pdfjs: PdfJs): Promise<number | undefined> {
  const { OPS } = pdfjs;
  const ops = await page.getOperatorList();
  type M = [number, number, number, number, number, number];
  const mul = (m: M, t: M): M => [
    t[0] * m[0] + t[1] * m[2], t[0] * m[1] + t[1] * m[3],
    t[2] * m[0] + t[3] * m[2], t[2] * m[1] + t[3] * m[3],
    t[4] * m[0] + t[5] * m[2] + m[4], t[4] * m[1] + t[5] * m[3] + m[5],
  ];
  let ctm: M = [1, 0, 0, 1, 0, 0];
  const stack: M[] = [];
  let best: { area: number; dpi: number } | undefined;
  for (let i = 0; i < ops.fnArray.length; i++) {
    const fn = ops.fnArray[i];
    const args = ops.argsArray[i] as unknown[] | null;
    if (fn === OPS.save || fn === OPS.paintFormXObjectBegin) stack.push(ctm);
    if (fn === OPS.restore || fn === OPS.paintFormXObjectEnd) ctm = stack.pop() ?? ctm;
    if (fn === OPS.transform && args) ctm = mul(ctm, args.slice(0, 6) as M);
    if (fn === OPS.paintFormXObjectBegin && Array.isArray(args?.[0])) ctm = mul(ctm, args[0] as M);
    let w: number | undefined, h: number | undefined;
    if (fn === OPS.paintImageXObject && args) [w, h] = [Number(args[1]), Number(args[2])];
    else if (fn === OPS.paintInlineImageXObject && args?.[0]) ({ width: w, height: h } = args[0] as { width: number; height: number });
    if (!w || !h) continue;
    const placedW = Math.hypot(ctm[0], ctm[1]), placedH = Math.hypot(ctm[2], ctm[3]);
    if (placedW < 1 || placedH < 1) continue;
    const area = placedW * placedH;
    const dpi = Math.min((w * 72) / placedW, (h * 72) / placedH);
    if (!best || area > best.area) best = { area, dpi };
  }
  return best ? Math.round(best.dpi) : undefined;
}

async function renderPage(doc: PdfDoc, n: number, lim: Required<InputLimits>, pdfjs: PdfJs): Promise<PageImage> {
  const page = await doc.getPage(n);
  try {
    const base = page.getViewport({ scale: 1 });
    let dpi = lim.pdfDpi;
    // A0 posters at 300 dpi would break the pixel limit; render them coarser instead of refusing.
    const pixelsAt = (d: number) => (base.width * d / 72) * (base.height * d / 72);
    if (pixelsAt(dpi) > lim.maxPixels) dpi = Math.floor(72 * Math.sqrt(lim.maxPixels / (base.width * base.height)));
    const viewport = page.getViewport({ scale: dpi / 72 });
    const width = Math.ceil(viewport.width);
    const height = Math.ceil(viewport.height);
    const factory = doc.canvasFactory as { create(w: number, h: number): { canvas: unknown; context: CanvasLike }; destroy(c: unknown): void };
    const cc = factory.create(width, height);
    try {
      cc.context.fillStyle = '#ffffff';
      cc.context.fillRect(0, 0, width, height);
      await page.render({ canvasContext: cc.context as never, canvas: cc.canvas as never, viewport }).promise;
      const rgba = cc.context.getImageData(0, 0, width, height).data;
      const { data } = await sharp(Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength), { raw: { width, height, channels: 4 } })
        .removeAlpha().raw().toBuffer({ resolveWithObject: true });
      const text = await page.getTextContent().then((tc) => tc.items.map((it) => ('str' in it ? it.str + (it.hasEOL ? '\n' : '') : '')).join('')).catch(() => '');
      const colorMode = isGrey(data) ? 'grey' : 'color';
      const scanDpi = await scannedImageDpi(page, pdfjs).catch(() => undefined);
      return {
        n,
        image: colorMode === 'grey' ? await sharp(data, { raw: { width, height, channels: 3 } }).extractChannel(0).raw().toBuffer() : data,
        channels: colorMode === 'grey' ? 1 : 3,
        width,
        height,
        dpi,
        dpiAssumed: false,
        ...(scanDpi !== undefined ? { scanDpi } : {}),
        colorMode,
        ...(text.trim() ? { textHint: text.trim() } : {}),
      };
    } finally {
      factory.destroy(cc);
    }
  } catch (e) {
    if (e instanceof OcrInputError) throw e;
    throw new OcrInputError('corrupt_file', `PDF page ${n} could not be rendered.`, { page: n, reason: String((e as Error).message ?? e) }, { cause: e });
  } finally {
    page.cleanup();
  }
}

interface CanvasLike {
  fillStyle: string;
  fillRect(x: number, y: number, w: number, h: number): void;
  getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
}

/** A rasterised page counts as grey when no sampled pixel has visibly different channels. */
function isGrey(rgb: Buffer): boolean {
  const step = 3 * 97;
  for (let i = 0; i + 2 < rgb.length; i += step) {
    const r = rgb[i] ?? 0, g = rgb[i + 1] ?? 0, b = rgb[i + 2] ?? 0;
    if (Math.max(r, g, b) - Math.min(r, g, b) > 24) return false;
  }
  return true;
}

export interface PdfInspection {
  /** false when pdf.js cannot parse it */
  opens: boolean;
  encrypted: boolean;
  pages: number;
  /** characters of text per page (the OCR text layer of a searchable PDF) */
  textChars: number[];
  /** JavaScript, an open action, or annotation actions: active content */
  activeContent: boolean;
  error?: string;
}

/**
 * What a 四性 usability / security check needs to know about a PDF (DA/T 70-2018: 可用性 — it opens
 * and its text can be read; 安全性 — no active content), without rendering it.
 */
export async function inspectPdf(buf: Uint8Array): Promise<PdfInspection> {
  if (declaresEncryption(buf)) return { opens: false, encrypted: true, pages: 0, textChars: [], activeContent: false, error: 'encrypted' };
  const pdfjs = await loadPdfJs();
  const task = pdfjs.getDocument({ data: new Uint8Array(buf), isEvalSupported: false, enableXfa: false, useSystemFonts: false, stopAtErrors: false, verbosity: 0, standardFontDataUrl: path.join(pdfjsRoot, 'standard_fonts') + path.sep, cMapUrl: path.join(pdfjsRoot, 'cmaps') + path.sep, cMapPacked: true, wasmUrl: path.join(pdfjsRoot, 'wasm') + path.sep });
  let doc: PdfDoc;
  try {
    doc = await task.promise;
  } catch (e) {
    await task.destroy().catch(() => undefined);
    return { opens: false, encrypted: (e as { name?: string }).name === 'PasswordException', pages: 0, textChars: [], activeContent: false, error: String((e as Error).message ?? e) };
  }
  try {
    let activeContent = false;
    try {
      await rejectJavaScript(doc, buf);
    } catch {
      activeContent = true;
    }
    const textChars: number[] = [];
    for (let n = 1; n <= doc.numPages; n++) {
      const page = await doc.getPage(n);
      const content = await page.getTextContent();
      textChars.push(content.items.reduce((a, it) => a + ('str' in it ? it.str.replace(/\s/g, '').length : 0), 0));
      page.cleanup();
    }
    return { opens: true, encrypted: false, pages: doc.numPages, textChars, activeContent };
  } finally {
    await doc.destroy().catch(() => undefined);
  }
}
