import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import * as Minio from 'minio';
import { createBlobStore, createKeyring, type BlobStore, type Keyring } from '../../../storage';
import { ensureTestServices, testBucket, testMinioConfig } from '../../helpers/services';

/** Every HTTP request this process sends while `fn` runs, as "METHOD path?query-names". */
async function requestsDuring(fn: () => Promise<unknown>): Promise<string[]> {
  const seen: string[] = [];
  const end = http.ClientRequest.prototype.end;
  http.ClientRequest.prototype.end = function (this: http.ClientRequest, ...args: unknown[]) {
    seen.push(`${this.method} ${this.path}`);
    return (end as (...a: unknown[]) => http.ClientRequest).apply(this, args);
  } as typeof end;
  try {
    await fn();
  } finally {
    http.ClientRequest.prototype.end = end;
  }
  return seen;
}

const days = (n: number) => new Date(Date.now() + n * 86_400_000);

/** Removes a locked bucket's objects with the root credential's governance bypass, then the bucket. */
async function dropLockedBucket(c: Minio.Client, bucket: string): Promise<void> {
  for await (const it of c.listObjects(bucket, '', true, { IncludeVersion: true }) as AsyncIterable<{ name: string; versionId?: string }>) {
    await c.removeObject(bucket, it.name, { versionId: it.versionId ?? 'null', governanceBypass: true }).catch(() => undefined);
  }
  await c.removeBucket(bucket).catch(() => undefined);
}

// What a write or read costs in requests to MinIO (issue #12 §4: a 48-page ingest sent 3,124 of
// them, a fifth of which asked again for what the process already knew).
describe('storage: requests to MinIO', function () {
  this.timeout(60_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'storage-req-'));
  const raw = () => new Minio.Client(testMinioConfig());
  const plain = testBucket('req-plain');
  const withDefault = testBucket('req-default');
  let keyring: Keyring;
  let store: BlobStore;

  before(async () => {
    ensureTestServices();
    ({ keyring } = await createKeyring({ dir: path.join(tmp, 'keys'), passphrase: 'requests-spec-pass', kdfIterations: 2048 }));
    store = await createBlobStore({ minio: testMinioConfig(), bucket: plain, keyring, objectLock: 'auto' });
  });

  after(async () => {
    await dropLockedBucket(raw(), plain);
    await dropLockedBucket(raw(), withDefault);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('the bucket\'s region is asked once: a missing object (an error answer) does not make the next requests ask again', async () => {
    const seen = await requestsDuring(async () => {
      await assert.rejects(store.getBuffer('req/missing'), (e: { code?: string }) => e.code === 'object_not_found');
      await store.put('req/after-miss', Buffer.from('a page'));
      assert.equal((await store.getBuffer('req/after-miss')).toString(), 'a page');
      await assert.rejects(store.stat('req/missing-too'), (e: { code?: string }) => e.code === 'object_not_found');
      await store.put('req/after-miss-2', Buffer.from('another page'));
    });
    assert.ok(seen.length >= 6, seen.join('\n'));
    assert.deepEqual(seen.filter((r) => /[?&]location/.test(r)), []);
  });

  it('a protected write to a bucket without default retention sets the retention without looking it up first', async () => {
    const until = days(3);
    const seen = await requestsDuring(() => store.put('req/protected', Buffer.from('a filed page'), { retainUntil: until }));
    assert.deepEqual(seen.filter((r) => r.startsWith('GET') && /[?&]retention/.test(r)), [], seen.join('\n'));
    assert.equal(seen.filter((r) => r.startsWith('PUT') && /[?&]retention/.test(r)).length, 2, seen.join('\n')); // the object and its key record
    for (const name of ['objects/req/protected', 'keys/req/protected']) {
      const r = await raw().getObjectRetention(plain, name);
      assert.deepEqual([r?.mode, r?.retainUntilDate?.slice(0, 10)], ['GOVERNANCE', until.toISOString().slice(0, 10)], name);
    }
  });

  it('protecting a stored object (filing) sets the later date in one request per object; an earlier date leaves the later one in force', async () => {
    await store.put('req/filed', Buffer.from('a page filed later'));
    const later = days(40), earlier = days(10);
    const seen = await requestsDuring(() => store.protect('req/filed', { retainUntil: later }));
    // The key record read (is the object there, or shredded?), then the date on the key record and on the object.
    assert.deepEqual(seen.map((r) => r.replace(/\?.*/, (q) => q.replace(/=[^&]*/g, ''))), ['GET /' + plain + '/keys/req/filed', 'PUT /' + plain + '/keys/req/filed?retention', 'PUT /' + plain + '/objects/req/filed?retention']);
    await store.protect('req/filed', { retainUntil: earlier });
    for (const name of ['objects/req/filed', 'keys/req/filed']) {
      const r = await raw().getObjectRetention(plain, name);
      assert.equal(r?.retainUntilDate?.slice(0, 10), later.toISOString().slice(0, 10), name);
    }
  });

  it('a bucket whose default retention outlasts the date asked keeps the default: the write reads it and does not try to shorten it', async () => {
    const c = raw();
    await c.makeBucket(withDefault, '', { ObjectLocking: true });
    await c.setObjectLockConfig(withDefault, { mode: 'GOVERNANCE', unit: 'Days', validity: 30 } as never);
    const s = await createBlobStore({ minio: testMinioConfig(), bucket: withDefault, keyring, objectLock: 'auto' });
    await s.put('req/default', Buffer.from('a filed page'), { retainUntil: days(2) });
    for (const name of ['objects/req/default', 'keys/req/default']) {
      const r = await c.getObjectRetention(withDefault, name);
      const left = (new Date(r!.retainUntilDate!).getTime() - Date.now()) / 86_400_000;
      assert.ok(left > 29 && left <= 30, `${name}: ${r?.retainUntilDate}`);
    }
  });
});
