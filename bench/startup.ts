/**
 * Start-up benchmark (issue #16 §1): how long the `archive` command takes end to end, against a
 * bare `node -e 0` measured in the same run (the anchor).
 *
 *   npm run bench:startup                       # builds dist/ when stale, then measures
 *   STARTUP_BENCH_RUNS=20 STARTUP_BENCH_PAGES=20000 npm run bench:startup
 *   KEEP_SERVICES=1 STARTUP_BENCH_REUSE=1 npm run bench:startup   # again, on the index left by the last run
 *   STARTUP_BENCH_PAGES=10000 STARTUP_BENCH_COPIES=10 npm run bench:startup   # 100k pages: 10 copies of 10k generated
 *
 * Measured: `node -e 0`; `archive --help` from dist/ (what users run) and from the TypeScript
 * sources through tsx (what it was); `archive search` on a warm archive: the services up, an
 * index of STARTUP_BENCH_PAGES generated pages, every run a fresh process that connects, checks
 * the account, loads the index and answers (hits carry no snippet: the generated items have no
 * rows or page text, so the snippet reads stop at the first point read).
 *
 * Also the index load at start (what an API process does before it can search): a fresh engine
 * loading everything from the database (before snapshots), then, after one snapshot is written,
 * a fresh engine loading the snapshot from the blob store plus the log after it
 * (services/search/snapshot.ts). `archive search` is timed with the snapshot in place (the
 * warm-up run of the CLI would write one anyway).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import pino from 'pino';
import { loadConfig } from '../src/config';
import { createRuntime } from '../src/runtime';
import { indexKey } from '../src/services/platform';
import { SearchEngine, searchEngine, snapshotBlobs } from '../src/services/search';
import { generateItem, rng } from '../test/helpers/si-corpus';

const RUNS = Number(process.env.STARTUP_BENCH_RUNS ?? 10);
const PAGES = Number(process.env.STARTUP_BENCH_PAGES ?? 10_000);
/** the generated index written this many times in all, under other item ids (a large archive quickly) */
const COPIES = Number(process.env.STARTUP_BENCH_COPIES ?? 1);
const REPO = path.resolve(__dirname, '..');
const BIN = path.join(REPO, 'bin', 'archive.js');

function log(msg: string): void {
  process.stderr.write(`[bench:startup] ${msg}\n`);
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

function time(label: string, args: string[], env: NodeJS.ProcessEnv = process.env): { median: number; p95: number } {
  const ms: number[] = [];
  spawnSync(process.execPath, args, { env, stdio: 'ignore' }); // warm the page cache
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, args, { env, encoding: 'utf8' });
    ms.push(performance.now() - t0);
    if (r.status !== 0) throw new Error(`${label} exited ${r.status}: ${r.stderr}`);
  }
  const out = { median: pct(ms, 50), p95: pct(ms, 95) };
  log(`${label}: median ${out.median.toFixed(0)} ms, p95 ${out.p95.toFixed(0)} ms (${RUNS} runs)`);
  return out;
}

async function seed(): Promise<number> {
  const rt = await createRuntime(loadConfig(), { logger: pino({ level: 'warn' }, pino.destination(2)) });
  try {
    const engine = await searchEngine(rt);
    if (process.env.STARTUP_BENCH_REUSE === '1') {
      // Measure the index the previous run left (seeding 100k pages takes a while).
      const metas = await engine.store.m.segments.find({}, { pages: 1, items: 1 }).lean();
      // A segment's docs are the items' pages plus one description page (page 0) per item.
      const have = metas.reduce((n, m) => n + m.pages - m.items, 0);
      if (have > 0) return have;
    }
    const r = rng(16);
    let pages = 0;
    async function* docs() {
      for (let i = 0; pages < PAGES; i++) {
        const g = generateItem(r, i, { noise: 0.02 });
        pages += g.doc.pages.length;
        yield g.doc;
      }
    }
    const s = await engine.rebuild(docs());
    if (COPIES <= 1) return s.pages;
    // A bigger archive without tokenising it all: the generated segments again under other item
    // ids (what loading costs depends on bytes and items, not on which words they hold).
    const base = (await engine.store.entry(await engine.store.base()))!;
    const from = await engine.store.head();
    const segs = [...base.segs];
    for (let c = 1; c < COPIES; c++) {
      for (const id of base.segs) {
        const seg = await engine.store.readSegment(id);
        segs.push((await engine.store.writeSegment({ ...seg, items: seg.items.map((it) => ({ ...it, id: `${it.id}.${c}` })) })).id);
      }
    }
    await engine.store.append({ op: 'base', seg: null, items: [], segs, from });
    log(`copied the generated segments ${COPIES - 1} times`);
    return s.pages * COPIES;
  } finally {
    await rt.close();
  }
}

