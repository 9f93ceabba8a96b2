/**
 * Small read-only routes the web workplace needs beside the domain routes: names for codes, item
 * lists for the archivist's queues (paged on the server), accounts for the administrators, and the
 * dashboard's figures. Nothing here changes an archive item except the retry of a failed capture,
 * which re-queues the item's own pipeline.
 */
import { OBJECT_ID } from '../../domain/ids';
import type { Context } from 'koa';
import { z } from 'zod';
import { currentSchedule } from '../../../retention-rules';
import { INSURANCE_TYPES } from '../../domain/labels';
import type { ItemDoc } from '../../models/item.model';
import type { Runtime } from '../../runtime';
import { retryFailedItem } from '../../services/capture';
import { roundItems } from '../../services/disposition';
import type { Principal } from '../../services/access';
import { dashboardStats, ITEM_STATUSES, itemLevel, listItems, type FondsScope } from '../../services/records';
import { describeForAudit, mayAccess } from '../middleware/auth';
import { defineRoute, type RouteDef } from '../route';
import { loadReadable } from './items.routes';

// English names of 3号令's nine categories (the Chinese ones come from the schedule itself).
const CATEGORY_EN: Record<string, string> = {
  '1': 'Social-insurance administration',
  '2': 'Contribution collection',
  '3': 'Pension benefits',
  '4': 'Medical insurance benefits',
  '5': 'Unemployment benefits',
  '6': 'Work-injury benefits',
  '7': 'Maternity benefits',
  '8': 'Statistical reports',
  '9': 'Audit and supervision',
};
const INSURANCE_EN: Record<string, string> = { YL: 'Pension insurance', YB: 'Medical insurance', SY: 'Unemployment insurance', GS: 'Work-injury insurance', SH: 'Maternity insurance' };
const RETENTION: Record<string, [string, string]> = { Y: ['永久', 'Permanent'], D100: ['100年', '100 years'], D50: ['50年', '50 years'], D30: ['30年', '30 years'], D10: ['10年', '10 years'], KJ: ['会计档案期限', 'Accounting period'] };

/** The fonds the caller may see (undefined or '*': all). */
function fondsScope(ctx: Context): FondsScope {
  return (ctx.state.principal as Principal | undefined)?.scope?.fonds;
}

const ItemRow = z.object({
  id: z.string(),
  title: z.string().nullable(),
  status: z.string(),
  fonds: z.string(),
  source: z.string(),
  pageCount: z.number(),
  archivalCode: z.string().nullable(),
  flags: z.array(z.object({ code: z.string(), page: z.number().nullable() })),
  needsReview: z.boolean(),
  failure: z.object({ code: z.string().nullable(), message: z.string().nullable(), messageZh: z.string().nullable() }).nullable(),
  jobId: z.string().nullable(),
  createdAt: z.string(),
  ocrAt: z.string().nullable(),
  pages: z.object({ blank: z.number(), dpi: z.array(z.number()), confidence: z.number().nullable() }).describe('page summary: blank pages, each page\'s dpi, mean OCR confidence'),
});

function row(it: ItemDoc) {
  const f = it.failure as { code?: string | null; message?: string | null; messageZh?: string | null } | null;
  return {
    id: String(it._id),
    title: it.title ?? null,
    status: it.status,
    fonds: it.fonds,
    source: it.source,
    pageCount: it.pageCount ?? 0,
    archivalCode: it.archivalCode ?? null,
    flags: (it.flags ?? []).map((x) => ({ code: x.code, page: x.page ?? null })),
    needsReview: !!(it.classification as { needsReview?: boolean } | null)?.needsReview,
    failure: it.status === 'failed' && f ? { code: f.code ?? null, message: f.message ?? null, messageZh: f.messageZh ?? null } : null,
    jobId: it.jobId ?? null,
    createdAt: it.createdAt.toISOString(),
    ocrAt: it.ocrAt ? it.ocrAt.toISOString() : null,
    pages: pageSummary(it.pages ?? []),
  };
}

function pageSummary(pages: Array<{ blank?: boolean | null; dpi?: number | null; confidence?: number | null }>) {
  const read = pages.filter((p) => !p.blank && typeof p.confidence === 'number');
  return {
    blank: pages.filter((p) => p.blank).length,
    dpi: pages.map((p) => p.dpi ?? 0),
    confidence: read.length ? Math.round(read.reduce((a, p) => a + p.confidence!, 0) / read.length) : null,
  };
}

const ids = z
  .string()
  .max(25 * 500)
  .transform((s) => s.split(',').filter(Boolean))
  .pipe(z.array(z.string().regex(OBJECT_ID)).max(500))
  .optional();

