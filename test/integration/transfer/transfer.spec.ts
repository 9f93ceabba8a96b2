import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { itemModel } from '../../../src/models/item.model';
import type { Runtime } from '../../../src/runtime';
import { filedItemIds } from '../../../src/services/records';
import { checkPackage, verifyTransfer } from '../../../src/services/transfer';
import { buildItem } from '../../helpers/factories';
import { openTestRuntime, serveTestApp, signedInUsers } from '../../helpers/runtime';

const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), crypto.randomBytes(2000), Buffer.from([0xff, 0xd9])]);

async function filedItem(rt: Runtime, code: string, pdf: Buffer = PDF): Promise<string> {
  const id = new (await import('mongoose')).Types.ObjectId();
  await rt.storage.blobs.put(`originals/${id}-1`, JPEG, { contentType: 'image/jpeg' });
  await rt.storage.blobs.put(`items/${id}/item.pdf`, pdf, { contentType: 'application/pdf' });
  await buildItem(rt, {
    _id: id,
    archivalCode: code,
    archivalClass: code.replace(/-\d{4}$/, ''),
    pdfKey: `items/${id}/item.pdf`,
    pageCount: 1,
    originals: [{ blobKey: `originals/${id}-1`, filename: 'scan.jpg', format: 'jpeg', size: JPEG.length, sha256: crypto.createHash('sha256').update(JPEG).digest('hex') }] as any,
    metadata: { title: '工伤认定决定书', documentDate: '2019-05-20', docNumber: '京人社工伤认字〔2019〕1号', units: [{ name: '北京市朝阳区星光科技有限公司', creditCode: null, evidence: [] }], persons: [] } as any,
    classification: { item: '6-02', itemName: '工伤认定材料', retention: 'D50', dueOn: '2070-01-01', scheduleVersion: '3hao-ling-2009.v2', citation: '3号令附件' } as any,
  });
  return String(id);
}

