/**
 * A real Runtime for app-level tests: the test FerretDB (fresh database), the test MinIO (fresh
 * bucket), a fresh keystore in a temp folder. Plus an HTTP server on an ephemeral port.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../src/api/app';
import { featureRoutes } from '../../src/api/routes';
import { parseConfig, type Config } from '../../src/config';
import { createMetrics } from '../../src/metrics';
import { createRuntime, type Runtime } from '../../src/runtime';
import { ensureTestServices, MINIO_CREDENTIALS, testBucket, testMongoUri, TEST_PORTS } from './services';
import { testLogger } from './logger';

export function testEnv(extra: Record<string, string> = {}): Record<string, string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'archive-test-'));
  return {
    NODE_ENV: 'test',
    MONGODB_URI: testMongoUri('app'),
    MINIO_ENDPOINT: `http://127.0.0.1:${TEST_PORTS.minio}`,
    MINIO_ACCESS_KEY: MINIO_CREDENTIALS.accessKey,
    MINIO_SECRET_KEY: MINIO_CREDENTIALS.secretKey,
    MINIO_BUCKET: testBucket('app'),
    ARCHIVE_DATA_DIR: dir,
    ARCHIVE_KEYSTORE_DIR: path.join(dir, 'keys'),
    ARCHIVE_KEYSTORE_PASSPHRASE: 'test-keystore-passphrase',
    OCR_WORKERS: '1',
    LOG_LEVEL: 'silent',
    // Audit anchors are object-locked in COMPLIANCE mode: keep the test ones for the shortest time.
    AUDIT_ANCHOR_RETENTION_DAYS: '1',
    ...extra,
  };
}

export async function openTestRuntime(extra: Record<string, string> = {}): Promise<{ rt: Runtime; config: Config; env: Record<string, string>; close: () => Promise<void> }> {
  ensureTestServices();
  const env = testEnv(extra);
  const config = parseConfig(env);
  const rt = await createRuntime(config, { logger: testLogger, metrics: createMetrics({ defaultMetrics: false }) });
  return {
    rt,
    config,
    env,
    close: async () => {
      await rt.db.dropDatabase().catch(() => undefined);
      await rt.close();
      fs.rmSync(config.dataDir, { recursive: true, force: true });
    },
  };
}

export interface TestApp {
  base: string;
  /** fetch as the spec's own signed-in account (Authorization: Bearer …). */
  fetch: (url: string, init?: RequestInit) => Promise<Response>;
  username: string;
  close: () => Promise<void>;
}

let appAccounts = 0;

/**
 * The app on an ephemeral port, exactly as production mounts it: every route authenticated,
 * checked and audited. The spec gets an account of its own (`as`: roles, default an archivist of
 * every fonds with full clearance) and a `fetch` that sends its token; specs about identity and
 * permissions create further accounts with signedInUsers.
 */
export async function serveTestApp(rt: Runtime, opts: { as?: string[] } = {}): Promise<TestApp> {
  const app = createApp({ config: rt.config, logger: rt.logger, metrics: rt.metrics, readiness: rt.readiness, routes: featureRoutes(rt), auth: { auth: rt.auth, audit: rt.audit } });
  const server = http.createServer(app.callback());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const username = `spec.user${++appAccounts}`;
  const password = 'Spec-Account-Passw0rd';
  await rt.auth.createUser({ username, roles: opts.as ?? ['archivist'], password, clearance: rt.config.clearanceLevels.at(-1)!, scope: { fonds: '*' } });
  const token = await signIn(base, username, password);
  return {
    base,
    username,
    fetch: (url, init = {}) => fetch(url, { ...init, headers: { ...(init.headers as Record<string, string> | undefined), authorization: `Bearer ${token}` } }),
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** Signs in over HTTP and returns the bearer token. */
export async function signIn(base: string, username: string, password: string): Promise<string> {
  const res = await fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
  if (res.status !== 200) throw new Error(`sign-in of ${username} failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

/**
 * Accounts with a password and one role each, signed in: username → bearer token. Entries are
 * [username, role, fonds scope, clearance]; scope '*' when fonds is omitted, clearance 'sensitive'.
 */
export async function signedInUsers(rt: Runtime, base: string, users: Array<[string, string, string[]?, string?]>, password: string): Promise<Record<string, string>> {
  const tokens: Record<string, string> = {};
  for (const [username, role, fonds, clearance] of users) {
    await rt.auth.createUser({ username, roles: [role], password, clearance: clearance ?? 'sensitive', scope: { fonds: fonds ?? '*', agencies: '*', districts: '*' } });
    tokens[username] = await signIn(base, username, password);
  }
  return tokens;
}

