import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buffer } from 'node:stream/consumers';
import { PDFDocument } from 'pdf-lib';
import sharp from 'sharp';
import { itemModel } from '../../../src/models/item.model';
import { safeFilename } from '../../../src/services/capture/intake';
import { drainUntil } from '../../helpers/jobs';
import { openTestRuntime, serveTestApp } from '../../helpers/runtime';
import { cer, renderBlank, renderScan, SAMPLE_FORM } from '../../helpers/scan';


function form(files: Array<{ name: string; data: Buffer; type?: string }>): FormData {
  const fd = new FormData();
  for (const f of files) fd.append('file', new Blob([f.data], { type: f.type ?? 'application/octet-stream' }), f.name);
  return fd;
}

describe('capture: ingest API → OCR worker → filed item (real FerretDB, MinIO, tesseract.js)', function () {
  this.timeout(180_000);
  let env: Awaited<ReturnType<typeof openTestRuntime>>;
  let http: Awaited<ReturnType<typeof serveTestApp>>;
  let page1: Buffer;
  let blank: Buffer;

  before(async () => {
    env = await openTestRuntime();
    http = await serveTestApp(env.rt);
    page1 = await renderScan(SAMPLE_FORM, { dpi: 300 });
    blank = await renderBlank(300);
  });
  after(async () => {
    await http?.close();
    await env?.close();
  });

  it('files a two-page upload: text with low CER, blank page flagged, originals kept exactly, searchable PDF', async () => {
    const res = await http.fetch(`${http.base}/api/v1/ingest`, { method: 'POST', body: form([{ name: 'p1.png', data: page1 }, { name: 'p2.png', data: blank }]) });
    assert.equal(res.status, 202);
    const body = (await res.json()) as any;
    assert.equal(body.items.length, 1);
    const id = body.items[0].id as string;
    assert.match(body.items[0].jobId, /^[a-f0-9]{24}$/);

    await drainUntil(env.rt, async () => ['filed', 'review', 'failed'].includes((await itemModel(env.rt.db).findById(id).lean())!.status));
    const view = (await (await http.fetch(`${http.base}/api/v1/items/${id}?text=1`)).json()) as any;
    assert.equal(view.status, 'filed', JSON.stringify(view.reason ?? view.flags));
    assert.equal(view.pageCount, 2);
    const rate = cer(SAMPLE_FORM.join(''), view.pages[0].text);
    assert.ok(rate < 0.15, `CER ${rate.toFixed(3)} too high: ${view.pages[0].text}`);
    assert.doesNotMatch(view.pages[0].text, /[\u4e00-\u9fff] [\u4e00-\u9fff]/, 'no spaces between Chinese characters');
    assert.equal(view.pages[1].blank, true);
    assert.ok(view.flags.some((f: any) => f.code === 'blank_page' && f.page === 2));

    const item = (await itemModel(env.rt.db).findById(id).lean())!;
    const original = await buffer(await env.rt.storage.blobs.get(item.originals[0]!.blobKey));
    assert.equal(createHash('sha256').update(original).digest('hex'), createHash('sha256').update(page1).digest('hex'));

    const pdf = await buffer(await env.rt.storage.blobs.get(item.pdfKey!));
    const pdfFile = path.join(os.tmpdir(), `item-${id}.pdf`);
    fs.writeFileSync(pdfFile, pdf);
    const extracted = execFileSync('pdftotext', [pdfFile, '-']).toString();
    fs.rmSync(pdfFile);
    assert.ok(cer('社会保险参保人员登记表', extracted.split('\n').find((l) => l.includes('登记')) ?? extracted) < 0.3, `PDF text layer: ${extracted}`);
  });

  it('the pipeline does not read back what it has just written: only the original is fetched for a one-page item', async () => {
    const other = await sharp(page1).extend({ top: 24, background: '#ffffff' }).png().toBuffer();
    const blobs = env.rt.storage.blobs;
    const read: string[] = [];
    let id = '';
    const { get, getBuffer } = blobs;
    blobs.get = (key, range) => (read.push(key), get.call(blobs, key, range));
    blobs.getBuffer = (key) => (read.push(key), getBuffer.call(blobs, key));
    try {
      const res = await http.fetch(`${http.base}/api/v1/ingest`, { method: 'POST', body: form([{ name: 'p1-taller.png', data: other }]) });
      id = ((await res.json()) as any).items[0].id as string;
      await drainUntil(env.rt, async () => ['filed', 'review', 'failed'].includes((await itemModel(env.rt.db).findById(id).lean())!.status));
      const item = (await itemModel(env.rt.db).findById(id).lean())!;
      assert.equal(item.status, 'filed');
      // The PDF, filing and indexing take the page image and text from the capture that made them.
      assert.deepEqual(read.filter((k) => k.includes(id) || k === item.originals[0]!.blobKey), [item.originals[0]!.blobKey]);
    } finally {
      blobs.get = get;
      blobs.getBuffer = getBuffer;
    }
    const hits = (await (await http.fetch(`${http.base}/api/v1/search?q=${encodeURIComponent('参保人员')}`)).json()) as any;
    assert.ok(JSON.stringify(hits).includes(id), 'indexed with the text capture held');
  });

  it('retrieval: page image (whole and by range), thumbnail, OCR boxes, watermarked PDF; reads are audited', async () => {
    const item = (await itemModel(env.rt.db).findOne({ pageCount: 2 }).lean())!;
    const id = String(item._id);
    const whole = await http.fetch(`${http.base}/api/v1/items/${id}/pages/1/image`);
    assert.equal(whole.status, 200);
    assert.equal(whole.headers.get('accept-ranges'), 'bytes');
    const bytes = Buffer.from(await whole.arrayBuffer());
    assert.ok((await sharp(bytes).metadata()).width! > 500);
    const part = await http.fetch(`${http.base}/api/v1/items/${id}/pages/1/image`, { headers: { range: 'bytes=100-65635' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), `bytes 100-65635/${bytes.length}`);
    assert.ok(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(100, 65636)), 'a range is exactly those bytes, across a 64 KiB segment');
    assert.equal((await http.fetch(`${http.base}/api/v1/items/${id}/pages/1/image`, { headers: { range: 'bytes=999999999-' } })).status, 416);
    const thumb = Buffer.from(await (await http.fetch(`${http.base}/api/v1/items/${id}/pages/1/thumbnail`)).arrayBuffer());
    assert.equal((await sharp(thumb).metadata()).width, 320);
    const text = (await (await http.fetch(`${http.base}/api/v1/items/${id}/pages/1/text`)).json()) as any;
    assert.ok(text.lines.length >= 3 && text.lines[0].bbox.x1 > text.lines[0].bbox.x0);
    assert.equal((await http.fetch(`${http.base}/api/v1/items/${id}/pages/9/image`)).status, 404);
    const pdfRes = await http.fetch(`${http.base}/api/v1/items/${id}/pdf`);
    assert.equal(pdfRes.status, 200);
    const pdfBytes = Buffer.from(await pdfRes.arrayBuffer());
    const pdf = await PDFDocument.load(pdfBytes);
    assert.equal(pdf.getPageCount(), 2);
    assert.match(pdf.getKeywords() ?? '', new RegExp(`downloaded-by:${http.username}`));
    // The copy a reader downloads is still searchable: the watermark goes over the text layer, not instead of it.
    const pdfFile = path.join(os.tmpdir(), `download-${id}.pdf`);
    fs.writeFileSync(pdfFile, pdfBytes);
    const extracted = execFileSync('pdftotext', [pdfFile, '-']).toString();
    fs.rmSync(pdfFile);
    assert.ok(cer('社会保险参保人员登记表', extracted.split('\n').find((l) => l.includes('登记')) ?? extracted) < 0.3, `downloaded PDF's text layer: ${extracted}`);
    await env.rt.audit.flush();
    const entries = await env.rt.audit.list({ action: 'item.download' });
    assert.ok(entries.some((e) => e.object?.id === id));
  });

  it('the same scans ingested again resolve to the same item', async () => {
    const a = (await (await http.fetch(`${http.base}/api/v1/ingest`, { method: 'POST', body: form([{ name: 'again.png', data: page1 }]) })).json()) as any;
    const b = (await (await http.fetch(`${http.base}/api/v1/ingest`, { method: 'POST', body: form([{ name: 'again-renamed.png', data: page1 }]) })).json()) as any;
    assert.equal(a.items[0].id, b.items[0].id);
    assert.equal(b.items[0].duplicate, true);
  });

  it('rejects an HTML file named .jpg (415) and an empty file (400), in Chinese and English, storing nothing', async () => {
    const before = await itemModel(env.rt.db).countDocuments({});
    const html = await http.fetch(`${http.base}/api/v1/ingest`, { method: 'POST', body: form([{ name: 'scan.jpg', data: Buffer.from('<html><body>not a scan</body></html>'), type: 'image/jpeg' }]) });
    assert.equal(html.status, 415);
    const hb = (await html.json()) as any;
    assert.equal(hb.error.code, 'unsupported_media_type');
    assert.match(hb.error.messageZh, /文件/);
    const empty = await http.fetch(`${http.base}/api/v1/ingest`, { method: 'POST', body: form([{ name: 'empty.png', data: Buffer.alloc(0) }]) });
    assert.equal(empty.status, 400);
    assert.equal(await itemModel(env.rt.db).countDocuments({}), before);
  });

  it('with split=files a bad file is reported and the rest of the batch continues', async () => {
    const other = await renderScan(['失业保险金申领登记表'], { dpi: 300, format: 'jpeg' });
    const res = await http.fetch(`${http.base}/api/v1/ingest?split=files`, {
      method: 'POST',
      body: form([{ name: '../../etc/passwd.jpg', data: Buffer.from('GIF89a not supported') }, { name: 'good.jpg', data: other }]),
    });
    assert.equal(res.status, 202);
    const body = (await res.json()) as any;
    assert.equal(body.items.length, 1);
    assert.equal(body.items[0].source, 'good.jpg');
    assert.equal(body.errors.length, 1);
    assert.equal(body.errors[0].code, 'unsupported_media_type');
    assert.equal(body.errors[0].file, 'passwd.jpg', 'directories are stripped from names');
  });

  it('file names are labels only: directories and control characters are stripped', () => {
    assert.equal(safeFilename('../../etc/passwd\u0007.jpg'), 'passwd.jpg');
    assert.equal(safeFilename('..\\..\\boot.ini'), 'boot.ini');
    assert.equal(safeFilename('\u0000\u001b'), 'unnamed');
  });

  it('unknown item ids are 404 item_not_found; malformed ids 400', async () => {
    const nf = await http.fetch(`${http.base}/api/v1/items/${'0'.repeat(24)}`);
    assert.equal(nf.status, 404);
    assert.equal(((await nf.json()) as any).error.code, 'item_not_found');
    assert.equal((await http.fetch(`${http.base}/api/v1/items/xyz`)).status, 400);
  });
});
