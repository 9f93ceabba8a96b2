import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { PDFDocument } from 'pdf-lib';
import QRCode from 'qrcode';
import sharp from 'sharp';
import { idCheckDigit } from '../../../src/domain/id-number';
import { itemModel } from '../../../src/models/item.model';
import { sealLegacyItems } from '../../../src/services/records/item-seal';
import { ingestItem } from '../../../src/services/capture/intake';
import { searchItems } from '../../../src/services/search';
import { encodeSeparator } from '../../../src/services/capture/separator';
import { drainUntil } from '../../helpers/jobs';
import { createMetrics } from '../../../src/metrics';
import { createRuntime } from '../../../src/runtime';
import { indexKey } from '../../../src/services/platform/secrets';
import { testLogger } from '../../helpers/logger';
import { openTestRuntime, serveTestApp } from '../../helpers/runtime';
import { renderScan } from '../../helpers/scan';
import { REPO_ROOT } from '../../helpers/services';

const run = promisify(execFile);

// Issue #5: "the database must not become a plaintext copy of the archive"; ID numbers stored
// encrypted with a keyed-hash blind index for exact lookup.
const NAME = '司马瑞峰';
const ID = '44030519900101123' + idCheckDigit('44030519900101123');
const NAME2 = '欧阳晓岚';
const ID2 = '32010219850607456' + idCheckDigit('32010219850607456');

async function stackPdf(pages: Buffer[]): Promise<Buffer> {
  const pdf = await PDFDocument.create();
  for (const img of pages) {
    const jpg = await pdf.embedJpg(await sharp(img).jpeg({ quality: 85 }).toBuffer());
    const page = pdf.addPage([jpg.width * 0.24, jpg.height * 0.24]);
    page.drawImage(jpg, { x: 0, y: 0, width: page.getWidth(), height: page.getHeight() });
  }
  return Buffer.from(await pdf.save());
}

