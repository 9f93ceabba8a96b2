export type ColorMode = 'bilevel' | 'grey' | 'color';
export type Rotation = 0 | 90 | 180 | 270;

export interface InputLimits {
  /** Whole-file size cap in bytes (default 200 MiB). */
  maxBytes?: number;
  /** Pages per file (default 500): a 2000-page TIFF is refused before any page is decoded. */
  maxPages?: number;
  /** Decoded pixels per page (default 120 M, e.g. A3 at 600 dpi); guards against decompression bombs. */
  maxPixels?: number;
  /** Rasterisation resolution for PDF pages (default 300). */
  pdfDpi?: number;
  /** Assumed when an image carries no resolution (default 300); the page is then flagged dpiAssumed. */
  assumedDpi?: number;
}

/** One decoded page: raw 8-bit pixels, 1 (grey) or 3 (RGB) channels. */
export interface PageImage {
  /** 1-based page number within the file. */
  n: number;
  image: Buffer;
  channels: 1 | 3;
  width: number;
  height: number;
  dpi: number;
  /** True when the file does not say its resolution (`dpi` is then only a working assumption). */
  dpiAssumed: boolean;
  /** PDF pages: the resolution the embedded scan was made at (pixels against drawn size); `dpi` is the rendering's. */
  scanDpi?: number;
  colorMode: ColorMode;
  /** Text a PDF already carries on this page; kept as a hint, the page is OCRed anyway. */
  textHint?: string;
}

export interface BBox { x0: number; y0: number; x1: number; y1: number }
