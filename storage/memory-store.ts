/**
 * An in-memory BlobStore for tests of code that stores blobs. It runs the same envelope code as
 * the MinIO store, so sizes, checksums, ranges and error codes behave the same; only the bytes
 * live in a Map. Pass it in where a BlobStore is expected rather than mocking modules.
 */
import { Readable } from 'node:stream';
import { createEnvelopeStore, type RawBackend } from './blob-store';
import { createMemoryKeyring, type Keyring } from './keyring';
import type { BlobStore, IntegrityFailureHandler } from './types';

export interface MemoryBlobStore extends BlobStore {
  /** The raw backend objects (ciphertext, key records, tombstones), for tamper tests. */
  readonly raw: Map<string, Buffer>;
  readonly keyring: Keyring;
}

export class MemoryBackend implements RawBackend {
  readonly objects = new Map<string, Buffer>();

  async write(name: string, body: Readable | Buffer): Promise<void> {
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

  async removeAll(name: string): Promise<number> {
    return this.objects.delete(name) ? 1 : 0;
  }

  async *list(prefix: string): AsyncIterable<string> {
    for (const name of [...this.objects.keys()].sort()) if (name.startsWith(prefix)) yield name;
  }

  async ping(): Promise<void> {}
}

export async function createMemoryBlobStore(opts: { keyring?: Keyring; onIntegrityFailure?: IntegrityFailureHandler; segmentSize?: number; cryptoThreads?: boolean } = {}): Promise<MemoryBlobStore> {
  const keyring = opts.keyring ?? (await createMemoryKeyring());
  const backend = new MemoryBackend();
  const store = createEnvelopeStore(backend, { keyring, onIntegrityFailure: opts.onIntegrityFailure, segmentSize: opts.segmentSize, cryptoThreads: opts.cryptoThreads ?? false });
  return Object.assign(store, { raw: backend.objects, keyring });
}
