import assert from 'node:assert/strict';
import * as Minio from 'minio';
import { parseConfig } from '../../../src/config';
import { createMetrics } from '../../../src/metrics';
import { createRuntime } from '../../../src/runtime';
import { fileItem } from '../../../src/services/filing';
import { migrateStorageToLockedBucket } from '../../../src/services/platform';
import { itemBlobKeys, itemProtection, mirrorLegalHold, protectFiledItems, protectItem } from '../../../src/services/records';
import { ocredItem } from '../../helpers/filing';
import { testLogger } from '../../helpers/logger';
import { openTestRuntime } from '../../helpers/runtime';
import { MINIO_CREDENTIALS, testBucket, testMinioConfig } from '../../helpers/services';

const INJURY = (date: string) => ['工伤认定决定书', '用人单位：北京市朝阳区星光科技有限公司', '经调查核实，认定为工伤。', `决定日期：${date}`];
const raw = () => new Minio.Client(testMinioConfig()); // the root credential: it has delete rights

async function versionsOf(c: Minio.Client, bucket: string, name: string): Promise<string[]> {
  const out: string[] = [];
  for await (const it of c.listObjects(bucket, name, false, { IncludeVersion: true }) as AsyncIterable<{ name?: string; versionId?: string; isDeleteMarker?: boolean }>) {
    if (it.name === name && !it.isDeleteMarker) out.push(it.versionId!);
  }
  return out;
}

