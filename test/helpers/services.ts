/**
 * Real services for integration tests. scripts/test.sh starts FerretDB and MinIO on the test
 * ports before mocha runs; running a single spec by hand starts them here the same way.
 * Nothing is mocked: tests talk to the same servers production code does.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');

export const TEST_PORTS = {
  mongo: Number(process.env.ARCHIVE_MONGO_PORT ?? 27317),
  minio: Number(process.env.ARCHIVE_MINIO_PORT ?? 9300),
  minioConsole: Number(process.env.ARCHIVE_MINIO_CONSOLE_PORT ?? 9301),
};

export const MINIO_CREDENTIALS = { accessKey: 'archive-local', secretKey: 'archive-local-secret' };

let started = false;

/** Starts (or finds running) the test FerretDB and MinIO. Idempotent and cheap once up. */
export function ensureTestServices(): void {
  if (started) return;
  execFileSync('bash', [path.join(REPO_ROOT, 'scripts/services.sh'), 'up'], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env,
      ARCHIVE_DATA_DIR: process.env.ARCHIVE_DATA_DIR ?? path.join(REPO_ROOT, '.data/test'),
      ARCHIVE_MONGO_PORT: String(TEST_PORTS.mongo),
      ARCHIVE_MINIO_PORT: String(TEST_PORTS.minio),
      ARCHIVE_MINIO_CONSOLE_PORT: String(TEST_PORTS.minioConsole),
    },
  });
  started = true;
}

/** A fresh database name per test file so specs never see each other's data. */
export function testMongoUri(prefix = 't'): string {
  return `mongodb://127.0.0.1:${TEST_PORTS.mongo}/${prefix}_${randomBytes(4).toString('hex')}`;
}

/** A fresh bucket name per test file (S3 names: lowercase, digits, dashes). */
export function testBucket(prefix = 't'): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

export function testMinioConfig(): { endPoint: string; port: number; useSSL: boolean; accessKey: string; secretKey: string } {
  return { endPoint: '127.0.0.1', port: TEST_PORTS.minio, useSSL: false, ...MINIO_CREDENTIALS };
}
