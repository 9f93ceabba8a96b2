/**
 * Person's file benchmark (issue #16 §2): opening a person's file (一人一档) from the link store,
 * at 10k, 100k and 1M items, against the anchor of the old way (a query on the items collection
 * by the blind key, which FerretDB answers by scanning every item) measured at 10k in the same run.
 *
 *   npm run bench:dossier
 *   DOSSIER_BENCH_SIZES=10000,100000 DOSSIER_BENCH_BUDGET_S=300 npm run bench:dossier
 *
 * Rows are generated directly (what linkItem writes: one row per person and item, a unit link
 * for every third item), not through filing; ~4 items per person. The timed call is the one the
 * route makes (openDossier: one bucket read + sort). If inserting the next size would pass the
 * time budget, the run stops at the largest size reached and says so in the RESULT line.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { idCheckDigit } from '../src/domain/id-number';
import pino from 'pino';
import { parseConfig } from '../src/config';
import { createMetrics } from '../src/metrics';
import { blindKeyFor } from '../src/models/item-codec';
import { itemModel } from '../src/models/item.model';
import { createRuntime, type Runtime } from '../src/runtime';
import { openDossier } from '../src/services/records';
import { linkLayout } from '../src/services/records/dossier';

const SIZES = (process.env.DOSSIER_BENCH_SIZES ?? '10000,100000,1000000').split(',').map(Number);
const BUDGET_S = Number(process.env.DOSSIER_BENCH_BUDGET_S ?? 600);
const QUERIES = Number(process.env.DOSSIER_BENCH_QUERIES ?? 200);
const PER_PERSON = 4;

function log(msg: string): void {
  process.stderr.write(`[bench:dossier] ${msg}\n`);
}
const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

/** The i-th person's 公民身份号码 (distinct per i: the area code carries i / 1000; valid check digit). */
function personId(i: number): string {
  const s = `${100000 + Math.floor(i / 1000)}19800101${String(i % 1000).padStart(3, '0')}`;
  return s + idCheckDigit(s);
}

async function insertLinks(rt: Runtime, from: number, to: number): Promise<void> {
  const layout = await linkLayout(rt.db);
  const byBucket = new Map<string, { coll: ReturnType<typeof layout.links>; rows: Record<string, unknown>[] }>();
  const flush = async (all: boolean) => {
    const jobs: Promise<unknown>[] = [];
    for (const [name, b] of byBucket) {
      if (!all && b.rows.length < 300) continue;
      jobs.push(b.coll.insertMany(b.rows as never[], { ordered: false }));
      byBucket.delete(name);
    }
    await Promise.all(jobs);
  };
  for (let i = from; i < to; i++) {
    const itemId = (0x200000000000 + i).toString(16).padStart(24, '0');
    const year = 2000 + (i % 24);
    const row = { title: '基本养老保险待遇核定表', archivalCode: `Z101-WS·${year}-D30-YL·DY-${String(i % 10000).padStart(4, '0')}`, documentDate: `${year}-0${1 + (i % 9)}-1${i % 10}`, documentType: 'pension_award', status: 'filed', fonds: i % 2 ? 'Z101' : 'Z102', level: i % 3 === 0 ? 1 : 0, id: itemId };
    const links: string[] = [`person:${await blindKeyFor(rt.db, 'personIds', personId(Math.floor(i / PER_PERSON)))}`];
    if (i % 3 === 0) links.push(`unit:${await blindKeyFor(rt.db, 'unitCodes', `91110105MA${String(Math.floor(i / 30)).padStart(7, '0')}X`)}`);
    for (const l of links) {
      const key = l.slice(l.indexOf(':') + 1);
      const coll = layout.links(key);
      const b = byBucket.get(coll.collectionName) ?? { coll, rows: [] };
      b.rows.push({ _id: `${l}:${itemId}`, key: l, ...row });
      byBucket.set(coll.collectionName, b);
    }
    if ((i + 1) % 20_000 === 0) {
      await flush(false);
      if ((i + 1) % 100_000 === 0) log(`  ${i + 1} items linked (load ${load()})`);
    }
  }
  await flush(true);
}

