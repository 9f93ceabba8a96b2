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
 *
 * Then the fast path (issue #16.1): an API process (`archive serve --role api`, port
 * STARTUP_BENCH_API_PORT, default 8451) started with the same configuration, its index loaded,
 * and `archive search` timed again, now answered by the API through its control socket
 * (cli/control-socket.ts). In the same stretch, with that API running: `node -e 0` again and the
 * in-process search again (ARCHIVE_CONTROL_SOCKET=false), so the three compare under one load.
 * Every timed run must have been answered by the API (its log counts the socket requests), and
 * its output must be the in-process output.
 */
import { spawn, spawnSync } from 'node:child_process';
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

function time(label: string, args: string[], env: NodeJS.ProcessEnv = process.env): { median: number; p95: number; stdout: string } {
  const ms: number[] = [];
  spawnSync(process.execPath, args, { env, stdio: 'ignore' }); // warm the page cache
  let stdout = '';
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, args, { env, encoding: 'utf8' });
    ms.push(performance.now() - t0);
    if (r.status !== 0) throw new Error(`${label} exited ${r.status}: ${r.stderr}`);
    stdout = r.stdout;
  }
  const out = { median: pct(ms, 50), p95: pct(ms, 95), stdout };
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

/** An API process on this archive, its index in memory; lines of its log as they come. */
async function startApi(): Promise<{ lines: () => string[]; stop: () => Promise<void> }> {
  const port = process.env.STARTUP_BENCH_API_PORT ?? '8451';
  const child = spawn(process.execPath, [BIN, 'serve', '--role', 'api', '--port', port, '--json'], { env: { ...process.env, LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const t0 = Date.now();
  while (!out.includes('search index loaded')) {
    if (child.exitCode !== null || Date.now() - t0 > 600_000) throw new Error(`the API process did not load its index: ${out.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  if (!out.includes('control socket listening')) throw new Error(`the API process has no control socket: ${out.slice(-2000)}`);
  log(`API process up on port ${port}, index loaded in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return {
    lines: () => out.split('\n'),
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

const sameOutput = (s: string) => s.replace(/"score":[0-9.e-]+/g, '"score":_');

async function main(): Promise<void> {
  const load = (await import('node:os')).loadavg().map((x) => x.toFixed(2)).join(' ');
  log(`load average before: ${load}`);
  const pages = await seed();
  log(`warm archive: ${pages} pages indexed`);
  const loads = await loadTimes();
  const node = time('node -e 0', ['-e', '0']);
  const help = time('archive --help (dist)', [BIN, '--help']);
  const helpTsx = time('archive --help (tsx, sources)', ['-e', `require('tsx/cjs/api').register(); require(${JSON.stringify(path.join(REPO, 'src/cli/main.ts'))}).main(['--help'])`]);
  const query = [BIN, 'search', '养老', '保险', '--limit', '10', '--json'];
  const here = { ...process.env, ARCHIVE_CONTROL_SOCKET: 'false' };
  const search = time('archive search 养老 保险 --json (dist)', query, here);

  // The fast path: a warm API process answers over its control socket.
  const api = await startApi();
  let fast: ReturnType<typeof time>;
  let node2: ReturnType<typeof time>;
  let search2: ReturnType<typeof time>;
  let apiMs: number[];
  let same = false;
  try {
    node2 = time('node -e 0 (API running)', ['-e', '0']);
    search2 = time('archive search, in the process (API running, ARCHIVE_CONTROL_SOCKET=false)', query, here);
    const asked = () => api.lines().filter((l) => l.includes('control socket request'));
    const before = asked().length;
    fast = time('archive search, answered by the API process (control socket)', query);
    // (spawnSync held this event loop: the API's log lines arrive now)
    for (let t = 0; t < 100 && asked().length < before + RUNS + 1; t++) await new Promise((r) => setTimeout(r, 100));
    const mine = asked().slice(before).map((l) => JSON.parse(l) as { status: string; ms: number });
    // the warm-up run and every timed one, each answered ok by the API
    if (mine.length !== RUNS + 1 || mine.some((m) => m.status !== 'ok')) throw new Error(`not every run was answered by the API: ${JSON.stringify(mine)}`);
    same = fast.stdout === search2.stdout;
    if (!same) log(`WARNING: the API's answer differs from the in-process one (scores aside: ${sameOutput(fast.stdout) === sameOutput(search2.stdout)}):\n${fast.stdout}\n${search2.stdout}`);
    apiMs = mine.map((m) => m.ms);
    log(`inside the API process: median ${pct(apiMs, 50)} ms per search (account check, query, audit)`);
  } finally {
    await api.stop();
  }
  const after = (await import('node:os')).loadavg().map((x) => x.toFixed(2)).join(' ');
  log(`load average after: ${after}`);
  console.log(
    `RESULT node_ms=${node.median.toFixed(0)} help_ms=${help.median.toFixed(0)} help_ratio=${(help.median / node.median).toFixed(2)} help_tsx_ms=${helpTsx.median.toFixed(0)} search_ms=${search.median.toFixed(0)} search_p95_ms=${search.p95.toFixed(0)} load_db_ms=${loads.dbMs} load_snapshot_ms=${loads.snapMs} snapshot_write_ms=${loads.snapWriteMs} pages=${pages} load="${after}"`,
  );
  console.log(
    `RESULT_FAST node_ms=${node2.median.toFixed(0)} search_inprocess_ms=${search2.median.toFixed(0)} search_inprocess_p95_ms=${search2.p95.toFixed(0)} search_api_ms=${fast.median.toFixed(0)} search_api_p95_ms=${fast.p95.toFixed(0)} api_side_ms=${pct(apiMs, 50)} same_output=${same} pages=${pages} load="${after}"`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
