/**
 * The envelope-encrypted store, written once over a small raw-object backend so the MinIO store
 * and the in-memory store behave the same (same ciphertext, same errors).
 *
 * Objects in the backend, per stored key K:
 *   objects/K     header + sealed segments (envelope.ts); never plaintext
 *   keys/K        the key record: wrapped DEK, KEK id, header copy, size, SHA-256, content type.
 *                 Kept apart from the content so rewrap rewrites a few hundred bytes, and shredding
 *                 destroys the only copies of the DEK without touching gigabytes.
 *   tombstones/K  {shreddedAt}: lets a read after shred say object_shredded rather than not found
 * The content is written first and the key record last, so a crash mid-put leaves undecryptable
 * ciphertext (its DEK was never stored), never a record pointing at missing content.
 */
import { buffer } from 'node:stream/consumers';
import { createHash, randomBytes } from 'node:crypto';
import { pipeline, Readable } from 'node:stream';
import { StorageError, isStorageError } from './errors';
import { DecryptStream, DEFAULT_SEGMENT_SIZE, EncryptStream, HEADER_SIZE, TransientDecryptReader, decodeHeader, fullPlan, newHeader, planRange, type Header, type SegmentPlan } from './envelope';
import type { DirectGet } from './direct-get';
import { cryptoEngine } from './crypto-engine';
import type { Keyring } from './keyring';
import type { BlobStore, ByteRange, IntegrityFailureHandler, ObjectInfo, PutResult, RewrapResult, VerifyResult } from './types';

/** What the store needs from the place bytes live. Names are backend object names. */
export interface RawBackend {
  write(name: string, body: Readable | Buffer, opts?: { dropOlderVersions?: boolean; retainUntil?: Date }): Promise<void>;
  /** Null when the object does not exist. */
  read(name: string, range?: { offset: number; length: number }): Promise<Readable | null>;
  readSmall(name: string): Promise<Buffer | null>;
  /**
   * A read into one buffer the backend reuses (direct-get.ts), for large objects; absent where
   * the backend has none (memory, MinIO over TLS). Resolves once the first `prefix` bytes are in;
   * null when the object does not exist.
   */
  readDirect?(name: string, range: { offset: number; length: number } | undefined, prefix: number): Promise<DirectGet | null>;
  exists(name: string): Promise<boolean>;
  /** Removes every version (and delete marker) of exactly `name`; returns how many were removed. */
  removeAll(name: string, opts?: { bypassGovernance?: boolean }): Promise<number>;
  /**
   * Every version (delete markers included) of the named objects and of every object under the
   * prefixes: one listing per prefix and per name outside them. Names with none are absent.
   */
  versionsOf(names: string[], prefixes: string[]): Promise<Map<string, RawVersion[]>>;
  /**
   * Removes exactly these versions, in as few requests as the backend allows (S3 multi-object
   * delete: up to 1000 a request). Throws object_locked when object lock refuses any of them;
   * the others are gone by then, so callers make the operation safe to repeat.
   */
  removeVersionList(versions: Array<{ name: string } & RawVersion>, opts?: { bypassGovernance?: boolean }): Promise<number>;
  /** Aborts unfinished multipart uploads of the names and under the prefixes (their parts are never readable). */
  abortUploads(names: string[], prefixes: string[]): Promise<void>;
  /** Object lock on the current version; false when the bucket has none. */
  protect(name: string, opts: { retainUntil?: Date; legalHold?: boolean }): Promise<boolean>;
  protection(name: string): Promise<{ locked: boolean; retainUntil: string | null; legalHold: boolean }>;
  objectLock(): Promise<boolean>;
  list(prefix: string): AsyncIterable<string>;
  ping(): Promise<void>;
}

export interface RawVersion {
  /** '' where the backend keeps no versions. */
  versionId: string;
  deleteMarker: boolean;
}

/** Runs fn over xs with at most n at a time. */
async function eachLimit<T>(xs: readonly T[], n: number, fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, xs.length) }, async () => {
      while (next < xs.length) await fn(xs[next++]!);
    }),
  );
}

/** Requests in flight at once for the per-object steps of shredMany (tombstones, listings). */
const SHRED_CONCURRENCY = 16;