// Issue #11 §6 with the real FerretDB + MinIO: package out, 四性 check, receipt in.
describe('transfer (移交): signed BagIt package, 四性 check, receipt', function () {
  this.timeout(120_000);
  let ctx: Awaited<ReturnType<typeof openTestRuntime>>;
  let http: Awaited<ReturnType<typeof serveTestApp>>;
  let token: Record<string, string>;
  let ids: string[];
  let pkg: { packageId: string; dir: string; alsoIn: unknown[] };
  const call = async (who: string | null, method: string, url: string, body?: unknown) => {
    const init = { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) };
    const res = who ? await fetch(`${http.base}${url}`, { ...init, headers: { ...init.headers, authorization: `Bearer ${token[who]}` } }) : await http.fetch(`${http.base}${url}`, init);
    return { status: res.status, body: (await res.json()) as any };
  };

  before(async () => {
    ctx = await openTestRuntime();
    http = await serveTestApp(ctx.rt); // an archivist
    token = await signedInUsers(ctx.rt, http.base, [['tr.case', 'caseworker']], 'Correct-Horse-42');
    ids = [await filedItem(ctx.rt, 'Z001-SB·2019-D50-GS·DY02-0001'), await filedItem(ctx.rt, 'Z001-SB·2019-D50-GS·DY02-0002')];
  });
  after(async () => {
    await http?.close();
    if (pkg) fs.rmSync(pkg.dir, { recursive: true, force: true });
    await ctx?.close();
  });

  it('selects by fonds and year of formation only filed items with a 档号 (archive transfer export --year)', async () => {
    const unnumbered = String((await buildItem(ctx.rt, { archivalCode: null }))._id);
    const review = String((await buildItem(ctx.rt, { status: 'review', archivalCode: 'Z001-SB·2019-D50-GS·DY02-0009' }))._id);
    const selected = await filedItemIds(ctx.rt, { fonds: 'Z001', year: '2019' });
    for (const id of ids) assert.ok(selected.includes(id), id);
    assert.ok(!selected.includes(unnumbered) && !selected.includes(review), 'no unnumbered or unfiled item');
    assert.deepEqual(await filedItemIds(ctx.rt, { fonds: 'Z001', year: '2020' }), []);
    assert.deepEqual(await filedItemIds(ctx.rt, { fonds: 'Z002', year: '2019' }), []);
    await itemModel(ctx.rt.db).deleteMany({ _id: { $in: [unnumbered, review] } });
  });

  it('a caseworker may not export', async () => {
    assert.equal((await call('tr.case', 'POST', '/api/v1/transfers', { items: ids })).status, 403);
  });

  it('exports a BagIt package: manifests, metadata XML per item, decrypted PDF and originals, 移交清册, signature, 四性 passed', async () => {
    const r = await call(null, 'POST', '/api/v1/transfers', { items: ids });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    pkg = r.body;
    assert.match(pkg.packageId, /^YJ-Z001-\d{8}-[0-9a-f]{6}$/);
    assert.equal(r.body.report.ok, true, JSON.stringify(r.body.report.findings));
    for (const f of ['bagit.txt', 'bag-info.txt', 'manifest-sha256.txt', 'tagmanifest-sha256.txt', 'tagmanifest-sha256.txt.sig', 'agency-certificate.pem', '四性检测报告.json', 'data/移交清册.csv']) {
      assert.ok(fs.existsSync(path.join(pkg.dir, f)), f);
    }
    const folder = path.join(pkg.dir, 'data', 'Z001-SB·2019-D50-GS·DY02-0001');
    const xml = fs.readFileSync(path.join(folder, 'metadata.xml'), 'utf8');
    assert.match(xml, /<档号>Z001-SB·2019-D50-GS·DY02-0001<\/档号>/);
    assert.match(xml, /<责任者>北京市朝阳区星光科技有限公司<\/责任者>/);
    assert.match(xml, /哈希算法="SHA-256" 哈希值="[0-9a-f]{64}"/);
    assert.deepEqual(fs.readFileSync(path.join(folder, 'Z001-SB·2019-D50-GS·DY02-0001-原件01.jpg')), JPEG, 'original decrypted for the package');
    assert.deepEqual(fs.readFileSync(path.join(folder, 'Z001-SB·2019-D50-GS·DY02-0001.pdf')), PDF);
    const list = fs.readFileSync(path.join(pkg.dir, 'data/移交清册.csv'), 'utf8').replace(/^\uFEFF/, '').trim().split(/\r\n/);
    assert.equal(list[0], '序号,档号,题名,文号,责任者,日期,保管期限,页数,文件数,备注');
    assert.equal(list.length, 3);
    const manifest = fs.readFileSync(path.join(pkg.dir, 'manifest-sha256.txt'), 'utf8').trim().split('\n');
    assert.equal(manifest.length, 7, '2 × (PDF, original, metadata) + the list');
    const info = fs.readFileSync(path.join(pkg.dir, 'bag-info.txt'), 'utf8');
    assert.match(info, /^Payload-Oxum: \d+\.7$/m);
    const v = await call(null, 'POST', `/api/v1/transfers/${pkg.packageId}/verify`);
    assert.deepEqual([v.status, v.body.ok], [200, true]);
    const unknown = await call(null, 'POST', '/api/v1/transfers/YJ-Z001-20190101-abcdef/verify');
    assert.deepEqual([unknown.status, unknown.body.error.code, unknown.body.error.details], [404, 'not_found', { packageId: 'YJ-Z001-20190101-abcdef' }]);
  });

  it('an item still waiting in an earlier package (no receipt yet) is exported again only with a note naming that package', async () => {
    assert.deepEqual(pkg.alsoIn, [], 'the first package holds nothing exported before');
    const again = await call(null, 'POST', '/api/v1/transfers', { items: [ids[0]] });
    assert.equal(again.status, 200);
    // A lost package may have to go again, so it is not refused; the person is told, and can tell
    // the archives which package this one replaces.
    assert.deepEqual(again.body.alsoIn, [{ packageId: pkg.packageId, status: 'exported', items: 1 }]);
  });

  it('verify names exactly what is wrong with a tampered package', () => {
    const copy = `${pkg.dir}-tampered`;
    fs.cpSync(pkg.dir, copy, { recursive: true });
    try {
      const pdf = path.join(copy, 'data', 'Z001-SB·2019-D50-GS·DY02-0002', 'Z001-SB·2019-D50-GS·DY02-0002.pdf');
      fs.writeFileSync(pdf, Buffer.concat([fs.readFileSync(pdf), Buffer.from(' ')]));
      fs.writeFileSync(path.join(copy, 'data', 'extra.txt'), 'x');
      fs.rmSync(path.join(copy, 'data', 'Z001-SB·2019-D50-GS·DY02-0001', 'metadata.xml'));
      fs.appendFileSync(path.join(copy, 'bag-info.txt'), 'Contact-Name: someone\n');
      const r = verifyTransfer(ctx.rt, copy);
      const codes = r.findings.map((f) => `${f.aspect}:${f.code}`).sort();
      assert.equal(r.ok, false);
      for (const c of ['真实性:fixity', '完整性:unlisted_file', '完整性:missing_file', '完整性:missing_metadata', '完整性:payload_oxum', '真实性:tag_fixity']) assert.ok(codes.includes(c), `${c} in ${codes.join(' ')}`);
      assert.deepEqual([r.aspects.真实性, r.aspects.完整性], ['fail', 'fail']);
    } finally {
      fs.rmSync(copy, { recursive: true, force: true });
    }
  });

  it('a forged signature or another signer fails 真实性', () => {
    const copy = `${pkg.dir}-forged`;
    fs.cpSync(pkg.dir, copy, { recursive: true });
    try {
      fs.writeFileSync(path.join(copy, 'tagmanifest-sha256.txt.sig'), crypto.randomBytes(384).toString('base64'));
      assert.ok(checkPackage(copy).findings.some((f) => f.code === 'signature'));
      assert.ok(checkPackage(pkg.dir, { expectedFingerprint: '00'.repeat(32) }).findings.some((f) => f.code === 'signer'));
    } finally {
      fs.rmSync(copy, { recursive: true, force: true });
    }
  });

  it('refuses to let a package with active content leave (PDF JavaScript): 422 transfer_check_failed', async () => {
    const bad = await filedItem(ctx.rt, 'Z001-SB·2019-D50-GS·DY02-0003', Buffer.from('%PDF-1.4\n1 0 obj << /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >> endobj\n%%EOF\n'));
    const r = await call(null, 'POST', '/api/v1/transfers', { items: [bad] });
    assert.equal(r.status, 422);
    assert.equal(r.body.error.code, 'transfer_check_failed');
    assert.ok(r.body.error.details.findings.some((f: any) => f.aspect === '安全性' && f.code === 'active_content'));
    fs.rmSync(r.body.error.details.dir, { recursive: true, force: true });
  });

  it('the archives\' receipt marks accepted items transferred; the local copy is kept by policy; refusals and unknowns reported', async () => {
    const receipt = {
      packageId: pkg.packageId,
      receiver: '北京市朝阳区档案馆',
      receivedAt: '2026-12-02',
      reference: '朝档接〔2026〕12号',
      items: [
        { archivalCode: 'Z001-SB·2019-D50-GS·DY02-0001', accepted: true },
        { archivalCode: 'Z001-SB·2019-D50-GS·DY02-0002', accepted: false, note: '页数不符' },
        { archivalCode: 'Z001-SB·2019-D50-GS·DY02-9999', accepted: true },
      ],
    };
    const r = await call(null, 'POST', '/api/v1/transfers/receipt', receipt);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual([r.body.transferred, r.body.refused.map((x: any) => x.archivalCode), r.body.unknown, r.body.localCopy], [['Z001-SB·2019-D50-GS·DY02-0001'], ['Z001-SB·2019-D50-GS·DY02-0002'], ['Z001-SB·2019-D50-GS·DY02-9999'], 'kept']);
    const a = (await itemModel(ctx.rt.db).findById(ids[0]).lean())!;
    assert.deepEqual([(a.transfer as any).packageId, (a.transfer as any).receiver, (a.transfer as any).localCopy, a.status], [pkg.packageId, '北京市朝阳区档案馆', 'kept', 'filed']);
    assert.equal((await itemModel(ctx.rt.db).findById(ids[1]).lean())!.transfer, null);
    assert.ok((await ctx.rt.storage.blobs.getBuffer(`items/${ids[0]}/item.pdf`)).length > 0, 'nothing destroyed by a receipt');
    const list = await call(null, 'GET', '/api/v1/transfers');
    assert.equal(list.body.packages.find((p: any) => p.packageId === pkg.packageId).status, 'received');
  });
});
