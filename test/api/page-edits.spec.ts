/**
 * Page edits of the review queue over HTTP (issue #14), against the real services, FerretDB, MinIO
 * and the real OCR pipeline: rotate one page (only that page is read again, the original is never
 * changed), reorder, split at a page (a new item, both re-filed), merge two items of one fonds; and
 * the refusals (a 档号 issued, a legal hold, another fonds). Two small undated items (so they wait
 * in review, #11 §1), four pages OCRed once plus two single-page rereads.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { itemModel, type ItemDoc } from '../../src/models/item.model';
import { ingestItem } from '../../src/services/capture';
import { searchItems } from '../../src/services/search';
import { drainUntil } from '../helpers/jobs';
import { openTestRuntime, serveTestApp, signedInUsers, type TestApp } from '../helpers/runtime';
import { renderScan } from '../helpers/scan';

const FINAL = ['filed', 'review', 'qc_hold', 'failed'];

describe('api: page edits in the review queue (rotate, reorder, split, merge)', function () {
  this.timeout(300_000);
  let ctx: Awaited<ReturnType<typeof openTestRuntime>>;
  let app: TestApp;
  let a: string;
  let b: string;

  const items = () => itemModel(ctx.rt.db);
  const get = async (id: string): Promise<ItemDoc> => (await items().findById(id).lean<ItemDoc>())!;
  const settled = (ids: string[]) => async () => (await Promise.all(ids.map(get))).every((i) => FINAL.includes(i.status));
  const jobDone = (id: string) => async () => ['done', 'failed'].includes((await ctx.rt.queue.get(id))?.state ?? '');
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  const call = (method: string, path: string, body?: unknown) =>
    app.fetch(`${app.base}${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });

  before(async () => {
    ctx = await openTestRuntime();
    app = await serveTestApp(ctx.rt);
    const page = (lines: string[]) => renderScan(lines, { dpi: 300 });
    const ra = await ingestItem(ctx.rt, {
      fonds: 'Z001', source: 'pages-a', channel: 'api',
      files: [
        { filename: 'p1.png', body: await page(['情况说明', '申请人：司马长风', '材料共三页，第一页。']) },
        { filename: 'p2.png', body: await page(['附件一', '参保缴费明细清单', '缴费单位：东方红机械厂']) },
        { filename: 'p3.png', body: await page(['附件二', '工作经历证明', '证明人：上官婉清']) },
      ],
    });
    const rb = await ingestItem(ctx.rt, { fonds: 'Z001', source: 'pages-b', channel: 'api', files: [{ filename: 'b1.png', body: await page(['补充说明', '遗漏材料：诸葛青云的转移接续函']) }] });
    a = String(ra.item._id);
    b = String(rb.item._id);
    await drainUntil(ctx.rt, settled([a, b]), { timeoutMs: 240_000, what: 'both items OCRed and waiting in review' });
    assert.equal((await get(a)).status, 'review', 'an undated item waits in review');
  });
  after(async () => {
    await app?.close();
    await ctx?.close();
  });

  it('rotates one page: only that page is read again, from the untouched original; history, audit and the index follow', async () => {
    const before = await get(a);
    const originalSha = sha(await ctx.rt.storage.blobs.getBuffer(before.originals[1]!.blobKey));
    const res = await call('POST', `/api/v1/items/${a}/pages/2/rotate`, { degrees: 180 });
    assert.equal(res.status, 202, await res.clone().text());
    const { jobId, rotation } = (await res.json()) as { jobId: string; rotation: number };
    assert.equal(rotation, ((before.pages[1]!.rotation ?? 0) + 180) % 360);
    await drainUntil(ctx.rt, jobDone(jobId), { what: 'the rotation job' });
    await drainUntil(ctx.rt, settled([a]), { what: 'item re-filed' });
    const turned = await get(a);
    assert.equal((await ctx.rt.queue.get(jobId))!.state, 'done');
    assert.equal(turned.pages[1]!.rotation, rotation, 'the rotation is kept as page metadata');
    assert.notEqual(turned.pages[1]!.imageKey, before.pages[1]!.imageKey, 'a new derived image');
    assert.ok((turned.pages[1]!.confidence ?? 0) < (before.pages[1]!.confidence ?? 0) - 20, 'the page upside down reads badly: it was read again');
    for (const i of [0, 2]) {
      assert.equal(turned.pages[i]!.textKey, before.pages[i]!.textKey, `page ${i + 1} was not read again`);
      assert.equal(turned.pages[i]!.confidence, before.pages[i]!.confidence);
    }
    assert.equal(sha(await ctx.rt.storage.blobs.getBuffer(turned.originals[1]!.blobKey)), originalSha, 'the stored original is unchanged');
    assert.equal(turned.originals[1]!.blobKey, before.originals[1]!.blobKey);
    assert.ok(turned.history.some((h) => h.kind === 'page_rotated' && (h.changes as { page: number }).page === 2));
    // Turned back: readable again, found again by its words.
    const back = (await (await call('POST', `/api/v1/items/${a}/pages/2/rotate`, { degrees: 180 })).json()) as { jobId: string };
    await drainUntil(ctx.rt, async () => (await jobDone(back.jobId)()) && (await settled([a])()), { what: 'turned back and re-filed' });
    const upright = await get(a);
    assert.equal(upright.pages[1]!.rotation, before.pages[1]!.rotation ?? 0);
    assert.ok((upright.pages[1]!.confidence ?? 0) > 70, `upright again (${upright.pages[1]!.confidence})`);
    const hits = await searchItems(ctx.rt, { q: '东方红机械厂' });
    assert.deepEqual(hits.hits.map((h) => h.id), [a], 'the re-read page is in the index');
    await ctx.rt.audit.flush();
    const trail = await ctx.rt.audit.list({ actor: app.username, limit: 200 });
    assert.equal(trail.filter((e) => e.action === 'item.page.rotate' && e.object?.id === a).length, 2);
  });

  it('reorders pages without reading any again; a wrong order is refused in Chinese and English', async () => {
    const before = await get(a);
    const bad = await call('PUT', `/api/v1/items/${a}/pages/order`, { order: [1, 1, 2] });
    assert.equal(bad.status, 400);
    const err = (await bad.json()) as { error: { code: string; message: string; messageZh?: string } } & Record<string, unknown>;
    assert.equal(JSON.stringify(err).includes('validation_failed'), true);
    assert.match(JSON.stringify(err), /每页一次/);
    const res = await call('PUT', `/api/v1/items/${a}/pages/order`, { order: [3, 1, 2] });
    assert.equal(res.status, 200, await res.clone().text());
    const { jobId } = (await res.json()) as { jobId: string };
    await drainUntil(ctx.rt, async () => (await jobDone(jobId)()) && (await settled([a])()), { what: 're-filed after the reorder' });
    const after = await get(a);
    assert.deepEqual(after.pages.map((p) => p.textKey), [before.pages[2]!.textKey, before.pages[0]!.textKey, before.pages[1]!.textKey]);
    assert.deepEqual(after.pages.map((p) => p.n), [1, 2, 3]);
    assert.ok(after.history.some((h) => h.kind === 'pages_reordered'));
  });

  it('splits an item at a page: the new item has its own id and copies, both are re-filed and searchable', async () => {
    const before = await get(a);
    const res = await call('POST', `/api/v1/items/${a}/split`, { at: 2 });
    assert.equal(res.status, 201, await res.clone().text());
    const body = (await res.json()) as { created: { id: string }; jobIds: string[] };
    const c = body.created.id;
    assert.notEqual(c, a);
    await drainUntil(ctx.rt, async () => (await Promise.all(body.jobIds.map((j) => jobDone(j)()))).every(Boolean) && (await settled([a, c])()), { what: 'both re-filed' });
    const kept = await get(a);
    const created = await get(c);
    assert.equal(kept.pages.length, 1);
    assert.equal(created.pages.length, 2);
    assert.equal(created.splitFrom, a);
    assert.equal(created.fonds, kept.fonds);
    const keptKeys = new Set(kept.originals.map((o) => o.blobKey));
    assert.ok(created.originals.every((o) => !keptKeys.has(o.blobKey)), 'the new item owns copies of its originals');
    assert.deepEqual(kept.originals.map((o) => o.sha256), before.originals.map((o) => o.sha256), 'the kept item keeps every original');
    assert.ok(created.pages.every((p) => p.imageKey!.startsWith(`items/${c}/`)), 'derived pages under the new item');
    const hits = await searchItems(ctx.rt, { q: '东方红机械厂' });
    assert.deepEqual(hits.hits.map((h) => h.id), [c], 'the moved page is found under the new item');
    assert.ok(kept.history.some((h) => h.kind === 'pages_split'));
    assert.ok(created.history.some((h) => h.kind === 'split_from'));
  });

  it('merges another item of the same fonds: pages appended, the other one emptied and out of search', async () => {
    const before = await get(a);
    const res = await call('POST', `/api/v1/items/${a}/merge`, { from: b });
    assert.equal(res.status, 200, await res.clone().text());
    const { jobId } = (await res.json()) as { jobId: string };
    await drainUntil(ctx.rt, async () => (await jobDone(jobId)()) && (await settled([a])()), { what: 're-filed after the merge' });
    const target = await get(a);
    const merged = await get(b);
    assert.equal(target.pages.length, before.pages.length + 1);
    assert.equal(target.originals.length, before.originals.length + 1);
    assert.equal(merged.status, 'merged');
    assert.equal(merged.mergedInto, a);
    assert.equal(merged.pages.length, 0);
    const hits = await searchItems(ctx.rt, { q: '诸葛青云' });
    assert.deepEqual(hits.hits.map((h) => h.id), [a], 'the merged page is found under the target only');
    await ctx.rt.audit.flush();
    const trail = await ctx.rt.audit.list({ actor: app.username, limit: 200 });
    assert.ok(trail.some((e) => e.action === 'item.pages.merge' && e.object?.id === b));
  });

  it('refuses an item with a 档号 (withdraw first), an item on hold, a merged item and another fonds', async () => {
    // A 档号 issued: the page edit is refused and names the withdrawal.
    await items().updateOne({ _id: a }, { $set: { archivalCode: 'Z001-SB·2019-D30-QT00-0007' } });
    let res = await call('POST', `/api/v1/items/${a}/pages/1/rotate`, { degrees: 90 });
    assert.equal(res.status, 409);
    let text = await res.text();
    assert.match(text, /pages_not_editable/);
    assert.match(text, /撤销档号/);
    await items().updateOne({ _id: a }, { $set: { archivalCode: null } });
    // A legal hold.
    const tokens = await signedInUsers(ctx.rt, app.base, [['pages.co', 'compliance_officer']], 'Correct-Horse-42');
    const hold = await fetch(`${app.base}/api/v1/holds`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens['pages.co']}` }, body: JSON.stringify({ name: '劳动争议案', kind: 'dispute', reason: '仲裁案件审理中，保留原样', target: { type: 'items', itemIds: [a] } }) });
    assert.equal(hold.status, 201, await hold.clone().text());
    res = await call('PUT', `/api/v1/items/${a}/pages/order`, { order: [1] });
    assert.equal(res.status, 409);
    text = await res.text();
    assert.match(text, /冻结/);
    // The merged item has nothing left to edit.
    res = await call('POST', `/api/v1/items/${b}/split`, { at: 2 });
    assert.equal(res.status, 409);
    // Another fonds.
    const other = await ingestItem(ctx.rt, { fonds: 'Z002', source: 'pages-z2', channel: 'api', files: [{ filename: 'z.png', body: await renderScan(['其他全宗材料'], { dpi: 300 }) }] });
    await items().updateOne({ _id: other.item._id }, { $set: { status: 'review' } });
    const c = await get(a);
    res = await call('POST', `/api/v1/items/${String(other.item._id)}/merge`, { from: (await items().findOne({ splitFrom: a }).lean<ItemDoc>())!._id.toString() });
    assert.equal(res.status, 400);
    assert.match(await res.text(), /同一全宗/);
    assert.equal((await get(a)).pages.length, c.pages.length, 'nothing changed');
  });
});
