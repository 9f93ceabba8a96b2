/**
 * bench:ocr — our pipeline (ocr/: prepare + tesseract.js pool) against the native tesseract CLI on
 * the same degraded scans, plus a long run that shows worker memory stays flat.
 *
 *   npm run bench:ocr
 *   BENCH_OCR_LONG_PAGES=1000 BENCH_OCR_WORKERS=2 npm run bench:ocr
 *
 * Pages: test/helpers/fixtures/ocr-fixtures.ts, both documents × the degraded conditions (rotated
 * 90/180/270, skewed +4/−3°, noise, red seal), alternating sans/serif fonts. The CLI runs as one
 * process per worker with OMP_THREAD_LIMIT=1 and `-l chi_sim+eng`, on the same PNG files, and its
 * text gets the same normalizeOcrText; CER ignores whitespace on both sides.
 *
 * Memory: tesseract.js workers are worker_threads in one process, so per-worker RSS cannot be read
 * directly. The pipeline runs in a child process and rss_mb is that process's peak RSS (maxRSS, which
 * also counts Node, sharp and the page images) divided by the worker count: an upper bound.
 *
 * Knobs (env, read only here): BENCH_OCR_WORKERS (default: cores), BENCH_OCR_LONG_PAGES (default 120),
 * BENCH_OCR_REPS (alternating timed repetitions per side, fastest kept, default 2),
 * BENCH_OCR_RECYCLE (pages per worker before recycling, default 50), BENCH_OCR_VARIANT, BENCH_OCR_PSM,
 * BENCH_OCR_PRESERVE=0 (preserve_interword_spaces off),
 * BENCH_OCR_ORIENT=0 (skip the OCR-confidence orientation check, for measuring its cost).
 * The last line is machine-readable:
 *   RESULT pages_per_min=… cli_pages_per_min=… speed_ratio=… cer=… cli_cer=… rss_mb=…
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createOcrEngine, iteratePages, normalizeOcrText, preparePage, type ModelVariant } from '../ocr';
import { DEGRADED, DOCUMENTS, cer, makePage, type DocKey } from '../test/helpers/fixtures/ocr-fixtures';

interface ChildJob { files: string[]; pages: number; workers: number; recycle: number; variant: ModelVariant; psm: number; preserve: boolean; orient: boolean; sampleEvery: number }
interface ChildResult { texts: string[]; ms: number; cpuS: number; maxRssMb: number; baseRssMb: number; samples: Array<{ page: number; rssMb: number }>; workersStarted: number; prepMs: number }

const env = process.env;
const WORKERS = Number(env.BENCH_OCR_WORKERS ?? os.availableParallelism());
const LONG_PAGES = Number(env.BENCH_OCR_LONG_PAGES ?? 120);
const RECYCLE = Number(env.BENCH_OCR_RECYCLE ?? 50);
const VARIANT = (env.BENCH_OCR_VARIANT ?? '4.0.0_best_int') as ModelVariant;
const PSM = Number(env.BENCH_OCR_PSM ?? 3);
const ORIENT = env.BENCH_OCR_ORIENT !== '0';
const PRESERVE = env.BENCH_OCR_PRESERVE !== '0';
const REPS = Number(env.BENCH_OCR_REPS ?? 2);

const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);

/** Runs in the child: pages in file order (cycled up to job.pages), `workers + 1` in flight. */
async function child(job: ChildJob): Promise<ChildResult> {
  const baseRssMb = mb(process.memoryUsage().rss);
  const engine = createOcrEngine({ workers: job.workers, recycleAfterPages: job.recycle, variant: job.variant, psm: job.psm, preserveInterwordSpaces: job.preserve });
  const bufs = job.files.map((f) => fs.readFileSync(f));
  const texts: string[] = new Array(job.pages).fill('');
  const samples: ChildResult['samples'] = [];
  let next = 0, done = 0, prepMs = 0;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage(); // the whole process: main thread, tesseract worker threads, sharp's pool
  const lane = async () => {
    while (next < job.pages) {
      const i = next++;
      const parts: string[] = [];
      for await (const page of iteratePages(bufs[i % bufs.length] as Buffer)) {
        const tp = performance.now();
        const prep = await preparePage(page, job.orient ? { orientation: engine } : {});
        prepMs += performance.now() - tp;
        parts.push((await engine.recognizePage(prep)).text);
      }
      texts[i] = parts.join('\n');
      if (++done % job.sampleEvery === 0) samples.push({ page: done, rssMb: mb(process.memoryUsage().rss) });
    }
  };
  await Promise.all(Array.from({ length: job.workers + 1 }, lane));
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  const workersStarted = engine.stats().workersStarted;
  await engine.close();
  return { texts, ms, cpuS, maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024), baseRssMb, samples, workersStarted, prepMs };
}

