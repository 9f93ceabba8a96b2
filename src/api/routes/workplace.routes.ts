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
import { itemModel, ITEM_STATUSES, type ItemDoc } from '../../models/item.model';
import type { Runtime } from '../../runtime';
import { retryFailedItem } from '../../services/capture';
import { roundItemIds } from '../../services/disposition';
import type { Principal } from '../../services/access';
import { itemLevel } from '../../services/records';
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

/** The fonds the caller may see, as a query filter ({} = all). */
/**
 * Dashboard figures that took long to compute (a large archive) are kept this long per runtime,
 * scope and period; the response's generatedAt says when they were computed. Quick ones (a small
 * archive) are always fresh.
 */
const STATS_TTL_MS = 60_000;
const STATS_SLOW_MS = 500;
const statsMemos = new WeakMap<Runtime, Map<string, { at: number; value: Promise<Record<string, unknown>> }>>();

function fondsFilter(ctx: Context): Record<string, unknown> {
  const p = ctx.state.principal as Principal | undefined;
  const fonds = p?.scope?.fonds;
  return !fonds || fonds === '*' ? {} : { fonds: { $in: fonds } };
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

interface Group {
  key: string;
  items: number;
  pages: number;
}

const month = (d: Date) => d.toISOString().slice(0, 7);

export function workplaceRoutes(rt: Runtime): RouteDef[] {
  const items = itemModel(rt.db);
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
        const filter: Record<string, unknown> = { ...fondsFilter(ctx) };
        if (query.fonds) filter.fonds = query.fonds;
        if (query.status) filter.status = query.status;
        if (query.flag) filter['flags.code'] = query.flag;
        // Flagged filed items stay in the queue until a person has looked at them: their history
        // still holds only filing's proposal. (FerretDB cannot negate a match inside an array, so
        // "no confirmation or correction yet" is asked as "no second history entry".)
        if (query.queue === 'review') filter.$or = [{ status: 'review' }, { status: 'filed', 'flags.0': { $exists: true }, 'history.1': { $exists: false } }];
        if (query.ids) filter._id = { $in: query.ids };
        const projection = { metadata: 0, preregistered: 0, history: 0, originals: 0 };
        const [total, found] = await Promise.all([
          items.countDocuments(filter),
          items.find(filter, projection).sort({ createdAt: -1, _id: -1 }).skip(query.offset).limit(query.limit).lean<ItemDoc[]>(),
        ]);
        // Clearance applies per item; what the reader may not see is left out of the page.
        const visible = found.filter((it) => mayAccess(ctx, 'item.read', { type: 'item', fonds: it.fonds, level: itemLevel(it) }));
        ctx.body = { total, items: visible.map(row) };
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
        const ids = await roundItemIds(rt, params.id);
        const found = await items.find({ _id: { $in: ids } }, { archivalCode: 1, title: 1, 'classification.dueOn': 1 }).lean<ItemDoc[]>();
        const byId = new Map(found.map((it) => [String(it._id), it]));
        ctx.body = {
          items: ids.map((id) => {
            const it = byId.get(id);
            return { id, archivalCode: it?.archivalCode ?? null, title: it?.title ?? null, dueOn: (it?.classification as { dueOn?: string } | null)?.dueOn ?? null };
          }),
        };
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
        const filter = query.q ? { username: { $regex: query.q.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') } } : {};
        const [total, users] = await Promise.all([
          rt.auth.users.countDocuments(filter),
          rt.auth.users.find(filter, { passwordHash: 0, totpSecret: 0 }).sort({ username: 1 }).skip(query.offset).limit(query.limit).lean(),
        ]);
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
        const scope = fondsFilter(ctx);
        // The figures scan the holdings: one computation per scope and period serves every viewer
        // for a minute (a hundred caseworkers opening the dashboard at 9:00 cost one scan).
        const key = JSON.stringify([scope, query.days]);
        let statsMemo = statsMemos.get(rt);
        if (!statsMemo) statsMemos.set(rt, (statsMemo = new Map()));
        const hit = statsMemo.get(key);
        if (hit && Date.now() - hit.at < STATS_TTL_MS) {
          ctx.body = await hit.value;
          return;
        }
        const value = (async () => {
        const held: Record<string, unknown> = { ...scope, status: { $in: ['filed', 'review'] } };
        const since = new Date(Date.now() - query.days * 86_400_000);
        const now = new Date();
        const until = new Date(now);
        until.setUTCFullYear(until.getUTCFullYear() + 1);
        const [all, recent, qc, due, jobs] = await Promise.all([
          // One projected read of the holdings, grouped here (FerretDB's $group does not sum fields reliably).
          items.find(scope, { fonds: 1, status: 1, documentDate: 1, pageCount: 1, 'classification.category': 1, 'classification.retention': 1 }).lean<Array<{ fonds: string; status: string; documentDate?: string | null; pageCount?: number; classification?: { category?: string | null; retention?: string | null } | null }>>(),
          items.find({ ...scope, createdAt: { $gte: since } }, { createdAt: 1, ocrAt: 1, pageCount: 1 }).lean<Array<{ createdAt: Date; ocrAt?: Date | null; pageCount?: number }>>(),
          items.find({ ...scope, ocrAt: { $gte: since } }, { 'pages.confidence': 1, 'pages.blank': 1, flags: 1 }).lean<Array<{ pages?: Array<{ confidence?: number | null; blank?: boolean }>; flags?: Array<{ code: string }> }>>(),
          items.find({ ...held, 'classification.dueOn': { $gte: now.toISOString().slice(0, 10), $lt: until.toISOString().slice(0, 10) } }, { 'classification.dueOn': 1 }).lean<Array<{ classification?: { dueOn?: string } }>>(),
          rt.queue.jobs.find({ $or: [{ createdAt: { $gte: since } }, { state: { $in: ['queued', 'running'] } }] }, { createdAt: 1, finishedAt: 1, state: 1 }).lean<Array<{ createdAt: Date; finishedAt?: Date | null; state: string }>>(),
        ]);
        const groups = { category: new Map<string, Group>(), retention: new Map<string, Group>(), fonds: new Map<string, Group>(), year: new Map<string, Group>(), status: new Map<string, Group>() };
        const count = (m: Map<string, Group>, key: string, pages: number) => {
          const g = m.get(key) ?? { key, items: 0, pages: 0 };
          g.items++;
          g.pages += pages;
          m.set(key, g);
        };
        for (const it of all) {
          const pages = it.pageCount ?? 0;
          count(groups.status, it.status, pages);
          if (it.status !== 'filed' && it.status !== 'review') continue;
          count(groups.category, it.classification?.category ?? '', pages);
          count(groups.retention, it.classification?.retention ?? '', pages);
          count(groups.fonds, it.fonds, pages);
          // Years by formation date (documentDate is a plain ISO date string, not sealed).
          count(groups.year, it.documentDate?.slice(0, 4) ?? '', pages);
        }
        const sorted = (m: Map<string, Group>) => [...m.values()].sort((a, b) => a.key.localeCompare(b.key));
        const days: string[] = [];
        for (let t = since.getTime() + 86_400_000; t <= now.getTime() + 1; t += 86_400_000) days.push(new Date(t).toISOString().slice(0, 10));
        const perDay = new Map(days.map((d) => [d, { day: d, received: 0, processed: 0, pages: 0, queueDepth: 0 }]));
        for (const r of recent) {
          const a = perDay.get(r.createdAt.toISOString().slice(0, 10));
          if (a) a.received++;
          const b = r.ocrAt ? perDay.get(r.ocrAt.toISOString().slice(0, 10)) : undefined;
          if (b) {
            b.processed++;
            b.pages += r.pageCount ?? 0;
          }
        }
        // Queue depth at the end of each day: jobs created by then and not finished by then.
        for (const d of perDay.values()) {
          const end = new Date(`${d.day}T23:59:59.999Z`).getTime();
          d.queueDepth = jobs.filter((j) => j.createdAt.getTime() <= end && (!j.finishedAt || j.finishedAt.getTime() > end) && !(j.state === 'done' && !j.finishedAt)).length;
        }
        const buckets = Array.from({ length: 10 }, (_, i) => ({ from: i * 10, to: i * 10 + 10, pages: 0 }));
        const flags = new Map<string, number>();
        for (const it of qc) {
          for (const p of it.pages ?? []) if (!p.blank && typeof p.confidence === 'number') buckets[Math.min(9, Math.max(0, Math.floor(p.confidence / 10)))]!.pages++;
          for (const f of it.flags ?? []) flags.set(f.code, (flags.get(f.code) ?? 0) + 1);
        }
        const dueMonths = new Map<string, number>();
        for (let i = 0; i < 12; i++) {
          const m = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + i, 1));
          dueMonths.set(month(m), 0);
        }
        for (const d of due) {
          const m = d.classification?.dueOn?.slice(0, 7);
          if (m && dueMonths.has(m)) dueMonths.set(m, dueMonths.get(m)! + 1);
        }
        const queued = jobs.filter((j) => j.state === 'queued').length;
        const running = jobs.filter((j) => j.state === 'running').length;
        return {
          generatedAt: now.toISOString(),
          holdings: { byCategory: sorted(groups.category), byRetention: sorted(groups.retention), byFonds: sorted(groups.fonds), byYear: sorted(groups.year), byStatus: sorted(groups.status) },
          ingest: { days: [...perDay.values()], queue: { queued, running } },
          ocr: { confidence: buckets, flags: [...flags].map(([code, count]) => ({ code, count })).sort((a, b) => b.count - a.count) },
          due: [...dueMonths].map(([m, items]) => ({ month: m, items })),
        };
        })();
        const t0 = Date.now();
        // In flight: concurrent viewers share the one computation.
        statsMemo.set(key, { at: t0, value });
        try {
          ctx.body = await value;
        } finally {
          if (Date.now() - t0 < STATS_SLOW_MS || !(await value.then(() => true, () => false))) statsMemo.delete(key);
        }
      },
    }),
  ] as RouteDef[];
}