// Issue #11 §5, through the raw MinIO API as well as ours (real MinIO, real FerretDB).
describe('object lock: retention until the appraisal date, legal holds, the executor, migration', function () {
  this.timeout(120_000);
  let ctx: Awaited<ReturnType<typeof openTestRuntime>>;
  let item: string;
  let key: string;

  before(async () => {
    ctx = await openTestRuntime({ ARCHIVE_EXECUTOR_MINIO_ACCESS_KEY: MINIO_CREDENTIALS.accessKey, ARCHIVE_EXECUTOR_MINIO_SECRET_KEY: MINIO_CREDENTIALS.secretKey });
  });
  after(async () => ctx?.close());

  it('a new archive bucket is made with object lock, and filing locks every object of the item until its appraisal date', async () => {
    assert.equal(await ctx.rt.storage.blobs.objectLock(), true);
    item = await ocredItem(ctx.rt, 'lock', [INJURY('2019年5月20日')]);
    const filed = await fileItem(ctx.rt, item);
    assert.equal((filed.classification as any).dueOn, '2070-01-01');
    const keys = await itemBlobKeys(ctx.rt, filed);
    assert.ok(keys.length >= 1);
    key = keys[0]!;
    const c = raw();
    for (const name of [`objects/${key}`, `keys/${key}`]) {
      const [v] = await versionsOf(c, ctx.config.minio.bucket, name);
      const r = await c.getObjectRetention(ctx.config.minio.bucket, name, { versionId: v! });
      assert.deepEqual([r?.mode, r?.retainUntilDate?.slice(0, 10)], ['GOVERNANCE', '2070-01-01'], name);
    }
  });

  it('an early delete through the raw MinIO API is refused, even with a credential that has delete rights', async () => {
    const c = raw();
    for (const name of [`objects/${key}`, `keys/${key}`]) {
      for (const v of await versionsOf(c, ctx.config.minio.bucket, name)) {
        await assert.rejects(c.removeObject(ctx.config.minio.bucket, name, { versionId: v }), /WORM|protected|denied/i, name);
      }
    }
    // A plain delete only adds a delete marker: the protected version is still there and our read still works.
    await c.removeObject(ctx.config.minio.bucket, `keys/${key}`).catch(() => undefined);
    assert.equal((await versionsOf(c, ctx.config.minio.bucket, `keys/${key}`)).length, 1);
  });

  it('our shred without the executor\'s bypass is refused with object_locked', async () => {
    // Undo the delete marker the raw client left, so the object reads again.
    const c = raw();
    for await (const it of c.listObjects(ctx.config.minio.bucket, `keys/${key}`, false, { IncludeVersion: true }) as AsyncIterable<any>) {
      if (it.isDeleteMarker) await c.removeObject(ctx.config.minio.bucket, `keys/${key}`, { versionId: it.versionId });
    }
    assert.ok((await ctx.rt.storage.blobs.getBuffer(key)).length > 0);
    await assert.rejects(ctx.rt.storage.blobs.shred(key), (e: any) => e.code === 'object_locked');
    assert.ok((await ctx.rt.storage.blobs.getBuffer(key)).length > 0, 'still readable');
  });

  it('永久 items are locked without a real end: retention to 9999-12-31', async () => {
    const perm = await ocredItem(ctx.rt, 'perm', [['参保单位登记表', '单位参保登记', '登记日期：2018年3月1日']]);
    const filed = await fileItem(ctx.rt, perm);
    assert.equal((filed.classification as any).retention, 'Y', JSON.stringify(filed.classification));
    const [k] = await itemBlobKeys(ctx.rt, filed);
    const p = await ctx.rt.storage.blobs.protection(k!);
    assert.deepEqual([p.locked, p.retainUntil?.slice(0, 10)], [true, '9999-12-31']);
    // What `archive storage protection ITEM` shows: every object of the item with its lock.
    const shown = await itemProtection(ctx.rt, perm);
    assert.equal(shown.item, perm);
    assert.deepEqual(shown.objects.map((o) => o.key), await itemBlobKeys(ctx.rt, filed));
    assert.ok(shown.objects.every((o) => o.locked && o.retainUntil?.startsWith('9999-12-31')));
    await assert.rejects(itemProtection(ctx.rt, '0123456789abcdef01234567'), (e: any) => e.code === 'item_not_found');
    // `archive storage protect`: every filed item again (idempotent), with progress.
    const progress: Array<[number, number]> = [];
    const all = await protectFiledItems(ctx.rt, { onProgress: (done, total) => progress.push([done, total]) });
    assert.equal(all.items, 2, 'the two filed items');
    assert.equal(all.protected, 2);
    assert.ok(all.keys >= shown.objects.length + 1);
    assert.deepEqual(progress, [[1, 2], [2, 2]]);
  });

  it('a legal hold is mirrored as an object legal hold: even the bypass cannot delete; release lifts it', async () => {
    const on = await mirrorLegalHold(ctx.rt, item, true);
    assert.equal(on.applied, true);
    const c = raw();
    const [v] = await versionsOf(c, ctx.config.minio.bucket, `keys/${key}`);
    assert.equal(((await c.getObjectLegalHold(ctx.config.minio.bucket, `keys/${key}`, { versionId: v! })) as any).Status, 'ON');
    await assert.rejects(c.removeObject(ctx.config.minio.bucket, `keys/${key}`, { versionId: v!, governanceBypass: true }));
    await assert.rejects(ctx.rt.storage.blobs.shred(key, { bypassGovernance: true }), (e: any) => e.code === 'object_locked');
    await mirrorLegalHold(ctx.rt, item, false);
    assert.equal((await ctx.rt.storage.blobs.protection(key)).legalHold, false);
  });

  it('only the executor\'s privileged credential lifts governance retention: shred with bypass destroys the object', async () => {
    await ctx.rt.storage.blobs.shred(key, { bypassGovernance: true });
    await assert.rejects(ctx.rt.storage.blobs.getBuffer(key), (e: any) => e.code === 'object_shredded');
    const c = raw();
    assert.deepEqual(await versionsOf(c, ctx.config.minio.bucket, `keys/${key}`), []);
    assert.deepEqual(await versionsOf(c, ctx.config.minio.bucket, `objects/${key}`), []);
  });

  it('without the executor credential configured, the bypass is refused', async () => {
    // (On the embedded MinIO the root account is the executor by default; `none` turns that off.)
    const other = await openTestRuntime({ ARCHIVE_EXECUTOR_DEFAULT: 'none' });
    try {
      const it = await ocredItem(other.rt, 'nx', [INJURY('2019年6月1日')]);
      const [k] = await itemBlobKeys(other.rt, await fileItem(other.rt, it));
      await assert.rejects(other.rt.storage.blobs.shred(k!, { bypassGovernance: true }), (e: any) => e.code === 'invalid_argument' && /privileged/.test(e.message));
    } finally {
      await other.close();
    }
  });

  it('shredMany obeys object lock as shred does: refused without the bypass, refused under a legal hold, done with the executor\'s bypass', async () => {
    const it2 = await ocredItem(ctx.rt, 'many', [INJURY('2019年7月1日')]);
    const keys = await itemBlobKeys(ctx.rt, await fileItem(ctx.rt, it2));
    await assert.rejects(ctx.rt.storage.blobs.shredMany(keys, { prefixes: [`items/${it2}/`] }), (e: any) => e.code === 'object_locked');
    for (const k of keys) assert.ok((await ctx.rt.storage.blobs.getBuffer(k)).length > 0, `${k} still readable`);
    await mirrorLegalHold(ctx.rt, it2, true);
    await assert.rejects(ctx.rt.storage.blobs.shredMany(keys, { bypassGovernance: true, prefixes: [`items/${it2}/`] }), (e: any) => e.code === 'object_locked');
    for (const k of keys) assert.ok((await ctx.rt.storage.blobs.getBuffer(k)).length > 0, `${k} still readable under the hold`);
    await mirrorLegalHold(ctx.rt, it2, false);
    const r = await ctx.rt.storage.blobs.shredMany(keys, { bypassGovernance: true, prefixes: [`items/${it2}/`] });
    assert.ok(keys.every((k) => r.shredded.includes(k)), JSON.stringify(r));
    const c = raw();
    for (const k of keys) {
      await assert.rejects(ctx.rt.storage.blobs.getBuffer(k), (e: any) => e.code === 'object_shredded');
      assert.deepEqual(await versionsOf(c, ctx.config.minio.bucket, `keys/${k}`), []);
      assert.deepEqual(await versionsOf(c, ctx.config.minio.bucket, `objects/${k}`), []);
    }
  });

  it('an existing unlocked archive moves into a locked bucket: resumable, verified object by object, then protected there', async () => {
    const old = await openTestRuntime({ ARCHIVE_OBJECT_LOCK: 'off' });
    let moved: Awaited<ReturnType<typeof createRuntime>> | undefined;
    try {
      assert.equal(await old.rt.storage.blobs.objectLock(), false);
      const ids = [];
      for (const [i, d] of ['2019年1月2日', '2019年2月3日', '2019年3月4日'].entries()) {
        const id = await ocredItem(old.rt, `m${i}`, [INJURY(d)]);
        await fileItem(old.rt, id);
        ids.push(id);
      }
      const to = testBucket('locked');
      // Stop after two objects, as a crash would; the rerun picks up from there.
      let seen = 0;
      await assert.rejects(
        migrateStorageToLockedBucket(old.rt, to, {
          onProgress: () => {
            if (++seen === 2) throw new Error('crash');
          },
        }),
        /crash/,
      );
      const r = await migrateStorageToLockedBucket(old.rt, to);
      assert.equal(r.skipped, 2);
      assert.equal(r.copied + r.skipped, r.examined);
      const again = await migrateStorageToLockedBucket(old.rt, to);
      assert.deepEqual([again.copied, again.skipped], [0, r.examined]);
      // 'require' refuses the old bucket, accepts the new one.
      await assert.rejects(createRuntime(parseConfig({ ...old.env, ARCHIVE_OBJECT_LOCK: 'require' }), { logger: testLogger, metrics: createMetrics({ defaultMetrics: false }) }), /object lock/);
      moved = await createRuntime(parseConfig({ ...old.env, MINIO_BUCKET: to, ARCHIVE_OBJECT_LOCK: 'require' }), { logger: testLogger, metrics: createMetrics({ defaultMetrics: false }) });
      assert.equal(await moved.storage.blobs.objectLock(), true);
      for (const id of ids) {
        const rep = await protectItem(moved, id);
        assert.equal(rep.applied, true);
        const [k] = await itemBlobKeys(moved, { _id: id, originals: [] } as any);
        assert.equal((await moved.storage.blobs.verify(k!)).ok, true, 'decrypts in the new bucket');
        const [v] = await versionsOf(raw(), to, `keys/${k}`);
        await assert.rejects(raw().removeObject(to, `keys/${k}`, { versionId: v! }), /WORM|protected|denied/i);
      }
    } finally {
      await moved?.close();
      await old.close();
    }
  });
});
