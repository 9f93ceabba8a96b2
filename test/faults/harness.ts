/**
 * Fault injection (issue #15 §1): a real deployment in miniature on loopback — private FerretDB and
 * MinIO, the API process, two worker processes — takes an ingest over HTTP while a seeded schedule
 * SIGKILLs the API, each worker, FerretDB and MinIO at random points and restarts them. Then the
 * archive is checked: no item lost, duplicated or half-filed; every blob decrypts and matches its
 * checksum; every 档号 issued once without gaps (outside the withdrawal register); the audit chain
 * verifies; the search index agrees with the items.
 *
 * Destroy mode (`mode: 'destroy'`, destroy.ts): instead of an ingest, a destruction list of
 * `items` items is approved and its run queued for the workers while the same schedule kills;
 * then every item must be destroyed with nothing left readable, the job done, the audit verified.
 *
 * Seeded: the schedule (which process, when, how long it stays down) and the documents come from
 * the seed; what each kill interrupts depends on timing, which is the point. Bounded: at most
 * `faults` kills and `minutes` of ingest, then a bounded wait for the pipeline to finish.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseConfig } from '../../src/config';
import { createMetrics } from '../../src/metrics';
import { itemModel } from '../../src/models/item.model';
import { createRuntime, type Runtime } from '../../src/runtime';
import { OCR_JOB } from '../../src/services/capture';
import { runFsck } from '../../src/services/integrity';
import { INJURY } from '../helpers/archive-items';
import { testLogger } from '../helpers/logger';
import { appEnvFor, freePort, startPrivateServices, type PrivateServices } from '../helpers/private-services';
import { renderScan } from '../helpers/scan';
import { REPO_ROOT } from '../helpers/services';
import { checkDestruction, destructionEnded, prepareDestruction } from './destroy';

export interface FaultOptions {
  seed: number;
  /** pages to ingest (items of 1-3 pages) */
  pages: number;
  /** most kills */
  faults: number;
  /** most minutes of ingest + faults (the pipeline then gets `settleMinutes` to finish) */
  minutes: number;
  settleMinutes?: number;
  /** seconds between kills: [min, max] */
  gapS?: [number, number];
  log?: (line: string) => void;
  /** 'ingest' (default): the capture pipeline under faults; 'destroy': a queued destruction run of `items` items under faults (destroy.ts) */
  mode?: 'ingest' | 'destroy';
  /** destroy mode: items on the destruction list */
  items?: number;
}

export interface FaultResult {
  seed: number;
  faults: number;
  byTarget: Record<string, number>;
  unexpectedExits: number;
  items: number;
  /** items that reached filing and got a 档号 (the numbering check looks at these) */
  filed: number;
  pages: number;
  lost: number;
  duplicated: number;
  halfFiled: number;
  failed: number;
  blobErrors: number;
  numberingErrors: number;
  indexErrors: number;
  auditOk: boolean;
  orphans: number;
  seconds: number;
  line: string;
}

/** mulberry32: small, seedable, good enough for a schedule. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** How long the fault schedule waits for the system to come back before the next fault. */
const RECOVERY_MS = 120_000;

interface Proc {
  name: string;
  args: string[];
  child: ChildProcess | null;
  /** deliberately down: do not count or restart its exit */
  killed: boolean;
}

