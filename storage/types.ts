import type { Readable } from 'node:stream';
import type { StorageError } from './errors';

export interface PutResult {
  key: string;
  /** Plaintext size in bytes. */
  size: number;
  /** SHA-256 (hex) of the plaintext, computed while streaming; the app records it for fixity. */
  sha256: string;
  /** The KEK that wraps this object's data key now (rewrapAll may change it later). */
  kekId: string;
}

export interface ObjectInfo extends PutResult {
  contentType: string;
  createdAt: string;
}

/** Inclusive byte range, as in HTTP: end defaults to the last byte. */
export interface ByteRange {
  start: number;
  end?: number;
}

export interface VerifyResult {
  ok: boolean;
  /** The SHA-256 recorded at write time. */
  sha256: string;
  /** The SHA-256 of what was read back; null when the content failed authentication. */
  actual: string | null;
  /** Why ok is false, when it is. */
  error?: 'integrity_error';
}

export interface RewrapResult {
  rewrapped: number;
  /** Already wrapped by the target KEK. */
  unchanged: number;
  /** Objects that could not be rewrapped (e.g. their KEK is not loaded); rewrapAll keeps going. */
  failed: { key: string; code: string; message: string }[];
}

/** Object-lock protection of one stored key (its content and its key record). */
export interface Protection {
  /** Whether the bucket has object lock at all; when false nothing below is enforced. */
  locked: boolean;
  /** Governance retention end (ISO instant), or null. */
  retainUntil: string | null;
  legalHold: boolean;
}

export interface ProtectOptions {
  /**
   * Governance retention until this instant. Only ever extended: an earlier date than the one in
   * place is ignored (shortening needs the privileged bypass). A date in the past sets nothing.
   */
  retainUntil?: Date;
  /** Object legal hold on (true) or off (false); left as is when undefined. */
  legalHold?: boolean;
}

export interface ShredOptions {
  /**
   * Lift governance retention while deleting (S3 x-amz-bypass-governance-retention), with the
   * separate privileged credential (BlobStoreConfig.privileged). For the destruction executor
   * only, and only for approved items; a legal hold still refuses.
   */
  bypassGovernance?: boolean;
}

export interface ShredManyResult {
  /** Keys that had a key record or content and have been shredded now. */
  shredded: string[];
  /** Keys with nothing stored: never written, or shredded before. */
  absent: string[];
}

export interface BlobStore {
  /**
   * Encrypts and stores a stream of unknown length (or a Buffer) in bounded memory. Overwrites an
   * existing key. `retainUntil` puts content and key record under governance retention at once.
   */
  put(key: string, body: NodeJS.ReadableStream | Readable | Buffer, meta?: { contentType?: string; retainUntil?: Date }): Promise<PutResult>;
  /**
   * Opens the plaintext as a stream. The promise rejects with object_not_found, object_shredded,
   * key_not_found or range_not_satisfiable; the stream errors with integrity_error before it would
   * emit any byte of a segment that fails authentication.
   */
  get(key: string, range?: ByteRange): Promise<Readable>;
  /** The whole plaintext in memory (page images, page text, small keys): the one way to read a blob into a buffer. */
  getBuffer(key: string): Promise<Buffer>;
  stat(key: string): Promise<ObjectInfo>;
  /** Reads and decrypts the whole object and compares its SHA-256 with the recorded one. */
  verify(key: string): Promise<VerifyResult>;
  /**
   * Crypto-shreds: destroys every copy (all versions) of the wrapped data key and of the content,
   * and leaves a tombstone so later reads fail with object_shredded. Idempotent.
   */
  shred(key: string, opts?: ShredOptions): Promise<void>;
  /**
   * Crypto-shreds many objects at once, with the same guarantees as shred for each: the named
   * keys, and every key stored under `prefixes` (each prefix ends with '/', and everything under
   * it goes). Costs a few requests per prefix and per key outside them, not several per key:
   * versions are found by one listing per prefix, removed by multi-object deletes (DEKs first),
   * and tombstones are written (concurrently) before anything is removed. Keys with nothing stored
   * (never written, or already shredded) come back in `absent` instead of failing. Idempotent:
   * after a crash anywhere, calling it again with the same arguments finishes the job.
   */
  shredMany(keys: string[], opts?: ShredOptions & { prefixes?: string[] }): Promise<ShredManyResult>;
  /** Sets governance retention and/or the legal hold of an object's content and key record; `applied` is false on a bucket without object lock. */
  protect(key: string, opts: ProtectOptions): Promise<{ applied: boolean }>;
  /** The protection in force on the object's key record (what shredding would delete first). */
  protection(key: string): Promise<Protection>;
  /** Whether the bucket was created with object lock. */
  objectLock(): Promise<boolean>;
  /** Re-wraps every object's data key under `toKekId` (default: the active KEK); content is untouched. */
  rewrapAll(toKekId?: string): Promise<RewrapResult>;
  /** Rejects with service_unavailable when the backing service does not answer in time. */
  ping(): Promise<void>;
  /** Keys of live objects under a prefix. */
  list(prefix?: string): AsyncIterable<string>;
}

export type IntegrityFailureHandler = (err: StorageError) => void;
