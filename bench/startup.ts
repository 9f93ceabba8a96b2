/**
 * Start-up benchmark (issue #16 §1): how long the `archive` command takes end to end, against a
 * bare `node -e 0` measured in the same run (the anchor).
 *
 *   npm run bench:startup                       # builds dist/ when stale, then measures
 *   STARTUP_BENCH_RUNS=20 STARTUP_BENCH_PAGES=20000 npm run bench:startup
 *
 * Measured: `node -e 0`; `archive --help` from dist/ (what users run) and from the TypeScript
 * sources through tsx (what it was); `archive search` on a warm archive: the services up, an
 * index of STARTUP_BENCH_PAGES generated pages, every run a fresh process that connects, checks
 * the account, loads the index and answers (hits carry no snippet: the generated items have no
 * rows or page text, so the snippet reads stop at the first point read).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import pino from 'pino';
import { loadConfig } from '../src/config';
import { createRuntime } from '../src/runtime';
import { searchEngine } from '../src/services/search';
import { generateItem, rng } from '../test/helpers/si-corpus';

const RUNS = Number(process.env.STARTUP_BENCH_RUNS ?? 10);
const PAGES = Number(process.env.STARTUP_BENCH_PAGES ?? 10_000);
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
    return s.pages;
  } finally {
    await rt.close();
  }
}

async function main(): Promise<void> {
  const load = (await import('node:os')).loadavg().map((x) => x.toFixed(2)).join(' ');
  log(`load average before: ${load}`);
  const pages = await seed();
  log(`warm archive: ${pages} pages indexed`);
  const node = time('node -e 0', ['-e', '0']);
  const help = time('archive --help (dist)', [BIN, '--help']);
  const helpTsx = time('archive --help (tsx, sources)', ['-e', `require('tsx/cjs/api').register(); require(${JSON.stringify(path.join(REPO, 'src/cli/main.ts'))}).main(['--help'])`]);
  const search = time('archive search 养老 保险 --json (dist)', [BIN, 'search', '养老', '保险', '--limit', '10', '--json']);
  const after = (await import('node:os')).loadavg().map((x) => x.toFixed(2)).join(' ');
  log(`load average after: ${after}`);
  console.log(
    `RESULT node_ms=${node.median.toFixed(0)} help_ms=${help.median.toFixed(0)} help_ratio=${(help.median / node.median).toFixed(2)} help_tsx_ms=${helpTsx.median.toFixed(0)} search_ms=${search.median.toFixed(0)} search_p95_ms=${search.p95.toFixed(0)} pages=${pages} load="${after}"`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
