import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { PDFDocument, PDFName, PDFString } from 'pdf-lib';
import { itemModel } from '../../../src/models/item.model';
import { drainUntil } from '../../helpers/jobs';
import { openTestRuntime, serveTestApp } from '../../helpers/runtime';
import { renderScan } from '../../helpers/scan';

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(body) >>> 0);
  return Buffer.concat([len, body, crc]);
}

/** A tiny PNG whose header claims 60000 × 60000 pixels: a decompression bomb. */
function pngBomb(): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(60000, 0);
  ihdr.writeUInt32BE(60000, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(Buffer.alloc(4096))), chunk('IEND', Buffer.alloc(0))]);
}

async function pdfWithJavaScript(): Promise<Buffer> {
  const pdf = await PDFDocument.create();
  pdf.addPage([200, 200]);
  const js = pdf.context.obj({ S: PDFName.of('JavaScript'), JS: PDFString.of('app.alert("hi")') });
  pdf.catalog.set(PDFName.of('OpenAction'), js);
  return Buffer.from(await pdf.save());
}

describe('bad input: each file fails on its own with a clear reason; the batch and the worker go on', function () {
  this.timeout(180_000);
  let ctx: Awaited<ReturnType<typeof openTestRuntime>>;
  let http: Awaited<ReturnType<typeof serveTestApp>>;
  before(async () => {
    ctx = await openTestRuntime();
    http = await serveTestApp(ctx.rt);
  });
  after(async () => {
    await http?.close();
    await ctx?.close();
  });

  it('rejects or fails every bad file and files the good one', async () => {
    const good = await renderScan(['生育保险待遇核定表'], { dpi: 300, format: 'jpeg' });
    const files: Array<[string, Buffer]> = [
      ['empty.png', Buffer.alloc(0)],
      ['page.jpg', Buffer.from('<!doctype html><html><body>hello</body></html>')],
      ['truncated.jpg', good.subarray(0, Math.floor(good.length / 3))],
      ['bomb.png', pngBomb()],
      ['script.pdf', await pdfWithJavaScript()],
      ['good.jpg', good],
    ];
    const fd = new FormData();
    for (const [name, data] of files) fd.append('file', new Blob([data]), name);
    const res = await http.fetch(`${http.base}/api/v1/ingest?split=files`, { method: 'POST', body: fd });
    assert.equal(res.status, 202);
    const body = (await res.json()) as any;
    const rejected = new Map(body.errors.map((e: any) => [e.file, e]));
    assert.ok(rejected.has('empty.png'));
    assert.equal((rejected.get('page.jpg') as any).code, 'unsupported_media_type');
    const accepted = new Map<string, string>(body.items.map((i: any) => [i.source, i.id]));
    assert.deepEqual([...accepted.keys()].sort(), ['bomb.png', 'good.jpg', 'script.pdf', 'truncated.jpg']);

    const items = itemModel(ctx.rt.db);
    const ids = [...accepted.values()];
    await drainUntil(ctx.rt, async () => (await items.countDocuments({ _id: { $in: ids }, status: { $in: ['filed', 'review', 'failed'] } })) === ids.length, { what: 'batch finished' });
    const byName = async (n: string) => (await http.fetch(`${http.base}/api/v1/items/${accepted.get(n)}`).then((r) => r.json())) as any;
    const truncated = await byName('truncated.jpg');
    const bomb = await byName('bomb.png');
    const script = await byName('script.pdf');
    assert.equal(truncated.status, 'failed');
    assert.equal(bomb.status, 'failed');
    assert.equal(script.status, 'failed');
    for (const f of [truncated, bomb, script]) {
      assert.ok(f.reason && f.reasonZh, 'a failed item says why, in English and Chinese');
      assert.equal(f.pageCount, 0, 'nothing partial is filed');
    }
    assert.match(`${bomb.reason}`, /pixel|large|limit/i);
    assert.match(`${script.reason}`, /JavaScript/i);
    const ok = await byName('good.jpg');
    assert.ok(['filed', 'review'].includes(ok.status), 'the good file is processed after the bad ones');
    const failedJobs = await ctx.rt.queue.jobs.find({ state: 'failed' }).lean();
    assert.equal(failedJobs.length, 3);
    assert.ok(failedJobs.every((j) => j.attempts === 1), 'bad input is not retried');
  });
});