export async function runFaults(opts: FaultOptions): Promise<FaultResult> {
  const log = opts.log ?? (() => undefined);
  const rnd = prng(opts.seed);
  const started = Date.now();
  const gap = opts.gapS ?? [4, 12];
  let services: PrivateServices | undefined;
  let rt: Runtime | undefined;
  const procs: Proc[] = [];
  let stopping = false;
  let unexpectedExits = 0;
  try {
    services = await startPrivateServices('faults');
    const appDir = path.join(services.dataDir, 'app');
    fs.mkdirSync(appDir, { recursive: true });
    const port = await freePort();
    const env = { ...appEnvFor(services, appDir), JOB_LEASE_MS: '4000', LOG_LEVEL: 'warn', PORT: String(port), OCR_WORKERS: '1', MONGODB_CONNECT_TIMEOUT_MS: '3000' };
    rt = await createRuntime(parseConfig(env), { logger: testLogger, metrics: createMetrics({ defaultMetrics: false }) });
    await rt.auth.createUser({ username: 'faults.archivist', roles: ['archivist'], password: 'faults-password-123', clearance: 'sensitive', scope: { fonds: '*', agencies: '*', districts: '*' } });
    const logs = path.join(services.dataDir, 'logs');
    fs.mkdirSync(logs, { recursive: true });

    const start = (p: Proc) => {
      const out = fs.openSync(path.join(logs, `${p.name}.log`), 'a');
      const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/archive.js'), ...p.args], { env: { ...process.env, ...env }, stdio: ['ignore', out, out] });
      fs.closeSync(out);
      p.child = child;
      p.killed = false;
      child.once('exit', () => {
        if (p.child !== child) return;
        p.child = null;
        if (p.killed || stopping) return;
        // A process that died on its own (e.g. it gave up on a database that was down): a supervisor restarts it.
        unexpectedExits++;
        log(`  ${p.name} exited on its own; restarting`);
        setTimeout(() => !stopping && !p.child && start(p), 1000);
      });
    };
    procs.push({ name: 'api', args: ['serve', '--role', 'api', '--port', String(port)], child: null, killed: false });
    procs.push({ name: 'worker1', args: ['worker'], child: null, killed: false });
    procs.push({ name: 'worker2', args: ['worker'], child: null, killed: false });
    for (const p of procs) start(p);
    const base = `http://127.0.0.1:${port}`;

    const until = async (cond: () => Promise<boolean>, ms: number, what: string) => {
      const deadline = Date.now() + ms;
      while (!(await cond().catch(() => false))) {
        if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
        await sleep(250);
      }
    };
    await until(async () => (await fetch(`${base}/healthz`)).ok, 180_000, 'API up');
    let token = '';
    const signIn = async () => {
      const res = await fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'faults.archivist', password: 'faults-password-123' }) });
      if (res.status !== 200) throw new Error(`sign-in ${res.status}`);
      token = ((await res.json()) as { token: string }).token;
    };
    await until(async () => (await signIn(), true), 60_000, 'signed in');

    const destroying = opts.mode === 'destroy' ? await prepareDestruction(rt, opts.items ?? 1000, opts.seed, log) : null;
    // The documents: items of 1-3 pages until `pages` pages, each page unique (none in destroy mode).
    const plan: Array<{ source: string; pages: number }> = [];
    for (let total = 0, i = 0; !destroying && total < opts.pages; i++) {
      const n = Math.min(opts.pages - total, 1 + Math.floor(rnd() * 3));
      plan.push({ source: Array.from({ length: n }, (_, k) => `fault-${opts.seed}-${i}-${k + 1}.png`).join(', '), pages: n });
      total += n;
    }

    const deadline = Date.now() + opts.minutes * 60_000;
    let uploaded = 0;
    // Destroy mode: the faults go on until the queued run has ended (or the deadline).
    let workDone = false;
    const destruction = (async () => {
      if (!destroying) return;
      await until(async () => destructionEnded(rt!, destroying.listId), opts.minutes * 60_000, 'destruction run ended').catch((err: unknown) => log(`  ${(err as Error).message}`));
      workDone = true;
    })();
    const ingest = (async () => {
      for (const [i, item] of plan.entries()) {
        if (Date.now() > deadline) break;
        const fd = new FormData();
        for (let k = 1; k <= item.pages; k++) {
          const lines = INJURY(['张伟', '李娜', '王芳', '刘洋'][i % 4]!, `2019年${1 + (i % 12)}月${1 + (k % 28)}日`);
          // 200 dpi (the DA/T 31 floor: a lower one is held by QC and never reaches filing and
          // numbering) at 9 pt: the same pixels as 12 pt at 150 dpi, so OCR costs what it did.
          // The date line too: without a 形成日期 an item goes to review (#11) and is never
          // numbered, and the numbering check would have nothing to check.
          const png = await renderScan([...lines.slice(0, 3), lines[5]!, `案卷 ${opts.seed}-${i} 第${k}页`], { dpi: 200, fontSizePt: 9 });
          fd.append('file', new Blob([png], { type: 'image/png' }), `fault-${opts.seed}-${i}-${k}.png`);
        }
        // Retry until accepted: the API, the database or the object store may be down right now.
        for (let attempt = 0; ; attempt++) {
          try {
            const res = await fetch(`${base}/api/v1/ingest`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: fd, signal: AbortSignal.timeout(60_000) });
            if (res.status === 202) break;
            if (res.status === 401) await signIn().catch(() => undefined);
          } catch {
            // connection refused / reset: the API is down
          }
          if (Date.now() > deadline + 5 * 60_000) throw new Error(`could not ingest ${item.source}`);
          await sleep(Math.min(5000, 300 * (attempt + 1)));
        }
        uploaded++;
      }
    })();

    // The fault schedule.
    const byTarget: Record<string, number> = {};
    let faults = 0;
    const targets = ['api', 'worker1', 'worker2', 'ferretdb', 'minio'];
    let round: string[] = [];
    const recovered = async (): Promise<void> => {
      const until = Date.now() + RECOVERY_MS;
      while (Date.now() < until && !workDone) {
        const apiReady = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(5000) }).then((r) => r.status === 200, () => false);
        const workers = apiReady ? await rt!.queue.liveWorkers(OCR_JOB, 10_000).catch(() => 0) : 0;
        if (apiReady && workers >= 2) return;
        await sleep(500);
      }
    };
    const faultLoop = (async () => {
      while (faults < opts.faults && Date.now() < deadline && !workDone) {
        // The next fault lands on a system that has come back from the last one: the API answers
        // ready and both workers are registered (at most RECOVERY_MS). On a slow or loaded machine
        // a process takes longer to start than the gap between kills, and killing it again before
        // it is up tests nothing but start-up; the gap then counts from recovery.
        await recovered();
        await sleep((gap[0] + rnd() * (gap[1] - gap[0])) * 1000);
        if (Date.now() >= deadline || workDone) break;
        // Every target once per round, in a seeded order: even a short run kills each kind of process.
        if (!round.length) round = [...targets].sort(() => rnd() - 0.5);
        const target = round.shift()!;
        const downMs = 300 + Math.floor(rnd() * 2500);
        faults++;
        byTarget[target] = (byTarget[target] ?? 0) + 1;
        log(`  fault ${faults}: SIGKILL ${target}, down ${downMs} ms (t=${Math.round((Date.now() - started) / 1000)} s, ${uploaded}/${plan.length} items uploaded)`);
        if (target === 'ferretdb' || target === 'minio') {
          const pidFile = path.join(services!.dataDir, 'run', `${target}.pid`);
          const pid = Number(fs.readFileSync(pidFile, 'utf8'));
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // already gone
          }
          await sleep(downMs);
          services!.services('up');
        } else {
          const p = procs.find((x) => x.name === target)!;
          p.killed = true;
          p.child?.kill('SIGKILL');
          await sleep(downMs);
          if (!p.child) start(p);
        }
      }
    })();

    await Promise.all([ingest, faultLoop, destruction]);
    if (destroying) {
      log(`destruction: ${faults} faults; waiting for the run to end`);
      await until(async () => destructionEnded(rt!, destroying.listId), (opts.settleMinutes ?? 10) * 60_000, 'destruction run ended').catch((err: unknown) => log(`  ${(err as Error).message}`));
      const c = await checkDestruction(rt, destroying);
      const seconds = Math.round((Date.now() - started) / 1000);
      const line = `RESULT mode=destroy faults=${faults} items=${destroying.ids.length} destroyed=${c.destroyed} not_destroyed=${c.notDestroyed} remnants=${c.remnants} register=${c.registerEntries} exec_records=${c.execRecords} job=${c.jobState} attempts=${c.attempts} audit_ok=${c.auditOk} unexpected_exits=${unexpectedExits} seed=${opts.seed} seconds=${seconds} targets=${Object.entries(byTarget).map(([k, v]) => `${k}:${v}`).join(',')}`;
      const broken = c.notDestroyed + c.remnants + (c.registerEntries === destroying.ids.length ? 0 : 1) + (c.execRecords === destroying.ids.length ? 0 : 1) + (c.jobState === 'done' ? 0 : 1) + (c.auditOk ? 0 : 1);
      return { seed: opts.seed, faults, byTarget, unexpectedExits, items: destroying.ids.length, filed: 0, pages: 0, lost: broken, duplicated: 0, halfFiled: 0, failed: 0, blobErrors: c.remnants, numberingErrors: 0, indexErrors: 0, auditOk: c.auditOk, orphans: 0, seconds, line };
    }
    log(`ingest done: ${uploaded} items uploaded, ${faults} faults; waiting for the pipeline`);
    const items = itemModel(rt.db);
    const FINAL: Array<'filed' | 'review' | 'failed'> = ['filed', 'review', 'failed'];
    await until(
      async () => (await items.countDocuments({ status: { $nin: FINAL } })) === 0 && (await rt!.queue.jobs.countDocuments({ name: 'ocr.item', state: { $in: ['queued', 'running'] } })) === 0,
      (opts.settleMinutes ?? 10) * 60_000,
      'pipeline settled',
    ).catch((err: unknown) => log(`  ${(err as Error).message}`));

    // The checks.
    const all = await items.find({}, { source: 1, status: 1, pageCount: 1, archivalCode: 1 }).lean();
    const bySource = new Map<string, number>();
    for (const it of all) bySource.set(it.source, (bySource.get(it.source) ?? 0) + 1);
    const expected = plan.slice(0, uploaded);
    const lost = expected.filter((p) => !bySource.has(p.source)).length;
    const duplicated = [...bySource.values()].filter((n) => n > 1).length;
    const halfFiled = all.filter((it) => !(FINAL as string[]).includes(it.status)).length;
    const failed = all.filter((it) => it.status === 'failed').length;
    const fsck = await runFsck(rt, { orphanGraceMs: 3600_000, stuckAfterMs: 0 });
    const open = fsck.findings.filter((f) => !f.repaired);
    const blobErrors = open.filter((f) => f.check === 'blobs' && f.severity === 'error').length;
    const numberingErrors = open.filter((f) => f.check === 'numbering').length;
    const indexErrors = open.filter((f) => f.check === 'index').length;
    const auditOk = !open.some((f) => f.check === 'audit');
    const orphans = open.filter((f) => f.kind === 'orphan').length;
    for (const f of open.filter((x) => x.severity === 'error').slice(0, 20)) log(`  open: ${f.check}/${f.kind} ${f.subject} ${f.message}`);
    const pages = all.reduce((a, it) => a + (it.pageCount ?? 0), 0);
    const filed = all.filter((it) => it.status === 'filed' && it.archivalCode).length;
    const seconds = Math.round((Date.now() - started) / 1000);
    const line = `RESULT faults=${faults} lost=${lost} duplicated=${duplicated} half_filed=${halfFiled} failed=${failed} blob_errors=${blobErrors} numbering_errors=${numberingErrors} index_errors=${indexErrors} audit_ok=${auditOk} items=${all.length} filed=${filed} pages=${pages} orphans_in_grace=${orphans} unexpected_exits=${unexpectedExits} seed=${opts.seed} seconds=${seconds} targets=${Object.entries(byTarget).map(([k, v]) => `${k}:${v}`).join(',')}`;
    return { seed: opts.seed, faults, byTarget, unexpectedExits, items: all.length, filed, pages, lost, duplicated, halfFiled, failed, blobErrors, numberingErrors, indexErrors, auditOk, orphans, seconds, line };
  } finally {
    stopping = true;
    for (const p of procs) {
      p.killed = true;
      p.child?.kill('SIGKILL');
    }
    await rt?.close().catch(() => undefined);
    // Keep the processes' logs for a look after the run.
    if (services) fs.cpSync(path.join(services.dataDir, 'logs'), path.join(path.dirname(services.dataDir), `archive-faults-logs-${opts.seed}`), { recursive: true, force: true });
    services?.destroy();
  }
}
