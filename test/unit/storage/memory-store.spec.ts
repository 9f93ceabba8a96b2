/**
 * The envelope format and store semantics through the in-memory store (same code as the MinIO
 * store, bytes in a Map), on both crypto engines.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { createMemoryBlobStore, createMemoryKeyring, ciphertextSize, DEFAULT_SEGMENT_SIZE, HEADER_SIZE, TAG_SIZE, type Keyring, type MemoryBlobStore, type StorageError } from '../../../storage';
import { createEnvelopeStore } from '../../../storage/blob-store';
import { MemoryBackend } from '../../../storage/memory-store';
import { randomBuffer, readAll, readUntilError } from '../../integration/storage/helpers';

const S = DEFAULT_SEGMENT_SIZE;
const STRIDE = S + TAG_SIZE;

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function code(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return (err as StorageError).code;
  }
}

// Inline; the worker for puts with gets opened on the calling thread (the default); the worker for both.
for (const [cryptoThreads, decryptThreads] of [[false, false], [true, false], [true, true]] as const) {
  describe(`storage: memory store (${cryptoThreads ? 'worker thread' : 'inline'} crypto${decryptThreads ? ', gets on the worker too' : ''})`, function () {
    this.timeout(30_000);
    let store: MemoryBlobStore;
    let shared: Keyring;
    const failures: StorageError[] = [];

    // RSA key generation is the slow part; one keyring serves the tests that do not rotate.
    before(async () => {
      shared = await createMemoryKeyring();
    });

    beforeEach(async function () {
      failures.length = 0;
      const rotates = /rewrap/.test(this.currentTest?.title ?? '');
      store = await createMemoryBlobStore({ cryptoThreads, decryptThreads, keyring: rotates ? undefined : shared, onIntegrityFailure: (e) => failures.push(e) });
    });

    it('round-trips sizes around segment and batch boundaries', async () => {
      for (const size of [0, 1, S - 1, S, S + 1, 2 * S, 32 * S - 1, 32 * S, 32 * S + 1, 65 * S + 3]) {
        const data = await randomBuffer(size, size);
        const put = await store.put(`k/${size}`, data);
        assert.equal(put.size, size);
        assert.equal(put.sha256, sha(data));
        assert.equal(store.raw.get(`objects/k/${size}`)!.length, ciphertextSize(size, S));
        assert.ok((await readAll(await store.get(`k/${size}`))).equals(data), `size ${size}`);
      }
    });

    it('accepts a stream of small uneven chunks', async () => {
      const data = await randomBuffer(5 * S + 77, 5);
      const chunks: Buffer[] = [];
      for (let i = 0; i < data.length; i += 999) chunks.push(data.subarray(i, i + 999));
      const put = await store.put('chunks', Readable.from(chunks, { objectMode: false }));
      assert.equal(put.sha256, sha(data));
      assert.ok((await readAll(await store.get('chunks'))).equals(data));
    });

    it('serves byte ranges', async () => {
      const data = await randomBuffer(40 * S + 9, 8);
      await store.put('r', data);
      for (const [start, end] of [[0, 0], [S - 1, S], [3, 33 * S + 2], [40 * S, undefined], [39 * S + 5, 40 * S + 8]] as [number, number | undefined][]) {
        const got = await readAll(await store.get('r', { start, end }));
        assert.ok(got.equals(data.subarray(start, end === undefined ? undefined : end + 1)), `${start}-${end}`);
      }
      assert.equal(await code(store.get('r', { start: data.length })), 'range_not_satisfiable');
    });

    it('detects a flipped byte, emits only the segments before it, and reports it', async () => {
      const data = await randomBuffer(40 * S, 9);
      await store.put('t', data);
      const raw = store.raw.get('objects/t')!;
      raw[HEADER_SIZE + 35 * STRIDE + 10] = raw[HEADER_SIZE + 35 * STRIDE + 10]! ^ 1;
      const { got, err } = await readUntilError(await store.get('t'));
      assert.equal((err as StorageError).code, 'integrity_error');
      assert.equal((err as StorageError).details.segment, 35);
      assert.ok(got.length <= 35 * S);
      assert.ok(got.equals(data.subarray(0, got.length)));
      assert.equal(failures.length, 1);
      const v = await store.verify('t');
      assert.deepEqual([v.ok, v.actual, v.error], [false, null, 'integrity_error']);
    });

    it('detects truncation at a segment boundary and a swapped pair of segments', async () => {
      const data = await randomBuffer(4 * S, 10);
      await store.put('a', data);
      await store.put('b', data);
      const a = store.raw.get('objects/a')!;
      store.raw.set('objects/a', a.subarray(0, a.length - STRIDE));
      const b = store.raw.get('objects/b')!;
      const s1 = Buffer.from(b.subarray(HEADER_SIZE + STRIDE, HEADER_SIZE + 2 * STRIDE));
      b.copy(b, HEADER_SIZE + STRIDE, HEADER_SIZE + 2 * STRIDE, HEADER_SIZE + 3 * STRIDE);
      s1.copy(b, HEADER_SIZE + 2 * STRIDE);
      for (const k of ['a', 'b']) {
        const { got, err } = await readUntilError(await store.get(k));
        assert.equal((err as StorageError).code, 'integrity_error', k);
        assert.ok(got.equals(data.subarray(0, got.length)));
        assert.ok(got.length <= (k === 'a' ? 3 : 1) * S);
      }
    });

    it('ties the key record to its object: a record copied onto another key does not unwrap', async () => {
      await store.put('x', Buffer.from('x content'));
      await store.put('y', Buffer.from('y content'));
      const rec = JSON.parse(store.raw.get('keys/x')!.toString()) as Record<string, unknown>;
      store.raw.set('keys/y', Buffer.from(JSON.stringify({ ...rec, key: 'y' })));
      store.raw.set('objects/y', store.raw.get('objects/x')!);
      assert.equal(await code(store.get('y')), 'integrity_error');
    });

    it('shreds: object_shredded afterwards, nothing left but the tombstone', async () => {
      await store.put('s', Buffer.from('to be destroyed'));
      await store.shred('s');
      assert.equal(await code(store.get('s')), 'object_shredded');
      assert.equal(await code(store.stat('s')), 'object_shredded');
      assert.deepEqual([...store.raw.keys()], ['tombstones/s']);
      await store.shred('s');
      assert.equal(await code(store.shred('never')), 'object_not_found');
      assert.equal(await code(store.get('never')), 'object_not_found');
    });

    it('rewraps every key record to a new KEK without touching content', async () => {
      await store.put('p', Buffer.from('one'));
      await store.put('q', Buffer.from('two'));
      const old = store.keyring.activeKekId;
      const content = Buffer.from(store.raw.get('objects/p')!);
      const next = await store.keyring.addKek({ activate: true });
      assert.deepEqual(await store.rewrapAll(), { rewrapped: 2, unchanged: 0, failed: [] });
      await store.keyring.removeKek(old);
      assert.ok(store.raw.get('objects/p')!.equals(content));
      assert.equal((await store.stat('p')).kekId, next);
      assert.equal((await readAll(await store.get('q'))).toString(), 'two');
      assert.deepEqual(await store.rewrapAll(), { rewrapped: 0, unchanged: 2, failed: [] });
    });

    it('fails with key_not_found under a keyring without the KEK', async () => {
      await store.put('k', Buffer.from('secret'));
      const other = await createMemoryBlobStore({ cryptoThreads, decryptThreads, keyring: await createMemoryKeyring() });
      for (const [name, value] of store.raw) other.raw.set(name, value);
      assert.equal(await code(other.get('k')), 'key_not_found');
      const r = await other.rewrapAll();
      assert.equal(r.failed[0]?.code, 'key_not_found');
    });

    it('a read racing an overwrite reads the new version, not an integrity alarm', async () => {
      const backend = new MemoryBackend();
      const racing = createEnvelopeStore(backend, { keyring: shared, cryptoThreads, decryptThreads, onIntegrityFailure: (e) => failures.push(e) });
      await racing.put('x', Buffer.from('version 1'));
      const stale = backend.objects.get('keys/x')!;
      await racing.put('x', Buffer.from('version 2'));
      // The reader gets the old record although the new content is already in place.
      let served = false;
      const readSmall = backend.readSmall.bind(backend);
      backend.readSmall = async (name: string) => {
        if (name === 'keys/x' && !served) {
          served = true;
          return stale;
        }
        return readSmall(name);
      };
      assert.equal((await readAll(await racing.get('x'))).toString(), 'version 2');
      assert.deepEqual(failures, []);
    });

    it('rejects bad keys and lists live objects', async () => {
      for (const bad of ['', '/abs', 'a/../b', 'a\\b']) assert.equal(await code(store.put(bad, Buffer.alloc(1))), 'invalid_argument', bad);
      await store.put('dir/a', Buffer.alloc(1));
      await store.put('dir/b', Buffer.alloc(1));
      await store.put('other', Buffer.alloc(1));
      await store.shred('dir/b');
      const listed: string[] = [];
      for await (const k of store.list('dir/')) listed.push(k);
      assert.deepEqual(listed, ['dir/a']);
    });
  });
}
