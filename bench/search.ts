/**
 * Search benchmark: a generated archive of social-insurance pages (with OCR-style damage),
 * indexed into FerretDB, queried through GET /api/v1/search by a fresh engine (as an API process
 * loads it), against SQLite FTS5 with the trigram tokenizer as the anchor on the same text; then
 * the same corpus and query mix through the same route on the OpenSearch backend (issue #16 §4),
 * on a local node that scripts/opensearch.sh starts (and stops) for the run.
 *
 *   npm run bench:search                 # 100,000 pages
 *   SEARCH_BENCH_PAGES=20000 npm run bench:search
 *   SEARCH_BENCH_OPENSEARCH=0 npm run bench:search      # embedded and anchor only
 *   OPENSEARCH_URL=http://host:9200 npm run bench:search  # an existing cluster instead
 *   SEARCH_BENCH_ANCHOR=0 npm run bench:search          # without the SQLite FTS5 anchor
 *   SEARCH_BENCH_OS_SHARDS=2 …           # the OpenSearch index in two primary shards (default 1)
 *   SEARCH_BENCH_PAGES=1000000 node --max-old-space-size=8192 --import tsx bench/search.ts
 *   SEARCH_BENCH_REUSE=1 …               # keep the built indexes; a later run queries them only
 *
 * With SEARCH_BENCH_REUSE=1 the indexes outlive the run, keyed by the corpus parameters (pages,
 * noise): the FerretDB database bench_search_<key>, the OpenSearch index bench-search-<key> (in
 * the node's data folder under ARCHIVE_DATA_DIR), the snapshot folder and a state file with the
 * index key and the build's figures under ARCHIVE_DATA_DIR/bench-search/<key>/. A run that finds
 * them skips both builds (and the load children) and reports the saved build figures; the corpus
 * itself is generated again from the seed (same items, same ids). A 1M build takes 40 min here;
 * a query-only rerun takes minutes. Delete the folder (and drop the database) to start afresh.
 *
 * Memory of the API process (rss_mb_per_100k): a fresh child process (this file with
 * SEARCH_BENCH_CHILD set) loads the index, from the database and then from a snapshot, and
 * reports its RSS before and after the load with the garbage collected; the index's share of an
 * API process's memory is the difference. The snapshot goes to a folder (SnapshotBlobs over plain
 * files): what is measured is reading and applying it, not MinIO's transfer and decryption.
 *
 * The corpus is held as encrypted page text plus each item's metadata; the clean text that
 * recall is judged against is not kept but generated again (same seed) when the queries' answers
 * are computed, so a million pages fit in memory.
 *
 * Recall@10 is measured on queries whose answers are known from the clean (undamaged) text:
 * a query's relevant items are those whose clean text contains every query term, or, for the
 * misspelt-name queries, the one item the name was taken from.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import mongoose from 'mongoose';
import Database from 'better-sqlite3';
import pino from 'pino';
import { createApp } from '../src/api/app';
import { searchRoutes } from '../src/api/routes/search.routes';
import { parseConfig } from '../src/config';
import { createMetrics } from '../src/metrics';
import type { Runtime } from '../src/runtime';
import { OpenSearchBackend, SearchEngine, metadataText, type RebuildStats, useSearchBackend, useSearchEngine, type IndexDocument, type SnapshotBlobs } from '../src/services/search';
import { warmTokenizer } from '../src/services/search/tokenize';
import { corrupt, generateItem, rng, type GeneratedItem } from '../test/helpers/si-corpus';

const PAGES = Number(process.env.SEARCH_BENCH_PAGES ?? 100_000);
const NOISE = Number(process.env.SEARCH_BENCH_NOISE ?? 0.03);
const QUERIES = Number(process.env.SEARCH_BENCH_QUERIES ?? 300);
const MONGO = process.env.MONGODB_URI ?? 'mongodb://127.0.0.1:27417/archive';
const WITH_OPENSEARCH = process.env.SEARCH_BENCH_OPENSEARCH !== '0';
const WITH_ANCHOR = process.env.SEARCH_BENCH_ANCHOR !== '0';
const OS_PORT = Number(process.env.ARCHIVE_OPENSEARCH_PORT ?? 9430);
/** Primary shards of the bench's index: a node searches its shards in parallel, one thread each. */
const OS_SHARDS = Number(process.env.SEARCH_BENCH_OS_SHARDS ?? 1);
const REPO = path.resolve(__dirname, '..');
const REUSE = process.env.SEARCH_BENCH_REUSE === '1';
const CORPUS_KEY = `p${PAGES}-n${Math.round(NOISE * 1000)}`;
const REUSE_DIR = path.join(process.env.ARCHIVE_DATA_DIR ?? path.join(REPO, '.data/dev'), 'bench-search', CORPUS_KEY);

/** What a reusing run needs from the run that built the indexes (see SEARCH_BENCH_REUSE). */
interface ReuseState {
  key: string;
  embedded?: { stats: RebuildStats; indexSeconds: number; indexBytes: number; fromDb: ChildReport; fromSnap: ChildReport };
  opensearch?: { index: string; pages: number; indexS: number; mergeS: number };
}
const reuseFile = path.join(REUSE_DIR, 'state.json');
function loadReuse(): ReuseState | null {
  if (!REUSE || !fs.existsSync(reuseFile)) return null;
  return JSON.parse(fs.readFileSync(reuseFile, 'utf8')) as ReuseState;
}
function saveReuse(s: ReuseState): void {
  if (!REUSE) return;
  fs.mkdirSync(REUSE_DIR, { recursive: true });
  fs.writeFileSync(reuseFile, JSON.stringify(s, null, 1));
}