export interface EnvelopeStoreOptions {
  keyring: Keyring;
  onIntegrityFailure?: IntegrityFailureHandler;
  /** Plaintext bytes per segment (default 64 KiB); recorded in each object's header. */
  segmentSize?: number;
  /** Run AES-GCM on a worker thread (default true); false keeps it on the calling thread. */
  cryptoThreads?: boolean;
  /**
   * Reads over 2 MiB decrypt in batches on the crypto worker (default false), through the MinIO
   * client's buffers. Without it every read opens its segments on the calling thread as the
   * network delivers them, on MinIO over plain HTTP from one reused buffer (direct-get.ts), which
   * bench:storage measures at 0.73-0.89x of plain gets against 0.55 for this option. Before
   * that buffer (docs/benchmarks.md, bench:storage), the calling thread already cost 25-45% less CPU per MB of a
   * large read, and its event loop spends ~1.2 ms per MB against ~1.8 ms when it feeds the
   * worker (the copy into a batch buffer, transfers both ways and their GC), which on an idle
   * machine is the bottleneck; at load 8-10 wall-clock comparisons went both ways.
   */
  decryptThreads?: boolean;
}

const OBJECTS = 'objects/';
const KEYS = 'keys/';
const TOMBSTONES = 'tombstones/';

interface KeyRecord {
  v: 1;
  key: string;
  /** Base64 of the content's header, so range reads need not fetch it. */
  header: string;
  kekId: string;
  alg: 'RSA-OAEP-256';
  wrappedDek: string;
  size: number;
  sha256: string;
  contentType: string;
  createdAt: string;
}

function checkKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0 || key.length > 900 || key.startsWith('/') || /[\0\\]/.test(key) || key.split('/').some((p) => p === '..' || p === '.')) {
    throw new StorageError('invalid_argument', `invalid object key ${JSON.stringify(key)}`, { details: { key } });
  }
}

/** OAEP label: binds a wrapped DEK to its object and DEK id. */
function wrapContext(key: string, dekIdHex: string): string {
  return `si-archive/v1/${dekIdHex}/${key}`;
}

/** The first `n` bytes of a stream (fewer if it ends first), left in the stream to be read again. */
async function peek(stream: Readable, n: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  while (total < n) {
    const c = stream.read() as Buffer | null;
    if (c !== null) {
      chunks.push(c);
      total += c.length;
      continue;
    }
    if (stream.readableEnded || stream.destroyed) break;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        stream.off('readable', done).off('end', done).off('error', done).off('close', done);
        resolve();
      };
      stream.on('readable', done).on('end', done).on('error', done).on('close', done);
    });
  }
  const all = Buffer.concat(chunks, total);
  if (total >= n) stream.unshift(all);
  return all.subarray(0, n);
}

/**
 * Unwrapped data keys of recently read objects, so a page viewed again skips the RSA unwrap
 * (~2 ms of CPU on the event loop, most of a small get). Keyed by the wrapped key, its KEK and
 * the object's wrap context, so a rewrapped or overwritten object misses; the key record is still
 * read on every get, so a shredded object stays unreadable; an entry is used only while its KEK
 * is still in the keyring, lives at most DEK_CACHE_TTL_MS, and a shred in this process evicts
 * the object's entry at once (docs/SECURITY.md: another process may hold it up to the TTL).
 */
/**
 * Reads and writes up to this size decrypt / encrypt on the calling thread: for them a round trip
 * to the crypto worker (a thread wake-up, which on a busy machine waits for a core) costs more
 * than the ~1.5 ms of GCM per MB it saves the event loop. Reads are then opened segment by
 * segment as they arrive (DecryptStream without an engine), with no batch copy.
 */
const INLINE_MAX = 2 * 1024 * 1024;

const DEK_CACHE_MAX = 1024;
const DEK_CACHE_TTL_MS = 60_000;

class DekCache {
  private readonly map = new Map<string, { dek: Buffer; at: number }>();

  get(id: string): Buffer | null {
    const e = this.map.get(id);
    if (!e) return null;
    this.map.delete(id);
    // Dropped, not zeroed: a stream still decrypting with it holds the same buffer.
    if (Date.now() - e.at > DEK_CACHE_TTL_MS) return null;
    this.map.set(id, e); // most recently used last
    return e.dek;
  }