/**
 * Index load at start: from the database, then (after one snapshot is written) from the snapshot.
 * Each engine lives in a function of its own, so that the next measurement does not run with the
 * previous engine's index still reachable (three copies of a 100k-page index made the garbage
 * collector the bottleneck).
 */
async function loadTimes(): Promise<{ dbMs: number; snapMs: number; snapWriteMs: number }> {
  const rt = await createRuntime(loadConfig(), { logger: pino({ level: 'warn' }, pino.destination(2)) });
  try {
    const key = await indexKey(rt);
    const text = () => Promise.reject(new Error('no text'));
    const fresh = (snapshots: boolean) => new SearchEngine({ db: rt.db, key, text, ...(snapshots ? { snapshots: snapshotBlobs(rt) } : {}) });
    const dbMs = await (async () => {
      const e = fresh(false);
      await e.open();
      log(`index load from the database: ${e.loadStats!.ms} ms (${e.loadStats!.segments} segments)`);
      return e.loadStats!.ms;
    })();
    const snapWriteMs = await (async () => {
      const e = fresh(true);
      await e.open();
      const w = await e.writeSnapshot();
      log(`snapshot written: ${w ? `${w.ms} ms, ${w.uploaded} segment mirrors` : 'already current'} (the writer loaded from ${e.loadStats!.source} in ${e.loadStats!.ms} ms)`);
      return w?.ms ?? 0;
    })();
    const snapMs = await (async () => {
      const e = fresh(true);
      await e.open();
      if (e.loadStats!.source !== 'snapshot') throw new Error('the snapshot was not used');
      log(`index load from the snapshot: ${e.loadStats!.ms} ms (+${e.loadStats!.tail} log entries)`);
      return e.loadStats!.ms;
    })();
    return { dbMs, snapMs, snapWriteMs };
  } finally {
    await rt.close();
  }
}

async function main(): Promise<void> {
  const load = (await import('node:os')).loadavg().map((x) => x.toFixed(2)).join(' ');
  log(`load average before: ${load}`);
  const pages = await seed();
  log(`warm archive: ${pages} pages indexed`);
  const loads = await loadTimes();
  const node = time('node -e 0', ['-e', '0']);
  const help = time('archive --help (dist)', [BIN, '--help']);
  const helpTsx = time('archive --help (tsx, sources)', ['-e', `require('tsx/cjs/api').register(); require(${JSON.stringify(path.join(REPO, 'src/cli/main.ts'))}).main(['--help'])`]);
  const search = time('archive search 养老 保险 --json (dist)', [BIN, 'search', '养老', '保险', '--limit', '10', '--json']);
  const after = (await import('node:os')).loadavg().map((x) => x.toFixed(2)).join(' ');
  log(`load average after: ${after}`);
  console.log(
    `RESULT node_ms=${node.median.toFixed(0)} help_ms=${help.median.toFixed(0)} help_ratio=${(help.median / node.median).toFixed(2)} help_tsx_ms=${helpTsx.median.toFixed(0)} search_ms=${search.median.toFixed(0)} search_p95_ms=${search.p95.toFixed(0)} load_db_ms=${loads.dbMs} load_snapshot_ms=${loads.snapMs} snapshot_write_ms=${loads.snapWriteMs} pages=${pages} load="${after}"`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
