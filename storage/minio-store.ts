/**
 * The MinIO (S3) backend: raw ciphertext objects in one bucket, streamed with multipart uploads.
 */
import { createHash } from 'node:crypto';
import { PassThrough, pipeline, type Readable } from 'node:stream';
import * as Minio from 'minio';
import { StorageError } from './errors';
import { createEnvelopeStore, type RawBackend, type RawVersion } from './blob-store';
import { stallGuardAgent } from './stall-guard';
import { directGet, type DirectGet } from './direct-get';
import type { Keyring } from './keyring';
import type { BlobStore, IntegrityFailureHandler } from './types';

export interface MinioConnection {
  endPoint: string;
  port: number;
  useSSL: boolean;
  accessKey: string;
  secretKey: string;
  region?: string;
}

export interface BlobStoreConfig {
  minio: MinioConnection;
  bucket: string;
  keyring: Keyring;
  onIntegrityFailure?: IntegrityFailureHandler;
  /**
   * Multipart part size (default 8 MiB). Each upload holds about three parts, so this bounds
   * put's memory; objects can reach 10 000 parts (80 GB at the default).
   */
  partSize?: number;
  /** How long ping and start-up wait for MinIO (default 5000 ms). */
  timeoutMs?: number;
  /** A connection that carries no byte this long is cut and reported unavailable (default 30 000 ms; stall-guard.ts). */
  idleTimeoutMs?: number;
  /** Plaintext segment size for new objects (default 64 KiB). */
  segmentSize?: number;
  /** Run AES-GCM on a worker thread (default true). */
  cryptoThreads?: boolean;
  /** Reads over 2 MiB decrypt on the crypto worker (default false: on the calling thread; blob-store.ts compares them). */
  decryptThreads?: boolean;
  /**
   * S3 object lock (WORM). 'off' (default): buckets are made without it. 'auto': a missing bucket is
   * made with it, an existing one is used as it is. 'require': an existing bucket without object
   * lock is refused (it can only be switched on when a bucket is created: migrate the objects with
   * migrateToLockedBucket).
   */
  objectLock?: 'off' | 'auto' | 'require';
  /**
   * A second, privileged credential allowed s3:BypassGovernanceRetention, used only by
   * shred({ bypassGovernance: true }) — the destruction executor's path. The main credential
   * should not hold that permission, so it cannot remove a protected object early.
   */
  privileged?: MinioConnection;
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPROTO', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'ServiceUnavailable', 'XMinioServerNotInitialized']);
const MISSING_CODES = new Set(['NoSuchKey', 'NotFound', 'NoSuchVersion']);
/** MinIO refuses writes below its minimum free drive space (XMinioStorageFull); S3 has no such code. */
const FULL_CODES = new Set(['XMinioStorageFull', 'XMinioAdminNoSpace']);
const NO_LOCK_CODES = new Set(['NoSuchObjectLockConfiguration', 'ObjectLockConfigurationNotFoundError', 'NoSuchObjectLegalHold', 'InvalidRequest']);

/** MinIO answers a delete refused by object lock with InvalidRequest "Object is WORM protected…" or AccessDenied. */
function isLockRefusal(err: unknown): boolean {
  const code = codeOf(err) ?? '';
  return (code === 'InvalidRequest' || code === 'AccessDenied' || code === 'ObjectLocked') && /WORM|lock|retention|legal hold|access denied/i.test((err as Error).message ?? '') || code === 'AccessDenied';
}

/** Far-future governance retention for what is kept permanently (永久): S3 has no "forever". */
export const PERMANENT_RETENTION = new Date('9999-12-31T00:00:00.000Z');

function codeOf(err: unknown): string | undefined {
  const c = (err as { code?: unknown })?.code;
  return typeof c === 'string' ? c : undefined;
}

/** Network failures become service_unavailable; everything else passes through unchanged. */
function mapError(err: unknown, what: string): unknown {
  if (err instanceof StorageError) return err;
  const code = codeOf(err);
  if (code && NETWORK_CODES.has(code)) {
    return new StorageError('service_unavailable', `object storage unavailable while ${what}: ${(err as Error).message}`, { cause: err });
  }
  if (code && FULL_CODES.has(code)) {
    return new StorageError('storage_full', `object storage is full while ${what}: ${(err as Error).message}`, { cause: err });
  }
  return err;
}

async function guard<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw mapError(err, what);
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StorageError('service_unavailable', `object storage did not answer within ${ms} ms while ${what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Reads up to `limit` bytes; `ended` tells whether that was all of it. */
async function readPrefix(stream: Readable, limit: number): Promise<{ chunks: Buffer[]; total: number; ended: boolean }> {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    if (total >= limit) return { chunks, total, ended: false };
    const c = stream.read() as Buffer | null;
    if (c !== null) {
      chunks.push(c);
      total += c.length;
      continue;
    }
    if (stream.readableEnded) return { chunks, total, ended: true };
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error): void => {
        stream.off('readable', ok).off('end', ok).off('error', done);
        if (err) reject(err);
        else resolve();
      };
      const ok = (): void => done();
      stream.on('readable', ok).on('end', ok).on('error', done);
    });
    if (stream.errored) throw stream.errored;
  }
}

/** Listings in flight at once (versions, unfinished uploads). */
const LIST_CONCURRENCY = 16;

async function eachLimit<T>(xs: readonly T[], n: number, fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, xs.length) }, async () => {
      while (next < xs.length) await fn(xs[next++]!);
    }),
  );
}

function xmlEscape(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
}

function xmlUnescape(s: string): string {
  return s.replace(/&(lt|gt|amp|apos|quot);/g, (_, e: string) => ({ lt: '<', gt: '>', amp: '&', apos: "'", quot: '"' })[e]!);
}

interface DeleteFailure {
  key: string;
  versionId: string;
  code: string;
  message: string;
}

/** The <Error> entries of a multi-object delete's answer (quiet mode lists only failures). */
function parseDeleteErrors(xml: string): DeleteFailure[] {
  const out: DeleteFailure[] = [];
  for (const m of xml.matchAll(/<Error>([\s\S]*?)<\/Error>/g)) {
    const field = (tag: string) => xmlUnescape(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(m[1]!)?.[1] ?? '');
    out.push({ key: field('Key'), versionId: field('VersionId'), code: field('Code'), message: field('Message') });
  }
  return out;
}

class MinioBackend implements RawBackend {
  private lockState: Promise<boolean> | undefined;

  constructor(
    private readonly client: Minio.Client,
    private readonly bucket: string,
    private readonly partSize: number,
    private readonly timeoutMs: number,
    private readonly lockMode: 'off' | 'auto' | 'require' = 'off',
    private readonly privileged: Minio.Client | null = null,
    direct: { idleMs: number } | null = null,
  ) {
    // Over TLS, large reads keep the client's path (direct-get.ts speaks plain HTTP only).
    if (direct) {
      this.readDirect = async (name, range, prefix): Promise<DirectGet | null> => {
        try {
          const url = await this.client.presignedGetObject(this.bucket, name, 300);
          return await directGet({ url, range, idleMs: direct.idleMs, prefix });
        } catch (err) {
          if (MISSING_CODES.has(codeOf(err) ?? '')) return null;
          if (codeOf(err) === 'InvalidRange') throw new StorageError('integrity_error', `${name} is shorter than its key record says`, { cause: err });
          throw mapError(err, `reading ${name}`);
        }
      };
    }
  }

  readonly readDirect?: RawBackend['readDirect'];

  objectLock(): Promise<boolean> {
    this.lockState ??= (this.client.getObjectLockConfig(this.bucket) as unknown as Promise<{ objectLockEnabled?: string }>).then(
      (c) => c.objectLockEnabled === 'Enabled',
      (err: unknown) => {
        if (NO_LOCK_CODES.has(codeOf(err) ?? '')) return false;
        this.lockState = undefined;
        throw mapError(err, `reading the object-lock setting of ${this.bucket}`);
      },
    );
    return this.lockState!;
  }

  private async currentVersion(name: string): Promise<string | undefined> {
    const st = await guard(`looking up ${name}`, () => this.client.statObject(this.bucket, name));
    return st.versionId && st.versionId !== 'null' ? st.versionId : undefined;
  }

  /**
   * Governance retention is only ever extended here (shortening it needs the bypass). The date is
   * set first and read only when MinIO refuses it, which it does exactly when the version already
   * holds a later one (then there is nothing to do): one request per object instead of three (look
   * up the version, read its retention, set it), on every filing and every protected write
   * (docs/benchmarks.md, bench:ocr). Without a versionId it applies to the current version.
   */
  async protect(name: string, opts: { retainUntil?: Date; legalHold?: boolean }, versionId?: string): Promise<boolean> {
    if (!(await this.objectLock())) return false;
    // A legal hold and a retention set together go on one version, looked up once.
    const v = versionId ?? (opts.legalHold !== undefined ? await this.currentVersion(name) : undefined);
    if (opts.retainUntil && opts.retainUntil.getTime() > Date.now()) {
      const until = opts.retainUntil;
      try {
        await this.client.putObjectRetention(this.bucket, name, { mode: 'GOVERNANCE', retainUntilDate: until.toISOString(), versionId: v ?? '' } as never);
      } catch (err) {
        if (!isLockRefusal(err)) throw mapError(err, `protecting ${name}`);
        const cur = await this.retention(name, v);
        if (!cur || new Date(cur).getTime() < until.getTime()) throw mapError(err, `protecting ${name}`);
      }
    }
    if (opts.legalHold !== undefined) {
      await guard(`setting the legal hold of ${name}`, () => this.client.setObjectLegalHold(this.bucket, name, { status: (opts.legalHold ? 'ON' : 'OFF') as never, ...(v ? { versionId: v } : {}) }) as unknown as Promise<void>);
    }
    return true;
  }

  private async retention(name: string, versionId?: string): Promise<string | null> {
    try {
      const r = (await this.client.getObjectRetention(this.bucket, name, (versionId ? { versionId } : {}) as never)) as { retainUntilDate?: string } | undefined;
      return r?.retainUntilDate ?? null;
    } catch (err) {
      if (NO_LOCK_CODES.has(codeOf(err) ?? '')) return null;
      throw mapError(err, `reading the retention of ${name}`);
    }
  }

  async protection(name: string): Promise<{ locked: boolean; retainUntil: string | null; legalHold: boolean }> {
    if (!(await this.objectLock())) return { locked: false, retainUntil: null, legalHold: false };
    const v = await this.currentVersion(name);
    let legalHold = false;
    try {
      const h = (await this.client.getObjectLegalHold(this.bucket, name, (v ? { versionId: v } : {}) as never)) as unknown as { Status?: string; status?: string };
      legalHold = (h.Status ?? h.status) === 'ON';
    } catch (err) {
      if (!NO_LOCK_CODES.has(codeOf(err) ?? '')) throw mapError(err, `reading the legal hold of ${name}`);
    }
    return { locked: true, retainUntil: await this.retention(name, v), legalHold };
  }

  async write(name: string, body: Readable | Buffer, opts: { dropOlderVersions?: boolean; retainUntil?: Date } = {}): Promise<void> {
    const meta = { 'Content-Type': 'application/octet-stream' };
    const info = await guard(`writing ${name}`, async () => {
      if (Buffer.isBuffer(body)) return this.client.putObject(this.bucket, name, body, body.length, meta);
      // Small objects go up in one PUT; a multipart upload costs four round trips.
      const head = await readPrefix(body, this.partSize);
      if (head.ended) {
        const buf = Buffer.concat(head.chunks, head.total);
        return this.client.putObject(this.bucket, name, buf, buf.length, meta);
      }
      // A small buffer: a whole part here let encryption run further ahead but cost more memory
      // than it gained in speed on the 2-core reference machine (docs/benchmarks.md).
      const rest = new PassThrough({ highWaterMark: 1024 * 1024 });
      for (const c of head.chunks) rest.write(c);
      pipeline(body, rest, () => undefined);
      try {
        return await this.client.putObject(this.bucket, name, rest, undefined, meta);
      } catch (err) {
        rest.destroy();
        await this.client.removeIncompleteUpload(this.bucket, name).catch(() => undefined);
        throw err;
      }
    });
    const versionId = info.versionId && info.versionId !== 'null' ? info.versionId : undefined;
    if (opts.retainUntil) await this.protect(name, { retainUntil: opts.retainUntil }, versionId);
    if (opts.dropOlderVersions && versionId) await this.removeVersions(name, versionId, { tolerateLocked: true });
  }

  async read(name: string, range?: { offset: number; length: number }): Promise<Readable | null> {
    try {
      return await (range ? this.client.getPartialObject(this.bucket, name, range.offset, range.length) : this.client.getObject(this.bucket, name));
    } catch (err) {
      if (MISSING_CODES.has(codeOf(err) ?? '')) return null;
      if (codeOf(err) === 'InvalidRange') throw new StorageError('integrity_error', `${name} is shorter than its key record says`, { cause: err });
      throw mapError(err, `reading ${name}`);
    }
  }

  async readSmall(name: string): Promise<Buffer | null> {
    const s = await this.read(name);
    if (!s) return null;
    return guard(`reading ${name}`, async () => {
      const chunks: Buffer[] = [];
      for await (const c of s) chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    });
  }

  async exists(name: string): Promise<boolean> {
    try {
      await this.client.statObject(this.bucket, name);
      return true;
    } catch (err) {
      if (MISSING_CODES.has(codeOf(err) ?? '')) return false;
      throw mapError(err, `looking up ${name}`);
    }
  }

  private async versions(name: string): Promise<{ versionId?: string }[]> {
    return guard(`listing versions of ${name}`, async () => {
      const out: { versionId?: string }[] = [];
      const items = this.client.listObjects(this.bucket, name, false, { IncludeVersion: true });
      for await (const it of items as AsyncIterable<{ name?: string; versionId?: string }>) {
        if (it.name === name) out.push({ versionId: it.versionId ?? undefined });
      }
      return out;
    });
  }

  private async removeVersions(name: string, keep?: string, opts: { tolerateLocked?: boolean; bypassGovernance?: boolean } = {}): Promise<number> {
    let client = this.client;
    if (opts.bypassGovernance) {
      if (!this.privileged) throw new StorageError('invalid_argument', 'lifting governance retention needs the privileged credential (BlobStoreConfig.privileged), which is not configured');
      client = this.privileged;
    }
    let n = 0;
    for (const v of await this.versions(name)) {
      if (keep !== undefined && v.versionId === keep) continue;
      try {
        await client.removeObject(this.bucket, name, { ...(v.versionId ? { versionId: v.versionId } : {}), ...(opts.bypassGovernance ? { governanceBypass: true } : {}) });
      } catch (err) {
        if (isLockRefusal(err)) {
          // An older key-record version still under retention (after a rewrap) stays until its date.
          if (opts.tolerateLocked) continue;
          throw new StorageError('object_locked', `${name} is protected by object lock (governance retention or legal hold) and cannot be removed now`, { details: { name }, cause: err });
        }
        throw mapError(err, `removing ${name}`);
      }
      n++;
    }
    return n;
  }

  async versionsOf(names: string[], prefixes: string[]): Promise<Map<string, RawVersion[]>> {
    const out = new Map<string, RawVersion[]>();
    const wanted = new Set(names);
    const scan = async (prefix: string, exact: boolean): Promise<void> => {
      await guard(`listing versions under ${prefix}`, async () => {
        const items = this.client.listObjects(this.bucket, prefix, !exact, { IncludeVersion: true });
        for await (const it of items as AsyncIterable<{ name?: string; versionId?: string | null; isDeleteMarker?: boolean }>) {
          if (!it.name || (exact ? it.name !== prefix : false)) continue;
          const vs = out.get(it.name) ?? [];
          vs.push({ versionId: it.versionId && it.versionId !== 'null' ? it.versionId : '', deleteMarker: it.isDeleteMarker === true });
          out.set(it.name, vs);
        }
      });
    };
    // Prefixes recursively; names one exact listing each (a name may share its prefix with others).
    await eachLimit([...prefixes.map((p) => [p, false] as const), ...[...wanted].filter((n) => !prefixes.some((p) => n.startsWith(p))).map((n) => [n, true] as const)], LIST_CONCURRENCY, ([p, exact]) => scan(p, exact));
    return out;
  }

  /**
   * S3 multi-object delete (POST ?delete), up to 1000 versions a request. Written here rather than
   * with the client's removeObjects, which cannot send x-amz-bypass-governance-retention.
   */
  async removeVersionList(versions: Array<{ name: string } & RawVersion>, opts: { bypassGovernance?: boolean } = {}): Promise<number> {
    let client = this.client;
    if (opts.bypassGovernance) {
      if (!this.privileged) throw new StorageError('invalid_argument', 'lifting governance retention needs the privileged credential (BlobStoreConfig.privileged), which is not configured');
      client = this.privileged;
    }
    const batches: Array<typeof versions> = [];
    for (let i = 0; i < versions.length; i += 1000) batches.push(versions.slice(i, i + 1000));
    const failures: DeleteFailure[] = [];
    await eachLimit(batches, 4, async (batch) => {
      const body = Buffer.from(
        `<Delete><Quiet>true</Quiet>${batch.map((v) => `<Object><Key>${xmlEscape(v.name)}</Key>${v.versionId ? `<VersionId>${xmlEscape(v.versionId)}</VersionId>` : ''}</Object>`).join('')}</Delete>`,
      );
      const headers: Record<string, string> = { 'Content-MD5': createHash('md5').update(body).digest('base64'), 'Content-Type': 'application/xml' };
      if (opts.bypassGovernance) headers['x-amz-bypass-governance-retention'] = 'true';
      const res = await guard(`removing ${batch.length} object versions`, async () => {
        const r = await client.makeRequestAsync({ method: 'POST', bucketName: this.bucket, query: 'delete', headers }, body, [200]);
        const chunks: Buffer[] = [];
        for await (const c of r) chunks.push(c as Buffer);
        return Buffer.concat(chunks).toString('utf8');
      });
      failures.push(...parseDeleteErrors(res));
    });
    // A version already gone is what we wanted.
    const real = failures.filter((f) => !MISSING_CODES.has(f.code));
    if (real.length) {
      const f = real[0]!;
      const err = Object.assign(new Error(f.message), { code: f.code });
      if (isLockRefusal(err)) throw new StorageError('object_locked', `${f.key} is protected by object lock (governance retention or legal hold) and cannot be removed now`, { details: { name: f.key, failed: real.length }, cause: err });
      throw mapError(Object.assign(new Error(`removing ${f.key} failed: ${f.code} ${f.message}`), { code: f.code }), `removing ${f.key}`);
    }
    return versions.length;
  }

  async abortUploads(names: string[], prefixes: string[]): Promise<void> {
    const targets = [...prefixes, ...names];
    if (!targets.length) return;
    // One listing under the targets' common folder: unfinished uploads are few (a crashed large
    // put, or one in flight), so this costs one request where a listing per target cost many.
    let root = targets[0]!;
    for (const t of targets) while (!t.startsWith(root)) root = root.slice(0, -1);
    root = root.slice(0, root.lastIndexOf('/') + 1);
    const named = new Set(names);
    const mine = (key: string) => named.has(key) || prefixes.some((p) => key.startsWith(p));
    const uploads: Array<{ key: string; uploadId: string }> = [];
    await guard(`listing unfinished uploads under ${root}`, async () => {
      for await (const u of this.client.listIncompleteUploads(this.bucket, root, true) as AsyncIterable<{ key?: string; uploadId?: string }>) {
        if (u.key && u.uploadId && mine(u.key)) uploads.push({ key: u.key, uploadId: u.uploadId });
      }
    });
    await eachLimit(uploads, LIST_CONCURRENCY, (u) => guard(`aborting the upload of ${u.key}`, () => this.client.abortMultipartUpload(this.bucket, u.key, u.uploadId)));
  }

  async removeAll(name: string, opts: { bypassGovernance?: boolean } = {}): Promise<number> {
    await this.client.removeIncompleteUpload(this.bucket, name).catch(() => undefined);
    return this.removeVersions(name, undefined, opts);
  }

  async *list(prefix: string): AsyncIterable<string> {
    try {
      for await (const it of this.client.listObjectsV2(this.bucket, prefix, true) as AsyncIterable<{ name?: string }>) {
        if (it.name) yield it.name;
      }
    } catch (err) {
      throw mapError(err, `listing ${prefix}`);
    }
  }

  async ping(): Promise<void> {
    const exists = await withTimeout(guard('checking the bucket', () => this.client.bucketExists(this.bucket)), this.timeoutMs, 'checking the bucket');
    if (!exists) throw new StorageError('service_unavailable', `bucket ${this.bucket} does not exist`);
  }

  async ensureBucket(): Promise<void> {
    const what = `checking bucket ${this.bucket}`;
    const exists = await withTimeout(guard(what, () => this.client.bucketExists(this.bucket)), this.timeoutMs, what);
    if (exists) {
      if (this.lockMode === 'require' && !(await this.objectLock())) {
        throw new StorageError('invalid_argument', `bucket ${this.bucket} has no object lock, which can only be switched on when a bucket is created: move the objects into a locked bucket (archive storage migrate-lock)`, { details: { bucket: this.bucket } });
      }
      return;
    }
    try {
      await withTimeout(this.client.makeBucket(this.bucket, '', this.lockMode === 'off' ? {} : { ObjectLocking: true }), this.timeoutMs, `creating bucket ${this.bucket}`);
    } catch (err) {
      // Another process may have created it between our check and our request.
      if (codeOf(err) !== 'BucketAlreadyOwnedByYou') throw mapError(err, `creating bucket ${this.bucket}`);
    }
  }

  /**
   * minio-js forgets a bucket's region after every error answer (a missing key record, a version
   * without retention: 404) and asks the server again (GET ?location) before its next request:
   * 343 of the 3,124 requests of a 48-page `archive ingest` (docs/benchmarks.md, bench:ocr). A
   * bucket's region does not change under a running process: it is asked once here and set on
   * the clients, which then never ask. A region given in the settings is used as it is.
   */
  async pinRegion(): Promise<void> {
    for (const c of [this.client, this.privileged]) {
      if (!c || c.region) continue;
      const what = `reading the region of bucket ${this.bucket}`;
      c.region = await withTimeout(guard(what, () => c.getBucketRegionAsync(this.bucket)), this.timeoutMs, what);
    }
  }
}

/**
 * Connects to MinIO, makes sure the bucket exists and answers, and returns the store. Fails with
 * service_unavailable within `timeoutMs` when MinIO is down or unreachable.
 */
export async function createBlobStore(cfg: BlobStoreConfig): Promise<BlobStore> {
  const partSize = cfg.partSize ?? 8 * 1024 * 1024;
  let client: Minio.Client;
  try {
    client = new Minio.Client({ ...cfg.minio, partSize, transportAgent: stallGuardAgent(cfg.minio.useSSL, cfg.idleTimeoutMs ?? 30_000) });
  } catch (err) {
    throw new StorageError('invalid_argument', `invalid MinIO settings: ${(err as Error).message}`, { cause: err });
  }
  let privileged: Minio.Client | null = null;
  try {
    privileged = cfg.privileged ? new Minio.Client({ ...cfg.privileged, partSize, transportAgent: stallGuardAgent(cfg.privileged.useSSL, cfg.idleTimeoutMs ?? 30_000) }) : null;
  } catch (err) {
    throw new StorageError('invalid_argument', `invalid privileged MinIO settings: ${(err as Error).message}`, { cause: err });
  }
  const backend = new MinioBackend(client, cfg.bucket, partSize, cfg.timeoutMs ?? 5000, cfg.objectLock ?? 'off', privileged, cfg.minio.useSSL ? null : { idleMs: cfg.idleTimeoutMs ?? 30_000 });
  await backend.ensureBucket();
  await backend.pinRegion();
  return createEnvelopeStore(backend, { keyring: cfg.keyring, onIntegrityFailure: cfg.onIntegrityFailure, segmentSize: cfg.segmentSize, cryptoThreads: cfg.cryptoThreads, decryptThreads: cfg.decryptThreads });
}