  /** Forgets every entry of one object (ids end with its wrap context, which ends with its key). */
  evict(objectKey: string): void {
    for (const id of this.map.keys()) if (id.endsWith(`/${objectKey}`)) this.map.delete(id);
  }

  set(id: string, dek: Buffer): void {
    this.map.set(id, { dek, at: Date.now() });
    while (this.map.size > DEK_CACHE_MAX) {
      this.map.delete(this.map.keys().next().value as string);
    }
  }
}

export function createEnvelopeStore(backend: RawBackend, opts: EnvelopeStoreOptions): BlobStore {
  const { keyring } = opts;
  const segmentSize = opts.segmentSize ?? DEFAULT_SEGMENT_SIZE;
  const engine = cryptoEngine(opts.cryptoThreads ?? true);
  const inlineEngine = cryptoEngine(false);
  const decryptEngine = opts.decryptThreads && (opts.cryptoThreads ?? true) ? engine : null;
  const deks = new DekCache();

  function unwrapDek(key: string, rec: KeyRecord, dekIdHex: string): Buffer {
    const context = wrapContext(key, dekIdHex);
    const id = `${rec.kekId}\n${rec.wrappedDek}\n${context}`;
    const cached = keyring.has(rec.kekId) ? deks.get(id) : null;
    if (cached) return cached;
    const dek = keyring.unwrap({ kekId: rec.kekId, alg: rec.alg, wrapped: Buffer.from(rec.wrappedDek, 'base64') }, context);
    deks.set(id, dek);
    return dek;
  }

  const report = (err: StorageError): void => {
    try {
      opts.onIntegrityFailure?.(err);
    } catch {
      // A failing reporter must not hide the integrity error itself.
    }
  };

  async function readRecord(key: string): Promise<KeyRecord> {
    checkKey(key);
    const raw = await backend.readSmall(KEYS + key);
    if (!raw) {
      if (await backend.readSmall(TOMBSTONES + key)) {
        throw new StorageError('object_shredded', `${key} was crypto-shredded and cannot be recovered`, { details: { key } });
      }
      throw new StorageError('object_not_found', `no stored object ${key}`, { details: { key } });
    }
    let rec: KeyRecord;
    try {
      rec = JSON.parse(raw.toString('utf8')) as KeyRecord;
      if (rec.v !== 1 || rec.key !== key || typeof rec.size !== 'number' || !/^[0-9a-f]{64}$/.test(rec.sha256)) throw new Error('bad fields');
    } catch (err) {
      const e = new StorageError('integrity_error', `${key}: the key record is damaged`, { details: { key }, cause: err });
      report(e);
      throw e;
    }
    return rec;
  }

  /** Reads through the backend's reused buffer where it has one (not with decryptThreads, whose batches need buffers of their own). */
  const readDirect = backend.readDirect && !decryptEngine ? backend.readDirect.bind(backend) : null;

  /** A full read's content request, made before the key record arrives; `direct` when through readDirect. */
  type Early = { direct: true; got: Promise<DirectGet | null> } | { direct: false; got: Promise<Readable | null> };

  function discard(early: Early | null): void {
    if (!early) return;
    if (early.direct) void early.got.then((g) => g?.source.destroy(), () => undefined);
    else void early.got.then((s) => s?.destroy(), () => undefined);
  }

  /** A key record without its content: damage, reported like any integrity failure. */
  function contentMissing(key: string): StorageError {
    const e = new StorageError('integrity_error', `${key}: the key record exists but the content is missing`, { details: { key } });
    report(e);
    return e;
  }

  async function openPlain(key: string, range?: ByteRange, attempt = 0): Promise<{ stream: Readable; rec: KeyRecord }> {
    // A full read asks for the content while the key record is still on its way: one round trip
    // less, which is most of the cost for small objects. A direct one holds only the stored
    // header until it is started.
    let early: Early | null = null;
    if (!range) early = readDirect ? { direct: true, got: readDirect(OBJECTS + key, undefined, HEADER_SIZE) } : { direct: false, got: backend.read(OBJECTS + key) };
    early?.got.catch(() => undefined);
    try {
      return await openWith(key, range, early, attempt);
    } catch (err) {
      discard(early);
      throw err;
    }
  }

  async function openWith(key: string, range: ByteRange | undefined, early: Early | null, attempt: number): Promise<{ stream: Readable; rec: KeyRecord }> {
    const rec = await readRecord(key);
    const header = decodeHeader(Buffer.from(rec.header, 'base64'));
    let plan = fullPlan(rec.size, header.segmentSize);
    if (range) {
      const { start } = range;
      const end = Math.min(range.end ?? rec.size - 1, rec.size - 1);
      if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || start >= rec.size || end < start || (range.end !== undefined && !Number.isSafeInteger(range.end))) {
        throw new StorageError('range_not_satisfiable', `${key}: range ${start}-${range.end ?? ''} is outside 0-${rec.size - 1}`, { details: { key, size: rec.size } });
      }
      plan = planRange(rec.size, header.segmentSize, start, end);
    }
    const dek = unwrapDek(key, rec, header.dekId.toString('hex'));
    // Small ranges stay on the client's kept-alive connections; a direct read opens one of its own.
    if (early?.direct || (range && readDirect && plan.length > INLINE_MAX)) return openDirect(key, range, early?.direct ? early.got : null, attempt, { rec, header, plan, dek });
    let raw: Readable | null;
    try {
      raw = await (early && !early.direct ? early.got : backend.read(OBJECTS + key, range ? { offset: plan.offset, length: plan.length } : undefined));
    } catch (err) {
      if (isStorageError(err, 'integrity_error')) report(err);
      throw err;
    }
    // A put overwriting this key writes content, then its record, and a shred removes the record,
    // then the content: a read in between sees a record and content that do not belong together.
    // Reading both again once tells that race from damage.
    if (!range && attempt === 0) {
      const stored = raw ? await peek(raw, HEADER_SIZE) : null;
      if (!stored?.equals(header.bytes)) {
        raw?.destroy();
        return openPlain(key, range, 1);
      }
    }
    if (!raw) throw contentMissing(key);
    const dec = new DecryptStream({ engine: decryptEngine && plan.length > INLINE_MAX ? decryptEngine : undefined, dek, header, size: rec.size, sha256: Buffer.from(rec.sha256, 'hex'), plan, withHeader: !range, objectKey: key });
    pipeline(raw, dec, (err) => {
      if (err && isStorageError(err, 'integrity_error')) report(err);
    });
    return { stream: dec, rec };
  }

  /**
   * A read through the backend's reused buffer (TransientDecryptReader): no buffer per network
   * read. `early` is a full read's direct request, made while the record was on its way.
   */
  async function openDirect(
    key: string,
    range: ByteRange | undefined,
    early: Promise<DirectGet | null> | null,
    attempt: number,
    o: { rec: KeyRecord; header: Header; plan: SegmentPlan; dek: Buffer },
  ): Promise<{ stream: Readable; rec: KeyRecord }> {
    const { rec, header, plan } = o;
    let got: DirectGet | null;
    try {
      got = await (early ?? readDirect!(OBJECTS + key, range ? { offset: plan.offset, length: plan.length } : undefined, range ? 0 : HEADER_SIZE));
    } catch (err) {
      if (isStorageError(err, 'integrity_error')) report(err);
      throw err;
    }
    if (!got) throw contentMissing(key);
    // The same overwrite / shred race as in openWith, told from damage the same way.
    if (!range && attempt === 0 && !got.prefix.equals(header.bytes)) {
      got.source.destroy();
      return openPlain(key, range, 1);
    }
    const dec = new TransientDecryptReader({ dek: o.dek, header, size: rec.size, sha256: Buffer.from(rec.sha256, 'hex'), plan, withHeader: !range, objectKey: key }, got.source);
    dec.on('error', (err) => {
      if (isStorageError(err, 'integrity_error')) report(err);
    });
    return { stream: dec, rec };
  }

  const store: BlobStore = {
    async put(key, body, meta = {}): Promise<PutResult> {
      checkKey(key);
      const dek = randomBytes(32);
      const header = newHeader(segmentSize);
      const enc = new EncryptStream(Buffer.isBuffer(body) && body.length <= INLINE_MAX ? inlineEngine : engine, dek, header);
      const src = Buffer.isBuffer(body) ? Readable.from([body], { objectMode: false }) : (body as Readable);
      pipeline(src, enc, () => undefined); // errors surface through enc to the backend write
      try {
        await backend.write(OBJECTS + key, enc, { retainUntil: meta.retainUntil });
      } catch (err) {
        enc.destroy();
        throw err;
      }
      const { size, sha256 } = enc.result;
      const w = keyring.wrap(dek, wrapContext(key, header.dekId.toString('hex')));
      dek.fill(0);
      const rec: KeyRecord = {
        v: 1,
        key,
        header: header.bytes.toString('base64'),
        kekId: w.kekId,
        alg: w.alg,
        wrappedDek: w.wrapped.toString('base64'),
        size,
        sha256,
        contentType: meta.contentType ?? 'application/octet-stream',
        createdAt: new Date().toISOString(),
      };
      await backend.write(KEYS + key, Buffer.from(JSON.stringify(rec)), { dropOlderVersions: true, retainUntil: meta.retainUntil });
      return { key, size, sha256, kekId: w.kekId };
    },

    async get(key, range) {
      return (await openPlain(key, range)).stream;
    },

    async getBuffer(key) {
      return buffer((await openPlain(key)).stream);
    },

    async stat(key): Promise<ObjectInfo> {
      const rec = await readRecord(key);
      return { key, size: rec.size, sha256: rec.sha256, kekId: rec.kekId, contentType: rec.contentType, createdAt: rec.createdAt };
    },

    async verify(key): Promise<VerifyResult> {
      const { stream, rec } = await openPlain(key);
      const hash = createHash('sha256');
      try {
        for await (const chunk of stream) hash.update(chunk as Buffer);
      } catch (err) {
        if (isStorageError(err, 'integrity_error')) return { ok: false, sha256: rec.sha256, actual: null, error: 'integrity_error' };
        throw err;
      }
      const actual = hash.digest('hex');
      if (actual !== rec.sha256) {
        // Unreachable unless the SHA-256 code itself misbehaves: the final segment authenticates the recorded digest.
        report(new StorageError('integrity_error', `${key}: SHA-256 mismatch`, { details: { key } }));
        return { ok: false, sha256: rec.sha256, actual, error: 'integrity_error' };
      }
      return { ok: true, sha256: rec.sha256, actual };
    },

    async shred(key, opts = {}): Promise<void> {
      checkKey(key);
      const hadRecord = (await backend.readSmall(KEYS + key)) !== null;
      const hadTombstone = (await backend.readSmall(TOMBSTONES + key)) !== null;
      if (!hadTombstone && (hadRecord || (await backend.exists(OBJECTS + key)))) {
        // Written first: if we crash below, a retry still finds the key and finishes the job.
        await backend.write(TOMBSTONES + key, Buffer.from(JSON.stringify({ key, shreddedAt: new Date().toISOString() })));
      } else if (!hadTombstone) {
        throw new StorageError('object_not_found', `no stored object ${key}`, { details: { key } });
      }
      // The DEK first: once its record (every version) is gone, the content is noise.
      deks.evict(key);
      await backend.removeAll(KEYS + key, opts);
      await backend.removeAll(OBJECTS + key, opts);
    },

    async shredMany(keys, sopts = {}) {
      for (const k of keys) checkKey(k);
      const prefixes = [...new Set(sopts.prefixes ?? [])];
      for (const p of prefixes) {
        checkKey(p);
        if (!p.endsWith('/')) throw new StorageError('invalid_argument', `shredMany prefix must end with '/': ${JSON.stringify(p)}`, { details: { prefix: p } });
      }
      const under = (k: string) => prefixes.some((p) => k.startsWith(p));
      const outside = [...new Set(keys)].filter((k) => !under(k));
      const found = await backend.versionsOf(
        outside.flatMap((k) => [KEYS + k, OBJECTS + k]),
        prefixes.flatMap((p) => [KEYS + p, OBJECTS + p]),
      );
      const all = new Set(keys);
      for (const name of found.keys()) {
        if (name.startsWith(KEYS)) all.add(name.slice(KEYS.length));
        else if (name.startsWith(OBJECTS)) all.add(name.slice(OBJECTS.length));
      }
      const live = (name: string) => (found.get(name) ?? []).some((v) => !v.deleteMarker);
      const shredded = [...all].filter((k) => live(KEYS + k) || live(OBJECTS + k));
      const absent = [...all].filter((k) => !live(KEYS + k) && !live(OBJECTS + k));
      // Tombstones first, as shred writes them: after a crash below, a retry still finds the
      // versions and finishes. (Rewriting one that exists only adds a version of the tombstone.)
      const at = new Date().toISOString();
      await eachLimit(shredded, SHRED_CONCURRENCY, (key) => backend.write(TOMBSTONES + key, Buffer.from(JSON.stringify({ key, shreddedAt: at }))));
      for (const k of all) deks.evict(k);
      const versionsUnder = (root: string) => [...found].filter(([name]) => name.startsWith(root)).flatMap(([name, vs]) => vs.map((v) => ({ name, ...v })));
      // The DEKs first: once every version of the key records is gone, the content is noise.
      await backend.removeVersionList(versionsUnder(KEYS), sopts);
      await backend.removeVersionList(versionsUnder(OBJECTS), sopts);
      await backend.abortUploads(outside.map((k) => OBJECTS + k), prefixes.map((p) => OBJECTS + p));
      return { shredded, absent };
    },

    async protect(key, popts) {
      await readRecord(key); // object_not_found / object_shredded, as for a read
      // The key record first: with it held, neither shredding nor deleting the content early can succeed unnoticed.
      const a = await backend.protect(KEYS + key, popts);
      const b = await backend.protect(OBJECTS + key, popts);
      return { applied: a && b };
    },

    async protection(key) {
      await readRecord(key);
      return backend.protection(KEYS + key);
    },

    objectLock: () => backend.objectLock(),

    async rewrapAll(toKekId = keyring.activeKekId): Promise<RewrapResult> {
      if (!keyring.has(toKekId)) throw new StorageError('key_not_found', `no KEK ${toKekId} in the keystore`, { details: { kekId: toKekId } });
      const result: RewrapResult = { rewrapped: 0, unchanged: 0, failed: [] };
      for await (const name of backend.list(KEYS)) {
        const key = name.slice(KEYS.length);
        try {
          const rec = await readRecord(key);
          if (rec.kekId === toKekId) {
            result.unchanged++;
            continue;
          }
          const ctx = wrapContext(key, decodeHeader(Buffer.from(rec.header, 'base64')).dekId.toString('hex'));
          const dek = keyring.unwrap({ kekId: rec.kekId, alg: rec.alg, wrapped: Buffer.from(rec.wrappedDek, 'base64') }, ctx);
          const w = keyring.wrap(dek, ctx, toKekId);
          dek.fill(0);
          const next: KeyRecord = { ...rec, kekId: w.kekId, alg: w.alg, wrappedDek: w.wrapped.toString('base64') };
          const held = await backend.protection(KEYS + key);
          // Older versions hold the DEK under the old KEK; they must go, or retiring that KEK protects
          // nothing. Versions under object lock cannot go before their date (docs/disposition.md).
          await backend.write(KEYS + key, Buffer.from(JSON.stringify(next)), { dropOlderVersions: true, retainUntil: held.retainUntil ? new Date(held.retainUntil) : undefined });
          if (held.legalHold) await backend.protect(KEYS + key, { legalHold: true });
          result.rewrapped++;
        } catch (err) {
          if (isStorageError(err, 'object_not_found') || isStorageError(err, 'object_shredded')) continue; // shredded meanwhile
          if (isStorageError(err, 'service_unavailable')) throw err;
          result.failed.push({ key, code: (err as { code?: string }).code ?? 'internal_error', message: (err as Error).message });
        }
      }
      return result;
    },

    ping: () => backend.ping(),

    async *list(prefix = '') {
      for await (const name of backend.list(KEYS + prefix)) yield name.slice(KEYS.length);
    },
  };
  return store;
}
