import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { itemModel } from '../../../src/models/item.model';
import { HotFolder } from '../../../src/services/capture/hotfolder';
import { openTestRuntime } from '../../helpers/runtime';
import { renderScan } from '../../helpers/scan';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('scanner hot folder (real FerretDB + MinIO)', function () {
  this.timeout(60_000);
  let ctx: Awaited<ReturnType<typeof openTestRuntime>>;
  let root: string;
  let hot: HotFolder;
  let scan: Buffer;

  before(async () => {
    ctx = await openTestRuntime();
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'hot-'));
    hot = new HotFolder(ctx.rt, { root, fonds: 'Z001', stableMs: 300 });
    scan = await renderScan(['参保单位登记表'], { dpi: 300 });
  });
  after(async () => {
    fs.rmSync(root, { recursive: true, force: true });
    await ctx?.close();
  });

  it('waits while a file is still growing, then ingests it once and leaves a receipt', async () => {
    const target = path.join(hot.dirs.inbox, 'box1-0001.png');
    fs.writeFileSync(target, scan.subarray(0, 100));
    await hot.scanOnce();
    await sleep(350);
    fs.appendFileSync(target, scan.subarray(100));
    const r1 = await hot.scanOnce(); // changed since last look: not stable yet
    assert.equal(r1.ingested, 0);
    assert.ok(fs.existsSync(target));
    await sleep(350);
    const r2 = await hot.scanOnce();
    assert.equal(r2.ingested, 1);
    assert.ok(!fs.existsSync(target));
    const receipt = JSON.parse(fs.readFileSync(path.join(hot.dirs.done, 'box1-0001.png.receipt.json'), 'utf8'));
    const item = await itemModel(ctx.rt.db).findById(receipt.itemId).lean();
    assert.equal(item!.channel, 'hotfolder');
    assert.equal(item!.originals[0]!.size, scan.length, 'the complete file, not the partial one');
  });

  it('a file left in processing/ by a crash is finished on the next pass without a second item', async () => {
    fs.writeFileSync(path.join(hot.dirs.processing, 'again.png'), scan);
    const before = await itemModel(ctx.rt.db).countDocuments({});
    const r = await hot.scanOnce();
    assert.equal(r.ingested, 1);
    assert.equal(await itemModel(ctx.rt.db).countDocuments({}), before, 'same content → same item');
    const receipt = JSON.parse(fs.readFileSync(path.join(hot.dirs.done, 'again.png.receipt.json'), 'utf8'));
    assert.equal(receipt.duplicate, true);
  });

  it('a non-scan goes to failed/ with a bilingual reason; a file deleted before pickup is skipped quietly', async () => {
    fs.writeFileSync(path.join(hot.dirs.inbox, 'notes.jpg'), '<html>not an image</html>');
    fs.writeFileSync(path.join(hot.dirs.inbox, 'gone.png'), scan);
    await hot.scanOnce();
    fs.rmSync(path.join(hot.dirs.inbox, 'gone.png'));
    await sleep(350);
    const r = await hot.scanOnce();
    assert.equal(r.failed, 1);
    const err = JSON.parse(fs.readFileSync(path.join(hot.dirs.failed, 'notes.jpg.error.json'), 'utf8'));
    assert.equal(err.code, 'unsupported_media_type');
    assert.match(err.messageZh, /JPEG/);
    assert.ok(!fs.existsSync(path.join(hot.dirs.done, 'gone.png')));
  });
});
