/**
 * `npm run test:faults`: the long fault-injection run (docs/reliability.md). Settings by env:
 * FAULTS_SEED (default 15), FAULTS_PAGES (120), FAULTS_COUNT (30), FAULTS_MINUTES (8), FAULTS_SETTLE_MINUTES (8);
 * FAULTS_MODE=destroy with FAULTS_ITEMS (1000): faults during a queued destruction run instead of an ingest.
 * FAULTS_GAP_S="MIN,MAX" (4,12): seconds between a recovery and the next kill; a long run widens
 * it so that its faults spread over the whole pipeline, not only over the uploads.
 * Prints progress and, last, `RESULT faults=… lost=0 duplicated=0 half_filed=0 …`; exits 1 when
 * any invariant is broken.
 */
import { runFaults } from './harness';

const num = (v: string | undefined, d: number) => (v && Number.isFinite(Number(v)) ? Number(v) : d);
const gapS = (): [number, number] | undefined => {
  const m = /^\s*(\d+(?:\.\d+)?)\s*,\s*(\d+(?:\.\d+)?)\s*$/.exec(process.env.FAULTS_GAP_S ?? '');
  return m && Number(m[1]) <= Number(m[2]) ? [Number(m[1]), Number(m[2])] : undefined;
};

void (async () => {
  const r = await runFaults({
    seed: num(process.env.FAULTS_SEED, 15),
    pages: num(process.env.FAULTS_PAGES, 120),
    faults: num(process.env.FAULTS_COUNT, 30),
    minutes: num(process.env.FAULTS_MINUTES, 8),
    settleMinutes: num(process.env.FAULTS_SETTLE_MINUTES, 8),
    log: (l) => console.log(l),
    mode: process.env.FAULTS_MODE === 'destroy' ? 'destroy' : 'ingest',
    items: num(process.env.FAULTS_ITEMS, 1000),
    ...(gapS() ? { gapS: gapS() } : {}),
  });
  console.log(r.line);
  const ok = r.lost === 0 && r.duplicated === 0 && r.halfFiled === 0 && r.failed === 0 && r.blobErrors === 0 && r.numberingErrors === 0 && r.indexErrors === 0 && r.auditOk;
  process.exit(ok ? 0 : 1);
})().catch((err: unknown) => {
  console.error(err);
  process.exit(2);
});
