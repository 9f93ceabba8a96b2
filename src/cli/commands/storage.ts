import { AppError } from '../../errors';
import { migrateStorageToLockedBucket } from '../../services/platform';
import { itemProtection, protectFiledItems } from '../../services/records';
import { describeCliForAudit } from '../identity';
import { withRuntime } from '../runtime';
import type { Command } from '../command';

export const storageCommand: Command = {
  name: 'storage',
  summary: 'Object-lock protection of the stored objects (WORM): status, protect filed items, migrate into a locked bucket',
  usage: '<status|protect|protection ITEM|migrate-lock --to BUCKET>',
  subcommands: [
    {
      name: 'status',
      permission: 'storage.manage',
      summary: 'Whether the archive bucket has object lock, and whether the executor credential is configured',
      usage: '',
      run: async ({ values, io }) =>
        withRuntime(async (rt) => {
          const locked = await rt.storage.blobs.objectLock();
          const out = { bucket: rt.config.minio.bucket, objectLock: locked, mode: rt.config.minio.objectLock, executorCredential: rt.config.minio.executor !== null };
          if (values.json) return io.out(JSON.stringify(out));
          io.out(`bucket ${out.bucket}: ${locked ? '已启用对象锁定 object lock on' : '未启用对象锁定 object lock OFF — run "archive storage migrate-lock --to NEW_BUCKET"'}; 执行人特权凭据 executor credential: ${out.executorCredential ? 'configured' : 'not configured'}`);
        }),
    },
    {
      name: 'protect',
      permission: 'storage.manage',
      summary: 'Put every filed item\'s objects under governance retention until its appraisal date (永久: far date); idempotent, only extends',
      usage: '',
      run: async ({ values, io }) =>
        withRuntime(async (rt) => {
          const out = await protectFiledItems(rt, { onProgress: (done, total) => done % 100 === 0 && io.err(`… ${done}/${total}`) });
          describeCliForAudit({ type: 'bucket', id: rt.config.minio.bucket }, { items: out.items, protected: out.protected });
          io.out(values.json ? JSON.stringify(out) : `已保护 protected ${out.protected}/${out.items} items (${out.keys} objects)`);
        }),
    },
    {
      name: 'protection',
      permission: 'storage.manage',
      summary: 'The retention and legal hold in force on each stored object of an item',
      usage: 'ITEM',
      run: async ({ values, positionals, io }) =>
        withRuntime(async (rt) => {
          if (!positionals[0]) throw new AppError('item_not_found', { details: { id: null } });
          const { item, objects: rows } = await itemProtection(rt, positionals[0]);
          if (values.json) return io.out(JSON.stringify({ item, objects: rows }));
          for (const r of rows) io.out(`${r.key}  ${r.retainUntil ?? '—'}  ${r.legalHold ? '冻结 legal hold' : ''}`);
        }),
    },
    {
      name: 'migrate-lock',
      permission: 'storage.manage',
      summary: 'Copy every stored object into a new bucket created with object lock, verifying each copy by SHA-256; resumable',
      usage: '--to BUCKET --yes',
      description: 'Object lock can only be switched on when a bucket is created. Afterwards set MINIO_BUCKET=BUCKET and run "archive storage protect". The old bucket is left untouched.',
      options: { to: { type: 'string', description: 'the new bucket (made with object lock)', valueName: 'BUCKET' }, yes: { type: 'boolean', description: 'run it (without: explain and stop)' } },
      run: async ({ values, io }) => {
        if (typeof values.to !== 'string' || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(values.to)) {
          throw new AppError('validation_failed', { message: 'Give --to NEW_BUCKET (a valid S3 bucket name)', zh: '请用 --to 指定新存储桶名称', details: { field: 'to' } });
        }
        const to = values.to;
        return withRuntime(async (rt) => {
          if (to === rt.config.minio.bucket) throw new AppError('validation_failed', { message: 'The target must be a new bucket', zh: '目标存储桶必须是新的存储桶', details: { field: 'to' } });
          if (values.yes !== true) {
            io.out(`将把 ${rt.config.minio.bucket} 中的全部对象复制到启用对象锁定的新存储桶 ${to}（逐个校验，可中断续传）。加 --yes 执行。 / Would copy every object of ${rt.config.minio.bucket} into ${to}; add --yes.`);
            return 2;
          }
          describeCliForAudit({ type: 'bucket', id: to }, { from: rt.config.minio.bucket });
          const r = await migrateStorageToLockedBucket(rt, to, { onProgress: (p) => p.examined % 200 === 0 && io.err(`… ${p.examined} examined, ${p.copied} copied, ${p.skipped} already done`) });
          if (values.json) return io.out(JSON.stringify(r));
          io.out(`已迁移 migrated ${r.from} → ${r.to}: ${r.examined} objects, ${r.copied} copied and verified, ${r.skipped} done before (${r.bytes} bytes). Now set MINIO_BUCKET=${r.to} and run "archive storage protect".`);
        });
      },
    },
  ],
};
