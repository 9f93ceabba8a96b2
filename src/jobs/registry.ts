/**
 * Job name → handler. The one list of what a worker can do; later stages register here.
 */
import type { Runtime } from '../runtime';
import type { JobHandler } from './worker';

export type JobName = never;

export function buildJobHandlers(_runtime: Runtime): Record<string, JobHandler> {
  return {};
}
