/**
 * Issue #13, item 12: raising an item's level ends what a running 借阅 grant gave, and search never
 * shows the item at its old level, even when re-indexing after the change fails.
 */
import assert from 'node:assert/strict';
import { Types } from 'mongoose';
import { pageKeys } from '../../src/services/records';
import { indexItem } from '../../src/services/search';
import { buildItemId } from '../helpers/factories';
import { openTestRuntime, serveTestApp, signedInUsers } from '../helpers/runtime';

const PASSWORD = 'Correct-Horse-42';

describe('security #13.12: level raises against running grants and a failing reindex', function () {
  this.timeout(90_000);
  let ctx: Awaited<ReturnType<typeof openTestRuntime>>;
  let server: Awaited<ReturnType<typeof serveTestApp>>;
  let token: Record<string, string> = {};

  const call = (method: string, path: string, who: string, body?: unknown) =>
    fetch(`${server.base}${path}`, { method, headers: { authorization: `Bearer ${token[who]}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });

  before(async () => {
    ctx = await openTestRuntime();
    server = await serveTestApp(ctx.rt);
    token = await signedInUsers(
      ctx.rt,
      server.base,
      [
        ['g.archivist', 'archivist', ['Z001'], 'internal'],
        ['g.head', 'archivist', ['Z001'], 'sensitive'],
        ['g.borrower', 'caseworker', ['Z002'], 'internal'],
        ['g.reader', 'caseworker', ['Z001'], 'internal'],
      ],
      PASSWORD,
    );
  });
  after(async () => {
    await server?.close();
    await ctx?.close();
  });

  it('#13.12 a running 借阅 grant stops giving access when the item is raised above the level it was approved at', async () => {
    const id = await buildItemId(ctx.rt);
    const req = await call('POST', '/api/v1/access-requests', 'g.borrower', { itemId: id, reason: '核对工伤待遇申报材料', days: 7 });
    assert.equal(req.status, 201, await req.clone().text());
    const { id: requestId } = (await req.json()) as { id: string };
    assert.equal((await call('POST', `/api/v1/access-requests/${requestId}/decision`, 'g.archivist', { approve: true })).status, 200);
    assert.equal((await call('GET', `/api/v1/items/${id}`, 'g.borrower')).status, 200, 'the grant gives access');
    assert.equal((await call('PUT', `/api/v1/items/${id}/access-level`, 'g.head', { level: 'sensitive' })).status, 200);
    const after = await call('GET', `/api/v1/items/${id}`, 'g.borrower');
    assert.equal(after.status, 403, 'the grant was for the item at 公开, not at 敏感');
    const { requests } = (await (await call('GET', '/api/v1/access-requests', 'g.borrower')).json()) as { requests: Array<{ id: string; status: string }> };
    assert.equal(requests.find((r) => r.id === requestId)?.status, 'ended', 'the request shows as ended');
    // A grant approved at the new level is unaffected by a later lowering.
    assert.equal((await call('PUT', `/api/v1/items/${id}/access-level`, 'g.head', { level: 'public' })).status, 200);
  });

  it('#13.12 when re-indexing after a raise fails, search does not show the item at its old level', async () => {
    const rt = ctx.rt;
    const oid = new Types.ObjectId();
    const key = pageKeys.text(String(oid), 1);
    await rt.storage.blobs.put(key, Buffer.from(JSON.stringify({ text: '失业保险金申领登记表 嘉兴市南湖区', confidence: 90, lines: [] })), { contentType: 'application/json' });
    const id = await buildItemId(rt, { _id: oid, pages: [{ n: 1, source: 0, textKey: key }] } as never);
    await indexItem(rt, id);
    const hits = async () => ((await (await call('GET', `/api/v1/search?q=${encodeURIComponent('南湖区')}`, 'g.reader')).json()) as { hits: Array<{ id: string }> }).hits.map((h) => h.id);
    assert.ok((await hits()).includes(id), 'found at 公开');
    // The object store loses the page text: the reindex after the level change cannot succeed.
    await rt.storage.blobs.shred(key);
    const res = await call('PUT', `/api/v1/items/${id}/access-level`, 'g.head', { level: 'sensitive' });
    assert.equal(res.status, 200);
    assert.ok(!(await hits()).includes(id), 'search still shows the item at its old level');
    const trail = await rt.audit.list({ action: 'search.index', limit: 10 });
    assert.ok(trail.some((e: any) => e.object?.id === id && e.outcome === 'failure'), 'the failure is audited, not swallowed');
  });
});
