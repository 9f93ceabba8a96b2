// The one door of the OCR package. Nothing here knows about items, jobs or storage: bytes in,
// pages, text, boxes and a searchable PDF out. Errors about the input are OcrInputError with a code.
export { OcrInputError, isOcrInputError, type OcrInputErrorCode } from './errors';
export { detectFormat, type InputFormat } from './formats';
export { iteratePages, DEFAULT_LIMITS } from './inputs';
export { inspectPdf, type PdfInspection } from './pdf';
export { LINE_DIRECTION_SURE, preparePage, scoreOrientations, type PrepareOptions, type PreparedPage, type OrientationScorer } from './prepare';
export type { OcrEngine, OcrEngineOptions, OcrPageResult, OcrLine, OcrWord, LineReading } from './engine';
export type { ModelVariant } from './tessdata';
export { normalizeOcrText } from './text';
export { missedTextBands } from './missed-lines';
export type { BBox, ColorMode, InputLimits, PageImage, Rotation } from './types';
export type { SearchablePdfPage, SearchablePdfMeta, SearchablePdfOptions } from './searchable-pdf';
export { findCjkFont, extractTtcFace } from './font';

// Loaded on first use: pdf-lib with fontkit (~0.4 s) and tesseract.js are needed to file a scan,
// not by the many processes that only import this door on the way (`archive search`, the API,
// every CLI command that opens a Runtime), whose start-up they would otherwise slow down.
import type * as Engine from './engine';
import type * as SearchablePdf from './searchable-pdf';
/* eslint-disable @typescript-eslint/no-require-imports -- loading on first use is the point */
export const createOcrEngine = (...a: Parameters<typeof Engine.createOcrEngine>): Engine.OcrEngine => (require('./engine') as typeof Engine).createOcrEngine(...a);
export const buildSearchablePdf = async (...a: Parameters<typeof SearchablePdf.buildSearchablePdf>): Promise<Uint8Array> => (require('./searchable-pdf') as typeof SearchablePdf).buildSearchablePdf(...a);
/* eslint-enable @typescript-eslint/no-require-imports */
