/** 四性检测 and consistency reports over HTTP: list, view, export (CSV), and check a batch now. */
import { OBJECT_ID } from '../../domain/ids';
import { z } from 'zod';
import { AppError } from '../../errors';
import type { Runtime } from '../../runtime';
import { checkFourProperties, getRun, listRuns, runCsv, runView } from '../../services/integrity';
import { describeForAudit } from '../middleware/auth';
import { defineRoute, type RouteDef } from '../route';

const RunViewSchema = z.object({
  id: z.string(),
  kind: z.string(),
  trigger: z.string(),
  state: z.string(),
  ok: z.boolean().nullable(),
  actor: z.string(),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  counts: z.record(z.string(), z.number()),
  result: z.record(z.string(), z.unknown()).nullable(),
  findings: z.number(),
});

export function integrityRoutes(rt: Runtime): RouteDef[] {
  return [
    defineRoute({
      method: 'get',
      path: '/api/v1/integrity/runs',
      permission: 'integrity.check',
      summary: 'Stored integrity reports, newest first: 四性检测 (four-properties), fsck, backup, restore',
      tags: ['integrity'],
      query: z.object({ kind: z.enum(['four-properties', 'fsck', 'backup', 'restore']).default('four-properties'), limit: z.coerce.number().int().min(1).max(200).default(20) }),
      responses: { 200: { description: 'runs', schema: z.object({ runs: z.array(RunViewSchema) }) } },
      handler: async (ctx, { query }) => {
        ctx.body = { runs: await listRuns(rt, query.kind, query.limit) };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/integrity/runs/:id',
      permission: 'integrity.check',
      summary: 'One report with its findings; ?format=csv exports it (UTF-8, Chinese first)',
      tags: ['integrity'],
      params: z.object({ id: z.string().regex(OBJECT_ID, 'must be a run id') }),
      query: z.object({ format: z.enum(['json', 'csv']).default('json') }),
      responses: { 200: { description: 'the report', schema: RunViewSchema.extend({ findings: z.array(z.record(z.string(), z.unknown())) }) }, 404: { description: 'no such run' } },
      handler: async (ctx, { params, query }) => {
        const run = await getRun(rt, params.id);
        if (!run) throw new AppError('not_found', { details: { run: params.id } });
        describeForAudit(ctx, { type: 'integrity_run', id: params.id }, { format: query.format });
        if (query.format === 'csv') {
          ctx.type = 'text/csv; charset=utf-8';
          ctx.set('Content-Disposition', `attachment; filename="${run.kind}-${params.id}.csv"`);
          ctx.body = runCsv(run);
          return;
        }
        ctx.body = { ...runView(run), findings: run.findings ?? [] };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/v1/integrity/four-properties',
      permission: 'integrity.check',
      summary: '四性检测 of given items now (a batch or a transfer package; at most 500 items); the report is stored',
      tags: ['integrity'],
      body: z.object({
        itemIds: z.array(z.string().regex(OBJECT_ID)).min(1).max(500),
        trigger: z.enum(['manual', 'capture', 'transfer']).default('manual'),
        handoverCount: z.number().int().min(0).optional(),
        archiveWide: z.boolean().default(false),
      }),
      responses: { 200: { description: 'the report summary', schema: z.object({ runId: z.string(), ok: z.boolean(), items: z.number(), summary: z.record(z.string(), z.unknown()), findings: z.array(z.record(z.string(), z.unknown())) }) } },
      handler: async (ctx, { body }) => {
        const user = (ctx.state as { principal?: { username?: string } }).principal;
        const r = await checkFourProperties(rt, { trigger: body.trigger, itemIds: body.itemIds, handover: body.handoverCount === undefined ? undefined : { count: body.handoverCount }, archiveWide: body.archiveWide, actor: user?.username ?? 'api' });
        describeForAudit(ctx, { type: 'integrity_run', id: r.runId }, { ok: r.ok, items: r.items });
        ctx.body = { runId: r.runId, ok: r.ok, items: r.items, summary: r.summary, findings: r.findings as unknown as Array<Record<string, unknown>> };
      },
    }),
  ] as RouteDef[];
}
