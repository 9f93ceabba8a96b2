/**
 * The restore drill (issue #15 §4) on small data, with real services: back up to a second MinIO
 * (异地存储) and the keystore to a separate folder, destroy the services' data folders, restore into
 * fresh services, and prove the archive came back whole.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseConfig } from '../../../src/config';
import { createMetrics } from '../../../src/metrics';
import { itemModel } from '../../../src/models/item.model';
import { createRuntime, type Runtime } from '../../../src/runtime';
import { afterRestore, backup, listBackups, openTarget, restore } from '../../../src/services/integrity';
import { removeItem, searchItems } from '../../../src/services/search';
import { filedItem } from '../../helpers/archive-items';
import { testLogger } from '../../helpers/logger';
import { appEnvFor, startPrivateServices, type PrivateServices } from '../../helpers/private-services';
import { MINIO_CREDENTIALS } from '../../helpers/services';

const NAMES = ['张伟', '李娜', '王芳', '刘洋', '陈静', '杨磊'];

async function open(env: Record<string, string>): Promise<Runtime> {
  // Filed items' objects are under object lock (issue #11 §5): the drill shreds one as the
  // destruction executor would, with the executor's privileged credential.
  const withExecutor = { ARCHIVE_EXECUTOR_MINIO_ACCESS_KEY: MINIO_CREDENTIALS.accessKey, ARCHIVE_EXECUTOR_MINIO_SECRET_KEY: MINIO_CREDENTIALS.secretKey, ...env };
  return createRuntime(parseConfig(withExecutor), { logger: testLogger, metrics: createMetrics({ defaultMetrics: false }) });
}

async function sha(rt: Runtime, key: string): Promise<string> {
  return createHash('sha256').update(await rt.storage.blobs.getBuffer(key)).digest('hex');
}

describe('restore drill: back up, destroy the data folders, restore into fresh services (real FerretDB + two MinIOs)', function () {
  this.timeout(300_000);
  let primary: PrivateServices | undefined;
  let offsite: PrivateServices | undefined;
  let fresh: PrivateServices | undefined;
  const dirs: string[] = [];
  const tmp = (n: string) => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), `drill-${n}-`));
    dirs.push(d);
    return d;
  };
  after(() => {
    for (const s of [primary, offsite, fresh]) s?.destroy();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('every item reads back with its checksum, search finds it, the audit chain verifies; later items are the RPO; objects shredded since are gone from the mirror', async () => {
    primary = await startPrivateServices('primary');
    offsite = await startPrivateServices('offsite', { minioOnly: true });
    const appDir = tmp('app');
    const keysDir = tmp('keys-backup');
    const offsiteUrl = `http://${MINIO_CREDENTIALS.accessKey}:${MINIO_CREDENTIALS.secretKey}@127.0.0.1:${offsite.minioPort}/offsite/archive`;

    // An archive with a few filed items.
    let rt = await open(appEnvFor(primary, appDir));
    const before = new Map<string, { code: string; sums: Record<string, string> }>();
    for (const [i, name] of NAMES.slice(0, 4).entries()) {
      const id = await filedItem(rt, `drill-${i}`, name);
      const it = (await itemModel(rt.db).findById(id).lean())!;
      const sums: Record<string, string> = {};
      for (const k of [it.originals[0]!.blobKey, it.pages[0]!.imageKey!, it.pages[0]!.textKey!]) sums[k] = await sha(rt, k);
      assert.equal(sums[it.originals[0]!.blobKey], it.originals[0]!.sha256);
      before.set(id, { code: it.archivalCode!, sums });
    }
    await rt.audit.record({ actor: 'drill', action: 'item.read', outcome: 'success', object: { type: 'item', id: [...before.keys()][0]! } });

    const t0 = Date.now();
    const first = await backup(rt, { to: offsiteUrl, keysTo: keysDir, actor: 'drill' });
    const backupMs = Date.now() - t0;
    assert.ok(first.objects.copied >= 13, `${first.objects.copied} objects copied`);
    assert.equal(first.collections.items!.docs, 4);
    await assert.rejects(backup(rt, { to: offsiteUrl, keysTo: `${offsiteUrl}/keys` }), { code: 'validation_failed' }, 'keys never beside the data');

    // Incremental: a second backup copies only what changed; a crypto-shredded object leaves the mirror.
    const lateId = await filedItem(rt, 'drill-late', NAMES[4]);
    const late = (await itemModel(rt.db).findById(lateId).lean())!;
    await rt.storage.blobs.shred(late.pages[0]!.imageKey!, { bypassGovernance: true });
    const second = await backup(rt, { to: offsiteUrl, keysTo: keysDir });
    assert.ok(second.objects.copied < first.objects.copied + 6, `incremental: ${second.objects.copied} copied`);
    assert.ok(second.objects.copied >= 3);
    const mirror = await openTarget(offsiteUrl);
    const mirrored: string[] = [];
    for await (const e of mirror.list('blobs/')) mirrored.push(e.name);
    assert.ok(!mirrored.includes(`blobs/objects/${late.pages[0]!.imageKey}`), 'shredded content is not kept in the backup');
    assert.ok(!mirrored.includes(`blobs/keys/${late.pages[0]!.imageKey}`), 'nor its wrapped data key');
    assert.ok(mirrored.every((n) => !n.includes('passphrase')), 'no passphrase in the data backup');
    assert.ok(!mirrored.some((n) => n.includes('keyring.json')), 'no keystore in the data backup');
    assert.equal((await listBackups(mirror)).length, 2);

    // After the last backup: one more item (lost: the recovery point).
    const lostId = await filedItem(rt, 'drill-lost', NAMES[5]);
    await rt.close();

    // Disaster: the services and every data folder are gone.
    primary.destroy();
    primary = undefined;
    fs.rmSync(appDir, { recursive: true, force: true });

    // Fresh services, restore, then the checks.
    fresh = await startPrivateServices('fresh');
    const newDir = tmp('restored');
    const env = appEnvFor(fresh, newDir);
    const t1 = Date.now();
    const restored = await restore(parseConfig(env), { from: offsiteUrl, keysFrom: keysDir });
    assert.equal(restored.backupId, second.id);
    rt = await open(env);
    const post = await afterRestore(rt, restored, { actor: 'drill' });
    const rtoMs = Date.now() - t1;
    assert.deepEqual(post.fsck.findings.filter((f) => !f.repaired && f.severity === 'error').map((f) => `${f.check}/${f.kind} ${f.subject} ${f.message}`), [
      // the object shredded before the second backup: its item still names it (no disposition replay here)
      `blobs/shredded item:${lateId} page 1 image (${late.pages[0]!.imageKey}): object_shredded`,
    ]);

    const items = await itemModel(rt.db).find({}).lean();
    assert.equal(items.length, 5);
    assert.equal(await itemModel(rt.db).countDocuments({ _id: lostId }), 0, 'the item made after the backup is the recovery point');
    for (const [id, b] of before) {
      const it = items.find((x) => String(x._id) === id)!;
      assert.equal(it.archivalCode, b.code);
      for (const [k, s] of Object.entries(b.sums)) {
        assert.equal(await sha(rt, k), s, `${k} reads back with its checksum`);
        assert.equal((await rt.storage.blobs.verify(k)).ok, true);
      }
      const hits = await searchItems(rt, { q: b.code, limit: 10 });
      assert.ok(hits.hits.some((h) => h.id === id), `search finds ${b.code}`);
    }
    const v = await rt.audit.verify();
    assert.equal(v.ok, true, JSON.stringify(v.first));
    await rt.audit.flush();
    assert.equal((await rt.audit.list({ actor: 'drill', action: 'item.read', limit: 5 })).length, 1, 'the entries before the backup came back');
    assert.equal((await rt.audit.list({ action: 'system.restore', limit: 5 })).length, 1);
    await rt.close();
    console.log(`      RESULT drill items=5 objects=${restored.objects} backup_ms=${backupMs} restore_rto_ms=${rtoMs} rpo=last-backup`);
  });

  it('items destroyed after the backup stay destroyed after a restore of it (destruction register re-applied)', async () => {
    const p = await startPrivateServices('destroy');
    const cleanup: PrivateServices[] = [p];
    try {
      const appDir = tmp('app-d');
      const keysDir = tmp('keys-d');
      const to = tmp('bk-d');
      let rt = await open(appEnvFor(p, appDir));
      const keep = await filedItem(rt, 'keep-1');
      const gone = await filedItem(rt, 'gone-1', '李娜');
      const b1 = await backup(rt, { to, keysTo: keysDir });
      // Destroyed after b1, as the disposition executor records it: the register entry (row + its copy
      // beside the objects) first, then the blobs shredded, the index entry and the item tombstoned.
      const it = (await itemModel(rt.db).findById(gone).lean())!;
      const keys = [it.originals[0]!.blobKey, it.pages[0]!.imageKey!, it.pages[0]!.textKey!, it.pdfKey!];
      const reg = { _id: gone, listId: 'list-drill', row: { itemId: gone, archivalCode: it.archivalCode }, checksums: [], blobKeys: keys, registeredAt: new Date(), destroyedAt: new Date() };
      await rt.storage.blobs.put(`disposition/register/${gone}.json`, Buffer.from(JSON.stringify(reg)), { contentType: 'application/json' });
      await rt.db.collection('destruction_register').insertOne(reg as never);
      for (const k of keys) await rt.storage.blobs.shred(k, { bypassGovernance: true });
      await rt.db.collection('items').updateOne({ _id: it._id }, { $set: { status: 'destroyed' } });
      await removeItem(rt, gone);
      await backup(rt, { to, keysTo: keysDir });
      await rt.close();
      p.destroy();

      const f = await startPrivateServices('destroy-fresh');
      cleanup.push(f);
      const env = appEnvFor(f, tmp('restored-d'));
      const restored = await restore(parseConfig(env), { from: to, backupId: b1.id, keysFrom: keysDir });
      assert.equal(restored.backupId, b1.id, 'the snapshot from before the destruction');
      rt = await open(env);
      const post = await afterRestore(rt, restored);
      assert.ok((post.reapplied ?? 0) >= 1, `reapplied ${post.reapplied}`);
      assert.equal((await itemModel(rt.db).findById(gone).lean())!.status, 'destroyed');
      for (const k of keys) await assert.rejects(rt.storage.blobs.getBuffer(k), (e: any) => ['object_shredded', 'object_not_found'].includes(e.code), k);
      assert.ok(!(await searchItems(rt, { q: it.archivalCode!, limit: 10 })).hits.some((h) => h.id === gone), 'not found by search');
      const kept = (await itemModel(rt.db).findById(keep).lean())!;
      assert.equal((await rt.storage.blobs.verify(kept.originals[0]!.blobKey)).ok, true);
      await rt.close();
    } finally {
      for (const s of cleanup) s.destroy();
    }
  });
});
