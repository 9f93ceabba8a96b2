/**
 * Object lock can only be switched on when a bucket is created, so an archive whose bucket has
 * none moves into a new, locked bucket. The objects are copied as they are stored — ciphertext,
 * key records, tombstones — so nothing is decrypted and no key changes; each copy is read back and
 * its SHA-256 compared with the source's before it counts as done. The caller keeps the progress
 * (`isDone` / `markDone`, e.g. a database collection), so a run stopped at any point resumes where
 * it left off, and a second full run copies nothing.
 */
import { createHash } from 'node:crypto';
import { PassThrough, pipeline, type Readable } from 'node:stream';
import * as Minio from 'minio';
import { StorageError } from './errors';
import type { MinioConnection } from './minio-store';

export interface MigrateOptions {
  minio: MinioConnection;
  from: string;
  to: string;
  /** Whether an object name was already copied and verified (by an earlier, interrupted run). */
  isDone: (name: string) => Promise<boolean>;
  /** Records a verified copy; called once per object, after the read-back matched. */
  markDone: (name: string, info: { sha256: string; size: number }) => Promise<void>;
  onProgress?: (p: { examined: number; copied: number; skipped: number }) => void;
}

export interface MigrateResult {
  examined: number;
  copied: number;
  skipped: number;
  bytes: number;
}

async function hashOf(stream: Readable): Promise<{ sha256: string; size: number }> {
  const h = createHash('sha256');
  let size = 0;
  for await (const c of stream) {
    h.update(c as Buffer);
    size += (c as Buffer).length;
  }
  return { sha256: h.digest('hex'), size };
}

export async function migrateToLockedBucket(opts: MigrateOptions): Promise<MigrateResult> {
  const client = new Minio.Client({ ...opts.minio });
  if (!(await client.bucketExists(opts.from))) throw new StorageError('invalid_argument', `source bucket ${opts.from} does not exist`);
  if (await client.bucketExists(opts.to)) {
    const cfg = await (client.getObjectLockConfig(opts.to) as unknown as Promise<{ objectLockEnabled?: string }>).catch(() => null);
    if (cfg?.objectLockEnabled !== 'Enabled') throw new StorageError('invalid_argument', `target bucket ${opts.to} exists without object lock; name a new bucket`);
  } else {
    await client.makeBucket(opts.to, '', { ObjectLocking: true });
  }
  const result: MigrateResult = { examined: 0, copied: 0, skipped: 0, bytes: 0 };
  for await (const it of client.listObjectsV2(opts.from, '', true) as AsyncIterable<{ name?: string; size?: number }>) {
    const name = it.name;
    if (!name) continue;
    result.examined++;
    if (await opts.isDone(name)) {
      result.skipped++;
      opts.onProgress?.({ ...result });
      continue;
    }
    // Stream through: hash while uploading, so memory stays bounded for large scans.
    const src = await client.getObject(opts.from, name);
    const tee = new PassThrough();
    const h = createHash('sha256');
    let size = 0;
    src.on('data', (c: Buffer) => {
      h.update(c);
      size += c.length;
    });
    pipeline(src, tee, () => undefined);
    await client.putObject(opts.to, name, tee, undefined, { 'Content-Type': 'application/octet-stream' });
    const source = { sha256: h.digest('hex'), size };
    const copy = await hashOf(await client.getObject(opts.to, name));
    if (copy.sha256 !== source.sha256 || copy.size !== source.size) {
      throw new StorageError('integrity_error', `${name}: the copy in ${opts.to} does not match the source (sha256 ${copy.sha256} ≠ ${source.sha256})`, { details: { name } });
    }
    await opts.markDone(name, source);
    result.copied++;
    result.bytes += size;
    opts.onProgress?.({ ...result });
  }
  return result;
}
