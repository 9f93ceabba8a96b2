/**
 * A slow and a stalled MinIO (issue #15 §1), through a loopback proxy in front of the real test
 * MinIO: a slow link only makes things slower; a server that stops answering is reported as
 * service_unavailable within the idle timeout instead of hanging the caller forever, and the same
 * store works again as soon as the server answers (no restart, nobody repairing anything).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import * as Minio from 'minio';
import { createBlobStore, createKeyring, type BlobStore } from '../../../storage';
import { ensureTestServices, testBucket, testMinioConfig } from '../../helpers/services';
import { startTcpProxy, type TcpProxy } from '../../helpers/tcp-proxy';
import { randomBuffer, readAll, removeBucket } from './helpers';

const IDLE_MS = 1500;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('storage: a slow and a stalled MinIO (fault proxy in front of the real server)', function () {
  this.timeout(120_000);
  const bucket = testBucket('slow');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'slow-minio-'));
  let proxy: TcpProxy;
  let store: BlobStore;

  before(async () => {
    ensureTestServices();
    proxy = await startTcpProxy(testMinioConfig().port);
    const { keyring } = await createKeyring({ dir: path.join(tmp, 'keys'), passphrase: 'slow-minio-pass', kdfIterations: 2048 });
    store = await createBlobStore({ minio: { ...testMinioConfig(), port: proxy.port }, bucket, keyring, idleTimeoutMs: IDLE_MS });
  });
  after(async () => {
    await proxy?.close();
    await removeBucket(new Minio.Client(testMinioConfig()), bucket);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('a slow link (every chunk delayed) only makes a round trip slower', async () => {
    proxy.mode = { kind: 'delay', ms: 40 };
    const data = await randomBuffer(1_500_000, 1);
    const before = proxy.bytes;
    await store.put('slow/a', data);
    assert.equal(sha(await readAll(await store.get('slow/a'))), sha(data));
    assert.ok(proxy.bytes - before > 2 * data.length, 'the traffic went through the slow proxy');
  });

  it('a server that stops answering: put and get fail with service_unavailable within the idle timeout, then work again', async () => {
    proxy.mode = { kind: 'pass' };
    const data = await randomBuffer(200_000, 2);
    await store.put('stall/kept', data);
    proxy.mode = { kind: 'stall' };
    for (const [what, op] of [
      ['put', () => store.put('stall/new', data)],
      ['get', async () => readAll(await store.get('stall/kept'))],
    ] as const) {
      const t0 = Date.now();
      await assert.rejects(op(), (e: any) => e.code === 'service_unavailable', `${what} reports the outage`);
      const ms = Date.now() - t0;
      assert.ok(ms >= IDLE_MS - 200 && ms < IDLE_MS * 6, `${what} gave up after ${ms} ms (idle timeout ${IDLE_MS} ms)`);
    }
    proxy.mode = { kind: 'pass' };
    await store.put('stall/new', data);
    assert.equal(sha(await readAll(await store.get('stall/new'))), sha(data));
    assert.equal(sha(await readAll(await store.get('stall/kept'))), sha(data), 'what was stored before the stall is intact');
  });
});
