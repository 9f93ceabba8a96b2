/**
 * An in-memory BlobStore for tests of code that stores blobs. It runs the same envelope code as
 * the MinIO store, so sizes, checksums, ranges and error codes behave the same; only the bytes
 * live in a Map. Pass it in where a BlobStore is expected rather than mocking modules.
 */
import { Readable } from 'node:stream';
import { createEnvelopeStore, type RawBackend, type RawVersion } from './blob-store';
import { createMemoryKeyring, type Keyring } from './keyring';
import { StorageError } from './errors';
import type { BlobStore, IntegrityFailureHandler } from './types';

export interface MemoryBlobStore extends BlobStore {
  /** The raw backend objects (ciphertext, key records, tombstones), for tamper tests. */
  readonly raw: Map<string, Buffer>;
  readonly keyring: Keyring;
}

export class MemoryBackend implements RawBackend {
  readonly objects = new Map<string, Buffer>();
  /** Object lock, as MinIO's governance mode behaves on the current version. */
  readonly locks = new Map<string, { retainUntil: Date | null; legalHold: boolean }>();

  constructor(private readonly lockEnabled = false) {}

  async write(name: string, body: Readable | Buffer, opts: { retainUntil?: Date } = {}): Promise<void> {
    if (opts.retainUntil) await this.protect(name, { retainUntil: opts.retainUntil });
    if (Buffer.isBuffer(body)) {
      this.objects.set(name, Buffer.from(body));
      return;
    }
    const chunks: Buffer[] = [];
    for await (const c of body) chunks.push(c as Buffer);
    this.objects.set(name, Buffer.concat(chunks));
  }

  async read(name: string, range?: { offset: number; length: number }): Promise<Readable | null> {
    const b = this.objects.get(name);
    if (!b) return null;
    const part = range ? b.subarray(range.offset, range.offset + range.length) : b;
    // Several chunks, so readers meet segment boundaries split across chunks as they do over HTTP.
    const chunks: Buffer[] = [];
    for (let i = 0; i < part.length; i += 20_000) chunks.push(part.subarray(i, i + 20_000));
    return Readable.from(chunks, { objectMode: false });
  }

  async readSmall(name: string): Promise<Buffer | null> {
    return this.objects.get(name) ?? null;
  }

  async exists(name: string): Promise<boolean> {
    return this.objects.has(name);
  }

  async removeAll(name: string, opts: { bypassGovernance?: boolean } = {}): Promise<number> {
    const lock = this.locks.get(name);
    if (lock && (lock.legalHold || (!opts.bypassGovernance && lock.retainUntil && lock.retainUntil > new Date()))) {
      throw new StorageError('object_locked', `${name} is under object lock`, { details: { name } });
    }
    this.locks.delete(name);
    return this.objects.delete(name) ? 1 : 0;
  }

  async versionsOf(names: string[], prefixes: string[]): Promise<Map<string, RawVersion[]>> {
    const out = new Map<string, RawVersion[]>();
    for (const name of this.objects.keys()) {
      if (names.includes(name) || prefixes.some((p) => name.startsWith(p))) out.set(name, [{ versionId: '', deleteMarker: false }]);
    }
    return out;
  }

  async removeVersionList(versions: Array<{ name: string } & RawVersion>, opts: { bypassGovernance?: boolean } = {}): Promise<number> {
    let n = 0;
    let locked: StorageError | null = null;
    for (const v of versions) {
      try {
        n += await this.removeAll(v.name, opts);
      } catch (err) {
        // As a multi-object delete: the others go, the refusal is reported.
        locked ??= err as StorageError;
      }
    }
    if (locked) throw locked;
    return n;
  }

  async abortUploads(): Promise<void> {}

  async protect(name: string, opts: { retainUntil?: Date; legalHold?: boolean }): Promise<boolean> {
    if (!this.lockEnabled) return false;
    const cur = this.locks.get(name) ?? { retainUntil: null, legalHold: false };
    if (opts.retainUntil && opts.retainUntil > new Date() && (!cur.retainUntil || opts.retainUntil > cur.retainUntil)) cur.retainUntil = opts.retainUntil;
    if (opts.legalHold !== undefined) cur.legalHold = opts.legalHold;
    this.locks.set(name, cur);
    return true;
  }

  async protection(name: string): Promise<{ locked: boolean; retainUntil: string | null; legalHold: boolean }> {
    const l = this.locks.get(name);
    return { locked: this.lockEnabled, retainUntil: l?.retainUntil?.toISOString() ?? null, legalHold: l?.legalHold ?? false };
  }

  async objectLock(): Promise<boolean> {
    return this.lockEnabled;
  }

  async *list(prefix: string): AsyncIterable<string> {
    for (const name of [...this.objects.keys()].sort()) if (name.startsWith(prefix)) yield name;
  }

  async ping(): Promise<void> {}
}

export async function createMemoryBlobStore(opts: { keyring?: Keyring; onIntegrityFailure?: IntegrityFailureHandler; segmentSize?: number; cryptoThreads?: boolean; decryptThreads?: boolean; objectLock?: boolean } = {}): Promise<MemoryBlobStore> {
  const keyring = opts.keyring ?? (await createMemoryKeyring());
  const backend = new MemoryBackend(opts.objectLock === true);
  const store = createEnvelopeStore(backend, { keyring, onIntegrityFailure: opts.onIntegrityFailure, segmentSize: opts.segmentSize, cryptoThreads: opts.cryptoThreads ?? false, decryptThreads: opts.decryptThreads });
  return Object.assign(store, { raw: backend.objects, keyring });
}
