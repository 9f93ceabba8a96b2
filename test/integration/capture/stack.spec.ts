import assert from 'node:assert/strict';
import { PDFDocument } from 'pdf-lib';
import QRCode from 'qrcode';
import sharp from 'sharp';
import { idCheckDigit } from '../../../src/domain/id-number';
import { itemModel } from '../../../src/models/item.model';
import { ingestItem } from '../../../src/services/capture/intake';
import { encodeSeparator } from '../../../src/services/capture/separator';
import { drainUntil } from '../../helpers/jobs';
import { openTestRuntime } from '../../helpers/runtime';
import { renderScan } from '../../helpers/scan';

const zhang = '11010519870315231' + idCheckDigit('11010519870315231');

async function separatorScan(data: Parameters<typeof encodeSeparator>[0]): Promise<Buffer> {
  const qr = await QRCode.toBuffer(encodeSeparator(data), { margin: 2, width: 700 });
  return sharp({ create: { width: 1748, height: 2480, channels: 3, background: '#fff' } }).composite([{ input: qr, top: 300, left: 520 }]).jpeg().toBuffer();
}

/** A scanned stack as one PDF, the way a scanner's batch mode delivers it. */
async function stackPdf(pages: Buffer[]): Promise<Buffer> {
  const pdf = await PDFDocument.create();
  for (const img of pages) {
    const jpg = await pdf.embedJpg(await sharp(img).jpeg({ quality: 85 }).toBuffer());
    const page = pdf.addPage([jpg.width * 0.24, jpg.height * 0.24]); // 300 dpi → points
    page.drawImage(jpg, { x: 0, y: 0, width: page.getWidth(), height: page.getHeight() });
  }
  return Buffer.from(await pdf.save());
}

describe('batch scanning: a stack split at separator sheets (real pipeline)', function () {
  this.timeout(240_000);
  let ctx: Awaited<ReturnType<typeof openTestRuntime>>;
  before(async () => {
    ctx = await openTestRuntime();
  });
  after(() => ctx?.close());

  it('splits into items, drops separator pages, and carries the sheet\'s data into the item', async () => {
    const pdf = await stackPdf([
      await separatorScan({ box: 'B12', idNumber: zhang, name: '张伟' }),
      await renderScan(['社会保险参保人员登记表', '姓名：张伟'], { dpi: 300 }),
      await renderScan(['参保人员信息变更登记表', '第二页'], { dpi: 300 }),
      await separatorScan({ box: 'B12' }),
      await renderScan(['失业保险金申领登记表'], { dpi: 300 }),
    ]);
    const res = await ingestItem(ctx.rt, { fonds: 'Z001', source: 'box12.pdf', channel: 'cli', files: [{ filename: 'box12.pdf', body: pdf }], stack: { blankSeparators: false } });
    const items = itemModel(ctx.rt.db);
    await drainUntil(
      ctx.rt,
      async () => {
        const parent = await items.findById(res.item._id).lean();
        const kids = parent!.stack?.children ?? [];
        const done = kids.length ? await items.countDocuments({ _id: { $in: kids }, status: { $in: ['filed', 'review', 'failed'] } }) : 0;
        return parent!.status === 'split' && kids.length > 0 && done === kids.length;
      },
      { timeoutMs: 200_000, what: 'stack split and its items filed' },
    );
    const parent = (await items.findById(res.item._id).lean())!;
    assert.equal(parent.pageCount, 5);
    assert.equal(parent.originals.length, 1, 'the stack is kept exactly as received');
    const [a, b] = await Promise.all(parent.stack!.children.map((id) => items.findById(id).lean()));
    assert.equal(a!.pageCount, 2);
    assert.equal(b!.pageCount, 1);
    assert.equal(a!.source, 'box12.pdf#1');
    assert.deepEqual(a!.preregistered, { box: 'B12', idNumber: zhang, name: '张伟' });
    assert.ok(a!.personIds.includes(zhang), 'the separator\'s ID number describes the item');
    assert.equal(a!.stackOf, String(parent._id));
  });
});
