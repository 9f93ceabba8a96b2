/**
 * Page edits of the review queue (issue #14): rotate, reorder, split, merge. The rules (what may
 * be edited, what is re-run) are services/pipeline/page-edits.ts's; here only validation, the
 * caller's right over each item (role, fonds scope, clearance: `item.correct`) and the answers.
 */
import { z } from 'zod';
import type { Runtime } from '../../runtime';
import { mergeItemInto, reorderItemPages, requestRotation, splitItemAt } from '../../services/pipeline';
import { presentItem } from '../../services/records';
import { describeForAudit } from '../middleware/auth';
import { loadReadable } from './items.routes';
import { defineRoute, type RouteDef } from '../route';
import { OBJECT_ID } from '../../domain/ids';

const actorOf = (ctx: { state: { user?: { username?: string } } }) => String(ctx.state.user?.username ?? 'api');
const roleOf = (ctx: { state: { principal?: { roles?: readonly string[] } } }) => (ctx.state.principal?.roles ?? []).join(',') || null;
const ItemId = z.string().regex(OBJECT_ID, 'must be an item id');
const PageParam = z.coerce.number().int().min(1).max(100_000);
const PageN = z.number().int().min(1).max(100_000);

export function pageRoutes(rt: Runtime): RouteDef[] {
  return [
    defineRoute({
      method: 'post',
      path: '/api/v1/items/:id/pages/:n/rotate',
      permission: 'item.correct',
      summary: 'Turn one page clockwise by 90/180/270°: the page is prepared again from the untouched original and read again (a job), then the item is re-filed and re-indexed',
      tags: ['capture'],
      params: z.object({ id: ItemId, n: PageParam }),
      body: z.strictObject({ degrees: z.union([z.literal(90), z.literal(180), z.literal(270)]) }),
      responses: { 202: { description: 'the rotation job: { jobId, rotation, item }' } },
      handler: async (ctx, { params, body }) => {
        await loadReadable(ctx, rt, params.id, 'item.correct');
        const r = await requestRotation(rt, params.id, params.n, body.degrees, { actor: actorOf(ctx), role: roleOf(ctx) });
        describeForAudit(ctx, { type: 'item', id: params.id }, { page: params.n, degrees: body.degrees, jobId: r.jobId });
        ctx.status = 202;
        ctx.body = { jobId: r.jobId, rotation: r.rotation, item: await presentItem(rt, r.item) };
      },
    }),
    defineRoute({
      method: 'put',
      path: '/api/v1/items/:id/pages/order',
      permission: 'item.correct',
      summary: 'Put the pages in a new order (every page number once); the PDF is rebuilt and the item re-filed and re-indexed, no page is read again',
      tags: ['capture'],
      params: z.object({ id: ItemId }),
      body: z.strictObject({ order: z.array(PageN).min(1).max(100_000) }),
      responses: { 200: { description: '{ item, jobId } (jobId null when the order did not change)' } },
      handler: async (ctx, { params, body }) => {
        await loadReadable(ctx, rt, params.id, 'item.correct');
        const r = await reorderItemPages(rt, params.id, body.order, { actor: actorOf(ctx), role: roleOf(ctx) });
        describeForAudit(ctx, { type: 'item', id: params.id }, { order: body.order });
        ctx.body = { item: await presentItem(rt, r.item), jobId: r.jobId };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/v1/items/:id/split',
      permission: 'item.correct',
      summary: 'Split the item before page `at`: those pages become a new item (new id, own copies of their originals); both are re-filed and re-indexed',
      tags: ['capture'],
      params: z.object({ id: ItemId }),
      body: z.strictObject({ at: PageN }),
      responses: { 201: { description: '{ kept, created, jobIds }' } },
      handler: async (ctx, { params, body }) => {
        await loadReadable(ctx, rt, params.id, 'item.correct');
        const r = await splitItemAt(rt, params.id, body.at, { actor: actorOf(ctx), role: roleOf(ctx) });
        describeForAudit(ctx, { type: 'item', id: params.id }, { at: body.at, created: String(r.created._id) });
        ctx.status = 201;
        ctx.body = { kept: await presentItem(rt, r.kept), created: await presentItem(rt, r.created), jobIds: r.jobIds };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/v1/items/:id/merge',
      permission: 'item.correct',
      summary: "Append another item's pages (same fonds) to this one; the other item is left empty (status merged) and leaves search; this one is re-filed and re-indexed",
      tags: ['capture'],
      params: z.object({ id: ItemId }),
      body: z.strictObject({ from: ItemId }),
      responses: { 200: { description: '{ target, merged, jobId }' } },
      handler: async (ctx, { params, body }) => {
        await loadReadable(ctx, rt, params.id, 'item.correct');
        await loadReadable(ctx, rt, body.from, 'item.correct');
        const r = await mergeItemInto(rt, params.id, body.from, { actor: actorOf(ctx), role: roleOf(ctx) });
        describeForAudit(ctx, { type: 'item', id: params.id }, { from: body.from });
        ctx.body = { target: await presentItem(rt, r.target), merged: await presentItem(rt, r.merged), jobId: r.jobId };
      },
    }),
  ] as RouteDef[];
}