export function workplaceRoutes(rt: Runtime): RouteDef[] {
  return [
    defineRoute({
      method: 'get',
      path: '/api/v1/vocabulary',
      summary: 'Names (Chinese and English) of the codes items carry: 3号令 categories and rows, 险种, 保管期限; the configured clearance levels',
      tags: ['workplace'],
      permission: 'session',
      responses: { 200: { description: 'code → [中文, English]' } },
      handler: (ctx) => {
        const s = currentSchedule();
        ctx.body = {
          categories: Object.fromEntries(s.categories.map((c) => [c.id, [c.name, CATEGORY_EN[c.id] ?? c.name]])),
          items: Object.fromEntries(s.items.map((i) => [i.id, [i.name, i.name]])),
          insurance: Object.fromEntries(Object.entries(INSURANCE_TYPES).map(([k, v]) => [k, [v, INSURANCE_EN[k] ?? k]])),
          retention: RETENTION,
          clearance: rt.config.clearanceLevels,
        };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/items',
      summary: 'Items by status or quality flag, newest first, paged on the server (review queue, failed captures, a batch by ids)',
      tags: ['items'],
      permission: 'item.read',
      query: z.strictObject({
        status: z.enum(ITEM_STATUSES).optional(),
        flag: z.string().regex(/^[a-z_]{1,40}$/).optional(),
        queue: z.enum(['review']).optional().describe('review: items awaiting review or carrying a quality flag'),
        fonds: z.string().regex(/^[A-Z0-9]{1,8}$/).optional(),
        ids,
        offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
        limit: z.coerce.number().int().min(1).max(200).default(20),
      }),
      responses: { 200: { description: 'a page of items', schema: z.object({ total: z.number(), items: z.array(ItemRow) }) } },
      handler: async (ctx, { query }) => {
        const { offset, limit, ...filter } = query;
        // Clearance applies per item; what the reader may not see is left out of the page.
        const { total, items } = await listItems(rt, { scope: fondsScope(ctx), ...filter, offset, limit }, (it) => mayAccess(ctx, 'item.read', { type: 'item', fonds: it.fonds, level: itemLevel(it) }));
        ctx.body = { total, items: items.map(row) };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/v1/items/:id/retry',
      summary: 'Run a failed item\'s capture and filing again (after the cause was fixed)',
      tags: ['capture'],
      permission: 'item.ingest',
      params: z.object({ id: z.string().regex(OBJECT_ID) }),
      responses: { 202: { description: 'queued again', schema: z.object({ id: z.string(), jobId: z.string() }) } },
      handler: async (ctx, { params }) => {
        const it = await loadReadable(ctx, rt, params.id, 'item.ingest');
        describeForAudit(ctx, { type: 'item', id: params.id }, { retry: true });
        const jobId = await retryFailedItem(rt, it);
        ctx.status = 202;
        ctx.body = { id: params.id, jobId };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/appraisal/rounds/:id/items',
      summary: 'The items a round covers (id, 档号, title, due date), for the members\' per-item opinions',
      tags: ['disposition'],
      permission: 'disposition.read',
      params: z.object({ id: z.string().regex(OBJECT_ID) }),
      responses: { 200: { description: 'items', schema: z.object({ items: z.array(z.object({ id: z.string(), archivalCode: z.string().nullable(), title: z.string().nullable(), dueOn: z.string().nullable() })) }) } },
      handler: async (ctx, { params }) => {
        ctx.body = { items: await roundItems(rt, params.id) };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/users',
      summary: 'Accounts with their roles, scope, clearance and state (administrators); never passwords or secrets',
      tags: ['users'],
      permission: 'user.read',
      query: z.strictObject({ offset: z.coerce.number().int().min(0).default(0), limit: z.coerce.number().int().min(1).max(200).default(50), q: z.string().max(64).optional() }),
      responses: { 200: { description: 'accounts' } },
      handler: async (ctx, { query }) => {
        const { total, users } = await rt.auth.listUsers(query);
        ctx.body = {
          total,
          users: users.map((u) => ({
            id: String(u._id),
            username: u.username,
            displayName: u.displayName ?? '',
            roles: u.roles ?? [],
            scope: u.scope,
            clearance: u.clearance,
            disabled: !!u.disabled,
            local: !!u.local,
            lastLoginAt: u.lastLoginAt ? new Date(u.lastLoginAt).toISOString() : null,
            createdAt: new Date(u.createdAt).toISOString(),
          })),
        };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/stats',
      summary: 'Dashboard figures: holdings by category, year, retention and fonds; ingest per day and queue depth; OCR confidence and flags; items falling due in the next 12 months',
      tags: ['workplace'],
      permission: 'search',
      query: z.strictObject({ days: z.coerce.number().int().min(7).max(365).default(30) }),
      responses: { 200: { description: 'figures' } },
      handler: async (ctx, { query }) => {
        ctx.body = await dashboardStats(rt, fondsScope(ctx), query.days);
      },
    }),
  ] as RouteDef[];
}
