/**
 * Write-once anchors (issue #13.7): small JSON records in a MinIO bucket created with object lock
 * whose default retention is COMPLIANCE mode. For the retention period no one — the writer, a
 * database administrator, MinIO's root user — can delete or overwrite a stored version, and the
 * retention cannot be shortened. The app anchors its signed audit checkpoints here, so cutting
 * the audit chain back in the database no longer goes unnoticed.
 *
 * Objects are `checkpoints/<seq, 12 digits>.json`, so the newest anchor at or after a seq is found
 * by listing from there. A bucket that exists without COMPLIANCE lock is refused, never used.
 */
import { Client } from 'minio';
import { StorageError } from './errors';
import type { MinioConnection } from './minio-store';

export interface AnchoredCheckpoint {
  seq: number;
  hash: string;
  at: string;
  signature: string;
  /** SHA-256 fingerprint of the signing certificate */
  cert: string;
}

export interface AnchorLocation {
  bucket: string;
  key: string;
  versionId: string | null;
  mode: string | null;
  retainUntil: string | null;
}

export interface AuditAnchorStore {
  readonly bucket: string;
  put(cp: AnchoredCheckpoint): Promise<AnchorLocation>;
  /** The anchored checkpoint with the highest seq ≥ `seq`, or null. */
  latestFrom(seq: number): Promise<(AnchoredCheckpoint & { location: AnchorLocation }) | null>;
}

const PREFIX = 'checkpoints/';
const keyOf = (seq: number) => `${PREFIX}${String(seq).padStart(12, '0')}.json`;

async function ensureLockedBucket(client: Client, bucket: string, days: number): Promise<void> {
  if (!(await client.bucketExists(bucket))) {
    try {
      await client.makeBucket(bucket, '', { ObjectLocking: true });
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code !== 'BucketAlreadyOwnedByYou' && code !== 'BucketAlreadyExists') throw err;
    }
    await client.setObjectLockConfig(bucket, { mode: 'COMPLIANCE' as never, unit: 'Days' as never, validity: days });
  }
  const cfg = (await (client.getObjectLockConfig(bucket) as unknown as Promise<{ objectLockEnabled?: string; mode?: string }>).catch(() => null)) ?? null;
  if (!cfg || cfg.objectLockEnabled !== 'Enabled' || cfg.mode !== 'COMPLIANCE') {
    throw new StorageError('invalid_argument', `The anchor bucket ${bucket} has no COMPLIANCE object lock; anchors there could be deleted`, { details: { bucket, reason: 'not_locked' } });
  }
}

export interface AnchorStoreConfig {
  minio: MinioConnection;
  bucket: string;
  /** COMPLIANCE retention of each anchor, in days (set on the bucket when it is created) */
  retentionDays: number;
}

export async function createAnchorStore(a: AnchorStoreConfig): Promise<AuditAnchorStore> {
  const client = new Client({ ...a.minio });
  await ensureLockedBucket(client, a.bucket, a.retentionDays);

  const locate = async (key: string, versionId: string | null): Promise<AnchorLocation> => {
    const r = (await client.getObjectRetention(a.bucket, key, versionId ? { versionId } : undefined).catch(() => null)) as { mode?: string; retainUntilDate?: string } | null;
    return { bucket: a.bucket, key, versionId, mode: r?.mode ?? null, retainUntil: r?.retainUntilDate ?? null };
  };

  return {
    bucket: a.bucket,
    async put(cp) {
      const key = keyOf(cp.seq);
      const body = Buffer.from(JSON.stringify(cp));
      const res = await client.putObject(a.bucket, key, body, body.length, { 'Content-Type': 'application/json' });
      return locate(key, res.versionId ?? null);
    },
    async latestFrom(seq) {
      const names: string[] = [];
      await new Promise<void>((resolve, reject) => {
        const s = client.listObjectsV2(a.bucket, PREFIX, true, seq > 0 ? keyOf(seq - 1) : '');
        s.on('data', (o: { name?: string }) => {
          if (o.name) names.push(o.name);
        });
        s.on('end', () => resolve());
        s.on('error', reject);
      });
      const last = names.filter((n) => /^checkpoints\/\d{12}\.json$/.test(n)).sort().at(-1);
      if (!last) return null;
      const stream = await client.getObject(a.bucket, last);
      const chunks: Buffer[] = [];
      for await (const c of stream) chunks.push(c as Buffer);
      const cp = JSON.parse(Buffer.concat(chunks).toString('utf8')) as AnchoredCheckpoint;
      const stat = await client.statObject(a.bucket, last);
      return { ...cp, location: await locate(last, stat.versionId ?? null) };
    },
  };
}
