import sharp from 'sharp';
import { OcrInputError } from './errors';
import { detectFormat } from './formats';
import { pdfPages } from './pdf';
import type { ColorMode, InputLimits, PageImage } from './types';

export const DEFAULT_LIMITS: Required<InputLimits> = {
  maxBytes: 200 * 1024 * 1024,
  maxPages: 500,
  maxPixels: 120_000_000,
  pdfDpi: 300,
  assumedDpi: 300,
};

export function resolveLimits(limits: InputLimits = {}): Required<InputLimits> {
  return { ...DEFAULT_LIMITS, ...Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== undefined)) };
}

/**
 * Pages one at a time so a 300-page TIFF never sits decoded in memory at once. Every problem with
 * the bytes surfaces as an OcrInputError (never a decoder's own exception).
 */
export async function* iteratePages(buf: Uint8Array, limits: InputLimits = {}): AsyncGenerator<PageImage> {
  const lim = resolveLimits(limits);
  if (buf.length > lim.maxBytes) {
    throw new OcrInputError('too_large', `File is ${buf.length} bytes; the limit is ${lim.maxBytes}.`, { bytes: buf.length, maxBytes: lim.maxBytes });
  }
  const format = detectFormat(buf);
  if (format === 'pdf') {
    yield* pdfPages(buf, lim);
    return;
  }
  const input = Buffer.from(buf.buffer, buf.byteOffset, buf.length);
  const meta = await sharpCall(() => sharp(input, { limitInputPixels: lim.maxPixels }).metadata());
  const pages = format === 'tiff' ? meta.pages ?? 1 : 1;
  if (pages > lim.maxPages) {
    throw new OcrInputError('too_many_pages', `File has ${pages} pages; the limit is ${lim.maxPages}.`, { pages, maxPages: lim.maxPages });
  }
  for (let i = 0; i < pages; i++) yield await decodeImagePage(input, i, format === 'tiff', lim);
}

async function decodeImagePage(input: Buffer, index: number, multi: boolean, lim: Required<InputLimits>): Promise<PageImage> {
  const open = () => sharp(input, { limitInputPixels: lim.maxPixels, failOn: 'warning', ...(multi ? { page: index, pages: 1 } : {}) });
  const meta = await sharpCall(() => open().metadata());
  let colorMode = colorModeOf(meta);
  let channels: 1 | 3 = colorMode === 'color' ? 3 : 1;
  // Flatten alpha onto white: transparent PNG areas are paper, not ink.
  let pipe = open().rotate().flatten({ background: '#ffffff' });
  pipe = channels === 1 ? pipe.greyscale() : pipe.toColourspace('srgb');
  const { data, info } = await sharpCall(() => pipe.raw().toBuffer({ resolveWithObject: true }));
  // Scanners and exporters often save a grey page as RGB with three equal channels (42 of the 48
  // held-out pages of bench:ocr). Read as one channel it is the same page, exactly: a third of the
  // memory, and the ink plane, deskew and stored JPEG each do a third of the work. Only when every
  // pixel is grey: one coloured mark (a seal, a tick) keeps the page in colour.
  const grey = channels === 3 && info.channels === 3 ? greyOf(data) : null;
  if (grey) {
    colorMode = 'grey';
    channels = 1;
  }
  // 72 is what JFIF/EXIF writers put when nobody set a resolution; no document scanner scans at 72.
  const density = meta.density && meta.density > 1 && meta.density !== 72 ? meta.density : undefined;
  return {
    n: index + 1,
    image: grey ?? (channels === 1 && info.channels !== 1 ? firstChannel(data, info.channels) : data),
    channels,
    width: info.width,
    height: info.height,
    dpi: Math.round(density ?? lim.assumedDpi),
    dpiAssumed: density === undefined,
    colorMode,
  };
}

function colorModeOf(meta: sharp.Metadata): ColorMode {
  const bits = (meta as { bitsPerSample?: number }).bitsPerSample;
  if (bits === 1) return 'bilevel';
  if (meta.space === 'b-w' || meta.space === 'grey16' || (meta.channels ?? 3) <= 2) return 'grey';
  return 'color';
}

/** Whether this machine stores 32-bit words little endian (greyOf reads pixels as words). */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Packed RGB as one channel when every pixel has three equal channels; null at the first that does not. */
export function greyOf(rgb: Buffer): Buffer | null {
  const px = Math.floor(rgb.length / 3);
  const out = Buffer.allocUnsafe(px);
  let j = 0;
  // Four pixels at a time as three 32-bit words (r0 g0 b0 r1 | g1 b1 r2 g2 | b2 r3 g3 b3, little
  // endian) and one word out: a third of the loads and compares of a byte loop (~50 → ~19 ms for
  // an A4 page at 240 dpi). Only on aligned buffers (libvips' are); the rest byte by byte.
  if (rgb.byteOffset % 4 === 0 && out.byteOffset % 4 === 0 && LITTLE_ENDIAN) {
    const groups = Math.floor(px / 4);
    const w = new Uint32Array(rgb.buffer, rgb.byteOffset, groups * 3);
    const o = new Uint32Array(out.buffer, out.byteOffset, groups);
    for (let g = 0, i = 0; g < groups; g++, i += 3) {
      const w0 = w[i]!, w1 = w[i + 1]!, w2 = w[i + 2]!;
      const p0 = w0 & 0xff, p1 = w0 >>> 24, p2 = (w1 >>> 16) & 0xff, p3 = w2 >>> 24;
      if ((w0 & 0xffffff) !== p0 * 0x010101 || w1 !== ((p1 * 0x0101) | ((p2 * 0x0101) << 16)) >>> 0 || w2 !== (p2 | ((p3 * 0x010101) << 8)) >>> 0) return null;
      o[g] = (p0 | (p1 << 8) | (p2 << 16) | (p3 << 24)) >>> 0;
    }
    j = groups * 4;
  }
  for (let i = j * 3; j < px; i += 3, j++) {
    const r = rgb[i]!;
    if (rgb[i + 1] !== r || rgb[i + 2] !== r) return null;
    out[j] = r;
  }
  return out;
}

function firstChannel(data: Buffer, channels: number): Buffer {
  const out = Buffer.allocUnsafe(data.length / channels);
  for (let i = 0, j = 0; j < out.length; i += channels, j++) out[j] = data[i] ?? 255;
  return out;
}

/** libvips reports truncation, bad headers and pixel-limit breaches as plain Errors with text only. */
async function sharpCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (/pixel limit/i.test(msg)) {
      throw new OcrInputError('too_large', 'Image dimensions exceed the decoded pixel limit.', { reason: msg }, { cause: e });
    }
    throw new OcrInputError('corrupt_file', 'The image could not be decoded (truncated or damaged).', { reason: msg }, { cause: e });
  }
}
