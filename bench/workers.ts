/**
 * bench:workers — does throughput rise with worker processes? (issue #16 §5: "N worker processes
 * share the queue with no double processing; a benchmark with 1, 2 and 4 workers shows throughput
 * rising to the core count").
 *
 *   npm run bench:workers                    (BENCH_WORKERS_PAGES=24, BENCH_WORKERS_COUNTS=1,2,4)
 *
 * For each count K: a fresh archive (database, bucket, keystore), the same scanned batch queued by
 * `archive ingest` (no --wait: nothing processed yet), then K `archive worker` processes with one
 * OCR lane each (OCR_WORKERS=1), timed from their start until every item is final. The anchor is
 * K=1 in the same run: `speedup_K` = pages/min with K workers ÷ pages/min with one. Expected: it
 * rises up to the machine's core count and stays flat past it (OCR is CPU-bound).
 * No double processing: every OCR job is claimed exactly once (job_claims; no worker is killed
 * here, so a second claim could only come from two workers taking the same job) and every item
 * ends filed or in review, none failed.
 * Last line: RESULT cores=… pages=… ppm_1=… ppm_2=… speedup_2=… ppm_4=… speedup_4=… double_claims=0 failed=0
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { MongoClient } from 'mongodb';
import { ensureTestServices, MINIO_CREDENTIALS, testBucket, testMongoUri, TEST_PORTS } from '../test/helpers/services';
import { renderScan } from '../test/helpers/scan';

const PAGES = Number(process.env.BENCH_WORKERS_PAGES ?? 24);
const COUNTS = (process.env.BENCH_WORKERS_COUNTS ?? '1,2,4').split(',').map(Number);
const ROOT = path.resolve(__dirname, '..');
const BIN = path.join(ROOT, 'bin', 'archive.js');
const FINAL = ['filed', 'review', 'failed', 'qc_hold'];

function log(msg: string): void {
  process.stderr.write(`[bench:workers] ${msg}\n`);
}

function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`archive ${args[0]} exited ${code}: ${err.slice(-1500)}`))));
  });
}

/** The batch: one- and two-page social-insurance forms at 200 dpi (the DA/T 31 floor QC accepts). */
async function writeBatch(dir: string): Promise<string[]> {
  const files: string[] = [];
  const names = ['张伟', '李娜', '王芳', '刘洋', '陈静', '杨帆'];
  for (let i = 0; i < PAGES; i++) {
    const name = names[i % names.length]!;
    const png = await renderScan(
      ['工伤认定决定书', `职工姓名：${name}  用人单位：杭州市第${(i % 9) + 1}机械厂`, `受伤时间：2019年${(i % 12) + 1}月${(i % 27) + 1}日`, `经调查核实，${name}同志在工作时间和工作场所内受到事故伤害，`, '依据《工伤保险条例》第十四条第一项之规定，认定为工伤。', `批次 ${i + 1}`],
      { dpi: 200, fontSizePt: 10 },
    );
    const f = path.join(dir, `w-${String(i + 1).padStart(3, '0')}.png`);
    fs.writeFileSync(f, png);
    files.push(f);
  }
  return files;
}

async function once(k: number, files: string[], client: MongoClient): Promise<{ ppm: number; doubleClaims: number; failed: number; seconds: number }> {
  const uri = testMongoUri(`bench_workers_${k}`);
  const keys = fs.mkdtempSync(path.join(os.tmpdir(), `bench-workers-${k}-`));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'test', LOG_LEVEL: 'warn', OCR_WORKERS: '1',
    MONGODB_URI: uri, MINIO_ENDPOINT: `http://127.0.0.1:${TEST_PORTS.minio}`, MINIO_ACCESS_KEY: MINIO_CREDENTIALS.accessKey, MINIO_SECRET_KEY: MINIO_CREDENTIALS.secretKey,
    MINIO_BUCKET: testBucket(`bench-workers-${k}`), ARCHIVE_DATA_DIR: keys, ARCHIVE_KEYSTORE_DIR: path.join(keys, 'keys'), ARCHIVE_KEYSTORE_PASSPHRASE: 'bench-workers-passphrase',
  };
  const db = client.db(new URL(uri).pathname.slice(1));
  await db.dropDatabase().catch(() => undefined);
  await runCli(['ingest', ...files, '--json'], env);
  const items = db.collection('items');
  const total = await items.countDocuments({});
  log(`K=${k}: ${total} items queued; starting ${k} worker process(es)`);
  const procs: ChildProcess[] = [];
  const t0 = performance.now();
  for (let i = 0; i < k; i++) procs.push(spawn(process.execPath, [BIN, 'worker'], { env, stdio: ['ignore', 'ignore', 'inherit'] }));
  try {
    for (;;) {
      const done = await items.countDocuments({ status: { $in: FINAL } });
      if (done >= total) break;
      if (performance.now() - t0 > 30 * 60_000) throw new Error(`K=${k}: ${done}/${total} items final after 30 minutes`);
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    for (const p of procs) p.kill('SIGTERM');
    await Promise.all(procs.map((p) => new Promise((r) => (p.exitCode !== null ? r(null) : p.on('exit', r)))));
  }
  const seconds = (performance.now() - t0) / 1000;
  const claims = await db.collection('job_claims').aggregate<{ _id: unknown; n: number }>([{ $group: { _id: '$jobId', n: { $sum: 1 } } }]).toArray();
  const doubleClaims = claims.filter((c) => c.n > 1).length;
  const failed = await items.countDocuments({ status: 'failed' });
  await db.dropDatabase().catch(() => undefined);
  fs.rmSync(keys, { recursive: true, force: true });
  const ppm = (files.length / seconds) * 60;
  log(`K=${k}: ${files.length} pages in ${seconds.toFixed(1)} s = ${ppm.toFixed(1)} pages/min; jobs claimed twice: ${doubleClaims}; failed: ${failed}`);
  return { ppm, doubleClaims, failed, seconds };
}

async function main(): Promise<void> {
  ensureTestServices();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-workers-pages-'));
  const client = await MongoClient.connect(testMongoUri('bench_workers'));
  try {
    const files = await writeBatch(dir);
    log(`${new Date().toISOString()} — ${files.length} pages, counts ${COUNTS.join('/')}, ${os.availableParallelism()} cores, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    const res = new Map<number, Awaited<ReturnType<typeof once>>>();
    for (const k of COUNTS) res.set(k, await once(k, files, client));
    const base = res.get(COUNTS[0]!)!.ppm;
    const parts = [`cores=${os.availableParallelism()}`, `pages=${files.length}`];
    for (const k of COUNTS) {
      parts.push(`ppm_${k}=${res.get(k)!.ppm.toFixed(1)}`);
      if (k !== COUNTS[0]) parts.push(`speedup_${k}=${(res.get(k)!.ppm / base).toFixed(2)}`);
    }
    parts.push(`double_claims=${[...res.values()].reduce((a, r) => a + r.doubleClaims, 0)}`, `failed=${[...res.values()].reduce((a, r) => a + r.failed, 0)}`, `load_after=${os.loadavg()[0]!.toFixed(1)}`);
    console.log(`RESULT ${parts.join(' ')}`);
  } finally {
    await client.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
