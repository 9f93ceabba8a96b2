import assert from 'node:assert/strict';
import { buffer } from 'node:stream/consumers';
import * as Minio from 'minio';
import { archivalNumberModel } from '../../../src/models/archival-number.model';
import { itemModel } from '../../../src/models/item.model';
import { runFsck } from '../../../src/services/integrity';
import { searchEngine } from '../../../src/services/search';
import { filedItem } from '../../helpers/archive-items';
import { openTestRuntime } from '../../helpers/runtime';
import { testMinioConfig } from '../../helpers/services';

describe('archive fsck: finds every kind of inconsistency, repairs only the safe ones (real FerretDB + MinIO)', function () {
  this.timeout(120_000);
  let ctx: Awaited<ReturnType<typeof openTestRuntime>>;
  const ids: string[] = [];

  before(async () => {
    ctx = await openTestRuntime();
    for (let i = 0; i < 4; i++) ids.push(await filedItem(ctx.rt, `fsck-${i}`, ['张伟', '李娜', '王芳', '刘洋'][i]!));
  });
  after(async () => ctx?.close());

  it('a consistent archive passes, with every object authenticated', async () => {
    const r = await runFsck(ctx.rt, { orphanGraceMs: 0 });
    assert.deepEqual(r.findings.map((f) => `${f.check}/${f.kind} ${f.subject}`), []);
    assert.equal(r.ok, true);
    assert.equal(r.counts['items/checked'], 4);
    assert.equal(r.counts['blobs/verified'], 16, 'original, page image, page text and PDF of 4 items');
    const items = await itemModel(ctx.rt.db).find({ _id: { $in: ids } }).lean();
    assert.ok(items.every((i) => i.status === 'filed' && i.archivalCode), items.map((i) => `${i.status} ${i.archivalCode}`).join(', '));
  });

  it('reports damage, orphans, index drift, half-filed items, stuck jobs, numbering gaps and a tampered trail; --repair fixes only the safe ones and audits them', async () => {
    const rt = ctx.rt;
    const items = itemModel(rt.db);
    // 1. an orphan object (old enough: grace 0)
    await rt.storage.blobs.put('originals/orphan-of-a-crashed-intake', Buffer.from('scan bytes'));
    // 2. an item missing from the index
    await (await searchEngine(rt)).remove([ids[0]!]);
    // 3. a damaged object: one ciphertext byte flipped in MinIO
    const victim = (await items.findById(ids[1]).lean())!.pages[0]!.imageKey!;
    const minio = new Minio.Client(testMinioConfig());
    const raw = await buffer(await minio.getObject(ctx.config.minio.bucket, `objects/${victim}`));
    raw.writeUInt8(raw[raw.length - 20]! ^ 0x01, raw.length - 20);
    await minio.putObject(ctx.config.minio.bucket, `objects/${victim}`, raw);
    // 4. a half-filed item: back to processing while its job is done
    const job = await rt.queue.enqueue('ocr.item', { itemId: ids[2] }, { dedupeKey: `ocr.item:${ids[2]}` });
    await rt.queue.jobs.updateOne({ _id: job._id }, { $set: { state: 'done' } });
    await items.updateOne({ _id: ids[2] }, { $set: { status: 'processing', jobId: String(job._id) } });
    // 5. a job stuck past its lease (its worker died and no worker of its kind is left)
    const stuck = await rt.queue.enqueue('ocr.item', { itemId: 'x' }, { dedupeKey: 'stuck-one' });
    await rt.queue.jobs.updateOne({ _id: stuck._id }, { $set: { state: 'running', lockedBy: 'dead-worker', lockedUntil: new Date(Date.now() - 3600_000) } });
    // 6. a 件号 issued further on to an item that does not exist: a gap before it
    const row = (await archivalNumberModel(rt.db).findOne({ itemId: ids[3] }).lean())!;
    await archivalNumberModel(rt.db).create({ classKey: row.classKey, seq: 9, itemId: '0123456789abcdef01234567' });
    // 7. the audit trail altered behind the application's back
    await rt.audit.record({ actor: 'someone', action: 'item.read', outcome: 'success', object: { type: 'item', id: ids[0]! } });
    await rt.audit.flush();
    const block = (await rt.db.collection('audit_entries').find({}).sort({ _id: -1 }).limit(1).toArray())[0]!;
    await rt.db.collection('audit_entries').updateOne({ _id: block._id }, { $set: { e: String(block.e).replace('someone', 'nobody') } });

    const before = await runFsck(rt, { orphanGraceMs: 0, stuckAfterMs: 1000 });
    const kinds = new Set(before.findings.map((f) => `${f.check}/${f.kind}`));
    for (const k of ['blobs/orphan', 'index/missing', 'blobs/corrupt', 'jobs/half_filed', 'jobs/stuck', 'numbering/number_without_item', 'numbering/gap', 'audit/altered']) {
      assert.ok(kinds.has(k), `${k} not reported; got ${[...kinds].join(', ')}`);
    }
    assert.equal(before.ok, false);
    assert.equal(before.repaired, 0, 'no repair without --repair');
    assert.deepEqual(before.findings.filter((f) => f.kind === 'gap').map((f) => Number(/件号 (\d+)/.exec(f.messageZh)?.[1] ?? /件号 (\d+)/.exec(f.message)?.[1])), [5, 6, 7, 8], 'four items took 1-4; 9 was issued to nobody');

    const fixed = await runFsck(rt, { repair: true, orphanGraceMs: 0, stuckAfterMs: 1000, actor: 'sysadmin1', role: 'sysadmin' });
    const repairedKinds = new Set(fixed.findings.filter((f) => f.repaired).map((f) => `${f.check}/${f.kind}`));
    assert.deepEqual([...repairedKinds].sort(), ['blobs/orphan', 'index/missing', 'jobs/half_filed', 'jobs/stuck']);
    assert.ok(fixed.findings.filter((f) => f.check === 'numbering' || f.check === 'audit' || f.kind === 'corrupt').every((f) => !f.repaired), 'never repairs evidence or numbering');
    // the repairs happened
    await assert.rejects(rt.storage.blobs.stat('originals/orphan-of-a-crashed-intake'), { code: 'object_shredded' });
    const engine = await searchEngine(rt);
    await engine.refresh();
    assert.ok(engine.itemOf(ids[0]!), 'reindexed');
    assert.equal((await rt.queue.get(String(job._id)))!.state, 'queued', 'the half-filed item’s job runs again');
    assert.equal((await rt.queue.get(String(stuck._id)))!.state, 'queued');
    await rt.audit.flush();
    const audited = await rt.audit.list({ action: 'integrity.repair', limit: 50 });
    assert.equal(audited.length, 4);
    assert.ok(audited.every((e) => e.actor === 'sysadmin1' && e.outcome === 'success'));
  });

  it('a run stopped midway resumes from its cursor', async () => {
    const first = await runFsck(ctx.rt, { phases: ['items'], fixity: false });
    const runs = ctx.rt.db.collection('integrity_runs');
    // Pretend the process died after the first two items.
    await runs.updateOne({ _id: new (await import('mongoose')).Types.ObjectId(first.runId) }, { $set: { state: 'running', phase: 'items', cursor: ids[1], counts: {}, findings: [] } });
    const resumed = await runFsck(ctx.rt, { phases: ['items'], fixity: false, resume: true });
    assert.equal(resumed.runId, first.runId);
    assert.equal(resumed.counts['items/checked'], 2, 'only the items after the cursor');
  });
});
