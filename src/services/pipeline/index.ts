/** The pipeline room's door: background work as named, idempotent stages. */
export { itemPipeline, type ItemPipelineResult } from './item-pipeline';
export { runPipeline, type Pipeline, type Stage, type StageContext } from './stage';
