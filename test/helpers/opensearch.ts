/**
 * A real local OpenSearch node for the search specs that run on both backends (issue #16 §4).
 * scripts/test.sh may start it once for the whole run (scripts/opensearch.sh up); a spec run by
 * hand starts it here the same way, once per process, and stops it when the process exits.
 * Skipped, with a message saying why, only where Java is not installed.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { REPO_ROOT } from './services';

export const OPENSEARCH_PORT = Number(process.env.ARCHIVE_OPENSEARCH_PORT ?? 9330);
export const OPENSEARCH_URL = `http://127.0.0.1:${OPENSEARCH_PORT}`;

const env = (): NodeJS.ProcessEnv => ({
  ...process.env,
  ARCHIVE_DATA_DIR: process.env.ARCHIVE_DATA_DIR ?? path.join(REPO_ROOT, '.data/test'),
  ARCHIVE_OPENSEARCH_PORT: String(OPENSEARCH_PORT),
  // Tests favour a fast start over peak query speed.
  ARCHIVE_OPENSEARCH_QUICK: process.env.ARCHIVE_OPENSEARCH_QUICK ?? '1',
});

export function javaMissing(): string | null {
  const r = spawnSync('java', ['-version'], { stdio: 'ignore' });
  return r.error || r.status !== 0 ? 'Java (17+) is not installed: the OpenSearch backend specs are skipped (apt-get install openjdk-17-jdk-headless maven)' : null;
}

async function answers(): Promise<boolean> {
  try {
    return (await fetch(`${OPENSEARCH_URL}/_cluster/health`)).ok;
  } catch {
    return false;
  }
}

let ready: Promise<void> | null = null;

/** Starts (or finds running) the test node. Throws if Java is there but the node cannot start. */
export function ensureOpenSearch(): Promise<void> {
  ready ??= (async () => {
    if (await answers()) return;
    execFileSync('bash', [path.join(REPO_ROOT, 'scripts/opensearch.sh'), 'up'], { stdio: ['ignore', 'ignore', 'inherit'], env: env() });
    // Started here, so stopped here: a 512 MB JVM is not left behind by a spec run by hand.
    process.once('exit', () => {
      spawnSync('bash', [path.join(REPO_ROOT, 'scripts/opensearch.sh'), 'down'], { stdio: 'ignore', env: env() });
    });
  })();
  return ready;
}

/** A fresh index (alias) name per spec so specs never see each other's data. */
export function testIndexName(prefix = 't'): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}
