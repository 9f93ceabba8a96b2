/**
 * Moving an archive into a bucket with object lock (issue #11 §5). S3 object lock can only be
 * switched on when a bucket is created, so the stored objects are copied as they are (ciphertext,
 * key records, tombstones: nothing decrypted, no key changed) into a new locked bucket, each copy
 * read back and compared by SHA-256; progress lives in `storage_migrations`, so a stopped run
 * resumes. Afterwards point MINIO_BUCKET at the new bucket and run `archive storage protect` to
 * put every filed item under retention there.
 */
import { migrateToLockedBucket, type MigrateResult } from '../../../storage';
import { storageMigrationModel } from '../../models/storage-migration.model';
import type { Runtime } from '../../runtime';

const rowId = (to: string, name: string): string => `${to}\u0000${name}`;

export async function migrateStorageToLockedBucket(
  rt: Runtime,
  to: string,
  opts: { onProgress?: (p: { examined: number; copied: number; skipped: number }) => void } = {},
): Promise<MigrateResult & { from: string; to: string }> {
  const rows = storageMigrationModel(rt.db);
  const from = rt.config.minio.bucket;
  const { endPoint, port, useSSL, accessKey, secretKey } = rt.config.minio;
  const result = await migrateToLockedBucket({
    minio: { endPoint, port, useSSL, accessKey, secretKey },
    from,
    to,
    isDone: async (name) => (await rows.exists({ _id: rowId(to, name) })) !== null,
    markDone: async (name, info) => {
      await rows.updateOne({ _id: rowId(to, name) }, { $set: { from, to, name, sha256: info.sha256, size: info.size, at: new Date() } }, { upsert: true });
    },
    onProgress: opts.onProgress,
  });
  return { ...result, from, to };
}