async function timeDossiers(rt: Runtime, items: number): Promise<{ p50: number; p95: number; rows: number }> {
  const persons = Math.floor(items / PER_PERSON);
  const ms: number[] = [];
  let rows = 0;
  for (let q = 0; q < QUERIES; q++) {
    const who = personId(Math.floor(Math.random() * persons));
    const t0 = performance.now();
    const file = await openDossier(rt, 'person', who);
    ms.push(performance.now() - t0);
    rows += file.length;
  }
  return { p50: pct(ms, 50), p95: pct(ms, 95), rows: rows / QUERIES };
}

async function main(): Promise<void> {
  const dbName = `bench_dossier_${randomBytes(3).toString('hex')}`;
  const base = process.env.MONGODB_URI ?? 'mongodb://127.0.0.1:27417/archive';
  const config = parseConfig({ ...process.env, NODE_ENV: 'development', LOG_LEVEL: 'warn', MONGODB_URI: base.replace(/\/[^/?]*(\?|$)/, `/${dbName}$1`) });
  const rt = await createRuntime(config, { logger: pino({ level: 'warn' }, pino.destination(2)), metrics: createMetrics({ defaultMetrics: false }) });
  const t0 = performance.now();
  const results: Array<{ items: number; p50: number; p95: number; rows: number; load: string }> = [];
  let anchor = NaN;
  let stoppedEarly = false;
  try {
    log(`load before: ${load()}; buckets: ${(await linkLayout(rt.db)).buckets}`);
    // Anchor: the old query on the items collection, at the first size, with rows like filing's.
    const first = SIZES[0]!;
    const items = rt.db.collection('items');
    for (let i = 0; i < first; i += 2000) {
      const batch = [];
      for (let k = i; k < Math.min(first, i + 2000); k++) batch.push({ fonds: 'Z101', source: 'bench', channel: 'api', status: 'filed', contentHash: `b${k}`, personIds: [await blindKeyFor(rt.db, 'personIds', personId(Math.floor(k / PER_PERSON)))], title: '基本养老保险待遇核定表', pages: [], originals: [] });
      await items.insertMany(batch);
    }
    const old: number[] = [];
    for (let q = 0; q < Math.min(30, QUERIES); q++) {
      const who = personId(Math.floor(Math.random() * (first / PER_PERSON)));
      const s = performance.now();
      await itemModel(rt.db).find({ personIds: who, status: { $in: ['filed', 'review'] } }).lean();
      old.push(performance.now() - s);
    }
    anchor = pct(old, 95);
    log(`anchor: items-collection query at ${first} items: p95 ${anchor.toFixed(1)} ms (load ${load()})`);

    let have = 0;
    for (const size of SIZES) {
      const elapsed = (performance.now() - t0) / 1000;
      const rate = have ? have / elapsed : 0;
      if (have && elapsed + (size - have) / rate > BUDGET_S) {
        log(`stopping before ${size}: at ${rate.toFixed(0)} items/s it would pass the ${BUDGET_S} s budget`);
        stoppedEarly = true;
        break;
      }
      const s = performance.now();
      await insertLinks(rt, have, size);
      log(`linked ${size} items (+${size - have} in ${((performance.now() - s) / 1000).toFixed(0)} s)`);
      have = size;
      const r = await timeDossiers(rt, size);
      results.push({ items: size, ...r, load: load() });
      log(`${size} items: open a person's file p50 ${r.p50.toFixed(1)} ms, p95 ${r.p95.toFixed(1)} ms (${r.rows.toFixed(1)} items per file; load ${load()})`);
    }
  } finally {
    if (process.env.KEEP_BENCH_DB !== '1') await rt.db.dropDatabase().catch(() => undefined);
    await rt.close();
  }
  const last = results[results.length - 1]!;
  const firstR = results[0]!;
  console.log(
    `RESULT p95_ms=${last.p95.toFixed(1)} items=${last.items} p95_by_size=${results.map((r) => `${r.items}:${r.p95.toFixed(1)}`).join(',')} flatness=${(last.p95 / firstR.p95).toFixed(2)} anchor_scan_p95_ms=${anchor.toFixed(1)} anchor_items=${SIZES[0]} stopped_early=${stoppedEarly} load="${load()}"`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
