/**
 * bench:load — many caseworkers at once (issue #16 §5): BENCH_LOAD_USERS signed-in users (200)
 * on loopback, each in a closed loop (request, think 0-1 s, next) mixing full-text search, item
 * views and page images, for BENCH_LOAD_SECONDS (300). The API is a separate compiled process
 * (`archive serve --role api`, as `npm start` runs it), so its memory is measured alone: RSS is
 * sampled every 5 s after a one-minute warm-up; "flat" means the last fifth's median is within
 * 10% of the first fifth's (BENCH_LOAD_SECONDS=1800 for the soak).
 *
 *   npm run bench:load
 *   BENCH_LOAD_SECONDS=1800 npm run bench:load      # the 30-minute soak
 *
 * Data: BENCH_LOAD_ITEMS (300) filed items of generated social-insurance text (test/helpers/
 * si-corpus.ts), each with its page text and a real scanned page image stored encrypted as capture
 * stores them, indexed. Users are caseworkers of the fonds with internal clearance, so a third of
 * the items (sensitive) are refused by the item route and hidden by search: the refusals are
 * expected answers (403), never counted as errors.
 * The anchor is `GET /healthz` in the same run (no database, no blob store): its p95 says how much
 * of a route's time is the machine and the event loop rather than the route's own work.
 * Last line: RESULT users=… seconds=… requests=… errors=0 search_p95_ms=… item_p95_ms=… image_p95_ms=… healthz_p95_ms=… rss_start_mb=… rss_end_mb=… rss_growth=…
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { parseConfig } from '../src/config';
import { createRuntime } from '../src/runtime';
import { indexItem } from '../src/services/search';
import { pageKeys } from '../src/services/records';
import { buildItem } from '../test/helpers/factories';
import { generateItem, rng } from '../test/helpers/si-corpus';
import { renderScan } from '../test/helpers/scan';
import { ensureTestServices, MINIO_CREDENTIALS, testBucket, testMongoUri, TEST_PORTS } from '../test/helpers/services';
import { Types } from 'mongoose';

const USERS = Number(process.env.BENCH_LOAD_USERS ?? 200);
const SECONDS = Number(process.env.BENCH_LOAD_SECONDS ?? 300);
const ITEMS = Number(process.env.BENCH_LOAD_ITEMS ?? 300);
const WARMUP_S = Math.min(60, SECONDS / 5);
const ROOT = path.resolve(__dirname, '..');
const PASSWORD = 'Bench-Load-Passw0rd!';
const QUERIES = ['养老保险', '失业保险金', '工伤认定', '缴费基数', '参保人员', '待遇核定', '医疗保险', '社会保险事业管理中心', '经办人', '基本养老金'];

function log(msg: string): void {
  process.stderr.write(`[bench:load] ${msg}\n`);
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : NaN;
};
const median = (xs: number[]) => pct(xs, 50);

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function seed(env: Record<string, string>): Promise<{ ids: string[]; pages: Map<string, number> }> {
  const rt = await createRuntime(parseConfig(env), { logger: pino({ level: 'warn' }, pino.destination(2)) });
  try {
    const image = await renderScan(['社会保险参保人员基本信息登记表', '姓名：王芳  公民身份号码：330106198802143318', '参保单位：杭州市第一机械厂', '经办人：李娜  2019年5月20日'], { dpi: 200 });
    const r = rng(77);
    const ids: string[] = [];
    const pages = new Map<string, number>();
    for (let i = 0; i < ITEMS; i++) {
      const g = generateItem(r, i, { fonds: ['Z001'] });
      const id = new Types.ObjectId();
      const pageDocs = [];
      for (const [k, p] of g.doc.pages.entries()) {
        const n = k + 1;
        const textKey = pageKeys.text(String(id), n);
        const imageKey = pageKeys.image(String(id), n, 'png');
        await rt.storage.blobs.put(textKey, Buffer.from(JSON.stringify({ text: p.text, confidence: 90, lines: [] })), { contentType: 'application/json' });
        await rt.storage.blobs.put(imageKey, image, { contentType: 'image/png' });
        pageDocs.push({ n, source: 0, textKey, imageKey, confidence: 90, width: 1654, height: 2339 });
      }
      await buildItem(rt, {
        _id: id,
        fonds: 'Z001',
        title: g.doc.title,
        archivalCode: g.doc.archivalCode,
        documentDate: g.doc.documentDate,
        pages: pageDocs as never,
        pageCount: pageDocs.length,
        accessLevel: g.doc.accessLevel,
        classification: { documentType: g.doc.documentType, category: g.doc.category, retention: g.doc.retention } as never,
      });
      await indexItem(rt, String(id));
      ids.push(String(id));
      pages.set(String(id), pageDocs.length);
      if ((i + 1) % 50 === 0) log(`seeded ${i + 1}/${ITEMS} items`);
    }
    for (let u = 0; u < USERS; u++) await rt.auth.createUser({ username: `load.user${u}`, roles: ['caseworker'], password: PASSWORD, clearance: 'internal', scope: { fonds: ['Z001'] } });
    return { ids, pages };
  } finally {
    await rt.close();
  }
}

async function startApi(env: Record<string, string>, port: number): Promise<ChildProcess> {
  const p = spawn(process.execPath, [path.join(ROOT, 'bin/archive.js'), 'serve', '--role', 'api', '--port', String(port)], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  const t0 = Date.now();
  for (;;) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      if (res.status === 200) return p;
    } catch {
      // not listening yet
    }
    if (p.exitCode !== null) throw new Error(`the API exited with ${p.exitCode}`);
    if (Date.now() - t0 > 120_000) throw new Error('the API did not become ready in 2 minutes');
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function main(): Promise<void> {
  ensureTestServices();
  const keys = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-load-'));
  const env: Record<string, string> = {
    // development: as production, except that the keystore is created on first use.
    NODE_ENV: 'development', LOG_LEVEL: 'warn',
    MONGODB_URI: testMongoUri('bench_load'), MINIO_ENDPOINT: `http://127.0.0.1:${TEST_PORTS.minio}`, MINIO_ACCESS_KEY: MINIO_CREDENTIALS.accessKey, MINIO_SECRET_KEY: MINIO_CREDENTIALS.secretKey,
    MINIO_BUCKET: testBucket('bench-load'), ARCHIVE_DATA_DIR: keys, ARCHIVE_KEYSTORE_DIR: path.join(keys, 'keys'), ARCHIVE_KEYSTORE_PASSPHRASE: 'bench-load-passphrase',
    // Every user comes from 127.0.0.1 here; in a deployment the per-address limit applies per client.
    RATE_LIMIT_PER_MINUTE: '0',
    OCR_WORKERS: '1',
  };
  log(`${new Date().toISOString()} — ${USERS} users, ${SECONDS} s, ${ITEMS} items, ${os.availableParallelism()} cores, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  const { ids, pages } = await seed(env);
  const port = await freePort();
  const api = await startApi(env, port);
  const base = `http://127.0.0.1:${port}`;
  const lat: Record<string, number[]> = { search: [], item: [], image: [], healthz: [] };
  const errors: string[] = [];
  let requests = 0;
  let denied = 0;
  const rss: Array<{ t: number; mb: number }> = [];
  try {
    // Sign-ins are not what is measured (scrypt by design): a few at a time before the clock starts.
    const tokens: string[] = new Array(USERS);
    let nextUser = 0;
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (nextUser < USERS) {
        const u = nextUser++;
        const res = await fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: `load.user${u}`, password: PASSWORD }) });
        if (res.status !== 200) throw new Error(`sign-in of load.user${u}: ${res.status} ${await res.text()}`);
        tokens[u] = ((await res.json()) as { token: string }).token;
      }
    }));
    log(`${USERS} users signed in; API pid ${api.pid}, RSS ${rssMb(api.pid!).toFixed(0)} MB`);

    const t0 = performance.now();
    const end = t0 + SECONDS * 1000;
    const sampler = setInterval(() => {
      const t = (performance.now() - t0) / 1000;
      if (t >= WARMUP_S) rss.push({ t, mb: rssMb(api.pid!) });
    }, 5000);
    const r = rng(5);
    const timed = async (route: string, url: string, token: string | null, accept: number[]) => {
      const s = performance.now();
      try {
        const res = await fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
        await res.arrayBuffer();
        const ms = performance.now() - s;
        requests++;
        if (accept.includes(res.status)) {
          if (res.status === 403) denied++;
          if (performance.now() - t0 >= WARMUP_S * 1000) lat[route]!.push(ms);
        } else errors.push(`${route} ${res.status}`);
      } catch (err) {
        requests++;
        errors.push(`${route} ${(err as Error).message}`);
      }
    };
    await Promise.all(tokens.map(async (token, u) => {
      // Users start spread over the first second, not all at once.
      await new Promise((res) => setTimeout(res, (u / USERS) * 1000));
      while (performance.now() < end) {
        const x = r();
        const id = ids[Math.floor(r() * ids.length)]!;
        if (x < 0.4) await timed('search', `${base}/api/v1/search?q=${encodeURIComponent(QUERIES[Math.floor(r() * QUERIES.length)]!)}&limit=20`, token, [200]);
        else if (x < 0.7) await timed('item', `${base}/api/v1/items/${id}`, token, [200, 403]);
        else if (x < 0.95) await timed('image', `${base}/api/v1/items/${id}/pages/${1 + Math.floor(r() * pages.get(id)!)}/image`, token, [200, 403]);
        else await timed('healthz', `${base}/healthz`, null, [200]);
        await new Promise((res) => setTimeout(res, r() * 1000));
      }
    }));
    clearInterval(sampler);
    const fifth = Math.max(1, Math.floor(rss.length / 5));
    const rssStart = median(rss.slice(0, fifth).map((s) => s.mb));
    const rssEnd = median(rss.slice(-fifth).map((s) => s.mb));
    const seconds = (performance.now() - t0) / 1000;
    for (const [route, xs] of Object.entries(lat)) log(`${route}: ${xs.length} answers after warm-up, p50 ${median(xs).toFixed(1)} ms, p95 ${pct(xs, 95).toFixed(1)} ms, p99 ${pct(xs, 99).toFixed(1)} ms`);
    log(`${requests} requests in ${seconds.toFixed(0)} s (${(requests / seconds).toFixed(0)}/s), ${denied} expected refusals (403), ${errors.length} errors${errors.length ? `: ${[...new Set(errors)].slice(0, 5).join('; ')}` : ''}`);
    log(`RSS after warm-up: ${rss.map((s) => s.mb.toFixed(0)).join(' ')}`);
    console.log(
      `RESULT users=${USERS} seconds=${seconds.toFixed(0)} requests=${requests} rps=${(requests / seconds).toFixed(0)} errors=${errors.length} search_p95_ms=${pct(lat.search!, 95).toFixed(1)} item_p95_ms=${pct(lat.item!, 95).toFixed(1)} image_p95_ms=${pct(lat.image!, 95).toFixed(1)} healthz_p95_ms=${pct(lat.healthz!, 95).toFixed(1)} rss_start_mb=${rssStart.toFixed(0)} rss_end_mb=${rssEnd.toFixed(0)} rss_growth=${(rssEnd / rssStart).toFixed(2)} load_after=${os.loadavg()[0]!.toFixed(1)}`,
    );
  } finally {
    api.kill('SIGTERM');
    await new Promise((r) => (api.exitCode !== null ? r(null) : api.on('exit', r)));
    fs.rmSync(keys, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