function runChild(job: ChildJob): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', __filename, '--child'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    // tesseract.js 7's wasm prints a harmless failed probe for a garbage language name at every
    // worker start, and leptonica chatter on small strips; keep the rest of stderr.
    const noise = /玂臎|TESSDATA_PREFIX|^Error in (boxClipToRectangle|pixScanForForeground)|^Detected \d+ diacritics|^\s*$/;
    p.stderr.on('data', (d: Buffer) => {
      const keep = d.toString().split('\n').filter((l) => !noise.test(l));
      if (keep.length) process.stderr.write(keep.join('\n') + '\n');
    });
    p.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    p.on('error', reject);
    p.on('close', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{')) reject(new Error(`bench child failed (${code}): ${out.slice(-2000)}`));
      else resolve(JSON.parse(line) as ChildResult);
    });
    p.stdin.end(JSON.stringify(job));
  });
}

/** One CLI run; bash's `times` reports the child's CPU seconds (user + system) on fd 3. */
function tesseractCli(file: string): Promise<{ text: string; cpuS: number }> {
  return new Promise((resolve, reject) => {
    const p = spawn('bash', ['-c', 'tesseract "$1" stdout -l chi_sim+eng 2>/dev/null; s=$?; times >&3; exit $s', '_', file], {
      env: { ...env, OMP_THREAD_LIMIT: '1' }, stdio: ['ignore', 'pipe', 'ignore', 'pipe'],
    });
    let out = '', times = '';
    p.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
    (p.stdio[3] as NodeJS.ReadableStream).on('data', (d: Buffer) => { times += d.toString(); });
    p.on('error', reject);
    p.on('close', (code) => {
      if (code !== 0) return reject(new Error(`tesseract exited ${code} on ${file}`));
      const secs = [...(times.trim().split('\n')[1] ?? '').matchAll(/(\d+)m([\d.]+)s/g)].reduce((a, m) => a + Number(m[1]) * 60 + Number(m[2]), 0);
      resolve({ text: out, cpuS: secs });
    });
  });
}

