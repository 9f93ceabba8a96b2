/**
 * A worker checks, before it claims anything, that its keystore opens this archive's data keys.
 * A worker started with the wrong keystore (another archive's, a wrong passphrase, or pointed at
 * another archive's database) would otherwise claim every job, fail each one on the first read and
 * burn its attempts: it must refuse to start with a message that says what is wrong (issue #12 §5).
 */
import { AppError } from '../errors';
import { itemModel } from '../models/item.model';
import type { Runtime } from '../runtime';
import { indexKey } from '../services/platform';

function isKeyFailure(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return code === 'key_not_found' || code === 'integrity_error';
}

export async function assertArchiveKeysOpen(rt: Runtime): Promise<void> {
  const where = `keystore ${rt.config.keystore.dir}, bucket ${rt.config.minio.bucket}`;
  try {
    // The application key object is wrapped like every blob: it opens only under this archive's KEKs.
    await indexKey(rt);
    // Items' sealed fields are keyed from it: the newest item must open too (catches a database
    // that belongs to another archive, whose items were sealed under another key).
    await itemModel(rt.db).findOne({}).sort({ _id: -1 }).lean();
  } catch (err) {
    if (!isKeyFailure(err)) throw err;
    throw new AppError('keystore_mismatch', {
      message: `This worker cannot open the archive's data keys (${where}): ${(err as Error).message}. Check ARCHIVE_KEYSTORE_DIR and ARCHIVE_KEYSTORE_PASSPHRASE, and that MONGODB_URI / MINIO_BUCKET are this archive's. No job was claimed.`,
      zh: `本工作进程无法解开档案的数据密钥（${where}）。请检查 ARCHIVE_KEYSTORE_DIR、ARCHIVE_KEYSTORE_PASSPHRASE，以及 MONGODB_URI / MINIO_BUCKET 是否属于本档案。未领取任何任务。`,
      cause: err,
    });
  }
}
