import assert from 'node:assert/strict';
import { itemModel } from '../../src/models/item.model';
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
    server = await serveTestApp(rt, { auth: true });
    base = server.base;
    token = await signedInUsers(rt, base, [['al.archivist', 'archivist', ['Z001'], 'sensitive'], ['al.reader', 'caseworker', ['Z001'], 'internal']], PASSWORD);
    const doc = await itemModel(rt.db).create({ fonds: 'Z001', source: 's', channel: 'api', status: 'filed', contentHash: 'level-test', originals: [], documentDate: '2019-05-20', title: '工伤认定决定书' });
    itemId = String(doc._id);
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
});
