/**
 * The dashboard's figures (GET /api/v1/stats): holdings by category, year, retention, fonds and
 * status; ingest per day with the queue depth at each day's end; OCR confidence and quality flags;
 * items falling due in the next 12 months. All within the caller's fonds scope.
 */
import { itemModel } from '../../models/item.model';
import type { Runtime } from '../../runtime';
import { scopeFilter, type FondsScope } from './item-lists';

/**
 * Figures that took long to compute (a large archive) are kept this long per runtime, scope and
 * period; the answer's generatedAt says when they were computed. Quick ones (a small archive) are
 * always fresh.
 */
const STATS_TTL_MS = 60_000;
const STATS_SLOW_MS = 500;

export type DashboardStats = Awaited<ReturnType<typeof computeStats>>;

const statsMemos = new WeakMap<Runtime, Map<string, { at: number; value: Promise<DashboardStats> }>>();

interface Group {
  key: string;
  items: number;
  pages: number;
}

const month = (d: Date) => d.toISOString().slice(0, 7);

export async function dashboardStats(rt: Runtime, fondsScope: FondsScope, days: number): Promise<DashboardStats> {
  const scope = scopeFilter(fondsScope);
  // The figures scan the holdings: one computation per scope and period serves every viewer
  // for a minute (a hundred caseworkers opening the dashboard at 9:00 cost one scan).
  const key = JSON.stringify([scope, days]);
  let statsMemo = statsMemos.get(rt);
  if (!statsMemo) statsMemos.set(rt, (statsMemo = new Map()));
  const hit = statsMemo.get(key);
  if (hit && Date.now() - hit.at < STATS_TTL_MS) return hit.value;
  const value = computeStats(rt, scope, days);
  const t0 = Date.now();
  // In flight: concurrent viewers share the one computation.
  statsMemo.set(key, { at: t0, value });
  try {
    return await value;
  } finally {
    if (Date.now() - t0 < STATS_SLOW_MS || !(await value.then(() => true, () => false))) statsMemo.delete(key);
  }
}

async function computeStats(rt: Runtime, scope: Record<string, unknown>, days: number) {
  const items = itemModel(rt.db);
  const held: Record<string, unknown> = { ...scope, status: { $in: ['filed', 'review'] } };
  const since = new Date(Date.now() - days * 86_400_000);
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
  const dayList: string[] = [];
  for (let t = since.getTime() + 86_400_000; t <= now.getTime() + 1; t += 86_400_000) dayList.push(new Date(t).toISOString().slice(0, 10));
  const perDay = new Map(dayList.map((d) => [d, { day: d, received: 0, processed: 0, pages: 0, queueDepth: 0 }]));
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
}
