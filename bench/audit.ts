/**
 * bench:audit — how fast the audit trail appends, what it costs the requests that write it,
 * and how long verify takes over a million entries.
 *
 *   npm run bench:audit            (BENCH_AUDIT_ENTRIES=200000 for a shorter verify run)
 *
 * 1. request_slowdown: the same HTTP route (createApp, one small FerretDB read per request)
 *    under C concurrent keep-alive clients, without and with an audit record per request, in
 *    adjacent pairs alternating the order; slowdown = median over pairs of mean latency with /
 *    mean latency without − 1. Also printed: this process's CPU per request (client and server
 *    together), a second view that load from other sessions disturbs less than latency.
 * 2. append_per_s: many concurrent callers each awaiting rt.audit.record() in a loop, while the
 *    audited HTTP load keeps running; entries stored per second, final flush included.
 * 3. verify_1m_s: fill the trail to BENCH_AUDIT_ENTRIES (default 1,000,000) through record(),
 *    checkpoint, then time verify() (and, for information, one filtered list()).
 * The last line is machine-readable:
 *   RESULT append_per_s=… request_slowdown=… verify_1m_s=…
 *
 * MongoDB comes from MONGODB_URI (scripts/with-services.sh exports it); without it the test
 * services are started. The database is dropped at the end.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { createApp } from '../src/api/app';
import { defineRoute, type RouteDef } from '../src/api/route';
import { parseConfig } from '../src/config';
import { connectDb, ensureIndexes } from '../src/db';
import { createMetrics } from '../src/metrics';
import { loadAuditSigner } from '../src/services/audit/signing';
import { AuditTrail } from '../src/services/audit/trail';
import { ensureTestServices, testMongoUri } from '../test/helpers/services';
import pino from 'pino';

const ENTRIES = Number(process.env.BENCH_AUDIT_ENTRIES ?? 1_000_000);
const CLIENTS = Number(process.env.BENCH_AUDIT_CLIENTS ?? 32);
// Short adjacent phases, many pairs: other sessions' load on the shared box changes over seconds
// to minutes, so a short pair sees it more alike on both sides (same 48 s in all as 6 × 2 × 4 s).
const HTTP_SECONDS = Number(process.env.BENCH_AUDIT_HTTP_S ?? 2);
const ROUNDS = Number(process.env.BENCH_AUDIT_ROUNDS ?? 12);
const logger = pino({ level: 'warn' });

function mongoUri(): string {
  const base = process.env.MONGODB_URI;
  if (!base) {
    ensureTestServices();
    return testMongoUri('bench_audit');
  }
  const u = new URL(base);
  u.pathname = `/bench_audit_${randomBytes(4).toString('hex')}`;
  return u.toString();
}

async function load(port: number, path_: string, seconds: number, clients: number): Promise<{ n: number; meanMs: number; rps: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  const until = performance.now() + seconds * 1000;
  let n = 0;
  let total = 0;
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const t = performance.now();
      const req = http.request({ host: '127.0.0.1', port, path: path_, agent }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`));
          total += performance.now() - t;
          n++;
          resolve();
        });
      });
      req.on('error', reject);
      req.end();
    });
  const started = performance.now();
  await Promise.all(Array.from({ length: clients }, async () => {
    while (performance.now() < until) await one();
  }));
  agent.destroy();
  return { n, meanMs: total / n, rps: n / ((performance.now() - started) / 1000) };
}

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-audit-'));
  const conn = await connectDb(mongoUri(), { timeoutMs: 10_000 });
  const audit = new AuditTrail(conn, { signer: loadAuditSigner(dataDir), logger });
  const things = conn.collection('bench_things');
  await ensureIndexes(conn);
  await things.insertMany(Array.from({ length: 100 }, (_, i) => ({ _id: `thing-${i}` as never, name: `档案 ${i}`, pages: i })));
  try {
    let auditOn = false;
    const route = defineRoute({
      method: 'get',
      path: '/api/v1/things/:id',
      summary: 'bench route',
      tags: ['bench'],
      params: z.object({ id: z.string() }),
      responses: { 200: { description: 'a thing' } },
      handler: async (ctx, { params }) => {
        const doc = await things.findOne({ _id: params.id as never });
        if (auditOn) {
          void audit.record({ actor: 'bench.user', role: 'archivist', ip: ctx.ip, action: 'item.read', object: { type: 'item', id: params.id }, outcome: 'success', details: { route: ctx.path } });
        }
        ctx.body = doc;
      },
    });
    const app = createApp({ config: parseConfig({ NODE_ENV: 'test' }), logger, metrics: createMetrics({ defaultMetrics: false }), readiness: [], routes: [route] as RouteDef[] });
    const server = http.createServer(app.callback());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as AddressInfo).port;
    const p = `/api/v1/things/thing-7`;

    // 1. requests with and without auditing in adjacent pairs (ABBA…), so load from elsewhere on
    // the machine hits both sides of a pair alike; the slowdown is the median of the pair ratios.
    await load(port, p, 2, CLIENTS); // warm-up
    const ratios: number[] = [];
    const cpu: Record<'audited' | 'plain', number[]> = { audited: [], plain: [] };
    let auditedRequests = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 ? [true, false] : [false, true];
      const pair: Record<string, number> = {};
      for (const on of order) {
        auditOn = on;
        const c0 = process.cpuUsage();
        const r = await load(port, p, HTTP_SECONDS, CLIENTS);
        const c = process.cpuUsage(c0);
        const cpuPerReq = (c.user + c.system) / r.n;
        cpu[on ? 'audited' : 'plain'].push(cpuPerReq);
        pair[on ? 'audited' : 'plain'] = r.meanMs;
        if (on) auditedRequests += r.n;
        console.log(`http ${on ? 'audited' : 'plain  '}: ${r.rps.toFixed(0)} req/s, mean ${r.meanMs.toFixed(2)} ms, ${cpuPerReq.toFixed(0)} µs CPU/req`);
      }
      ratios.push(pair.audited! / pair.plain!);
    }
    auditOn = false;
    await audit.flush();
    ratios.sort((a, b) => a - b);
    const mid = Math.floor(ratios.length / 2);
    const slowdown = (ratios.length % 2 ? ratios[mid]! : (ratios[mid - 1]! + ratios[mid]!) / 2) - 1;
    console.log(`request_slowdown ${(slowdown * 100).toFixed(1)}% (median of ${ratios.length} pairs: ${ratios.map((r) => r.toFixed(3)).join(' ')}; ${auditedRequests} audited requests)`);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    console.log(`bench process CPU per request (median): plain ${median(cpu.plain).toFixed(0)} µs, audited ${median(cpu.audited).toFixed(0)} µs`);

    // 2. sustained appends from many concurrent callers, with audited HTTP load alongside.
    auditOn = true;
    const appendSeconds = 10;
    const httpLoad = load(port, p, appendSeconds, 8);
    const before = (await audit.verify()).lastSeq;
    const t0 = performance.now();
    const until = t0 + appendSeconds * 1000;
    await Promise.all(Array.from({ length: 512 }, async (_, w) => {
      let i = 0;
      while (performance.now() < until) {
        await audit.record({ actor: `user${w % 40}`, role: 'caseworker', ip: '10.1.2.3', action: 'search', object: { type: 'query', id: `${w}-${i++}` }, outcome: 'success', details: { q: '张伟 养老保险', hits: i % 17 } });
      }
    }));
    const h = await httpLoad;
    auditOn = false;
    await audit.flush();
    const secs = (performance.now() - t0) / 1000;
    const after = (await audit.verify()).lastSeq;
    const appendPerS = (after - before) / secs;
    console.log(`append: ${after - before} entries in ${secs.toFixed(1)} s = ${appendPerS.toFixed(0)}/s (alongside ${h.rps.toFixed(0)} audited req/s)`);
    server.close();

    // 3. fill to ENTRIES and verify.
    let have = after;
    const fillStart = performance.now();
    while (have < ENTRIES) {
      const n = Math.min(20_000, ENTRIES - have);
      const ps: Promise<void>[] = [];
      for (let i = 0; i < n; i++) ps.push(audit.record({ actor: `user${i % 97}`, role: 'archivist', ip: '10.1.2.3', action: i % 3 ? 'item.read' : 'item.ingest', object: { type: 'item', id: (have + i).toString(16).padStart(24, '0') }, outcome: 'success', details: { pages: i % 9 } }));
      await Promise.all(ps);
      have += n;
      if (have % 100_000 < 20_000) console.log(`  filled ${have} (${(have / ((performance.now() - fillStart) / 1000)).toFixed(0)}/s)`);
    }
    await audit.checkpoint();
    const tv = performance.now();
    const report = await audit.verify({ onProgress: (r) => { if (r % 200_000 === 0) console.log(`  verify read ${r}`); } });
    const verifyS = (performance.now() - tv) / 1000;
    if (!report.ok) throw new Error(`verify failed: ${JSON.stringify(report.first)}`);
    const verify1m = verifyS * (1_000_000 / report.entries);
    console.log(`verify: ${report.entries} entries, ${report.checkpoints} checkpoints in ${verifyS.toFixed(1)} s${report.entries !== 1_000_000 ? ` (scaled to 1M: ${verify1m.toFixed(1)} s)` : ''}`);
    // Not a target, but what an auditor waits for: a filtered list over the full trail.
    const tl = performance.now();
    const listed = await audit.list({ actor: 'user5', action: 'item.read', limit: 100 });
    console.log(`list (actor + action filter, newest 100): ${listed.length} entries in ${((performance.now() - tl) / 1000).toFixed(1)} s`);
    await audit.close();
    console.log(`RESULT append_per_s=${appendPerS.toFixed(0)} request_slowdown=${slowdown.toFixed(3)} verify_1m_s=${verify1m.toFixed(1)}`);
  } finally {
    await conn.dropDatabase().catch(() => undefined);
    await conn.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
