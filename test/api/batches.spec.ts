/**
 * The scanning station's batches kept on the server (issue #14): an upload records its batch for
 * the person who sent it; their list (any browser, any PC) names its items and refused files;
 * nobody else sees it; its owner takes it off the list without touching its items.
 */
import assert from 'node:assert/strict';
import { itemModel } from '../../src/models/item.model';
import { openTestRuntime, serveTestApp, signedInUsers, type TestApp } from '../helpers/runtime';
import { renderScan } from '../helpers/scan';

function form(files: Array<{ name: string; data: Buffer; type?: string }>): FormData {
  const fd = new FormData();
  for (const f of files) fd.append('file', new Blob([new Uint8Array(f.data)], { type: f.type ?? 'application/octet-stream' }), f.name);
  return fd;
}

describe('api: intake batches on the server (scanning station)', function () {
  this.timeout(60_000);
  let ctx: Awaited<ReturnType<typeof openTestRuntime>>;
  let app: TestApp;

  before(async () => {
    ctx = await openTestRuntime();
    app = await serveTestApp(ctx.rt);
  });
  after(async () => {
    await app?.close();
    await ctx?.close();
  });

  it("lists the caller's batches with their items and refused files, to them only; hiding leaves the items", async () => {
    const scan = await renderScan(['批次测试'], { dpi: 300 });
    const res = await app.fetch(`${app.base}/api/v1/ingest?split=files`, { method: 'POST', body: form([{ name: 'a.png', data: scan }, { name: 'bad.jpg', data: Buffer.from('<html>not a scan</html>'), type: 'image/jpeg' }]) });
    assert.equal(res.status, 202, await res.clone().text());
    const up = (await res.json()) as { batchId: string; items: Array<{ id: string }> };
    assert.equal(up.items.length, 1);

    const list = (await (await app.fetch(`${app.base}/api/v1/batches`)).json()) as { batches: Array<{ id: string; items: string[]; fonds: string; rejected: Array<{ file: string; code: string }> }> };
    const mine = list.batches.find((b) => b.id === up.batchId);
    assert.ok(mine, 'the upload is on the list');
    assert.deepEqual(mine.items, [up.items[0]!.id]);
    assert.equal(mine.fonds, ctx.rt.config.fonds);
    assert.deepEqual(mine.rejected.map((r) => r.code), ['unsupported_media_type'], 'the refused file is kept with its reason');
    assert.equal((await itemModel(ctx.rt.db).findById(up.items[0]!.id).lean())!.batchId, up.batchId, 'the items carry the same batch id');
    assert.deepEqual((mine as unknown as { earlier: string[] }).earlier, [], 'nothing in it was taken in before');

    // The same scan uploaded again: its batch lists the item as one an earlier batch took in.
    const again = (await (await app.fetch(`${app.base}/api/v1/ingest?split=files`, { method: 'POST', body: form([{ name: 'a-again.png', data: scan }]) })).json()) as { batchId: string; items: Array<{ id: string; duplicate: boolean }> };
    assert.deepEqual(again.items.map((i) => [i.id, i.duplicate]), [[up.items[0]!.id, true]]);
    const second = ((await (await app.fetch(`${app.base}/api/v1/batches`)).json()) as { batches: Array<{ id: string; items: string[]; earlier: string[] }> }).batches.find((b) => b.id === again.batchId)!;
    assert.deepEqual(second.earlier, [up.items[0]!.id]);
    assert.equal((await itemModel(ctx.rt.db).findById(up.items[0]!.id).lean())!.batchId, up.batchId, 'the item stays its first batch\'s');

    // Another archivist sees none of it, and cannot hide it.
    const tokens = await signedInUsers(ctx.rt, app.base, [['batch.other', 'archivist']], 'Correct-Horse-42');
    const auth = { authorization: `Bearer ${tokens['batch.other']}` };
    const theirs = (await (await fetch(`${app.base}/api/v1/batches`, { headers: auth })).json()) as { batches: unknown[] };
    assert.deepEqual(theirs.batches, []);
    const denied = await fetch(`${app.base}/api/v1/batches/${up.batchId}`, { method: 'DELETE', headers: auth });
    assert.equal(denied.status, 404);
    assert.match(await denied.text(), /找不到您的该批次/);

    // The owner hides it: off the list, items untouched.
    const hidden = await app.fetch(`${app.base}/api/v1/batches/${up.batchId}`, { method: 'DELETE' });
    assert.equal(hidden.status, 204);
    const after = (await (await app.fetch(`${app.base}/api/v1/batches`)).json()) as { batches: Array<{ id: string }> };
    assert.ok(!after.batches.some((b) => b.id === up.batchId));
    assert.ok(await itemModel(ctx.rt.db).findById(up.items[0]!.id).lean(), 'the item is still there');
  });
});