describe('personal data is sealed at rest in the items collection (real pipeline, FerretDB + MinIO)', function () {
  this.timeout(300_000);
  let ctx: Awaited<ReturnType<typeof openTestRuntime>>;
  let http: Awaited<ReturnType<typeof serveTestApp>>;
  let itemId: string;

  before(async () => {
    ctx = await openTestRuntime();
    http = await serveTestApp(ctx.rt);
    // A separator sheet carries the person (preregistered); the page names them again in OCR text.
    const qr = await QRCode.toBuffer(encodeSeparator({ box: 'B7', idNumber: ID, name: NAME }), { margin: 2, width: 700 });
    const sheet = await sharp({ create: { width: 1748, height: 2480, channels: 3, background: '#fff' } }).composite([{ input: qr, top: 300, left: 520 }]).jpeg().toBuffer();
    const page = await renderScan(['工伤认定决定书', `受伤职工姓名：${NAME}`, `公民身份号码：${ID}`, '经调查核实，认定为工伤。', '决定日期：2019年5月20日'], { dpi: 300 });
    const res = await ingestItem(ctx.rt, { fonds: 'Z001', source: 'box7.pdf', channel: 'cli', files: [{ filename: 'box7.pdf', body: await stackPdf([sheet, page]) }], stack: { blankSeparators: false } });
    const items = itemModel(ctx.rt.db);
    await drainUntil(
      ctx.rt,
      async () => {
        const kids = (await items.findById(res.item._id).lean())!.stack?.children ?? [];
        return kids.length > 0 && (await items.countDocuments({ _id: { $in: kids }, status: { $in: ['filed', 'review', 'failed'] } })) === kids.length;
      },
      { timeoutMs: 240_000, what: 'the stack split and its item filed' },
    );
    itemId = (await items.findById(res.item._id).lean())!.stack!.children[0]!;
    // A correction adds a second person: the history records names and ID numbers before/after.
    const patch = await http.fetch(`${http.base}/api/v1/items/${itemId}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ classification: { item: '6-02' }, metadata: { persons: [{ name: NAME, idNumber: ID }, { name: NAME2, idNumber: ID2 }] } }),
    });
    assert.equal(patch.status, 200, await patch.text());
  });
  after(async () => {
    await http?.close();
    await ctx?.close();
  });

  it('the raw items documents hold neither the name nor the ID number anywhere', async () => {
    const raw = await ctx.rt.db.collection('items').find({}).toArray();
    assert.ok(raw.length >= 2, 'the stack and its item');
    const json = JSON.stringify(raw);
    for (const secret of [NAME, ID, NAME2, ID2, ID.slice(0, 17)]) assert.ok(!json.includes(secret), `raw items contain ${secret}`);
    const doc = raw.find((d) => String(d._id) === itemId)!;
    assert.match(String(doc.metadata), /^s1:/, 'metadata is ciphertext');
    assert.match(String(doc.preregistered), /^s1:/, 'the separator sheet data is ciphertext');
    assert.ok((doc.history as Array<{ changes: unknown }>).every((h) => /^s1:/.test(String(h.changes))), 'history changes are ciphertext');
    assert.equal((doc.personIds as string[]).length, 2);
    assert.ok((doc.personIds as string[]).every((p) => /^h1:[A-Za-z0-9_-]{43}$/.test(p)), 'personIds are blind-index keys');
    assert.match(String(doc.personIdsSealed), /^s1:/, 'beside their sealed clear list');
    const read = (await itemModel(ctx.rt.db).findById(itemId).lean())!;
    assert.deepEqual(read.personIds, [ID, ID2], 'reads see the clear numbers');
    assert.ok(!('personIdsSealed' in read), 'and not the storage detail');
  });

  it('no other collection holds them either (jobs, search index, classifier examples, audit…)', async () => {
    const names = (await ctx.rt.db.db!.listCollections().toArray()).map((c) => c.name);
    for (const must of ['jobs', 'search_chunks', 'search_log', 'classifier_examples']) assert.ok(names.includes(must), must);
    for (const name of names) {
      const json = JSON.stringify(await ctx.rt.db.collection(name).find({}).toArray());
      for (const secret of [NAME, ID, NAME2, ID2]) assert.ok(!json.includes(secret), `${name} contains ${secret}`);
    }
  });

  it('the API still returns the clear values, and the person\'s file and search find the item by ID number', async () => {
    const view = (await (await http.fetch(`${http.base}/api/v1/items/${itemId}`)).json()) as any;
    assert.deepEqual(view.metadata.persons.map((p: any) => [p.name, p.idNumber]), [[NAME, ID], [NAME2, ID2]]);
    assert.ok(view.history.some((h: any) => h.kind === 'correction' && JSON.stringify(h.changes).includes(ID2)), 'the correction history reads back in clear');
    for (const id of [ID, ID2]) {
      const file = (await (await http.fetch(`${http.base}/api/v1/persons/${id}/items`)).json()) as any;
      assert.deepEqual(file.items.map((i: any) => i.id), [itemId], `dossier of ${id}`);
    }
    const other = (await (await http.fetch(`${http.base}/api/v1/persons/110105198703152318/items`)).json()) as any;
    assert.equal(other.total, 0, 'another person\'s file is empty');
    assert.deepEqual((await searchItems(ctx.rt, { q: '', filters: { personId: ID2 } })).hits.map((h) => h.id), [itemId]);
    assert.deepEqual((await searchItems(ctx.rt, { q: NAME2 })).hits.map((h) => h.id), [itemId], 'a corrected name is searchable');
    const { stdout } = await run(process.execPath, [path.join(REPO_ROOT, 'bin/archive.js'), 'search', '--person', ID2, '--json'], { env: { ...process.env, ...ctx.env } });
    assert.deepEqual((JSON.parse(stdout) as { hits: Array<{ id: string }> }).hits.map((h) => h.id), [itemId], 'archive search --person');
  });

  it('hydrated (non-lean) documents read clear values, and saving one keeps the fields sealed', async () => {
    const items = itemModel(ctx.rt.db);
    const doc = (await items.findById(itemId))!;
    assert.deepEqual((doc.metadata as any).persons.map((p: any) => p.idNumber), [ID, ID2]);
    assert.equal(doc.isModified(), false, 'opening does not mark the document changed');
    doc.metadata = { ...(doc.metadata as object), docNumber: '京人社工伤认字〔2019〕7号' };
    await doc.save();
    assert.equal((doc.metadata as any).persons[0].name, NAME, 'the caller keeps clear values after save');
    const raw = await ctx.rt.db.collection('items').findOne({ _id: doc._id });
    assert.match(String(raw!.metadata), /^s1:/);
    assert.ok(!JSON.stringify(raw).includes(NAME));
    assert.equal(((await items.findById(itemId).lean())!.metadata as any).docNumber, '京人社工伤认字〔2019〕7号');
  });

  it('a sealed field moved to another item does not decrypt there (bound to its item)', async () => {
    const items = itemModel(ctx.rt.db);
    const raw = await ctx.rt.db.collection('items').findOne({ _id: new items.base.Types.ObjectId(itemId) });
    const victim = await items.create({ fonds: 'Z001', source: 'x', channel: 'cli', status: 'review', contentHash: 'moved-metadata', originals: [] });
    await ctx.rt.db.collection('items').updateOne({ _id: victim._id }, { $set: { metadata: raw!.metadata } });
    await assert.rejects(items.findById(victim._id).lean(), (err: { code?: string }) => err.code === 'integrity_error');
    await ctx.rt.db.collection('items').deleteOne({ _id: victim._id });
  });

  it('processes starting together on a fresh install agree on one key (a unique insert elects its creator)', async () => {
    const fresh = await openTestRuntime();
    const others = await Promise.all([1, 2, 3].map(() => createRuntime(fresh.config, { logger: testLogger, metrics: createMetrics({ defaultMetrics: false }) })));
    try {
      const keys = await Promise.all([fresh.rt, ...others].map((rt) => indexKey(rt)));
      for (const k of keys) assert.ok(k.equals(keys[0]!), 'every process holds the same key');
      assert.equal(await fresh.rt.db.collection('key_claims').countDocuments({}), 1);
    } finally {
      for (const rt of others) await rt.close();
      await fresh.close();
    }
  });

  it('items stored in clear before sealing existed are sealed by seal-items, and then found by ID number', async () => {
    const legacyId = '11010119700101001' + idCheckDigit('11010119700101001');
    const _id = new (itemModel(ctx.rt.db).base.Types.ObjectId)();
    await ctx.rt.db.collection('items').insertOne({
      _id, fonds: 'Z001', source: 'legacy', channel: 'cli', status: 'filed', contentHash: 'legacy', originals: [], pages: [], flags: [],
      metadata: { persons: [{ name: '令狐春生', idNumber: legacyId, evidence: [] }], units: [] }, preregistered: null,
      personIds: [legacyId], unitCodes: [], history: [{ at: new Date(), actor: 'x', kind: 'correction', changes: { persons: { from: [], to: [{ name: '令狐春生' }] } } }],
      createdAt: new Date(), updatedAt: new Date(),
    } as never);
    const before = (await (await http.fetch(`${http.base}/api/v1/persons/${legacyId}/items`)).json()) as any;
    assert.equal(before.total, 0, 'a clear personIds entry does not match the blind lookup');
    const res = await sealLegacyItems(ctx.rt);
    assert.equal(res.sealed, 1, 'only the legacy item needed it');
    const raw = JSON.stringify(await ctx.rt.db.collection('items').findOne({ _id }));
    assert.ok(!raw.includes('令狐春生') && !raw.includes(legacyId));
    const after = (await (await http.fetch(`${http.base}/api/v1/persons/${legacyId}/items`)).json()) as any;
    assert.deepEqual(after.items.map((i: any) => i.id), [String(_id)]);
    assert.equal((await sealLegacyItems(ctx.rt)).sealed, 0, 'idempotent');
  });
});
