/**
 * Issue #13, item 9: the hot folder reads only regular files, without following links, size
 * limited; FIFOs and devices are never opened; a bad entry goes to failed/ once.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { itemModel } from '../../src/models/item.model';
import { HotFolder } from '../../src/services/capture/hotfolder';
import { ingestItem } from '../../src/services/capture/intake';
import { encodeSeparator } from '../../src/services/capture/separator';
import { splitStack } from '../../src/services/capture/stack';
import { PDFDocument } from 'pdf-lib';
import QRCode from 'qrcode';
import sharp from 'sharp';
import { openTestRuntime } from '../helpers/runtime';
import { renderScan } from '../helpers/scan';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('security #13.9: hot folder entries', function () {
  this.timeout(60_000);
  let ctx: Awaited<ReturnType<typeof openTestRuntime>>;
  let root: string;
  let outside: string;
  let scan: Buffer;
  let hot: HotFolder;

  /** Two passes stableMs apart: an unchanged entry is claimed on the second. */
  const settle = async (h: HotFolder) => {
    await h.scanOnce();
    await sleep(150);
    return h.scanOnce();
  };
  const failedNote = (name: string) => JSON.parse(fs.readFileSync(path.join(hot.dirs.failed, `${name}.error.json`), 'utf8')) as { code: string };

  before(async () => {
    ctx = await openTestRuntime();
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'hot-sec-'));
    outside = fs.mkdtempSync(path.join(os.tmpdir(), 'hot-outside-'));
    scan = await renderScan(['工伤认定申请表'], { dpi: 200 });
    fs.writeFileSync(path.join(outside, 'secret.png'), scan);
    hot = new HotFolder(ctx.rt, { root, fonds: 'Z001', stableMs: 100, maxBytes: 4 * 1024 * 1024 });
  });
  after(async () => {
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(outside, { recursive: true, force: true });
    await ctx?.close();
  });

  it('#13.9 a symbolic link (to a file elsewhere, or inside a folder entry) is refused unread', async () => {
    fs.symlinkSync(path.join(outside, 'secret.png'), path.join(hot.dirs.inbox, 'link.png'));
    fs.mkdirSync(path.join(hot.dirs.inbox, 'box7'));
    fs.symlinkSync(path.join(outside, 'secret.png'), path.join(hot.dirs.inbox, 'box7', '0001.png'));
    const r = await settle(hot);
    assert.equal(r.ingested, 0);
    assert.equal(await itemModel(ctx.rt.db).countDocuments({}), 0, 'nothing from outside the hot folder was ingested');
    assert.equal(failedNote('link.png').code, 'unsupported_media_type');
    assert.equal(failedNote('box7').code, 'unsupported_media_type');
    assert.ok(fs.existsSync(path.join(outside, 'secret.png')), 'the link target is untouched');
  });

  it('#13.9 a FIFO is never opened (a writer waiting on it stays blocked) and goes to failed/', async () => {
    const fifo = path.join(hot.dirs.inbox, 'pipe.png');
    execFileSync('mkfifo', [fifo]);
    // The writer's open blocks until somebody opens the FIFO for reading.
    const writer = spawn('sh', ['-c', `printf x > '${fifo}' && echo opened`], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    writer.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await settle(hot);
      await sleep(300);
      assert.equal(out, '', 'the hot folder opened the FIFO');
      assert.equal(failedNote('pipe.png').code, 'unsupported_media_type');
    } finally {
      writer.kill('SIGKILL');
    }
  });

  it('#13.9 a file above the size limit is refused without being read into memory', async () => {
    fs.writeFileSync(path.join(hot.dirs.inbox, 'huge.png'), Buffer.concat([scan.subarray(0, 64), Buffer.alloc(5 * 1024 * 1024)]));
    await settle(hot);
    assert.equal(failedNote('huge.png').code, 'too_large');
  });

  it('#13.9 a bad entry left in processing/ (a crash) goes to failed/ on the next start, once, not again on every start', async () => {
    fs.symlinkSync(path.join(outside, 'secret.png'), path.join(hot.dirs.processing, 'crashed.png'));
    const restarted = new HotFolder(ctx.rt, { root, fonds: 'Z001', stableMs: 100 });
    const r1 = await restarted.scanOnce();
    assert.equal(r1.ingested, 0);
    assert.equal(failedNote('crashed.png').code, 'unsupported_media_type');
    assert.deepEqual(fs.readdirSync(restarted.dirs.processing), []);
    const again = new HotFolder(ctx.rt, { root, fonds: 'Z001', stableMs: 100 });
    const r2 = await again.scanOnce();
    assert.deepEqual(r2, { ingested: 0, failed: 0 });
    assert.equal(await itemModel(ctx.rt.db).countDocuments({}), 0);
  });

  it('#13.14 a regular scan is ingested, and intake from the hot folder is in the audit trail', async () => {
    fs.writeFileSync(path.join(hot.dirs.inbox, 'ok.png'), scan);
    const r = await settle(hot);
    assert.equal(r.ingested, 1);
    const receipt = JSON.parse(fs.readFileSync(path.join(hot.dirs.done, 'ok.png.receipt.json'), 'utf8')) as { itemId: string };
    const entries = await ctx.rt.audit.list({ action: 'item.ingest', limit: 50 });
    assert.ok(entries.some((e: any) => e.object?.id === receipt.itemId && e.outcome === 'success' && e.details?.channel === 'hotfolder'));
    assert.ok(entries.some((e: any) => e.outcome === 'failure' && e.object?.id === 'link.png'), 'refusals are audited too');
  });

  it('#13.14 stack splitting writes an audit entry for every item it creates', async () => {
    const qr = await QRCode.toBuffer(encodeSeparator({ box: 'B1' }), { margin: 2, width: 700 });
    const sep = await sharp({ create: { width: 1748, height: 2480, channels: 3, background: '#fff' } }).composite([{ input: qr, top: 300, left: 520 }]).jpeg().toBuffer();
    const pdf = await PDFDocument.create();
    for (const img of [sep, scan, sep, await renderScan(['失业保险金申领登记表'], { dpi: 200 })]) {
      const jpg = await pdf.embedJpg(await sharp(img).jpeg({ quality: 80 }).toBuffer());
      const page = pdf.addPage([jpg.width * 0.24, jpg.height * 0.24]);
      page.drawImage(jpg, { x: 0, y: 0, width: page.getWidth(), height: page.getHeight() });
    }
    const res = await ingestItem(ctx.rt, { fonds: 'Z001', source: 'stack.pdf', channel: 'cli', files: [{ filename: 'stack.pdf', body: Buffer.from(await pdf.save()) }], stack: { blankSeparators: false } });
    const children = await splitStack(ctx.rt, res.item);
    assert.equal(children.length, 2);
    const entries = await ctx.rt.audit.list({ action: 'item.ingest', limit: 100 });
    for (const id of children) assert.ok(entries.some((e: any) => e.object?.id === id && e.details?.stackOf === String(res.item._id)), `no audit entry for child ${id}`);
  });
});
