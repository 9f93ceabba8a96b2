/**
 * storage/: the archive's encrypted blob store. This file is the package's only door.
 *
 *   const { keyring, created, dir } = await openKeyring({ dir, passphrase, createIfMissing: true });
 *   const store = await createBlobStore({ minio: { endPoint, port, useSSL, accessKey, secretKey }, bucket, keyring, onIntegrityFailure });
 *   const { key, size, sha256, kekId } = await store.put('originals/…', readable, { contentType: 'application/pdf' });
 *   const stream = await store.get('originals/…', { start: 0, end: 1023 });   // inclusive range, optional
 *   await store.stat(key); await store.verify(key); await store.shred(key); await store.rewrapAll();
 *
 * Every object is sealed under its own random data key (AES-256-GCM in 64 KiB authenticated
 * segments, envelope.ts); the data key is wrapped by a key-encryption key from the keystore
 * (RSA-OAEP-256, keyring.ts) and kept in a separate key record, so rewrap never touches content and
 * shredding destroys the only copies of the key. Failures are StorageError with a `code` from a
 * closed set (errors.ts); the app maps codes to responses at its edge.
 *
 * The API, in full:
 *   openKeyring({ dir, passphrase, createIfMissing?, kdfIterations?, bits? }) → { keyring, created, dir }
 *   createKeyring({ dir, passphrase, … }) → { keyring, dir }      (first run; refuses an existing keystore)
 *   createMemoryKeyring() → Keyring                                (tests)
 *   Keyring: activeKekId, kekIds(), has(id), addKek({ activate? }) → id, setActive(id), removeKek(id),
 *            wrap(dek, context, kekId?), unwrap(wrapped, context)
 *   createBlobStore({ minio, bucket, keyring, onIntegrityFailure?, partSize?, timeoutMs?, segmentSize?, cryptoThreads?, decryptThreads? }) → BlobStore
 *   BlobStore: put(key, Readable | Buffer, { contentType? }) → { key, size, sha256, kekId }
 *              get(key, { start, end? }?) → Readable
 *              stat(key) → { key, size, sha256, kekId, contentType, createdAt }
 *              verify(key) → { ok, sha256, actual, error? }
 *              shred(key, { bypassGovernance? }?), shredMany(keys, { bypassGovernance?, prefixes? }?) → { shredded, absent }
 *              rewrapAll(toKekId?) → { rewrapped, unchanged, failed }, ping(), list(prefix?)
 *              protect(key, { retainUntil?, legalHold? }) → { applied }, protection(key), objectLock()
 *   Object lock (WORM, governance mode): BlobStoreConfig.objectLock 'off' | 'auto' | 'require'; the
 *   app passes retention dates in (put's retainUntil, protect); `privileged` is the separate
 *   credential shred({ bypassGovernance: true }) uses. migrateToLockedBucket({ minio, from, to,
 *   isDone, markDone }) copies an existing bucket into a locked one, verified object by object.
 *   createMemoryBlobStore({ keyring?, onIntegrityFailure?, cryptoThreads?, decryptThreads? }) → BlobStore + { raw, keyring }
 *   createAnchorStore({ minio, bucket, retentionDays }) → AuditAnchorStore: put(checkpoint), latestFrom(seq)
 *              (write-once records in a bucket with COMPLIANCE object lock; anchor-store.ts)
 *
 * Keys are written once in practice (the app uses fresh UUID keys). Overwriting is allowed but not
 * atomic: a read racing an overwrite may fail with integrity_error rather than see either version.
 * For tests of other code, createMemoryBlobStore() gives the same behaviour without MinIO.
 */
export { StorageError, isStorageError, type StorageErrorCode } from './errors';
export type { BlobStore, PutResult, ObjectInfo, ByteRange, VerifyResult, RewrapResult, IntegrityFailureHandler, Protection, ProtectOptions, ShredOptions, ShredManyResult } from './types';
export { createBlobStore, PERMANENT_RETENTION, type BlobStoreConfig, type MinioConnection } from './minio-store';
export { migrateToLockedBucket, type MigrateOptions, type MigrateResult } from './migrate';
export { createKeyring, openKeyring, createMemoryKeyring, type Keyring, type KeyringOptions, type WrappedKey } from './keyring';
export { createMemoryBlobStore, type MemoryBlobStore } from './memory-store';
export { createAnchorStore, type AnchorLocation, type AnchorStoreConfig, type AnchoredCheckpoint, type AuditAnchorStore } from './anchor-store';
export { DEFAULT_SEGMENT_SIZE, HEADER_SIZE, TAG_SIZE, ciphertextSize } from './envelope';
