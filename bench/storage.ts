/**
 * bench:storage — encrypted store vs plain MinIO on the same bytes, and put's peak memory.
 *
 *   npm run bench:storage
 *
 * For 1 MB, 16 MB and 256 MB of generated random data (streamed, never held whole) it times
 * store.put/get against the raw minio client's putObject/getObject of identical bytes, alternating
 * which goes first. Then a child process stores a 2 GB generated stream and reports its peak RSS.
 * The last line is machine-readable:
 *   RESULT put_ratio=… get_ratio=… rss_mb=…
 * Ratios are encrypted / plain throughput over all sizes (total bytes / total seconds).
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

async function timed<T>(fn: () => Promise<T>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
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
  // The baseline is the client as an application would use it: its own defaults.
  const raw = new Minio.Client(minio);

  console.log(`bench:storage  ${new Date().toISOString()}  node ${process.version}  ${os.cpus().length} CPUs  MinIO ${minio.endPoint}:${minio.port}  bucket ${bucket}`);
  const rows: { size: number; bytes: number; pp: number; ep: number; pg: number; eg: number }[] = [];
  try {
    for (const { size, reps } of SIZES) {
      const r = { size, bytes: 0, pp: 0, ep: 0, pg: 0, eg: 0 };
      const seed = size;
      for (let i = 0; i < reps; i++) {
        // Alternate the order so neither side always runs on a warmer server.
        const plainPut = (): Promise<number> => timed(() => raw.putObject(bucket, `plain/${size}`, randomStream(size, seed, 1024 * 1024), size));
        const encPut = (): Promise<number> => timed(() => store.put(`enc/${size}`, randomStream(size, seed, 1024 * 1024)));
        const plainGet = (): Promise<number> => timed(async () => drain(await raw.getObject(bucket, `plain/${size}`)));
        const encGet = (): Promise<number> => timed(async () => drain(await store.get(`enc/${size}`)));
        if (i % 2 === 0) {
          r.pp += await plainPut();
          r.ep += await encPut();
          r.pg += await plainGet();
          r.eg += await encGet();
        } else {
          r.ep += await encPut();
          r.pp += await plainPut();
          r.eg += await encGet();
          r.pg += await plainGet();
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
    console.log('size      reps | plain put  enc put  ratio | plain get  enc get  ratio   (MB/s)');
    console.log('---------------+---------------------------+---------------------------');
    const tot = { bytes: 0, pp: 0, ep: 0, pg: 0, eg: 0 };
    for (const r of rows) {
      const label = `${r.size / MB} MB`.padEnd(9);
      console.log(`${label} ${String(r.bytes / r.size).padStart(4)} | ${fmt(mbps(r.bytes, r.pp), 9)} ${fmt(mbps(r.bytes, r.ep), 8)} ${fmt(r.pp / r.ep, 6, 2)} | ${fmt(mbps(r.bytes, r.pg), 9)} ${fmt(mbps(r.bytes, r.eg), 8)} ${fmt(r.pg / r.eg, 6, 2)}`);
      tot.bytes += r.bytes;
      tot.pp += r.pp;
      tot.ep += r.ep;
      tot.pg += r.pg;
      tot.eg += r.eg;
    }
    const putRatio = tot.pp / tot.ep;
    const getRatio = tot.pg / tot.eg;
    console.log('---------------+---------------------------+---------------------------');
    console.log(`all sizes      | ${fmt(mbps(tot.bytes, tot.pp), 9)} ${fmt(mbps(tot.bytes, tot.ep), 8)} ${fmt(putRatio, 6, 2)} | ${fmt(mbps(tot.bytes, tot.pg), 9)} ${fmt(mbps(tot.bytes, tot.eg), 8)} ${fmt(getRatio, 6, 2)}`);
    const rssMb = child.peakRss / 1024 / 1024;
    console.log('');
    console.log(`${(BIG / 1024 ** 3).toFixed(2)} GiB encrypted put from a generated stream: ${fmt(BIG / MB / child.seconds, 0)} MB/s, peak RSS ${fmt(rssMb, 0)} MB (child process, sampled every 10 ms)`);
    console.log(`RESULT put_ratio=${putRatio.toFixed(2)} get_ratio=${getRatio.toFixed(2)} rss_mb=${Math.round(rssMb)} load="${os.loadavg().map((x) => x.toFixed(2)).join(' ')}"`);
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
