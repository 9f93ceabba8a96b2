import assert from 'node:assert/strict';
import { itemModel } from '../../src/models/item.model';
import { buildItemId } from '../helpers/factories';
import { openTestRuntime, serveTestApp, signedInUsers } from '../helpers/runtime';

const PASSWORD = 'Correct-Horse-42';

describe('密级变更: an archivist sets an item\'s access level; readers below it lose access at once', function () {
  this.timeout(60_000);
  let ctx: Awaited<ReturnType<typeof openTestRuntime>>;
  let server: Awaited<ReturnType<typeof serveTestApp>>;
  let base: string;
  let itemId: string;
  let token: Record<string, string> = {};

  before(async () => {
    ctx = await openTestRuntime();
    const rt = ctx.rt;
    server = await serveTestApp(rt);
    base = server.base;
    token = await signedInUsers(rt, base, [['al.archivist', 'archivist', ['Z001'], 'sensitive'], ['al.reader', 'caseworker', ['Z001'], 'internal']], PASSWORD);
    itemId = await buildItemId(rt);
  });
  after(async () => {
    await server?.close();
    await ctx?.close();
  });

  const call = (method: string, path: string, who: string, body?: unknown) =>
    fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${token[who]}`, 'content-type': 'application/json' }, body: body ? JSON.stringify(body) : undefined });

  it('raises the level to 敏感: the internal-clearance reader is refused (clearance); the change is in the history', async () => {
    assert.equal((await call('GET', `/api/v1/items/${itemId}`, 'al.reader')).status, 200);
    assert.equal((await call('PUT', `/api/v1/items/${itemId}/access-level`, 'al.reader', { level: 'sensitive' })).status, 403, 'caseworkers do not classify');
    assert.equal((await call('PUT', `/api/v1/items/${itemId}/access-level`, 'al.archivist', { level: 'top_secret' })).status, 400, 'only configured labels');
    const res = await call('PUT', `/api/v1/items/${itemId}/access-level`, 'al.archivist', { level: 'sensitive' });
    assert.equal(res.status, 200);
    const denied = await call('GET', `/api/v1/items/${itemId}`, 'al.reader');
    assert.equal(denied.status, 403);
    assert.equal(((await denied.json()) as any).error.details.reason, 'clearance');
    const item = await itemModel(ctx.rt.db).findById(itemId).lean();
    assert.deepEqual(item!.history.at(-1)!.changes, { accessLevel: { from: 'public', to: 'sensitive' } });
    assert.equal((await call('PUT', `/api/v1/items/${itemId}/access-level`, 'al.archivist', { level: 'internal' })).status, 200);
    assert.equal((await call('GET', `/api/v1/items/${itemId}`, 'al.reader')).status, 200);
  });

  // #13.1: the level used to live inside `classification`, which confirming or correcting rebuilt
  // without it, so a confirmation silently made a sensitive item public again.
  it('#13.1 no write but the level change itself can lower the level: confirm, correct and refile keep it', async () => {
    const id = await buildItemId(ctx.rt, { status: 'review', classification: { item: '6-02', needsReview: true, candidates: [] } });
    assert.equal((await call('PUT', `/api/v1/items/${id}/access-level`, 'al.archivist', { level: 'sensitive' })).status, 200);
    assert.equal((await call('GET', `/api/v1/items/${id}`, 'al.reader')).status, 403);

    const confirmed = await call('PATCH', `/api/v1/items/${id}`, 'al.archivist', { confirm: true });
    assert.equal(confirmed.status, 200, await confirmed.clone().text());
    assert.equal(((await confirmed.json()) as any).accessLevel, 'sensitive');
    assert.equal((await call('GET', `/api/v1/items/${id}`, 'al.reader')).status, 403, 'confirming keeps the level');

    assert.equal((await call('PATCH', `/api/v1/items/${id}`, 'al.archivist', { metadata: { title: '工伤认定决定书（更正）' } })).status, 200);
    assert.equal((await call('GET', `/api/v1/items/${id}`, 'al.reader')).status, 403, 'correcting keeps the level');

    const q = `/api/v1/search?q=${encodeURIComponent('工伤认定决定书')}`;
    assert.ok(((await (await call('GET', q, 'al.archivist')).json()) as any).hits.some((h: any) => h.id === id), 'indexed: the archivist finds it');
    const search = await call('GET', q, 'al.reader');
    assert.equal(search.status, 200);
    assert.ok(!((await search.json()) as any).hits.some((h: any) => h.id === id), 'search does not show it to the reader');
    const stored = await itemModel(ctx.rt.db).findById(id).lean();
    assert.equal(stored!.accessLevel, 2, 'stored as its own field');
    assert.equal((stored!.classification as any).accessLevel, undefined, 'not inside the classification any more');
  });

  it('#13.1 an item written before the level had its own field keeps its legacy level on its next write', async () => {
    const id = await buildItemId(ctx.rt, { status: 'review', classification: { item: '6-02', accessLevel: 2, needsReview: true, candidates: [] } });
    assert.equal((await call('GET', `/api/v1/items/${id}`, 'al.reader')).status, 403);
    assert.equal((await call('PATCH', `/api/v1/items/${id}`, 'al.archivist', { confirm: true })).status, 200);
    assert.equal((await call('GET', `/api/v1/items/${id}`, 'al.reader')).status, 403);
    assert.equal((await itemModel(ctx.rt.db).findById(id).lean())!.accessLevel, 2);
  });
});