/** The OpenSearch node: an existing one at OPENSEARCH_URL, or a local one started for this run. */
function startOpenSearch(): { url: string; pid: number | null; stop: () => void } {
  if (process.env.OPENSEARCH_URL) return { url: process.env.OPENSEARCH_URL, pid: null, stop: () => undefined };
  const env = { ...process.env, ARCHIVE_OPENSEARCH_PORT: String(OS_PORT) };
  const t0 = performance.now();
  execFileSync('bash', [path.join(REPO, 'scripts/opensearch.sh'), 'up'], { stdio: ['ignore', 'ignore', 'inherit'], env });
  log(`OpenSearch node up in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const dataDir = process.env.ARCHIVE_DATA_DIR ?? path.join(REPO, '.data/dev');
  const pid = Number(fs.readFileSync(path.join(dataDir, 'run/opensearch.pid'), 'utf8'));
  return { url: `http://127.0.0.1:${OS_PORT}`, pid, stop: () => execFileSync('bash', [path.join(REPO, 'scripts/opensearch.sh'), 'down'], { stdio: ['ignore', 'ignore', 'inherit'], env }) };
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

interface Measured {
  lat: number[];
  recall: number[];
  byKind: Map<string, { lat: number[]; recall: number[]; took: number[]; cpu: number[]; first: boolean[]; calls: Map<string, { ms: number[]; took: number[] }> }>;
}

/**
 * The backend's own requests to OpenSearch while a query runs (wall ms and OpenSearch's `took`),
 * so that a slow query class can be traced to the scoped term counts or the search itself.
 */
interface OsCall {
  ms: number;
  took: number;
  kind: 'counts' | 'search';
}
const osCalls: OsCall[] = [];
function traceFetch(url: string): void {
  const inner = globalThis.fetch;
  globalThis.fetch = async (input, init) => {
    const target = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (!target.startsWith(url) || !target.includes('/_search')) return inner(input, init);
    const t = performance.now();
    const res = await inner(input, init);
    const text = await res.text();
    const took = (JSON.parse(text || '{}') as { took?: number }).took ?? NaN;
    // The scoped counts ask for no hits (size 0); the search asks for some. Counts kept from an
    // earlier query are not asked again, so a query may make one request or two.
    const kind = typeof init?.body === 'string' && /"size":0[,}]/.test(init.body) ? 'counts' : 'search';
    osCalls.push({ ms: performance.now() - t, took, kind });
    return new Response(text, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
}

/** The query mix through GET /api/v1/search, as a caseworker's browser sends it, to an API child (see apiChild). */
async function measure(base: string, queries: BenchQuery[]): Promise<Measured> {
  const ask = async (q: string): Promise<{ ids: string[]; took: number; cpu: number; calls: OsCall[] }> => {
    const res = await fetch(`${base}/api/v1/search?limit=10&q=${encodeURIComponent(q)}`);
    if (!res.ok) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
    const body = (await res.json()) as { hits: Array<{ id: string }>; tookMs?: number };
    // The API process's CPU time for the request (garbage-collector threads included) and its
    // requests to OpenSearch, as the child measured them (see apiChild).
    const cpu = Number(res.headers.get('x-bench-cpu-ms'));
    const calls = JSON.parse(res.headers.get('x-bench-os-calls') ?? '[]') as OsCall[];
    return { ids: body.hits.map((h) => h.id), took: body.tookMs ?? NaN, cpu, calls };
  };
  for (const q of queries.slice(0, 20)) await ask(q.q); // warm-up
  // Whether a query's text was asked before (warm-up included): both backends keep what common
  // words cost (clause results, scoped counts), so a repeat may be cheaper than its first time.
  const seen = new Set(queries.slice(0, 20).map((q) => q.q));
  const out: Measured = { lat: [], recall: [], byKind: new Map() };
  for (const q of queries) {
    const t = performance.now();
    const { ids: hits, took, cpu, calls } = await ask(q.q);
    const ms = performance.now() - t;
    out.lat.push(ms);
    const k: Measured["byKind"] extends Map<string, infer V> ? V : never = out.byKind.get(q.kind) ?? { lat: [], recall: [], took: [], cpu: [], first: [], calls: new Map() };
    out.byKind.set(q.kind, k);
    k.lat.push(ms);
    k.cpu.push(cpu);
    k.first.push(!seen.has(q.q));
    seen.add(q.q);
    k.took.push(took);
    for (const c of calls) {
      const slot = k.calls.get(c.kind) ?? { ms: [], took: [] };
      k.calls.set(c.kind, slot);
      slot.ms.push(c.ms);
      slot.took.push(c.took);
    }
    if (q.relevant) {
      const rc = recallAt10(hits, q.relevant);
      out.recall.push(rc);
      k.recall.push(rc);
    }
  }
  return out;
}

/** Latencies of the queries asked for the first time (warm-up included): what no cache of either backend helped. */
const firstAsked = (m: Measured['byKind']): number[] => [...m.values()].flatMap((v) => v.lat.filter((_, i) => v.first[i]));

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

function log(msg: string): void {
  process.stderr.write(`[bench:search] ${msg}\n`);
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

/** Page text kept encrypted, as in the blob store; decrypted per snippet request. */
class SealedTexts {
  private readonly key = randomBytes(32);
  private readonly data = new Map<string, Buffer>();
  put(id: string, text: string): void {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([c.update(text, 'utf8'), c.final()]);
    this.data.set(id, Buffer.concat([iv, c.getAuthTag(), body]));
  }
  get(id: string): string {
    const b = this.data.get(id);
    if (!b) throw new Error('no text');
    const d = createDecipheriv('aes-256-gcm', this.key, b.subarray(0, 12));
    d.setAuthTag(b.subarray(12, 28));
    return Buffer.concat([d.update(b.subarray(28)), d.final()]).toString('utf8');
  }
}

interface BenchQuery {
  q: string;
  kind: string;
  relevant: Set<string> | null;
  /** every one of these must be in an item's clean text for it to be relevant (see answer()) */
  terms?: string[];
}

/** The corpus, item by item (deterministic: the same seed gives the same items). */
function generate(fn: (g: GeneratedItem) => void): void {
  const r = rng(2026);
  let pages = 0;
  for (let i = 0; pages < PAGES; i++) {
    const g = generateItem(r, i, { fonds: ['Z101', 'Z102', 'Z103'], noise: NOISE });
    pages += g.doc.pages.length;
    fn(g);
  }
}

function buildQueries(items: GeneratedItem[]): BenchQuery[] {
  const r = rng(7);
  const pick = () => items[Math.floor(r() * items.length)]!;
  const out: BenchQuery[] = [];
  const allWith = (terms: string[]) => ({ relevant: new Set<string>(), terms });
  const n = QUERIES;
  for (let i = 0; i < n; i++) {
    const g = pick();
    const k = i % 10;
    if (k < 3) out.push({ q: g.person.name, kind: 'name', ...allWith([g.person.name]) });
    else if (k < 5) out.push({ q: g.person.idNumber, kind: 'id', ...allWith([g.person.idNumber]) });
    else if (k === 5) out.push({ q: `${g.person.name} ${g.unit}`, kind: 'name+unit', ...allWith([g.person.name, g.unit]) });
    else if (k === 6) out.push({ q: `"${g.unit}" ${g.type.title.slice(0, 4)}`, kind: 'phrase', ...allWith([g.unit, g.type.title.slice(0, 4)]) });
    else if (k === 7) {
      // A name as OCR (or a hurried clerk) got it: one character replaced.
      const chars = [...g.person.name];
      if (chars.length < 3) {
        out.push({ q: `${g.person.name} ${g.unit}`, kind: 'name+unit', ...allWith([g.person.name, g.unit]) });
        continue;
      }
      const at = 1 + Math.floor(r() * (chars.length - 1));
      chars[at] = [...corrupt(chars[at]!, 1, r)][0]!;
      out.push({ q: `${chars.join('')} ${g.unit}`, kind: 'misread-name+unit', relevant: new Set([g.doc.id]) });
    } else {
      const browse = ['养老保险 待遇 核定', '"失业保险金"', '工伤 认定 -医疗', '社会保险登记 单位', '缴费基数 申报 2015年', '转移接续 养老保险关系', '医疗费用 报销', '退休 审批'];
      out.push({ q: browse[i % browse.length]!, kind: 'browse', relevant: null });
    }
  }
  return out;
}

/**
 * The known answers: a query's relevant items are those whose clean (undamaged) text holds every
 * query term. The clean text is generated again, item by item, rather than kept.
 */
function answer(queries: BenchQuery[]): void {
  const terms = [...new Set(queries.flatMap((q) => q.terms ?? []))];
  const withTerm = new Map<string, Set<string>>(terms.map((t) => [t, new Set()]));
  generate((g) => {
    const text = `${metadataText(g.doc)}\n${g.clean.join('\n')}`;
    for (const t of terms) if (text.includes(t)) withTerm.get(t)!.add(g.doc.id);
  });
  for (const q of queries) {
    if (!q.terms) continue;
    const [first, ...rest] = q.terms.map((t) => withTerm.get(t)!);
    for (const id of first!) if (rest.every((s) => s.has(id))) q.relevant!.add(id);
  }
}

/** Snapshot blobs as plain files in one folder (the bench's stand-in for the blob store). */
function folderBlobs(dir: string): SnapshotBlobs {
  const file = (key: string) => path.join(dir, encodeURIComponent(key));
  return {
    get: (key) => fs.promises.readFile(file(key)),
    put: (key, data) => fs.promises.writeFile(file(key), data),
    remove: async (keys) => {
      for (const k of keys) await fs.promises.rm(file(k), { force: true });
    },
  };
}

interface ChildReport {
  source: string;
  loadMs: number;
  segments: number;
  rssBeforeMb: number;
  rssAfterMb: number;
  heapMb: number;
  arrayBuffersMb: number;
  snapshotMs: number | null;
  snapshotBytes: number | null;
}

/**
 * The child: a fresh process, as an API process starts, that loads the index (from a snapshot in
 * `dir` if there is one, else from the database) and reports its memory before and after with the
 * garbage collected; from the database it then writes a snapshot into `dir` for the next child.
 */
async function child(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('the child needs --expose-gc');
  const dir = process.env.SEARCH_BENCH_SNAPDIR!;
  const conn = await mongoose.createConnection(process.env.SEARCH_BENCH_DB!).asPromise();
  const engine = new SearchEngine({ db: conn, key: Buffer.from(process.env.SEARCH_BENCH_KEY!, 'hex'), text: async () => '', snapshots: folderBlobs(dir) });
  warmTokenizer();
  await conn.db!.command({ ping: 1 });
  gc();
  const before = process.memoryUsage();
  await engine.open();
  gc();
  const after = process.memoryUsage();
  const stats = engine.loadStats!;
  let snapshotMs: number | null = null;
  let snapshotBytes: number | null = null;
  if (stats.source === 'database') {
    const t0 = performance.now();
    await engine.writeSnapshot();
    snapshotMs = performance.now() - t0;
    snapshotBytes = fs.readdirSync(dir).reduce((a, f) => a + fs.statSync(path.join(dir, f)).size, 0);
  }
  const report: ChildReport = {
    source: stats.source,
    loadMs: stats.ms,
    segments: stats.segments,
    rssBeforeMb: before.rss / 1048576,
    rssAfterMb: after.rss / 1048576,
    heapMb: (after.heapUsed - before.heapUsed) / 1048576,
    arrayBuffersMb: (after.arrayBuffers - before.arrayBuffers) / 1048576,
    snapshotMs,
    snapshotBytes,
  };
  console.log(`CHILD ${JSON.stringify(report)}`);
  await conn.close();
}

/** Loads the index in a fresh process (see child) and returns what it measured. */
function loadInChild(db: string, key: Buffer, dir: string): ChildReport {
  const out = execFileSync(process.execPath, ['--expose-gc', '--max-old-space-size=16384', '--import', 'tsx', __filename], {
    // MALLOC_ARENA_MAX=2, as the archive program runs the API process (bin/archive.js).
    env: { MALLOC_ARENA_MAX: '2', ...process.env, SEARCH_BENCH_CHILD: '1', SEARCH_BENCH_DB: db, SEARCH_BENCH_KEY: key.toString('hex'), SEARCH_BENCH_SNAPDIR: dir },
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 20,
  }).toString();
  const line = out.split('\n').find((l) => l.startsWith('CHILD '));
  if (!line) throw new Error(`the load child printed no report: ${out}`);
  return JSON.parse(line.slice(6)) as ChildReport;
}

/** What an API child reports about itself (GET /_bench/stats). */
interface ApiStats {
  loadS: number;
  rssMb: number;
  heapMb: number;
  /** embedded: what the loaded segments hold in typed arrays and posting buffers */
  arrayBytes: number;
}

/**
 * The API process under test, in a process of its own as in a deployment: it holds what an API
 * process holds (the loaded index, or an OpenSearch client) and nothing of the bench's. Measured
 * in the bench process, queries paid for the garbage collection of a corpus no API process
 * holds (6.8 GB at a million pages). Page text for snippets comes from the bench process over
 * loopback HTTP, one request per hit, as an API process reads it from the blob store.
 * Each response carries the process's CPU time for it and its requests to OpenSearch.
 */
async function apiChild(): Promise<void> {
  const kind = process.env.SEARCH_BENCH_API!;
  const conn = await mongoose.createConnection(process.env.SEARCH_BENCH_DB!).asPromise();
  const key = Buffer.from(process.env.SEARCH_BENCH_KEY!, 'hex');
  const textUrl = process.env.SEARCH_BENCH_TEXT_URL!;
  const agent = new http.Agent({ keepAlive: true });
  const texts = (id: string, pages: number[]) =>
    new Promise<Map<number, string>>((resolve, reject) => {
      http
        .get(`${textUrl}/${encodeURIComponent(id)}?pages=${pages.join(',')}`, { agent }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve(new Map(Object.entries(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, string>).map(([k, v]) => [Number(k), v]))));
          res.on('error', reject);
        })
        .on('error', reject);
    });
  const text = async (id: string, page: number) => (await texts(id, [page])).get(page) ?? '';
  warmTokenizer();
  const t0 = performance.now();
  const config = parseConfig({ NODE_ENV: 'test', MONGODB_URI: MONGO, ARCHIVE_DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'bench-search-')), LOG_LEVEL: 'silent' });
  const rt = { config, db: conn } as unknown as Runtime;
  let arrayBytes = 0;
  if (kind === 'embedded') {
    const engine = new SearchEngine({ db: conn, key, text, texts, snapshots: folderBlobs(process.env.SEARCH_BENCH_SNAPDIR!) });
    await engine.open();
    // Exact; the item objects and maps come on top. A heap or RSS delta around the load was
    // tried and is useless: garbage of the load is collected in between.
    for (const l of engine.segs.values()) {
      const g = l.seg;
      for (const a of [g.terms, g.offsets, g.positional, g.df, g.docItem, g.docPage, g.docLen, g.postings, l.live, l.itemDocs, l.itemFirst, l.itemLen]) arrayBytes += a.byteLength;
    }
    useSearchEngine(rt, engine);
  } else {
    const url = process.env.OPENSEARCH_URL!;
    traceFetch(url);
    useSearchBackend(rt, new OpenSearchBackend({ url, index: process.env.SEARCH_BENCH_OS_INDEX!, key, text, texts }));
  }
  const loadS = (performance.now() - t0) / 1000;
  const app = createApp({ config, logger: pino({ level: 'silent' }), metrics: createMetrics({ defaultMetrics: false }), readiness: [], routes: searchRoutes(rt) });
  const handle = app.callback();
  const server = http.createServer((req, res) => {
    if (req.url === '/_bench/stats') {
      const m = process.memoryUsage();
      const stats: ApiStats = { loadS, rssMb: m.rss / 1048576, heapMb: m.heapUsed / 1048576, arrayBytes };
      res.end(JSON.stringify(stats));
      return;
    }
    const c0 = process.cpuUsage();
    const before = osCalls.length;
    const end = res.end.bind(res) as (...a: unknown[]) => typeof res;
    res.end = ((...args: unknown[]) => {
      if (!res.headersSent) {
        const c = process.cpuUsage(c0);
        res.setHeader('x-bench-cpu-ms', ((c.user + c.system) / 1000).toFixed(2));
        res.setHeader('x-bench-os-calls', JSON.stringify(osCalls.slice(before)));
      }
      return end(...args);
    }) as typeof res.end;
    void handle(req, res);
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
  console.log(`API ${JSON.stringify({ port: (server.address() as AddressInfo).port })}`);
  // The bench closes stdin when it is done (or dies): the child goes with it.
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
}

/** Starts an API child (see apiChild) and waits until it listens. */
async function startApiChild(env: Record<string, string>): Promise<{ base: string; stats: () => Promise<ApiStats>; stop: () => void }> {
  const child = spawn(process.execPath, ['--max-old-space-size=16384', '--import', 'tsx', __filename], {
    // MALLOC_ARENA_MAX=2, as the archive program runs the API process (bin/archive.js).
    env: { MALLOC_ARENA_MAX: '2', ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (c: Buffer) => {
      buf += c.toString();
      const m = /^API (.*)$/m.exec(buf);
      if (m) resolve((JSON.parse(m[1]!) as { port: number }).port);
    });
    child.on('exit', (code) => reject(new Error(`the API child exited (${code}) before listening`)));
  });
  const base = `http://127.0.0.1:${port}`;
  return {
    base,
    stats: async () => (await (await fetch(`${base}/_bench/stats`)).json()) as ApiStats,
    stop: () => child.stdin.end(),
  };
}

/** Serves page text to the API children: GET /<item id>?pages=1,2 → {"1": text, "2": text}. */
async function serveTexts(sealed: SealedTexts): Promise<{ url: string; close: () => void }> {
  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const id = decodeURIComponent(u.pathname.slice(1));
    const out: Record<string, string> = {};
    for (const p of (u.searchParams.get('pages') ?? '').split(',').filter(Boolean)) {
      try {
        out[p] = sealed.get(`${id}:${p}`);
      } catch {
        // no such page: left out, as the blob store would answer
      }
    }
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(out));
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

/** The same query on FTS5: phrases as trigram MATCH (≥3 chars), shorter terms as LIKE (scan). */
function ftsQuery(db: Database.Database, q: string, limit: number): string[] {
  const terms = [...q.matchAll(/(-?)"([^"]+)"|(-?)(\S+)/g)].map((m) => ({ neg: (m[1] ?? m[3]) === '-', t: (m[2] ?? m[4])! }));
  const where: string[] = [];
  const params: string[] = [];
  const match: string[] = [];
  for (const { neg, t } of terms) {
    if ([...t].length >= 3) {
      match.push(`${neg ? 'NOT ' : ''}"${t.replace(/"/g, '""')}"`);
    } else {
      where.push(`text ${neg ? 'NOT ' : ''}LIKE ?`);
      params.push(`%${t}%`);
    }
  }
  const pos = match.filter((m) => !m.startsWith('NOT '));
  const neg = match.filter((m) => m.startsWith('NOT '));
  let sql: string;
  if (pos.length) {
    const expr = pos.join(' AND ') + (neg.length ? ' ' + neg.join(' ') : '');
    // MATERIALIZED keeps bm25() in the MATCH query; the planner may otherwise serve LIKE from the index.
    sql = `WITH m AS MATERIALIZED (SELECT item, text, bm25(pages) AS s FROM pages WHERE pages MATCH ?) SELECT item, min(s) AS best FROM m ${where.length ? 'WHERE ' + where.join(' AND ') : ''} GROUP BY item ORDER BY best LIMIT ${limit}`;
    params.unshift(expr);
  } else {
    sql = `SELECT item FROM pages WHERE ${where.join(' AND ') || '1'} GROUP BY item LIMIT ${limit}`;
  }
  return (db.prepare(sql).all(...params) as Array<{ item: string }>).map((r) => r.item);
}

/** SQLite FTS5 with the trigram tokenizer over the same (damaged) page text and descriptions, in-process. */
function runAnchor(items: GeneratedItem[], sealed: SealedTexts, queries: BenchQuery[]): { indexS: number; bytes: number; lat: number[]; recall10: number } {
  const sqlPath = path.join(os.tmpdir(), `bench-fts5-${process.pid}.db`);
  fs.rmSync(sqlPath, { force: true });
  const sq = new Database(sqlPath);
  sq.pragma('journal_mode = WAL');
  sq.exec(`CREATE VIRTUAL TABLE pages USING fts5(item UNINDEXED, page UNINDEXED, text, tokenize='trigram')`);
  const t0 = performance.now();
  const ins = sq.prepare('INSERT INTO pages (item, page, text) VALUES (?, ?, ?)');
  const insertAll = sq.transaction((batch: GeneratedItem[]) => {
    for (const g of batch) {
      ins.run(g.doc.id, 0, sealed.get(`${g.doc.id}:0`));
      for (const p of g.doc.pages) ins.run(g.doc.id, p.n, sealed.get(`${g.doc.id}:${p.n}`));
    }
  });
  for (let i = 0; i < items.length; i += 2000) insertAll(items.slice(i, i + 2000));
  sq.exec(`INSERT INTO pages(pages) VALUES('optimize')`);
  const indexS = (performance.now() - t0) / 1000;
  sq.pragma('wal_checkpoint(TRUNCATE)');
  const bytes = fs.statSync(sqlPath).size;
  const lat: number[] = [];
  const recall: number[] = [];
  for (const q of queries.slice(0, 20)) ftsQuery(sq, q.q, 10);
  for (const q of queries) {
    const t = performance.now();
    const hits = ftsQuery(sq, q.q, 10);
    lat.push(performance.now() - t);
    if (q.relevant) recall.push(recallAt10(hits, q.relevant));
  }
  sq.close();
  fs.rmSync(sqlPath, { force: true });
  return { indexS, bytes, lat, recall10: mean(recall) };
}

function recallAt10(hits: string[], relevant: Set<string>): number {
  if (!relevant.size) return 1;
  const top = hits.slice(0, 10);
  return top.filter((h) => relevant.has(h)).length / Math.min(10, relevant.size);
}

async function main(): Promise<void> {
  log(`generating ${PAGES} pages (noise ${NOISE * 100}% of characters)…`);
  let t0 = performance.now();
  const items: GeneratedItem[] = [];
  const sealed = new SealedTexts();
  let pages = 0;
  let rawBytes = 0;
  generate((g) => {
    const d = g.doc;
    pages += d.pages.length;
    sealed.put(`${d.id}:0`, metadataText(d));
    for (const p of d.pages) {
      sealed.put(`${d.id}:${p.n}`, p.text);
      rawBytes += Buffer.byteLength(p.text);
    }
    // Only the metadata stays in memory: page text is read back through decryption, and the
    // clean text is generated again when the answers are computed.
    items.push({ ...g, doc: { ...d, pages: d.pages.map((p) => ({ n: p.n, text: '' })) }, clean: [] });
  });
  log(`${items.length} items, ${pages} pages, ${(rawBytes / 1e6).toFixed(1)} MB of text (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  t0 = performance.now();
  const queries = buildQueries(items);
  answer(queries);
  log(`${queries.length} queries, answers known for ${queries.filter((q) => q.relevant).length} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);

  const reuse = loadReuse();
  const state: ReuseState = reuse ?? { key: randomBytes(32).toString('hex') };
  const dbName = REUSE ? `bench_search_${CORPUS_KEY.replace(/-/g, '_')}` : `bench_search_${randomBytes(3).toString('hex')}`;
  const conn = await mongoose.createConnection(MONGO.replace(/\/[^/?]*(\?|$)/, `/${dbName}$1`)).asPromise();
  const key = Buffer.from(state.key, 'hex');
  const snapDir = REUSE ? path.join(REUSE_DIR, 'snap') : fs.mkdtempSync(path.join(os.tmpdir(), 'bench-search-snap-'));
  fs.mkdirSync(snapDir, { recursive: true });
  if (reuse) log(`reusing the indexes built earlier (${reuseFile})`);
  const text = async (id: string, page: number) => sealed.get(`${id}:${page}`);
  try {
    // ---- index ----
    const writer = new SearchEngine({ db: conn, key, text });
    async function* source(): AsyncIterable<IndexDocument> {
      // Indexing reads each page's text through decryption, as reindex does from the blob store.
      for (const g of items) yield { ...g.doc, pages: g.doc.pages.map((p) => ({ n: p.n, text: sealed.get(`${g.doc.id}:${p.n}`) })) };
    }
    t0 = performance.now();
    let lastLog = 0;
    const built = state.embedded;
    const stats = built ? built.stats : await writer.rebuild(source(), {
      segmentPages: 25_000,
      onProgress: (s) => {
        if (s.pages - lastLog >= 100_000) {
          log(`indexed ${s.pages} pages (${(s.pages / ((performance.now() - t0) / 1000)).toFixed(0)} pages/s)`);
          lastLog = s.pages;
        }
      },
    });
    const indexSeconds = built ? built.indexSeconds : (performance.now() - t0) / 1000;
    const indexPagesPerS = stats.pages / indexSeconds;
    const indexBytes = built ? built.indexBytes : await writer.store.sizeBytes();
    const indexRatio = indexBytes / rawBytes;
    log(`indexed ${stats.pages} pages in ${indexSeconds.toFixed(1)} s: ${indexPagesPerS.toFixed(0)} pages/s; index ${(indexBytes / 1e6).toFixed(1)} MB = ${indexRatio.toFixed(2)}x raw text`);

    // ---- a fresh process loading the index: from the database, then from a snapshot ----
    const dbUri = MONGO.replace(/\/[^/?]*(\?|$)/, `/${dbName}$1`);
    const fromDb = built ? built.fromDb : loadInChild(dbUri, key, snapDir);
    log(`fresh process, from the database: ${(fromDb.loadMs / 1000).toFixed(1)} s, RSS ${fromDb.rssBeforeMb.toFixed(0)} → ${fromDb.rssAfterMb.toFixed(0)} MB (heap +${fromDb.heapMb.toFixed(0)} MB, array buffers +${fromDb.arrayBuffersMb.toFixed(0)} MB); snapshot written in ${((fromDb.snapshotMs ?? NaN) / 1000).toFixed(1)} s, ${((fromDb.snapshotBytes ?? NaN) / 1e6).toFixed(0)} MB`);
    const fromSnap = built ? built.fromSnap : loadInChild(dbUri, key, snapDir);
    if (!built) {
      state.embedded = { stats, indexSeconds, indexBytes, fromDb, fromSnap };
      saveReuse(state);
    }
    if (fromSnap.source !== 'snapshot') throw new Error(`the second child loaded from ${fromSnap.source}, not the snapshot`);
    log(`fresh process, from the snapshot: ${(fromSnap.loadMs / 1000).toFixed(1)} s, RSS ${fromSnap.rssBeforeMb.toFixed(0)} → ${fromSnap.rssAfterMb.toFixed(0)} MB (heap +${fromSnap.heapMb.toFixed(0)} MB, array buffers +${fromSnap.arrayBuffersMb.toFixed(0)} MB)`);
    const per100k = (r: ChildReport) => ((r.rssAfterMb - r.rssBeforeMb) / stats.pages) * 100_000;

    // ---- the API process: a child loading the index (from the snapshot), behind the real route ----
    const textServer = await serveTexts(sealed);
    const api = await startApiChild({ SEARCH_BENCH_API: 'embedded', SEARCH_BENCH_DB: dbUri, SEARCH_BENCH_KEY: key.toString('hex'), SEARCH_BENCH_SNAPDIR: snapDir, SEARCH_BENCH_TEXT_URL: textServer.url });
    const apiLoaded = await api.stats();
    const loadSeconds = apiLoaded.loadS;
    const arraysMbPer100k = (apiLoaded.arrayBytes / 1e6 / stats.pages) * 100_000;
    log(`API process loaded the index in ${loadSeconds.toFixed(1)} s (heap ${apiLoaded.heapMb.toFixed(0)} MB, rss ${apiLoaded.rssMb.toFixed(0)} MB)`);

    const { lat, recall, byKind } = await measure(api.base, queries);
    const apiRss = (await api.stats()).rssMb;
    api.stop();
    const recall10 = recall.reduce((a, b) => a + b, 0) / recall.length;
    log(`ours: HTTP p50 ${pct(lat, 50).toFixed(1)} ms p95 ${pct(lat, 95).toFixed(1)} ms p99 ${pct(lat, 99).toFixed(1)} ms recall@10 ${recall10.toFixed(3)}`);

    // ---- anchor: SQLite FTS5 trigram on the same (damaged) text plus the same descriptions ----
    const anchor = WITH_ANCHOR ? runAnchor(items, sealed, queries) : null;
    if (anchor) log(`anchor: p95 ${pct(anchor.lat, 95).toFixed(1)} ms recall@10 ${anchor.recall10.toFixed(3)}`);

    // ---- the same corpus and queries on the OpenSearch backend, through the same route ----
    let os_: { indexPagesPerS: number; bytes: number; lat: number[]; recall10: number; byKind: Measured['byKind']; rss: number; startS: number; mergeS: number } | null = null;
    if (WITH_OPENSEARCH) {
      t0 = performance.now();
      const node = startOpenSearch();
      const startS = (performance.now() - t0) / 1000;
      const osIndex = REUSE ? `bench-search-${CORPUS_KEY}${OS_SHARDS > 1 ? `-s${OS_SHARDS}` : ''}` : `bench-search-${randomBytes(3).toString('hex')}`;
      const osBuilt = state.opensearch?.index === osIndex ? state.opensearch : undefined;
      const backend = new OpenSearchBackend({ url: node.url, index: osIndex, key, text, shards: OS_SHARDS });
      try {
        t0 = performance.now();
        lastLog = 0;
        const osStats = osBuilt ? { pages: osBuilt.pages } : await backend.rebuild(source(), {
          onProgress: (s) => {
            if (s.pages - lastLog >= 100_000) {
              log(`OpenSearch: indexed ${s.pages} pages (${(s.pages / ((performance.now() - t0) / 1000)).toFixed(0)} pages/s)`);
              lastLog = s.pages;
            }
          },
        });
        const osIndexS = osBuilt ? osBuilt.indexS : (performance.now() - t0) / 1000;
        // One segment per shard, as a settled index would be: search speed then does not depend on
        // when the background merges happened to run.
        // Asynchronously: at a million pages the merge outlasts an HTTP request's patience.
        t0 = performance.now();
        const fm = osBuilt ? {} : ((await (await fetch(`${node.url}/${osIndex}/_forcemerge?max_num_segments=1&wait_for_completion=false`, { method: 'POST' })).json()) as { task?: string });
        if (fm.task) {
          for (;;) {
            const t = (await (await fetch(`${node.url}/_tasks/${fm.task}`)).json()) as { completed?: boolean; error?: unknown };
            if (t.completed || t.error) break;
            await new Promise((res) => setTimeout(res, 2000));
          }
        }
        const mergeS = osBuilt ? osBuilt.mergeS : (performance.now() - t0) / 1000;
        if (!osBuilt) {
          state.opensearch = { index: osIndex, pages: osStats.pages, indexS: osIndexS, mergeS };
          saveReuse(state);
        }
        log(`OpenSearch: force-merged to one segment in ${mergeS.toFixed(1)} s`);
        const storeStats = (await (await fetch(`${node.url}/${osIndex}/_stats/store`)).json()) as { _all: { primaries: { store: { size_in_bytes: number } } } };
        const bytes = storeStats._all.primaries.store.size_in_bytes;
        log(`OpenSearch: indexed ${osStats.pages} pages in ${osIndexS.toFixed(1)} s (${(osStats.pages / osIndexS).toFixed(0)} pages/s), store ${(bytes / 1e6).toFixed(1)} MB`);
        const osApi = await startApiChild({ SEARCH_BENCH_API: 'opensearch', SEARCH_BENCH_DB: dbUri, SEARCH_BENCH_KEY: key.toString('hex'), SEARCH_BENCH_TEXT_URL: textServer.url, OPENSEARCH_URL: node.url, SEARCH_BENCH_OS_INDEX: osIndex });
        const m = await measure(osApi.base, queries);
        osApi.stop();
        os_ = { indexPagesPerS: osStats.pages / osIndexS, bytes, lat: m.lat, recall10: mean(m.recall), byKind: m.byKind, rss: node.pid ? rssMb(node.pid) : NaN, startS, mergeS };
        log(`OpenSearch: HTTP p50 ${pct(m.lat, 50).toFixed(1)} ms p95 ${pct(m.lat, 95).toFixed(1)} ms recall@10 ${os_.recall10.toFixed(3)}; node RSS ${os_.rss.toFixed(0)} MB`);
      } finally {
        if (!REUSE) await backend.drop().catch(() => undefined);
        node.stop();
      }
    }

    // ---- report ----
    console.log(`corpus: ${items.length} items, ${stats.pages} pages, ${(rawBytes / 1e6).toFixed(1)} MB text, ${NOISE * 100}% characters OCR-damaged; ${queries.length} queries (${recall.length} with known answers)`);
    console.log(`ours:   index ${indexPagesPerS.toFixed(0)} pages/s, ${(indexBytes / 1e6).toFixed(1)} MB (${indexRatio.toFixed(2)}x text), API load ${loadSeconds.toFixed(1)} s, API process RSS ${apiRss.toFixed(0)} MB after the queries; HTTP p50 ${pct(lat, 50).toFixed(1)} ms p95 ${pct(lat, 95).toFixed(1)} ms p99 ${pct(lat, 99).toFixed(1)} ms; recall@10 ${recall10.toFixed(3)}`);
    console.log(
      `ours:   a fresh process loads the index from the database in ${(fromDb.loadMs / 1000).toFixed(1)} s (RSS +${(fromDb.rssAfterMb - fromDb.rssBeforeMb).toFixed(0)} MB = ${per100k(fromDb).toFixed(0)} MB per 100k pages), from a snapshot in ${(fromSnap.loadMs / 1000).toFixed(1)} s (RSS +${(fromSnap.rssAfterMb - fromSnap.rssBeforeMb).toFixed(0)} MB = ${per100k(fromSnap).toFixed(0)} MB per 100k pages); snapshot ${((fromDb.snapshotBytes ?? NaN) / 1e6).toFixed(0)} MB written in ${((fromDb.snapshotMs ?? NaN) / 1000).toFixed(1)} s`,
    );
    if (anchor) console.log(`anchor: SQLite FTS5 trigram, in-process: index ${(stats.pages / anchor.indexS).toFixed(0)} pages/s, ${(anchor.bytes / 1e6).toFixed(1)} MB (${(anchor.bytes / rawBytes).toFixed(2)}x text); p50 ${pct(anchor.lat, 50).toFixed(1)} ms p95 ${pct(anchor.lat, 95).toFixed(1)} ms p99 ${pct(anchor.lat, 99).toFixed(1)} ms; recall@10 ${anchor.recall10.toFixed(3)}`);
    const kinds = (label: string, m: Measured['byKind']) => {
      for (const [k, v] of m) {
        const rc = v.recall.length ? mean(v.recall).toFixed(3) : '-';
        // Inside the backend: the engine's own time (ours), or each request to OpenSearch in turn
        // (wall / OpenSearch's took, p50 and p95) by kind: counts = the scoped term counts, search = the search.
        const inside = v.calls.size
          ? [...v.calls].map(([kind, c]) => `${kind} n=${c.ms.length} ${pct(c.ms, 50).toFixed(0)}/${pct(c.took, 50).toFixed(0)} p95 ${pct(c.ms, 95).toFixed(0)}/${pct(c.took, 95).toFixed(0)} ms`).join(', ') + `; cpu p50 ${pct(v.cpu, 50).toFixed(1)} p95 ${pct(v.cpu, 95).toFixed(1)} ms`
          : `engine p50 ${pct(v.took, 50).toFixed(1)} p95 ${pct(v.took, 95).toFixed(1)} ms; cpu p50 ${pct(v.cpu, 50).toFixed(1)} p95 ${pct(v.cpu, 95).toFixed(1)} ms`;
        const split = (want: boolean) => {
          const xs = v.lat.filter((_, i) => v.first[i] === want);
          return xs.length ? `n=${xs.length} p50 ${pct(xs, 50).toFixed(1)} p95 ${pct(xs, 95).toFixed(1)} ms` : 'n=0';
        };
        console.log(`  ${label} ${k.padEnd(18)} n=${String(v.lat.length).padStart(3)}  p50 ${pct(v.lat, 50).toFixed(1).padStart(6)} ms  p95 ${pct(v.lat, 95).toFixed(1).padStart(6)} ms  recall@10 ${rc}  (${inside}; first asked ${split(true)}, repeated ${split(false)})`);
      }
    };
    kinds('ours', byKind);
    const oursFirst = firstAsked(byKind);
    console.log(`ours:   queries asked for the first time: n=${oursFirst.length} p50 ${pct(oursFirst, 50).toFixed(1)} ms p95 ${pct(oursFirst, 95).toFixed(1)} ms`);
    console.log(`ours:   the loaded index holds ${arraysMbPer100k.toFixed(0)} MB per 100k pages in typed arrays and posting buffers in each API process (item objects on top)`);
    let osResult = '';
    if (os_) {
      console.log(
        `opensearch: ${OS_SHARDS} shard${OS_SHARDS > 1 ? 's' : ''}, node start ${os_.startS.toFixed(1)} s, index ${os_.indexPagesPerS.toFixed(0)} pages/s, force-merge ${os_.mergeS.toFixed(0)} s, store ${(os_.bytes / 1e6).toFixed(1)} MB (${(os_.bytes / rawBytes).toFixed(2)}x text), node RSS ${os_.rss.toFixed(0)} MB; HTTP p50 ${pct(os_.lat, 50).toFixed(1)} ms p95 ${pct(os_.lat, 95).toFixed(1)} ms p99 ${pct(os_.lat, 99).toFixed(1)} ms; recall@10 ${os_.recall10.toFixed(3)}`,
      );
      kinds('os  ', os_.byKind);
      const osFirst = firstAsked(os_.byKind);
      console.log(`os:     queries asked for the first time: n=${osFirst.length} p50 ${pct(osFirst, 50).toFixed(1)} ms p95 ${pct(osFirst, 95).toFixed(1)} ms`);
      osResult = ` os_p50_ms=${pct(os_.lat, 50).toFixed(1)} os_p95_ms=${pct(os_.lat, 95).toFixed(1)} os_p95_first_ms=${pct(osFirst, 95).toFixed(1)} os_recall10=${os_.recall10.toFixed(3)} os_index_pages_per_s=${os_.indexPagesPerS.toFixed(0)} os_index_ratio=${(os_.bytes / rawBytes).toFixed(2)} os_rss_mb=${os_.rss.toFixed(0)}`;
    }
    console.log(
      `RESULT p50_ms=${pct(lat, 50).toFixed(1)} p95_ms=${pct(lat, 95).toFixed(1)} p95_first_ms=${pct(oursFirst, 95).toFixed(1)} recall10=${recall10.toFixed(3)}${osResult} api_rss_mb=${apiRss.toFixed(0)} index_mem_mb_per_100k=${arraysMbPer100k.toFixed(0)} rss_mb_per_100k=${per100k(fromDb).toFixed(0)} snap_rss_mb_per_100k=${per100k(fromSnap).toFixed(0)} load_db_s=${(fromDb.loadMs / 1000).toFixed(1)} load_snapshot_s=${(fromSnap.loadMs / 1000).toFixed(1)}${anchor ? ` anchor_p95_ms=${pct(anchor.lat, 95).toFixed(1)} anchor_recall10=${anchor.recall10.toFixed(3)}` : ''} pages=${stats.pages} index_pages_per_s=${indexPagesPerS.toFixed(0)} index_ratio=${indexRatio.toFixed(2)}`,
    );
    textServer.close();
  } finally {
    if (!REUSE) {
      fs.rmSync(snapDir, { recursive: true, force: true });
      await conn.dropDatabase().catch(() => undefined);
    }
    await conn.close();
  }
}

if (process.env.SEARCH_BENCH_API) {
  apiChild().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
} else if (process.env.SEARCH_BENCH_CHILD) {
  child().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
} else {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
