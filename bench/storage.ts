/**
 * bench:storage — encrypted store vs plain MinIO on the same bytes, and put's peak memory.
 *
 *   npm run bench:storage
 *
 * For 1 MB, 16 MB and 256 MB of generated random data (streamed, never held whole) it times
 * store.put/get against the raw minio client's putObject/getObject of identical bytes, alternating
 * which goes first. Then a child process stores a 2 GB generated stream and reports its peak RSS.
 * The last line is machine-readable:
 *   RESULT put_ratio=… get_ratio=… rss_mb=… get_cpu_ratio=… put_cpu_ratio=… worker_get_ratio=… load="…"
 * Ratios are encrypted / plain throughput over all sizes (total bytes / total seconds); the CPU
 * ratios are encrypted / plain CPU seconds (bench process + MinIO); worker_get_ratio is the get
 * ratio with decryption on the crypto worker (decryptThreads) instead of the calling thread.
 * CPU seconds per side are reported too, because wall clock on a shared machine is noisy: the
 * bench process's (process.cpuUsage, worker threads included) and MinIO's (/proc/<pid>/stat
 * utime+stime; its pid from $ARCHIVE_DATA_DIR/run/minio.pid, as scripts/services.sh writes it).
 *
 * MinIO comes from MINIO_ENDPOINT, MINIO_ACCESS_KEY, MINIO_SECRET_KEY (scripts/with-services.sh
 * exports them); without them the test services are started.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import * as Minio from 'minio';
import { createBlobStore, createKeyring, openKeyring, type MinioConnection } from '../storage';
import { ensureTestServices, testMinioConfig } from '../test/helpers/services';
import { randomStream, sha256Of } from '../test/integration/storage/helpers';

const MB = 1_000_000;
const DEFAULT_SIZES: { size: number; reps: number }[] = [
  { size: 1 * MB, reps: 12 },
  { size: 16 * MB, reps: 5 },
  { size: 256 * MB, reps: 3 },
];
// A bounded run on a shared machine: STORAGE_BENCH_SIZES=1x12,16x5,64x3 (MB x reps), STORAGE_BENCH_BIG_MB=512.
const SIZES = process.env.STORAGE_BENCH_SIZES
  ? process.env.STORAGE_BENCH_SIZES.split(',').map((p) => {
      const [mb, reps] = p.split('x').map(Number);
      return { size: mb! * MB, reps: reps ?? 3 };
    })
  : DEFAULT_SIZES;
const BIG = process.env.STORAGE_BENCH_BIG_MB ? Number(process.env.STORAGE_BENCH_BIG_MB) * 1024 ** 2 : 2 * 1024 ** 3;
const PASSPHRASE = 'bench-only-passphrase';

function minioFromEnv(): MinioConnection {
  const endpoint = process.env.MINIO_ENDPOINT;
  if (!endpoint) {
    ensureTestServices();
    return testMinioConfig();
  }
  const u = new URL(endpoint);
  return {
    endPoint: u.hostname,
    port: Number(u.port || (u.protocol === 'https:' ? 443 : 80)),
    useSSL: u.protocol === 'https:',
    accessKey: process.env.MINIO_ACCESS_KEY ?? '',
    secretKey: process.env.MINIO_SECRET_KEY ?? '',
  };
}

async function drain(s: Readable): Promise<number> {
  let n = 0;
  for await (const c of s) n += (c as Buffer).length;
  return n;
}

/** MinIO's pid where scripts/services.sh recorded it; CPU figures for the server side are left out without it. */
function minioPid(): number | null {
  const dir = process.env.ARCHIVE_DATA_DIR ?? path.join(__dirname, '..', '.data', 'dev');
  try {
    const pid = Number(fs.readFileSync(path.join(dir, 'run', 'minio.pid'), 'utf8').trim());
    return Number.isInteger(pid) && fs.existsSync(`/proc/${pid}/stat`) ? pid : null;
  } catch {
    return null;
  }
}
const MINIO_PID = minioPid();
const CLK_TCK = 100; // USER_HZ on Linux

