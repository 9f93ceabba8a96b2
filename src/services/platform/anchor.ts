/**
 * Audit checkpoints anchored outside the database (issue #13.7): opens the object-locked anchor
 * store of storage/ with the configured bucket, retention and credentials.
 */
import type { Logger } from 'pino';
import { createAnchorStore, isStorageError, type AuditAnchorStore } from '../../../storage';
import type { Config } from '../../config';
import { AppError } from '../../errors';

export type { AuditAnchorStore };

export async function openAuditAnchor(config: Config, logger: Logger): Promise<AuditAnchorStore | null> {
  const a = config.auditAnchor;
  if (!a) return null;
  try {
    const store = await createAnchorStore({
      minio: { endPoint: config.minio.endPoint, port: config.minio.port, useSSL: config.minio.useSSL, accessKey: a.accessKey, secretKey: a.secretKey },
      bucket: a.bucket,
      retentionDays: a.retentionDays,
    });
    logger.debug({ bucket: a.bucket, retentionDays: a.retentionDays }, 'audit anchor bucket ready (COMPLIANCE object lock)');
    return store;
  } catch (err) {
    if (isStorageError(err, 'invalid_argument')) {
      throw new AppError('config_invalid', {
        message: `The audit anchor bucket ${a.bucket} has no COMPLIANCE object lock; anchors there could be deleted. Use a new bucket name (AUDIT_ANCHOR_BUCKET) and the system creates it locked`,
        zh: `审计锚定存储桶 ${a.bucket} 未启用合规模式对象锁定，锚点可被删除；请改用新的存储桶名（AUDIT_ANCHOR_BUCKET），系统会以锁定方式创建`,
        cause: err,
      });
    }
    throw new AppError('service_unavailable', { message: `The audit anchor bucket ${a.bucket} could not be opened: ${(err as Error).message}`, zh: `无法打开审计锚定存储桶 ${a.bucket}`, cause: err });
  }
}
