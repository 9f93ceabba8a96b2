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
 * For tests of other code, createMemoryBlobStore() gives the same behaviour without MinIO.
 */
export { StorageError, isStorageError, type StorageErrorCode } from './errors';
export type { BlobStore, PutResult, ObjectInfo, ByteRange, VerifyResult, RewrapResult, IntegrityFailureHandler } from './types';
export { createBlobStore, type BlobStoreConfig, type MinioConnection } from './minio-store';
export { createKeyring, openKeyring, createMemoryKeyring, type Keyring, type KeyringOptions, type WrappedKey } from './keyring';
export { createMemoryBlobStore, type MemoryBlobStore } from './memory-store';
export { DEFAULT_SEGMENT_SIZE, HEADER_SIZE, TAG_SIZE, ciphertextSize } from './envelope';