async function runCli(files: string[], procs: number): Promise<{ texts: string[]; ms: number; cpuS: number }> {
  const texts: string[] = new Array(files.length).fill('');
  let next = 0, cpuS = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: procs }, async () => {
    while (next < files.length) {
      const i = next++;
      const r = await tesseractCli(files[i] as string);
      texts[i] = normalizeOcrText(r.text);
      cpuS += r.cpuS;
    }
  }));
  return { texts, ms: performance.now() - t0, cpuS };
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-ocr-'));
  try {
    const docs = Object.keys(DOCUMENTS) as DocKey[];
    const pages = [];
    for (const [d, doc] of docs.entries()) {
      for (const [c, condition] of DEGRADED.entries()) pages.push(await makePage(doc, (c + d) % 2 ? 'serif' : 'sans', condition, c + 1));
    }
    const files = pages.map((p, i) => {
      const f = path.join(dir, `${String(i).padStart(2, '0')}-${p.name.replace(/\//g, '_')}.png`);
      fs.writeFileSync(f, p.png);
      return f;
    });
    console.log(`bench:ocr ${new Date().toISOString()} — ${pages.length} degraded pages, ${WORKERS} workers, ${os.cpus()[0]?.model ?? '?'} × ${os.availableParallelism()}`);
    console.log(`model ${VARIANT}, psm ${PSM}, preserve_interword_spaces ${PRESERVE ? 1 : 0}, orientation check ${ORIENT ? 'on' : 'off'}`);

    // Warm-up is not timed for either side: the CLI's first run loads models from the page cache too.
    await tesseractCli(files[0] as string);
    // This machine is shared: runs alternate and each side keeps its fastest, so a burst of
    // someone else's load does not land on one side only.
    let ours: ChildResult | undefined;
    let cli: { texts: string[]; ms: number; cpuS: number } | undefined;
    for (let rep = 0; rep < REPS; rep++) {
      const o = await runChild({ files, pages: files.length, workers: WORKERS, recycle: 1000, variant: VARIANT, psm: PSM, preserve: PRESERVE, orient: ORIENT, sampleEvery: 1000 });
      const c = await runCli(files, WORKERS);
      console.log(`rep ${rep + 1}: ours ${(o.ms / 1000).toFixed(1)} s (${o.cpuS.toFixed(1)} CPU s), cli ${(c.ms / 1000).toFixed(1)} s (${c.cpuS.toFixed(1)} CPU s), load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
      if (!ours || o.ms < ours.ms) ours = { ...o, maxRssMb: Math.max(o.maxRssMb, ours?.maxRssMb ?? 0) };
      if (!cli || c.ms < cli.ms) cli = c;
    }
    if (!ours || !cli) throw new Error('BENCH_OCR_REPS must be at least 1');

    const rows = pages.map((p, i) => ({ page: p.name, cer: cer(p.expected, ours.texts[i] ?? ''), cliCer: cer(p.expected, cli.texts[i] ?? '') }));
    console.log('\npage                                 ours    cli');
    for (const r of rows) console.log(`${r.page.padEnd(36)} ${r.cer.toFixed(3)}  ${r.cliCer.toFixed(3)}`);
    const byCond = new Map<string, { o: number; c: number; n: number }>();
    for (const r of rows) {
      const k = r.page.split('/')[2] ?? '';
      const v = byCond.get(k) ?? { o: 0, c: 0, n: 0 };
      byCond.set(k, { o: v.o + r.cer, c: v.c + r.cliCer, n: v.n + 1 });
    }
    console.log('\ncondition   ours    cli');
    for (const [k, v] of byCond) console.log(`${k.padEnd(10)}  ${(v.o / v.n).toFixed(3)}  ${(v.c / v.n).toFixed(3)}`);

    const meanCer = rows.reduce((s, r) => s + r.cer, 0) / rows.length;
    const cliCer = rows.reduce((s, r) => s + r.cliCer, 0) / rows.length;
    const ppm = (pages.length / ours.ms) * 60_000;
    const cliPpm = (pages.length / cli.ms) * 60_000;
    console.log(`\nours: ${pages.length} pages in ${(ours.ms / 1000).toFixed(1)} s (preparation ${(ours.prepMs / 1000).toFixed(1)} s summed over lanes), peak RSS ${ours.maxRssMb} MB (Node + sharp before the pool: ${ours.baseRssMb} MB)`);
    console.log(`cli:  ${pages.length} pages in ${(cli.ms / 1000).toFixed(1)} s`);
    // CPU seconds are far less sensitive than wall time to other load on a shared machine; this is
    // the throughput each side would have with the workers' cores to itself.
    const cpuPpm = (c: number) => (pages.length / c) * 60 * WORKERS;
    console.log(`CPU-time view: ours ${(ours.cpuS / pages.length).toFixed(2)} CPU s/page, cli ${(cli.cpuS / pages.length).toFixed(2)} CPU s/page → ${cpuPpm(ours.cpuS).toFixed(1)} vs ${cpuPpm(cli.cpuS).toFixed(1)} pages/min on ${WORKERS} idle cores, ratio ${(cli.cpuS / ours.cpuS).toFixed(2)}`);

    console.log(`\nlong run: ${LONG_PAGES} pages, recycle after ${RECYCLE} pages per worker`);
    const long = await runChild({ files, pages: LONG_PAGES, workers: WORKERS, recycle: RECYCLE, variant: VARIANT, psm: PSM, preserve: PRESERVE, orient: ORIENT, sampleEvery: Math.max(1, Math.floor(LONG_PAGES / 10)) });
    for (const s of long.samples) console.log(`  after ${String(s.page).padStart(5)} pages: RSS ${s.rssMb} MB`);
    const first = long.samples[0]?.rssMb ?? 0;
    const last = long.samples[long.samples.length - 1]?.rssMb ?? 0;
    console.log(`  peak RSS ${long.maxRssMb} MB, ${long.workersStarted} workers started, ${((LONG_PAGES / long.ms) * 60_000).toFixed(1)} pages/min; RSS first→last sample ${first}→${last} MB`);

    const rssPerWorker = Math.max(ours.maxRssMb, long.maxRssMb) / WORKERS;
    console.log(`RESULT pages_per_min=${ppm.toFixed(1)} cli_pages_per_min=${cliPpm.toFixed(1)} speed_ratio=${(ppm / cliPpm).toFixed(2)} cer=${meanCer.toFixed(4)} cli_cer=${cliCer.toFixed(4)} rss_mb=${rssPerWorker.toFixed(0)}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') {
  let input = '';
  process.stdin.on('data', (d: Buffer) => { input += d.toString(); });
  process.stdin.on('end', () => {
    child(JSON.parse(input) as ChildJob).then((r) => { process.stdout.write(`\n${JSON.stringify(r)}\n`); process.exit(0); }, (e: unknown) => { console.error(e); process.exit(1); });
  });
} else {
  main().catch((e: unknown) => { console.error(e); process.exit(1); });
}
