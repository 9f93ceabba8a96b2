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

export async function serveTestApp(rt: Runtime): Promise<{ base: string; close: () => Promise<void> }> {
  const app = createApp({ config: rt.config, logger: rt.logger, metrics: rt.metrics, readiness: rt.readiness, routes: featureRoutes(rt) });
  const server = http.createServer(app.callback());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
