import { z } from 'zod';
import { AppError } from '../../errors';
import type { Runtime } from '../../runtime';
import { defineRoute, type RouteDef } from '../route';
import { OBJECT_ID } from '../../domain/ids';

const JobView = z.object({
  id: z.string(),
  name: z.string(),
  state: z.enum(['queued', 'running', 'done', 'failed', 'cancelled']),
  attempts: z.number(),
  progress: z.object({ stage: z.string().nullable(), done: z.number(), total: z.number() }),
  lastError: z.string().nullable(),
  createdAt: z.string(),
  finishedAt: z.string().nullable(),
});

export function jobRoutes(rt: Runtime): RouteDef[] {
  return [
    defineRoute({
      method: 'get',
      path: '/api/v1/jobs/:id',
      permission: 'jobs.read',
      summary: 'Status and progress of a background job',
      tags: ['jobs'],
      params: z.object({ id: z.string().regex(OBJECT_ID, 'must be a job id') }),
      responses: { 200: { description: 'the job', schema: JobView } },
      handler: async (ctx, { params }) => {
        const job = await rt.queue.get(params.id);
        if (!job) throw new AppError('not_found', { details: { job: params.id } });
        const j = job as typeof job & { createdAt: Date };
        ctx.body = {
          id: String(job._id),
          name: job.name,
          state: job.state,
          attempts: job.attempts,
          progress: { stage: job.progress?.stage ?? null, done: job.progress?.done ?? 0, total: job.progress?.total ?? 0 },
          lastError: job.lastError ?? null,
          createdAt: j.createdAt.toISOString(),
          finishedAt: job.finishedAt ? job.finishedAt.toISOString() : null,
        };
      },
    }),
  ] as RouteDef[];
}
