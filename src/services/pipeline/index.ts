/** The pipeline room's door: background work as named, idempotent stages. */
export { itemPipeline, type ItemPipelineResult } from './item-pipeline';
export { runPipeline, type Pipeline, type Stage, type StageContext } from './stage';
export { editableItem, mergeItemInto, PAGE_ROTATE_JOB, reorderItemPages, requestRotation, runRotation, splitItemAt, type EditActor, type RotatePayload } from './page-edits';