/** utime + stime of the MinIO process in seconds (0 when unknown). */
function serverCpu(): number {
  if (MINIO_PID === null) return 0;
  const stat = fs.readFileSync(`/proc/${MINIO_PID}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // fields 14 and 15 of proc(5)
}

interface Timing {
  s: number;
  /** CPU seconds of this process (all threads) and of MinIO during the call. */
  cpu: number;
  srv: number;
}

async function timed<T>(fn: () => Promise<T>): Promise<Timing> {
  const c0 = process.cpuUsage();
  const s0 = serverCpu();
  const t0 = performance.now();
  await fn();
  const s = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return { s, cpu: (c.user + c.system) / 1e6, srv: serverCpu() - s0 };
}

/** Child mode: store one 2 GB stream and report peak RSS (sampled every 10 ms). */
async function rssChild(): Promise<void> {
  const { minio, bucket, keysDir } = JSON.parse(process.env.BENCH_CHILD ?? '{}') as { minio: MinioConnection; bucket: string; keysDir: string };
  const { keyring } = await openKeyring({ dir: keysDir, passphrase: PASSPHRASE });
  const store = await createBlobStore({ minio, bucket, keyring });
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 10);
  const t0 = performance.now();
  const put = await store.put('big/2gb', randomStream(BIG, 99, 1024 * 1024));
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage().rss);
  process.stdout.write(`${JSON.stringify({ peakRss: peak, seconds, size: put.size })}\n`);
}

async function runChild(env: Record<string, string>): Promise<{ peakRss: number; seconds: number; size: number }> {
  const child = spawn(process.execPath, [...process.execArgv, __filename, '--rss-child'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((r) => child.on('close', r));
  if (code !== 0) throw new Error(`rss child exited with ${code}`);
  return JSON.parse(out.trim().split('\n').pop() ?? '{}') as { peakRss: number; seconds: number; size: number };
}

function fmt(n: number, w: number, d = 1): string {
  return n.toFixed(d).padStart(w);
}

async function main(): Promise<void> {
  const minio = minioFromEnv();
  const bucket = `bench-storage-${randomBytes(3).toString('hex')}`;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-storage-'));
  const keysDir = path.join(tmp, 'keys');
  const { keyring } = await createKeyring({ dir: keysDir, passphrase: PASSPHRASE });
  const store = await createBlobStore({ minio, bucket, keyring });
  // The same objects read with decryption on the crypto worker above 2 MiB (decryptThreads), the
  // alternative to the default of the calling thread: same run, not in RESULT.
  const workerStore = await createBlobStore({ minio, bucket, keyring, decryptThreads: true });
  // The baseline is the client as an application would use it: its own defaults.
  const raw = new Minio.Client(minio);

  console.log(`bench:storage  ${new Date().toISOString()}  load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}  node ${process.version}  ${os.cpus().length} CPUs  MinIO ${minio.endPoint}:${minio.port}  bucket ${bucket}`);
  type Side = 'pp' | 'ep' | 'pg' | 'eg' | 'wg';
  type Row = { size: number; bytes: number; cpu: Record<Side, number>; srv: Record<Side, number> } & Record<Side, number>;
  const zero = (): Record<Side, number> => ({ pp: 0, ep: 0, pg: 0, eg: 0, wg: 0 });
  const add = (r: Row, side: Side, t: Timing): void => {
    r[side] += t.s;
    r.cpu[side] += t.cpu;
    r.srv[side] += t.srv;
  };
  const rows: Row[] = [];
  try {
    for (const { size, reps } of SIZES) {
      const r: Row = { size, bytes: 0, ...zero(), cpu: zero(), srv: zero() };
      const seed = size;
      for (let i = 0; i < reps; i++) {
        // Alternate the order so neither side always runs on a warmer server.
        const plainPut = (): Promise<Timing> => timed(() => raw.putObject(bucket, `plain/${size}`, randomStream(size, seed, 1024 * 1024), size));
        const encPut = (): Promise<Timing> => timed(() => store.put(`enc/${size}`, randomStream(size, seed, 1024 * 1024)));
        const plainGet = (): Promise<Timing> => timed(async () => drain(await raw.getObject(bucket, `plain/${size}`)));
        const encGet = (): Promise<Timing> => timed(async () => drain(await store.get(`enc/${size}`)));
        const workerGet = (): Promise<Timing> => timed(async () => drain(await workerStore.get(`enc/${size}`)));
        if (i % 2 === 0) {
          add(r, 'pp', await plainPut());
          add(r, 'ep', await encPut());
          add(r, 'pg', await plainGet());
          add(r, 'eg', await encGet());
          add(r, 'wg', await workerGet());
        } else {
          add(r, 'wg', await workerGet());
          add(r, 'ep', await encPut());
          add(r, 'pp', await plainPut());
          add(r, 'eg', await encGet());
          add(r, 'pg', await plainGet());
        }
        r.bytes += size;
      }
      // Correctness, outside the timings: the stored object decrypts to the generated bytes.
      const expected = await sha256Of(randomStream(size, seed));
      const v = await store.verify(`enc/${size}`);
      if (!v.ok || v.sha256 !== expected) throw new Error(`enc/${size} does not verify`);
      rows.push(r);
    }

    const child = await runChild({ BENCH_CHILD: JSON.stringify({ minio, bucket, keysDir }) });
    if (child.size !== BIG) throw new Error('2 GB put stored the wrong size');

    const mbps = (bytes: number, s: number): number => bytes / MB / s;
    console.log('');
    console.log('size      reps | plain put  enc put  ratio | plain get  enc get  ratio | worker get  ratio   (MB/s)');
    console.log('---------------+---------------------------+---------------------------');
    const tot: Row = { size: 0, bytes: 0, ...zero(), cpu: zero(), srv: zero() };
    for (const r of rows) {
      const label = `${r.size / MB} MB`.padEnd(9);
      console.log(`${label} ${String(r.bytes / r.size).padStart(4)} | ${fmt(mbps(r.bytes, r.pp), 9)} ${fmt(mbps(r.bytes, r.ep), 8)} ${fmt(r.pp / r.ep, 6, 2)} | ${fmt(mbps(r.bytes, r.pg), 9)} ${fmt(mbps(r.bytes, r.eg), 8)} ${fmt(r.pg / r.eg, 6, 2)} | ${fmt(mbps(r.bytes, r.wg), 10)} ${fmt(r.pg / r.wg, 6, 2)}`);
      tot.bytes += r.bytes;
      for (const k of ['pp', 'ep', 'pg', 'eg', 'wg'] as const) {
        tot[k] += r[k];
        tot.cpu[k] += r.cpu[k];
        tot.srv[k] += r.srv[k];
      }
    }
    const putRatio = tot.pp / tot.ep;
    const getRatio = tot.pg / tot.eg;
    console.log('---------------+---------------------------+---------------------------');
    console.log(`all sizes      | ${fmt(mbps(tot.bytes, tot.pp), 9)} ${fmt(mbps(tot.bytes, tot.ep), 8)} ${fmt(putRatio, 6, 2)} | ${fmt(mbps(tot.bytes, tot.pg), 9)} ${fmt(mbps(tot.bytes, tot.eg), 8)} ${fmt(getRatio, 6, 2)} | ${fmt(mbps(tot.bytes, tot.wg), 10)} ${fmt(tot.pg / tot.wg, 6, 2)}`);
    // CPU per 100 MB moved, per side: what the ratios would be on an idle machine is bounded by these.
    console.log('');
    console.log(`CPU seconds per 100 MB (bench process incl. worker threads / MinIO${MINIO_PID === null ? ': MinIO pid unknown, 0' : ''})`);
    console.log('size      | plain put     enc put       | plain get     enc get       worker get');
    const per = (r: Row, k: Side): string => `${fmt((r.cpu[k] * 100 * MB) / r.bytes, 5, 2)} / ${fmt((r.srv[k] * 100 * MB) / r.bytes, 4, 2)}`;
    for (const r of [...rows, tot]) {
      const label = (r === tot ? 'all sizes' : `${r.size / MB} MB`).padEnd(9);
      console.log(`${label} | ${per(r, 'pp')}  ${per(r, 'ep')} | ${per(r, 'pg')}  ${per(r, 'eg')}  ${per(r, 'wg')}`);
    }
    const rssMb = child.peakRss / 1024 / 1024;
    console.log('');
    console.log(`${(BIG / 1024 ** 3).toFixed(2)} GiB encrypted put from a generated stream: ${fmt(BIG / MB / child.seconds, 0)} MB/s, peak RSS ${fmt(rssMb, 0)} MB (child process, sampled every 10 ms)`);
    console.log(`RESULT put_ratio=${putRatio.toFixed(2)} get_ratio=${getRatio.toFixed(2)} rss_mb=${Math.round(rssMb)} get_cpu_ratio=${((tot.cpu.eg + tot.srv.eg) / (tot.cpu.pg + tot.srv.pg)).toFixed(2)} put_cpu_ratio=${((tot.cpu.ep + tot.srv.ep) / (tot.cpu.pp + tot.srv.pp)).toFixed(2)} worker_get_ratio=${(tot.pg / tot.wg).toFixed(2)} load="${os.loadavg().map((x) => x.toFixed(2)).join(' ')}"`);
  } finally {
    await cleanup(raw, bucket);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

async function cleanup(raw: Minio.Client, bucket: string): Promise<void> {
  const names: string[] = [];
  for await (const it of raw.listObjectsV2(bucket, '', true) as AsyncIterable<{ name?: string }>) if (it.name) names.push(it.name);
  for (const n of names) await raw.removeObject(bucket, n).catch(() => undefined);
  await raw.removeBucket(bucket).catch(() => undefined);
}

(process.argv.includes('--rss-child') ? rssChild() : main()).catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
