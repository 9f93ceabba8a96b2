/**
 * #13.8: upload and OCR limits, per file, per request and per item, enforced while the bytes
 * stream; nothing partial left behind; a file is judged on its own; an item with too many pages
 * fails for good on the first attempt. Limits are made small here through the same environment
 * variables an operator sets.
 */
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { itemModel } from '../../src/models/item.model';
import { drainUntil } from '../helpers/jobs';
import { securityContext, upload, type SecurityContext } from './helpers';

const KB = 1024;
/** An incompressible PNG of about `kb` kilobytes (random pixels), distinct per seed. */
async function noisePng(kb: number, seed: number): Promise<Buffer> {
  const side = Math.ceil(Math.sqrt((kb * KB) / 3));
  const raw = Buffer.alloc(side * side * 3);
  let x = seed * 2654435761;
  for (let i = 0; i < raw.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    raw[i] = x >>> 24;
  }
  return sharp(raw, { raw: { width: side, height: side, channels: 3 } }).png({ compressionLevel: 0 }).toBuffer();
}

describe('#13.8 upload and OCR limits', function () {
  this.timeout(180_000);
  let c: SecurityContext;
  let seed = 1;
  const originals = async () => {
    let n = 0;
    for await (const _key of c.rt.storage.blobs.list('originals/')) n++;
    return n;
  };
  const items = () => itemModel(c.rt.db).countDocuments({});

  before(async () => {
    c = await securityContext([['cw', ['caseworker']]], {
      UPLOAD_LIMIT_MB: String(100 / 1024), // 100 KB a file
      UPLOAD_REQUEST_LIMIT_MB: String(300 / 1024), // 300 KB a request
      UPLOAD_MAX_FILES: '4',
      ITEM_LIMIT_MB: String(150 / 1024), // 150 KB an item
      ITEM_MAX_PAGES: '2',
    });
  });
  after(async () => c?.close());

  it('#13.8 an oversized file is refused alone, nothing of it stored; a later file in the request is accepted', async () => {
    const [o, i] = [await originals(), await items()];
    const res = await upload(c, 'cw', '?split=files', [
      { name: 'big.png', data: await noisePng(130, seed++) },
      { name: 'small.png', data: await noisePng(20, seed++) },
    ]);
    assert.equal(res.status, 202, JSON.stringify(res.json));
    assert.deepEqual(res.json.errors.map((e: any) => [e.file, e.code]), [['big.png', 'too_large']]);
    assert.match(res.json.errors[0].messageZh, /超过单个文件上限/);
    assert.equal(res.json.items.length, 1);
    assert.equal(res.json.items[0].source, 'small.png');
    assert.equal(await originals(), o + 1, 'only the small file is in the store (no truncated copy of the big one)');
    assert.equal(await items(), i + 1);
  });

  it('#13.8 files of one item over the item limit: 413, nothing stored', async () => {
    const [o, i] = [await originals(), await items()];
    const res = await upload(c, 'cw', '', [
      { name: 'p1.png', data: await noisePng(80, seed++) },
      { name: 'p2.png', data: await noisePng(80, seed++) },
    ]);
    assert.equal(res.status, 413, JSON.stringify(res.json));
    assert.equal(res.json.error.code, 'too_large');
    assert.match(res.json.error.messageZh, /单个条目上限/);
    assert.equal(await originals(), o);
    assert.equal(await items(), i);
  });

  it('#13.8 a request over the request limit or the file count: 413, nothing stored', async () => {
    const [o, i] = [await originals(), await items()];
    const big = await upload(c, 'cw', '?split=files', await Promise.all([1, 2, 3, 4].map(async (k) => ({ name: `f${k}.png`, data: await noisePng(90, seed++) }))));
    assert.equal(big.status, 413, JSON.stringify(big.json));
    assert.equal(big.json.error.code, 'payload_too_large');
    assert.match(big.json.error.messageZh, /单次请求上限/);
    const many = await upload(c, 'cw', '?split=files', await Promise.all([1, 2, 3, 4, 5].map(async (k) => ({ name: `m${k}.png`, data: await noisePng(1, seed++) }))));
    assert.equal(many.status, 413, JSON.stringify(many.json));
    assert.match(many.json.error.message, /More than 4 files/);
    assert.equal(await originals(), o, 'what the refused uploads had stored is gone');
    assert.equal(await items(), i);
  });

  it('#13.8 an item with more pages than ITEM_MAX_PAGES fails for good on the first attempt (not retried)', async () => {
    const pages = await Promise.all([1, 2, 3].map(async () => noisePng(1, seed++)));
    const res = await upload(c, 'cw', '', pages.map((data, k) => ({ name: `page${k + 1}.png`, data })));
    assert.equal(res.status, 202, JSON.stringify(res.json));
    const id = res.json.items[0].id as string;
    await drainUntil(c.rt, async () => (await itemModel(c.rt.db).findById(id).lean())?.status === 'failed', { what: 'the item fails' });
    const item = await itemModel(c.rt.db).findById(id).lean();
    assert.equal(item?.failure?.code, 'too_many_pages');
    assert.match(String(item?.failure?.messageZh), /页数上限/);
    const job = await c.rt.queue.jobs.findById(res.json.items[0].jobId).lean();
    assert.equal(job?.attempts, 1, 'one attempt, no retries');
    assert.equal(job?.state, 'failed');
  });
});
