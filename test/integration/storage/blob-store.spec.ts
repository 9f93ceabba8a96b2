/**
 * The encrypted blob store against the real test MinIO: round trips, ranges, tampering with the
 * stored ciphertext through the raw client, key rotation, crypto-shredding, an unreachable server.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import * as Minio from 'minio';
import { createBlobStore, createKeyring, openKeyring, ciphertextSize, DEFAULT_SEGMENT_SIZE, HEADER_SIZE, TAG_SIZE, type BlobStore, type Keyring, type StorageError } from '../../../storage';
import { ensureTestServices, testBucket, testMinioConfig } from '../../helpers/services';
import { listVersions, randomBuffer, randomStream, readAll, readUntilError, removeBucket, sha256Of } from './helpers';

const S = DEFAULT_SEGMENT_SIZE;
const STRIDE = S + TAG_SIZE;
const PASS = 'integration-passphrase';

function hex(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

async function expectCode(p: Promise<unknown>, code: string): Promise<StorageError> {
  try {
    await p;
  } catch (err) {
    assert.equal((err as StorageError).code, code, `expected ${code}, got ${(err as Error).message}`);
    return err as StorageError;
  }
  assert.fail(`expected a ${code} error`);
}

describe('storage: encrypted blob store on MinIO', function () {
  this.timeout(120_000);
  const bucket = testBucket('storage');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'storage-it-'));
  let raw: Minio.Client;
  let keyring: Keyring;
  let store: BlobStore;
  const failures: StorageError[] = [];

  before(async () => {
    ensureTestServices();
    raw = new Minio.Client(testMinioConfig());
    ({ keyring } = await createKeyring({ dir: path.join(tmp, 'keys'), passphrase: PASS, kdfIterations: 2048 }));
    store = await createBlobStore({ minio: testMinioConfig(), bucket, keyring, onIntegrityFailure: (e) => failures.push(e) });
  });

  after(async () => {
    await removeBucket(raw, bucket);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  beforeEach(() => {
    failures.length = 0;
  });

  describe('round trips', () => {
    for (const size of [0, 1, S - 1, S, S + 1, 2 * S, 3 * S + 7]) {
      it(`${size} bytes`, async () => {
        const data = await randomBuffer(size, size);
        const key = `rt/${size}`;
        const put = await store.put(key, data, { contentType: 'application/pdf' });
        assert.deepEqual(put, { key, size, sha256: hex(data), kekId: keyring.activeKekId });
        assert.ok((await readAll(await store.get(key))).equals(data));
        const st = await store.stat(key);
        assert.equal(st.size, size);
        assert.equal(st.contentType, 'application/pdf');
        assert.equal((await raw.statObject(bucket, `objects/${key}`)).size, ciphertextSize(size, S));
        assert.deepEqual(await store.verify(key), { ok: true, sha256: hex(data), actual: hex(data) });
      });
    }

    it('stores a 100 MB stream of unknown length and reads it back (SHA-256 compared)', async () => {
      const size = 100 * 1024 * 1024;
      const expected = await sha256Of(randomStream(size, 42));
      const put = await store.put('rt/100mb', randomStream(size, 42));
      assert.equal(put.size, size);
      assert.equal(put.sha256, expected);
      assert.equal(await sha256Of(await store.get('rt/100mb')), expected);
      assert.equal((await raw.statObject(bucket, 'objects/rt/100mb')).size, ciphertextSize(size, S));
    });

    it('never writes plaintext to the bucket', async () => {
      const marker = Buffer.from('公民身份号码 110101199003071234 '.repeat(4000));
      await store.put('rt/plain-check', marker);
      for (const name of ['objects/rt/plain-check', 'keys/rt/plain-check']) {
        const stored = await readAll(await raw.getObject(bucket, name));
        assert.equal(stored.indexOf('110101199003071234'), -1, `${name} contains plaintext`);
      }
    });

    it('a failing input stream fails the put and stores nothing readable', async () => {
      const src = randomStream(40 * 1024 * 1024, 3);
      let n = 0;
      src.on('data', () => {
        if (++n === 20) src.destroy(new Error('scanner unplugged'));
      });
      await assert.rejects(store.put('rt/failed', src), /scanner unplugged/);
      await expectCode(store.get('rt/failed'), 'object_not_found');
    });
  });

  describe('range reads', () => {
    const size = 3 * S + 100;
    let data: Buffer;
    before(async () => {
      data = await randomBuffer(size, 7);
      await store.put('range/obj', data);
    });

    const cases: [string, number, number | undefined][] = [
      ['first byte', 0, 0],
      ['within one segment', 10, 1000],
      ['across one boundary', S - 10, S + 10],
      ['exactly one boundary', S - 1, S],
      ['across several segments', 5, 2 * S + 7],
      ['the last byte', size - 1, size - 1],
      ['open-ended from a boundary', S, undefined],
      ['open-ended inside the final segment', 3 * S + 50, undefined],
      ['end past the size (clamped)', 2 * S, size + 1000],
    ];
    for (const [name, start, end] of cases) {
      it(name, async () => {
        const got = await readAll(await store.get('range/obj', { start, end }));
        assert.ok(got.equals(data.subarray(start, end === undefined ? undefined : end + 1)));
      });
    }

    it('rejects unsatisfiable ranges', async () => {
      await expectCode(store.get('range/obj', { start: size }), 'range_not_satisfiable');
      await expectCode(store.get('range/obj', { start: 100, end: 99 }), 'range_not_satisfiable');
      await expectCode(store.get('range/obj', { start: -1 }), 'range_not_satisfiable');
      await expectCode(store.get('range/obj', { start: 1.5 }), 'range_not_satisfiable');
      await store.put('range/empty', Buffer.alloc(0));
      await expectCode(store.get('range/empty', { start: 0 }), 'range_not_satisfiable');
    });

    it('decrypts only the covering segments (damage elsewhere does not matter)', async () => {
      const stored = await readAll(await raw.getObject(bucket, 'objects/range/obj'));
      stored[HEADER_SIZE + 5] = stored[HEADER_SIZE + 5]! ^ 1; // segment 0
      await raw.putObject(bucket, 'objects/range/obj', stored);
      const got = await readAll(await store.get('range/obj', { start: 2 * S + 3, end: 2 * S + 9 }));
      assert.ok(got.equals(data.subarray(2 * S + 3, 2 * S + 10)));
      const { err } = await readUntilError(await store.get('range/obj', { start: 10, end: 20 }));
      assert.equal((err as StorageError).code, 'integrity_error');
    });
  });

  describe('large reads (through direct-get.ts: one reused read buffer, no buffer per network read)', () => {
    const size = 80 * S + 321; // 5.2 MB: past the 2 MiB below which ranges stay on the client
    let data: Buffer;
    before(async () => {
      data = await randomBuffer(size, 21);
      await store.put('large/obj', data);
    });

    it('whole and in ranges over 2 MiB, byte for byte', async () => {
      assert.ok((await readAll(await store.get('large/obj'))).equals(data));
      for (const [start, end] of [[0, size - 1], [S + 7, 70 * S], [3, undefined], [40 * S - 1, size + 5]] as const) {
        const got = await readAll(await store.get('large/obj', { start, end }));
        assert.ok(got.equals(data.subarray(start, end === undefined ? undefined : end + 1)), `${start}-${end ?? ''}`);
      }
    });

    it('a flipped byte deep inside fails the read at that segment, whole or ranged, and is reported', async () => {
      await store.put('large/tampered', data);
      const stored = await readAll(await raw.getObject(bucket, 'objects/large/tampered'));
      stored[HEADER_SIZE + 60 * STRIDE + 99] = stored[HEADER_SIZE + 60 * STRIDE + 99]! ^ 2;
      await raw.putObject(bucket, 'objects/large/tampered', stored);
      for (const range of [undefined, { start: 10 * S, end: 79 * S }]) {
        failures.length = 0;
        const { got, err } = await readUntilError(await store.get('large/tampered', range));
        assert.equal((err as StorageError | null)?.code, 'integrity_error');
        assert.equal((err as StorageError).details.segment, 60);
        const from = range?.start ?? 0;
        assert.ok(got.length <= 60 * S - from, `released ${got.length} bytes, past the damaged segment`);
        assert.ok(got.equals(data.subarray(from, from + got.length)));
        assert.ok(failures.some((f) => f.details.key === 'large/tampered'), 'onIntegrityFailure was told');
      }
    });

    it('content gone under its record: integrity_error, reported', async () => {
      await store.put('large/gone', data);
      await raw.removeObject(bucket, 'objects/large/gone');
      await expectCode(store.get('large/gone'), 'integrity_error');
      await expectCode(store.get('large/gone', { start: 0, end: 3 * 1024 * 1024 }), 'integrity_error');
      assert.ok(failures.some((f) => f.details.key === 'large/gone'));
    });
  });

  describe('tampering with the stored ciphertext', () => {
    const size = 4 * S;
    let data: Buffer;

    async function tamper(key: string, edit: (b: Buffer) => Buffer): Promise<void> {
      const stored = await readAll(await raw.getObject(bucket, `objects/${key}`));
      await raw.putObject(bucket, `objects/${key}`, edit(stored));
    }

    beforeEach(async function () {
      data = await randomBuffer(size, 9);
      await store.put(`tamper/${this.currentTest!.title}`, data);
    });

    async function expectIntegrity(key: string, plaintextBefore: number): Promise<void> {
      const { got, err } = await readUntilError(await store.get(key));
      assert.equal((err as StorageError | null)?.code, 'integrity_error', 'the read must fail');
      // Segments already authenticated may be dropped when the stream errors, never anything after them.
      assert.ok(got.length <= plaintextBefore, `emitted ${got.length} bytes, more than the ${plaintextBefore} before the damage`);
      assert.ok(got.equals(data.subarray(0, got.length)));
      assert.ok(failures.some((f) => f.code === 'integrity_error' && f.details.key === key), 'onIntegrityFailure was told');
      assert.equal((await store.verify(key)).ok, false);
    }

    it('flipped byte', async () => {
      await tamper('tamper/flipped byte', (b) => {
        b[HEADER_SIZE + 2 * STRIDE + 1234] = b[HEADER_SIZE + 2 * STRIDE + 1234]! ^ 0x40;
        return b;
      });
      await expectIntegrity('tamper/flipped byte', 2 * S);
    });

    it('flipped tag byte', async () => {
      await tamper('tamper/flipped tag byte', (b) => {
        b[HEADER_SIZE + STRIDE - 1] = b[HEADER_SIZE + STRIDE - 1]! ^ 1;
        return b;
      });
      await expectIntegrity('tamper/flipped tag byte', 0);
    });

    it('truncated (last segment dropped)', async () => {
      await tamper('tamper/truncated (last segment dropped)', (b) => b.subarray(0, b.length - STRIDE));
      await expectIntegrity('tamper/truncated (last segment dropped)', 3 * S);
    });

    it('segments swapped', async () => {
      await tamper('tamper/segments swapped', (b) => {
        const s0 = Buffer.from(b.subarray(HEADER_SIZE, HEADER_SIZE + STRIDE));
        b.copy(b, HEADER_SIZE, HEADER_SIZE + STRIDE, HEADER_SIZE + 2 * STRIDE);
        s0.copy(b, HEADER_SIZE + STRIDE);
        return b;
      });
      await expectIntegrity('tamper/segments swapped', 0);
    });

    it('header altered', async () => {
      await tamper('tamper/header altered', (b) => {
        b[12] = b[12]! ^ 1; // nonce prefix
        return b;
      });
      await expectIntegrity('tamper/header altered', 0);
    });

    it('bytes appended', async () => {
      await tamper('tamper/bytes appended', (b) => Buffer.concat([b, Buffer.alloc(10)]));
      await expectIntegrity('tamper/bytes appended', 3 * S);
    });

    it('recorded size altered in the key record', async () => {
      const key = 'tamper/recorded size altered in the key record';
      const rec = JSON.parse((await readAll(await raw.getObject(bucket, `keys/${key}`))).toString()) as { size: number };
      rec.size -= 1;
      await raw.putObject(bucket, `keys/${key}`, Buffer.from(JSON.stringify(rec)));
      const { err } = await readUntilError(await store.get(key));
      assert.equal((err as StorageError).code, 'integrity_error');
    });
  });

  describe('keys', () => {
    it('a keyring without the object\'s KEK fails with key_not_found', async () => {
      await store.put('kek/other', Buffer.from('hello'));
      const { keyring: other } = await createKeyring({ dir: path.join(tmp, 'other'), passphrase: PASS, kdfIterations: 2048 });
      const foreign = await createBlobStore({ minio: testMinioConfig(), bucket, keyring: other });
      await expectCode(foreign.get('kek/other'), 'key_not_found');
    });

    it('rotates: new writes use the new KEK, rewrapAll moves old objects, the old KEK can then go', async () => {
      const dir = path.join(tmp, 'rotating');
      const { keyring: ring } = await createKeyring({ dir, passphrase: PASS, kdfIterations: 2048 });
      const b2 = testBucket('rotate');
      const s = await createBlobStore({ minio: testMinioConfig(), bucket: b2, keyring: ring });
      try {
        const old = ring.activeKekId;
        const a = await randomBuffer(3 * S + 1, 11);
        const putA = await s.put('a', a);
        const next = await ring.addKek({ activate: true });
        assert.notEqual(next, old);
        const putB = await s.put('b', Buffer.from('written after rotation'));
        assert.equal(putA.kekId, old);
        assert.equal(putB.kekId, next);
        const contentBefore = await raw.statObject(b2, 'objects/a');

        assert.deepEqual(await s.rewrapAll(), { rewrapped: 1, unchanged: 1, failed: [] });
        assert.equal((await s.stat('a')).kekId, next);
        assert.equal((await raw.statObject(b2, 'objects/a')).etag, contentBefore.etag, 'content was not rewritten');

        await ring.removeKek(old);
        const { keyring: reopened } = await openKeyring({ dir, passphrase: PASS });
        assert.deepEqual(reopened.kekIds(), [next]);
        const s2 = await createBlobStore({ minio: testMinioConfig(), bucket: b2, keyring: reopened });
        assert.ok((await readAll(await s2.get('a'))).equals(a));
        assert.equal((await readAll(await s2.get('b'))).toString(), 'written after rotation');
      } finally {
        await removeBucket(raw, b2);
      }
    });
  });

  describe('crypto-shredding', () => {
    it('destroys every version of key and content; later reads say object_shredded', async () => {
      const b2 = testBucket('shred');
      const s = await createBlobStore({ minio: testMinioConfig(), bucket: b2, keyring });
      try {
        await raw.setBucketVersioning(b2, { Status: 'Enabled' });
        await s.put('cases/1', await randomBuffer(2 * S + 3, 1));
        await s.put('cases/1', await randomBuffer(S, 2)); // a second version of both objects
        await s.put('cases/10', Buffer.from('neighbour with a longer name'));
        assert.ok((await listVersions(raw, b2, 'objects/cases/1')).filter((v) => v.name === 'objects/cases/1').length >= 2);

        await s.shred('cases/1');

        await expectCode(s.get('cases/1'), 'object_shredded');
        await expectCode(s.stat('cases/1'), 'object_shredded');
        for (const prefix of ['objects/cases/1', 'keys/cases/1']) {
          assert.deepEqual((await listVersions(raw, b2, prefix)).filter((v) => v.name === prefix), [], `${prefix} still has versions`);
        }
        assert.equal((await readAll(await s.get('cases/10'))).toString(), 'neighbour with a longer name');
        await s.shred('cases/1'); // idempotent
        await expectCode(s.shred('cases/never'), 'object_not_found');
        await expectCode(s.get('cases/never'), 'object_not_found');
      } finally {
        await removeBucket(raw, b2);
      }
    });
  });

  describe('crypto-shredding many at once (shredMany)', () => {
    it('named keys and everything under the prefixes, every version, in few requests; neighbours survive; absent keys reported; idempotent', async () => {
      const b2 = testBucket('shredmany');
      const s = await createBlobStore({ minio: testMinioConfig(), bucket: b2, keyring });
      try {
        await raw.setBucketVersioning(b2, { Status: 'Enabled' });
        await s.put('cases/1', Buffer.from('one'));
        await s.put('cases/1', Buffer.from('one, again')); // a second version of both objects
        await s.put('items/a/pages/1.png', Buffer.from('page'));
        await s.put('items/a/thumbs/1.jpg', Buffer.from('thumb'));
        await s.put('items/a/item.pdf', Buffer.from('%PDF'));
        await s.put('items/ab/item.pdf', Buffer.from('a neighbour whose prefix shares letters'));
        await s.put('cases/10', Buffer.from('neighbour with a longer name'));

        const r = await s.shredMany(['cases/1', 'items/a/item.pdf', 'cases/never'], { prefixes: ['items/a/'] });
        assert.deepEqual(r.shredded.sort(), ['cases/1', 'items/a/item.pdf', 'items/a/pages/1.png', 'items/a/thumbs/1.jpg']);
        assert.deepEqual(r.absent, ['cases/never']);
        for (const k of r.shredded) {
          await expectCode(s.get(k), 'object_shredded');
          for (const name of [`objects/${k}`, `keys/${k}`]) assert.deepEqual((await listVersions(raw, b2, name)).filter((v) => v.name === name), [], `${name} still has versions`);
        }
        assert.equal((await readAll(await s.get('cases/10'))).toString(), 'neighbour with a longer name');
        assert.equal((await readAll(await s.get('items/ab/item.pdf'))).toString(), 'a neighbour whose prefix shares letters');
        const again = await s.shredMany(['cases/1', 'items/a/item.pdf'], { prefixes: ['items/a/'] });
        assert.deepEqual([again.shredded, again.absent.sort()], [[], ['cases/1', 'items/a/item.pdf']], 'idempotent');
        await assert.rejects(s.shredMany(['x'], { prefixes: ['items/a'] }), (e: any) => e.code === 'invalid_argument');
      } finally {
        await removeBucket(raw, b2);
      }
    });
  });

  describe('MinIO unreachable at start-up', () => {
    it('a closed port gives service_unavailable quickly', async () => {
      const probe = net.createServer();
      await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
      const port = (probe.address() as net.AddressInfo).port;
      await new Promise<void>((r) => probe.close(() => r()));
      const t0 = Date.now();
      await expectCode(createBlobStore({ minio: { ...testMinioConfig(), port }, bucket, keyring }), 'service_unavailable');
      assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
    });

    it('a server that accepts but never answers gives service_unavailable after the timeout', async () => {
      const sockets: net.Socket[] = [];
      const silent = net.createServer((sock) => sockets.push(sock));
      await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
      try {
        const t0 = Date.now();
        const port = (silent.address() as net.AddressInfo).port;
        await expectCode(createBlobStore({ minio: { ...testMinioConfig(), port }, bucket, keyring, timeoutMs: 1000 }), 'service_unavailable');
        assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms`);
      } finally {
        for (const s of sockets) s.destroy();
        await new Promise<void>((r) => silent.close(() => r()));
      }
    });
  });
});
