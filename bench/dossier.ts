/**
 * Person's file benchmark (issue #16 §2): opening a person's file (一人一档) from the link store,
 * at 10k, 100k and 1M items, against the anchor of the old way (a query on the items collection
 * by the blind key, which FerretDB answers by scanning every item) measured at 10k in the same run.
 *
 *   npm run bench:dossier
 *   DOSSIER_BENCH_SIZES=10000,100000 DOSSIER_BENCH_BUDGET_S=300 npm run bench:dossier
 *
 * Rows are generated directly (what linkItem writes: a document per person and unit key with a row
 * per item; a unit link for every fifth item), not through filing; ~4 items per person. The timed call is the one the
 * route makes (openDossier: one bucket read + sort). If inserting every row of the next size would
 * pass the time budget, that size and the larger ones are simulated: only DOSSIER_BENCH_SIM_BUCKETS
 * buckets are filled to the size (a query reads one bucket, so these are the rows it would read),
 * and the RESULT line says from which size on (simulated_from).
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
/** Sizes above this are simulated (DOSSIER_BENCH_SIM_BUCKETS buckets filled); inserting every row of 1M took past 10 minutes here. */
const REAL_MAX = Number(process.env.DOSSIER_BENCH_REAL_MAX ?? 100_000);
const QUERIES = Number(process.env.DOSSIER_BENCH_QUERIES ?? 200);
const PER_PERSON = 4;
const SIM_BUCKETS = Number(process.env.DOSSIER_BENCH_SIM_BUCKETS ?? 16);

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

/**
 * Inserts the key documents of items [from, to) (persons: 4 consecutive items each; units: 20
 * items each, so no key straddles the sizes); with `only`, just those in the named buckets.
 */
async function insertLinks(rt: Runtime, from: number, to: number, only?: Set<string>): Promise<void> {
  const layout = await linkLayout(rt.db);
  let docs = new Map<string, Record<string, Record<string, unknown>>>();
  const flush = async () => {
    const byBucket = new Map<string, { coll: ReturnType<typeof layout.keys>; docs: Array<{ _id: string; rows: Record<string, unknown> }> }>();
    for (const [link, rows] of docs) {
      const coll = layout.keys(link);
      const b = byBucket.get(coll.collectionName) ?? { coll, docs: [] };
      b.docs.push({ _id: link, rows });
      byBucket.set(coll.collectionName, b);
    }
    docs = new Map();
    const all = [...byBucket.values()];
    for (let k = 0; k < all.length; k += 64) await Promise.all(all.slice(k, k + 64).map((b) => b.coll.insertMany(b.docs as never[], { ordered: false })));
  };
  for (let i = from; i < to; i++) {
    const itemId = (0x200000000000 + i).toString(16).padStart(24, '0');
    const year = 2000 + (i % 24);
    const row = { id: itemId, title: '基本养老保险待遇核定表', archivalCode: `Z101-WS·${year}-D30-YL·DY-${String(i % 10000).padStart(4, '0')}`, documentDate: `${year}-0${1 + (i % 9)}-1${i % 10}`, documentType: 'pension_award', status: 'filed', fonds: i % 2 ? 'Z101' : 'Z102', level: i % 3 === 0 ? 1 : 0 };
    const links: string[] = [`person:${await blindKeyFor(rt.db, 'personIds', personId(Math.floor(i / PER_PERSON)))}`];
    if (i % 5 === 0) links.push(`unit:${await blindKeyFor(rt.db, 'unitCodes', `91110105MA${String(Math.floor(i / 20)).padStart(7, '0')}X`)}`);
    for (const l of links) {
      if (only && !only.has(layout.keys(l).collectionName)) continue;
      docs.set(l, { ...docs.get(l), [itemId]: row });
    }
    if ((i + 1) % 100_000 === 0) {
      await flush();
      log(`  ${i + 1} items linked (load ${load()})`);
    }
  }
  await flush();
}

async function timeDossiers(rt: Runtime, items: number, only?: Set<string>): Promise<{ p50: number; p95: number; rows: number }> {
  const persons = Math.floor(items / PER_PERSON);
  const layout = await linkLayout(rt.db);
  const ms: number[] = [];
  let rows = 0;
  for (let q = 0; q < QUERIES; q++) {
    let who = personId(Math.floor(Math.random() * persons));
    // Simulated sizes: only persons whose bucket was filled to that size.
    while (only && !only.has(layout.keys(`person:${await blindKeyFor(rt.db, 'personIds', who)}`).collectionName)) who = personId(Math.floor(Math.random() * persons));
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
  const results: Array<{ items: number; p50: number; p95: number; rows: number; load: string; simulated: boolean }> = [];
  let anchor = NaN;
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
    const started = performance.now();
    let simulated: Set<string> | undefined;
    for (const size of SIZES) {
      const elapsed = (performance.now() - started) / 1000;
      const rate = have ? have / elapsed : 0;
      if (!simulated && have && (size > REAL_MAX || elapsed + (size - have) / rate > BUDGET_S)) {
        // Past the budget: fill only SIM_BUCKETS buckets to this size (the rows a query at this
        // size reads: one bucket) and query persons in them. Said so in the RESULT line.
        const layout = await linkLayout(rt.db);
        simulated = new Set(Array.from({ length: SIM_BUCKETS }, (_, k) => layout.keys(`sim-${k}`).collectionName));
        log(`from ${size} on, simulated: only ${simulated.size} of ${layout.buckets} buckets filled (all of them: ~${((size - have) / rate / 60).toFixed(0)} min at ${rate.toFixed(0)} items/s; budget ${BUDGET_S} s, real up to ${REAL_MAX})`);
      }
      const s0 = performance.now();
      await insertLinks(rt, have, size, simulated);
      log(`linked ${size} items${simulated ? ' (simulated)' : ''} (+${size - have} in ${((performance.now() - s0) / 1000).toFixed(0)} s)`);
      have = size;
      const r = await timeDossiers(rt, size, simulated);
      results.push({ items: size, ...r, load: load(), simulated: !!simulated });
      log(`${size} items${simulated ? ' (simulated)' : ''}: open a person's file p50 ${r.p50.toFixed(1)} ms, p95 ${r.p95.toFixed(1)} ms (${r.rows.toFixed(1)} items per file; load ${load()})`);
    }
  } finally {
    if (process.env.KEEP_BENCH_DB !== '1') await rt.db.dropDatabase().catch(() => undefined);
    await rt.close();
  }
  const last = results[results.length - 1]!;
  const firstR = results[0]!;
  console.log(
    `RESULT p95_ms=${last.p95.toFixed(1)} items=${last.items} p95_by_size=${results.map((r) => `${r.items}${r.simulated ? '(sim)' : ''}:${r.p95.toFixed(1)}`).join(',')} flatness=${(last.p95 / firstR.p95).toFixed(2)} anchor_scan_p95_ms=${anchor.toFixed(1)} anchor_items=${SIZES[0]} simulated_from=${results.find((r) => r.simulated)?.items ?? 'none'} load="${load()}"`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
