import { z } from 'zod';
import { validateIdNumber } from '../../domain/id-number';
import { validateCreditCode } from '../../domain/credit-code';
import { AppError } from '../../errors';
import type { Runtime } from '../../runtime';
import { endGrantsBelow, type Principal } from '../../services/access';
import { correctItem, CorrectionSchema, setAccessLevel } from '../../services/filing';
import { catalogueCsv, cataloguePage, cataloguePdf, catalogueRows, dossierOf, itemLevel, presentItem } from '../../services/records';
import { itemResource } from '../../services/access';
import { describeForAudit, mayAccess } from '../middleware/auth';
import { loadReadable, readableRow } from './items.routes';
import { defineRoute, type RouteDef } from '../route';
import { OBJECT_ID } from '../../domain/ids';

const ItemId = z.object({ id: z.string().regex(OBJECT_ID, 'must be an item id') });

export function filingRoutes(rt: Runtime): RouteDef[] {
  return [
    defineRoute({
      method: 'patch',
      path: '/api/v1/items/:id',
      permission: 'item.correct',
      summary: 'Confirm or correct an item\'s description; retention and 档号 are re-derived, the change is kept in the history and teaches the classifier',
      tags: ['filing'],
      params: ItemId,
      body: CorrectionSchema,
      responses: { 200: { description: 'the updated item' } },
      handler: async (ctx, { params, body }) => {
        const actor = String(ctx.state.user?.username ?? 'api');
        await loadReadable(ctx, rt, params.id, 'item.correct');
        describeForAudit(ctx, { type: 'item', id: params.id }, { fields: Object.keys(body) });
        ctx.body = await presentItem(rt, await correctItem(rt, params.id, body, actor));
      },
    }),
    defineRoute({
      method: 'put',
      path: '/api/v1/items/:id/access-level',
      permission: 'item.correct',
      summary: '密级变更: set the item\'s access level (a configured clearance label); readers below it lose access at once',
      tags: ['filing'],
      params: ItemId,
      body: z.strictObject({ level: z.string().regex(/^[a-z_]{1,32}$/) }),
      responses: { 200: { description: 'the updated item' } },
      handler: async (ctx, { params, body }) => {
        await loadReadable(ctx, rt, params.id, 'item.correct');
        describeForAudit(ctx, { type: 'item', id: params.id }, { accessLevel: body.level });
        const updated = await setAccessLevel(rt, params.id, body.level, String(ctx.state.user?.username ?? 'api'));
        // A raise ends the running 借阅 grants approved below the new level (#13.12).
        if (ctx.state.principal) await endGrantsBelow(rt, ctx.state.principal as Principal, params.id, itemLevel(updated));
        ctx.body = await presentItem(rt, updated);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/persons/:idNumber/items',
      permission: 'item.read',
      summary: 'A person\'s file (一人一档): every item linked to the 公民身份号码, in order',
      tags: ['filing'],
      params: z.object({ idNumber: z.string().min(15).max(18) }),
      responses: { 200: { description: 'items, oldest first' } },
      handler: async (ctx, { params }) => {
        const v = validateIdNumber(params.idNumber.toUpperCase());
        if (!v.valid) throw new AppError('validation_failed', { message: `Not a valid 公民身份号码: ${v.message}`, zh: '公民身份号码无效', details: { problem: v.problem } });
        ctx.body = { idNumber: v.value, ...(await dossierOf(rt, 'person', v.value, readableRow(ctx))) };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/units/:creditCode/items',
      permission: 'item.read',
      summary: 'A unit\'s file (一户一档): every item linked to the 统一社会信用代码, in order',
      tags: ['filing'],
      params: z.object({ creditCode: z.string().length(18) }),
      responses: { 200: { description: 'items, oldest first' } },
      handler: async (ctx, { params }) => {
        const code = params.creditCode.toUpperCase();
        if (!validateCreditCode(code).valid) throw new AppError('validation_failed', { message: 'Not a valid 统一社会信用代码', zh: '统一社会信用代码无效' });
        ctx.body = { creditCode: code, ...(await dossierOf(rt, 'unit', code, readableRow(ctx))) };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/catalogue',
      permission: 'catalogue.export',
      summary: '归档文件目录 (DA/T 22-2015) of filed items as CSV or printable PDF',
      tags: ['filing'],
      query: z.object({
        fonds: z.string().regex(/^[A-Z0-9]{1,8}$/).optional(),
        year: z.coerce.number().int().min(1949).max(2100).optional(),
        format: z.enum(['csv', 'pdf', 'json']).default('csv'),
        offset: z.coerce.number().int().min(0).max(10_000_000).default(0).describe('json only: the first row of the page'),
        limit: z.coerce.number().int().min(1).max(500).default(50).describe('json only: rows per page'),
      }),
      responses: { 200: { description: 'the catalogue (json: one page, {total, rows})', contentType: 'text/csv' } },
      handler: async (ctx, { query }) => {
        const scope = (ctx.state.principal as Principal | undefined)?.scope.fonds;
        const scopeFonds = scope === undefined || scope === '*' ? undefined : scope;
        const filter = { fonds: query.fonds, year: query.year, ...(scopeFonds ? { scopeFonds } : {}), allow: (it: Parameters<typeof itemResource>[0]) => mayAccess(ctx, 'catalogue.export', itemResource(it)) };
        if (query.format === 'json') {
          ctx.body = await cataloguePage(rt, filter, { offset: query.offset, limit: query.limit });
          return;
        }
        const rows = await catalogueRows(rt, filter);
        const name = `catalogue-${query.fonds ?? 'all'}-${query.year ?? 'all'}`;
        if (query.format === 'csv') {
          ctx.type = 'text/csv; charset=utf-8';
          ctx.set('Content-Disposition', `attachment; filename="${name}.csv"`);
          ctx.body = catalogueCsv(rows);
        } else {
          ctx.type = 'application/pdf';
          ctx.set('Content-Disposition', `attachment; filename="${name}.pdf"`);
          ctx.body = Buffer.from(await cataloguePdf(rows, `归档文件目录${query.year ? `（${query.year}年度）` : ''}`));
        }
      },
    }),
  ] as RouteDef[];
}
