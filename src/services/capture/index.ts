/** The capture room's door: what other rooms and layers may use. */
export { captureItem, failItem } from './capture';
export { HotFolder } from './hotfolder';
export { captureProgress, createItem, discardOriginals, fileTooLarge, ingestItem, type IntakeFile, itemTooLarge, OCR_JOB, retryFailedItem, safeFilename, type StoredOriginal, storeOriginal, sweepUnqueuedItems, tooManyPages } from './intake';
export { type SeparatorData, SeparatorDataSchema, separatorSheetsPdf } from './separator';
export { acceptQc, batchQcSummary, MIN_SCAN_DPI, qcGate, QC_HOLD_CODES, type BatchQcSummary, type QcState } from './qc';
export { mergeItems, reorderPages, rotatePage, sourcePageOf, splitItem } from './pages';
export { hideBatch, listBatches, recordBatch, type BatchView } from './batches';
