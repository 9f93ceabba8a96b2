import assert from 'node:assert/strict';
import { idCheckDigit } from '../../../src/domain/id-number';
import { itemModel, type ItemDoc } from '../../../src/models/item.model';
import { linkItem, namesOnFile, openDossier, rebuildDossierLinks, unitNamesOnFile, unlinkItem } from '../../../src/services/records';
import { creditCodeCheckChar } from '../../../src/domain/credit-code';
import { correctItem, setAccessLevel } from '../../../src/services/filing';
import { openTestRuntime } from '../../helpers/runtime';

const id17 = (s: string) => s + idCheckDigit(s);
const A = id17('11010519800101123');
const B = id17('11010519900202234');
const UNIT = '91110105MA01ABCD3X';

describe('records: the person\'s and unit\'s file (一人一档) from the link store', function () {
  this.timeout(120_000);
  let ctx: Awaited<ReturnType<typeof openTestRuntime>>;
  const read = async (id: unknown) => (await itemModel(ctx.rt.db).findById(id).lean<ItemDoc>())!;
  let n = 0;
  async function item(fields: Partial<ItemDoc> & { personIds?: string[] }): Promise<ItemDoc> {
    const doc = await itemModel(ctx.rt.db).create({ fonds: 'Z001', source: 's', channel: 'api', status: 'filed', contentHash: `dossier-${n++}`, originals: [], ...fields });
    const it = await read(doc._id);
    await linkItem(ctx.rt, it);
    return it;
  }

  before(async () => {
    ctx = await openTestRuntime();
  });
  after(async () => ctx?.close());

  it('lists a person\'s items oldest first, with what the file shows, and nothing of another person', async () => {
    const late = await item({ personIds: [A], documentDate: '2021-03-01', title: '待遇核定表', archivalCode: 'Z001-WS·2021-D30-YL·DY-0002' });
    const early = await item({ personIds: [A, B], documentDate: '2015-07-09', title: '参保登记表', status: 'review' });
    await item({ personIds: [B], documentDate: '2018-01-01', title: '其他人的' });
    const rows = await openDossier(ctx.rt, 'person', A);
    assert.deepEqual(rows.map((r) => r.id), [String(early._id), String(late._id)]);
    assert.deepEqual({ ...rows[1] }, { id: String(late._id), title: '待遇核定表', archivalCode: 'Z001-WS·2021-D30-YL·DY-0002', documentDate: '2021-03-01', documentType: null, status: 'filed', fonds: 'Z001', level: 0 });
    assert.equal((await openDossier(ctx.rt, 'person', B)).length, 2);
    assert.equal((await openDossier(ctx.rt, 'person', A.toLowerCase())).length, 2, 'a lower-case check character is the same number');
  });

  it('stores only blind keys: no ID number in the link store', async () => {
    const names = (await ctx.rt.db.db!.listCollections().toArray()).map((c) => c.name).filter((x) => x.startsWith('dossier_'));
    assert.ok(names.length > 0);
    for (const name of names) {
      const json = JSON.stringify(await ctx.rt.db.collection(name).find({}).toArray());
      assert.ok(!json.includes(A) && !json.includes(B), `${name} holds a clear ID number`);
    }
  });

  it('follows a correction that moves an item from one person to another, and an access-level change', async () => {
    const it = await item({ status: 'review', personIds: [A], documentDate: '2019-05-20', title: '工伤认定决定书', metadata: { persons: [{ name: '张伟', idNumber: A, evidence: [] }], units: [] } as never });
    assert.ok((await openDossier(ctx.rt, 'person', A)).some((r) => r.id === String(it._id)));
    await correctItem(ctx.rt, String(it._id), { classification: { item: '6-02' }, metadata: { persons: [{ idNumber: B, name: '李娜' }] } }, 'archivist');
    assert.ok(!(await openDossier(ctx.rt, 'person', A)).some((r) => r.id === String(it._id)), 'gone from the first person\'s file');
    const row = (await openDossier(ctx.rt, 'person', B)).find((r) => r.id === String(it._id));
    assert.ok(row, 'in the second person\'s file');
    assert.equal(row.status, 'filed');
    await setAccessLevel(ctx.rt, String(it._id), ctx.rt.config.clearanceLevels[2]!, 'archivist');
    assert.equal((await openDossier(ctx.rt, 'person', B)).find((r) => r.id === String(it._id))?.level, 2, 'the row carries the new level for scope checks');
  });

  it('unlinkItem (destruction, withdrawal) and a status outside the file take an item out; units work alike', async () => {
    const it = await item({ personIds: [A], unitCodes: [UNIT], documentDate: '2010-01-01', title: '单位参保登记' });
    assert.deepEqual((await openDossier(ctx.rt, 'unit', UNIT)).map((r) => r.id), [String(it._id)]);
    await unlinkItem(ctx.rt, String(it._id));
    assert.equal((await openDossier(ctx.rt, 'unit', UNIT)).length, 0);
    assert.ok(!(await openDossier(ctx.rt, 'person', A)).some((r) => r.id === String(it._id)));
    await linkItem(ctx.rt, it);
    await itemModel(ctx.rt.db).updateOne({ _id: it._id }, { $set: { status: 'destroyed' } });
    await linkItem(ctx.rt, await read(it._id));
    assert.equal((await openDossier(ctx.rt, 'unit', UNIT)).length, 0, 'a destroyed item is in no file');
  });

  it('items of one person linked at the same moment (two workers) all land in the file: the key\'s lock', async () => {
    const C = id17('11010519700303345');
    const docs = await Promise.all(Array.from({ length: 8 }, (_, k) => itemModel(ctx.rt.db).create({ fonds: 'Z001', source: 's', channel: 'api', status: 'filed', contentHash: `race-${k}`, originals: [], personIds: [C], documentDate: `2020-01-0${k + 1}` })));
    const items = await Promise.all(docs.map((d) => read(d._id)));
    await Promise.all(items.map((it) => linkItem(ctx.rt, it)));
    assert.deepEqual((await openDossier(ctx.rt, 'person', C)).map((r) => r.id), docs.map((d) => String(d._id)));
    assert.equal(await ctx.rt.db.collection('dossier_locks').countDocuments({}), 0, 'every lock released');
    await Promise.all(items.map((it) => unlinkItem(ctx.rt, String(it._id))));
    assert.equal((await openDossier(ctx.rt, 'person', C)).length, 0);
    await itemModel(ctx.rt.db).deleteMany({ _id: { $in: docs.map((d) => d._id) } });
  });

  it('archive reindex rebuilds the store from the items (links lost or stale before)', async () => {
    const before = (await openDossier(ctx.rt, 'person', A)).map((r) => r.id);
    const names = (await ctx.rt.db.db!.listCollections().toArray()).map((c) => c.name).filter((x) => x.startsWith('dossier_'));
    for (const name of names) await ctx.rt.db.collection(name).deleteMany({});
    assert.equal((await openDossier(ctx.rt, 'person', A)).length, 0);
    const stats = await rebuildDossierLinks(ctx.rt);
    assert.deepEqual(stats, { items: 4, links: 5 }, 'four items in a file (the destroyed one is not), five links');
    assert.deepEqual((await openDossier(ctx.rt, 'person', A)).map((r) => r.id), before);
  });

  it('names a person as their other readable items do (review: OCR misread 窦 as 窒), never from the item itself', async () => {
    const D = id17('11010519750505456');
    const filed = await item({ personIds: [D], documentDate: '2012-04-24', title: '参保登记表', metadata: { persons: [{ name: '窦静', idNumber: D, evidence: [] }], units: [] } as never });
    const misread = await item({ status: 'review', personIds: [D], documentDate: '2022-05-19', title: '参保登记表', metadata: { persons: [{ name: '窒静', idNumber: D, evidence: [] }], units: [] } as never });
    const all = () => true;
    assert.deepEqual(await namesOnFile(ctx.rt, String(misread._id), [D], all), [{ idNumber: D, name: '窦静' }]);
    assert.deepEqual(await namesOnFile(ctx.rt, String(misread._id), [D.toLowerCase()], all), [{ idNumber: D, name: '窦静' }], 'the number as typed, any case');
    assert.deepEqual(await namesOnFile(ctx.rt, String(filed._id), [D], all), [], 'never from the item itself, nor from another still in review');
    assert.deepEqual(await namesOnFile(ctx.rt, String(misread._id), [D], (row) => row.id !== String(filed._id)), [], 'only items the caller may read');
    assert.deepEqual(await namesOnFile(ctx.rt, String(misread._id), [id17('11010519750505457').slice(0, 17) + 'X'], all), [], 'no file, no name');
  });

  it('names a unit as its other readable items do, by its 统一社会信用代码 (review: OCR misread 厂 as 三)', async () => {
    const U = '91370203MA3C8K7Q1' + creditCodeCheckChar('91370203MA3C8K7Q1');
    const unit = (name: string) => ({ metadata: { persons: [], units: [{ name, creditCode: U, evidence: [] }] } as never, unitCodes: [U] });
    const filed = await item({ ...unit('青岛海湾船舶配件厂'), documentDate: '2015-03-02', title: '参保单位登记表' });
    const misread = await item({ ...unit('青岛海湾船舶配件三'), status: 'review', documentDate: '2023-02-08', title: '社会保险稽核通知书' });
    const all = () => true;
    assert.deepEqual(await unitNamesOnFile(ctx.rt, String(misread._id), [U], all), [{ creditCode: U, name: '青岛海湾船舶配件厂' }]);
    assert.deepEqual(await unitNamesOnFile(ctx.rt, String(filed._id), [U], all), [], 'never from the item itself, nor from another still in review');
    assert.deepEqual(await unitNamesOnFile(ctx.rt, String(misread._id), [U], (row) => row.id !== String(filed._id)), [], 'only items the caller may read');
    assert.deepEqual(await namesOnFile(ctx.rt, String(misread._id), [U], all), [], 'a unit\'s code is no person\'s number');
  });
});
