// The one door of the OCR package. Nothing here knows about items, jobs or storage: bytes in,
// pages, text, boxes and a searchable PDF out. Errors about the input are OcrInputError with a code.
export { OcrInputError, isOcrInputError, type OcrInputErrorCode } from './errors';
export { detectFormat, type InputFormat } from './formats';
export { iteratePages, DEFAULT_LIMITS } from './inputs';
export { inspectPdf, type PdfInspection } from './pdf';
export { preparePage, scoreOrientations, type PrepareOptions, type PreparedPage, type OrientationScorer } from './prepare';
export { createOcrEngine, type OcrEngine, type OcrEngineOptions, type OcrPageResult, type OcrLine, type OcrWord, type LineReading } from './engine';
export type { ModelVariant } from './tessdata';
export { normalizeOcrText } from './text';
export type { BBox, ColorMode, InputLimits, PageImage, Rotation } from './types';
export { buildSearchablePdf, type SearchablePdfPage, type SearchablePdfMeta, type SearchablePdfOptions } from './searchable-pdf';
export { findCjkFont, extractTtcFace } from './font';
