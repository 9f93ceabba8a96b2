/** The filing room's door: what other rooms and layers may use. */
export { type Classification } from './classification';
export { type Correction, CorrectionSchema, correctItem, setAccessLevel } from './correct-item';
export { type ExtractedMetadata } from './extraction';
export { fileItem } from './file-item';
export { loadScheduleFile, scheduleReviewList } from './schedule-review';
