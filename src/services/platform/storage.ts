/**
 * Opens the encrypted blob store for the app: the keystore (created on first run in embedded
 * mode, with its passphrase in a 0600 file beside it) and the MinIO-backed store.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Config } from '../../config';
import { AppError } from '../../errors';
import { createBlobStore, openKeyring, type BlobStore, type Keyring } from '../../../storage';

export interface StorageHandle {
  blobs: BlobStore;
  keyring: Keyring;
  keysLoaded: () => boolean;
}

/** Embedded mode keeps a generated passphrase next to the keystore; production must pass one. */
function keystorePassphrase(config: Config, logger: Logger): string {
  if (config.keystore.passphrase) return config.keystore.passphrase;
  const file = path.join(config.keystore.dir, 'passphrase.local');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(config.keystore.dir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(file, randomBytes(24).toString('base64url'), { mode: 0o600, flag: 'wx' });
    logger.warn({ file }, 'embedded mode: generated a keystore passphrase file; set ARCHIVE_KEYSTORE_PASSPHRASE in production');
  }
  return fs.readFileSync(file, 'utf8').trim();
}

export async function openStorage(config: Config, logger: Logger): Promise<StorageHandle> {
  const passphrase = keystorePassphrase(config, logger);
  const { keyring, created } = await openKeyring({ dir: config.keystore.dir, passphrase, createIfMissing: config.env !== 'production' });
  if (created) logger.warn({ dir: config.keystore.dir }, 'created a new keystore with one key-encryption key; back it up: without it no archived object can be read');
  const blobs = await createBlobStore({
    minio: {
      endPoint: config.minio.endPoint,
      port: config.minio.port,
      useSSL: config.minio.useSSL,
      accessKey: config.minio.accessKey,
      secretKey: config.minio.secretKey,
    },
    bucket: config.minio.bucket,
    keyring,
    objectLock: config.minio.objectLock,
    idleTimeoutMs: config.minio.idleTimeoutMs,
    ...(config.minio.executor
      ? { privileged: { endPoint: config.minio.endPoint, port: config.minio.port, useSSL: config.minio.useSSL, ...config.minio.executor } }
      : {}),
    onIntegrityFailure: (e) => logger.error({ err: e }, 'integrity failure on read: stored content does not authenticate'),
  }).catch((err: unknown) => {
    throw new AppError('service_unavailable', {
      message: `MinIO is not reachable at ${config.minio.endPoint}:${config.minio.port}: ${(err as Error).message}. Start the local services with "npm run services:up" or set MINIO_ENDPOINT.`,
      zh: `无法连接 MinIO（${config.minio.endPoint}:${config.minio.port}）。请先运行 "npm run services:up" 启动本地服务，或设置 MINIO_ENDPOINT。`,
      cause: err,
    });
  });
  return { blobs, keyring, keysLoaded: () => keyring.kekIds().length > 0 };
}
