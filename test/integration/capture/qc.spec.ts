/**
 * Issue #12 §3: DA/T 31-2017 quality control. A PDF scanned at 150 dpi is held (qc_hold), the
 * batch QC summary shows it, an archivist accepts it with a reason over the API, and it is filed.
 */
import assert from 'node:assert/strict';
import { PDFDocument } from 'pdf-lib';
import sharp from 'sharp';
import { itemModel, type ItemDoc } from '../../../src/models/item.model';
import { batchQcSummary, ingestItem } from '../../../src/services/capture';
import { drainUntil } from '../../helpers/jobs';
import { openTestRuntime, serveTestApp, signedInUsers } from '../../helpers/runtime';
import { renderScan } from '../../helpers/scan';

async function pdfOf(png: Buffer, dpi: number): Promise<Buffer> {
  const pdf = await PDFDocument.create();
  const img = await pdf.embedJpg(await sharp(png).jpeg({ quality: 90 }).toBuffer());
  const page = pdf.addPage([(img.width * 72) / dpi, (img.height * 72) / dpi]);
  page.drawImage(img, { x: 0, y: 0, width: page.getWidth(), height: page.getHeight() });
  return Buffer.from(await pdf.save());
}

describe('quality control holds bad scans (DA/T 31-2017; real services and OCR)', function () {
  this.timeout(240_000);
  let ctx: Awaited<ReturnType<typeof openTestRuntime>>;
  let http: Awaited<ReturnType<typeof serveTestApp>>;
  let tokens: Record<string, string>;

  before(async () => {
    ctx = await openTestRuntime();
    http = await serveTestApp(ctx.rt);
    tokens = await signedInUsers(ctx.rt, http.base, [['dana', 'archivist'], ['carl', 'caseworker']], 'correct horse battery staple 12');
  });
  after(async () => {
    await http?.close();
    await ctx?.close();
  });

  it('a 150-dpi PDF is held in qc_hold (dpi from its image, not assumed), the batch summary shows it, and an archivist accepts it with a reason', async () => {
    const lines = ['工伤认定申请表', '申请人：李娜 公民身份号码：110105198703152318', '事故日期：2023年3月8日'];
    const low = await pdfOf(await renderScan(lines, { dpi: 150 }), 150);
    const good = await pdfOf(await renderScan(['失业保险金申领登记表', '姓名：王芳'], { dpi: 300 }), 300);
    const batchId = 'batch-qc-test-1';
    const a = await ingestItem(ctx.rt, { fonds: 'Z001', source: 'low.pdf', channel: 'cli', files: [{ filename: 'low.pdf', body: low }], batchId });
    const b = await ingestItem(ctx.rt, { fonds: 'Z001', source: 'good.pdf', channel: 'cli', files: [{ filename: 'good.pdf', body: good }], batchId });
    const items = itemModel(ctx.rt.db);
    const status = async (id: unknown) => (await items.findById(id).lean<ItemDoc>())!.status;
    await drainUntil(ctx.rt, async () => (await status(a.item._id)) === 'qc_hold' && ['filed', 'review'].includes(await status(b.item._id)), { what: 'held + filed' });
    const held = (await items.findById(a.item._id).lean<ItemDoc>())!;
    assert.equal(held.pages[0]!.dpi, 150);
    assert.equal(held.pages[0]!.lowDpi, true);
    assert.equal(held.archivalCode, null, 'a held item takes no 档号');
    assert.deepEqual((held.qc as any).reasons, [{ code: 'low_dpi', page: 1 }]);
    const fine = (await items.findById(b.item._id).lean<ItemDoc>())!;
    assert.equal(fine.pages[0]!.dpi, 300);

    const s = await batchQcSummary(ctx.rt, batchId);
    assert.equal(s.items, 2);
    assert.equal(s.pages, 2);
    assert.equal(s.dpi.below200, 1);
    assert.equal(s.dpi.from300to399, 1);
    assert.equal(s.held.length, 1);
    assert.equal(s.held[0]!.id, String(a.item._id));
    assert.ok(s.sample.some((x) => x.id === String(a.item._id) && /low_dpi/.test(x.why)));

    const api = (path: string, token: string, init: RequestInit = {}) => fetch(`${http.base}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(init.headers ?? {}) } });
    const viaApi = await api(`/api/v1/batches/${batchId}/qc`, tokens.carl!);
    assert.equal(viaApi.status, 200);
    assert.equal(((await viaApi.json()) as any).held.length, 1);
    // A caseworker may not accept; an archivist must give a reason.
    assert.equal((await api(`/api/v1/items/${String(a.item._id)}/qc/accept`, tokens.carl!, { method: 'POST', body: JSON.stringify({ reason: '原件已遗失，无法重扫' }) })).status, 403);
    assert.equal((await api(`/api/v1/items/${String(a.item._id)}/qc/accept`, tokens.dana!, { method: 'POST', body: JSON.stringify({}) })).status, 400);
    const ok = await api(`/api/v1/items/${String(a.item._id)}/qc/accept`, tokens.dana!, { method: 'POST', body: JSON.stringify({ reason: '原件已遗失，无法重扫' }) });
    assert.equal(ok.status, 200);
    await drainUntil(ctx.rt, async () => ['filed', 'review'].includes(await status(a.item._id)), { what: 'accepted item filed' });
    const after = (await items.findById(a.item._id).lean<ItemDoc>())!;
    assert.equal((after.qc as any).decision.by, 'dana');
    assert.equal((after.qc as any).decision.reason, '原件已遗失，无法重扫');
    assert.ok(after.history.some((h) => h.kind === 'qc_accepted'));
  });
});
