import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../src/api/app';
import { featureRoutes } from '../../src/api/routes';
import { itemModel } from '../../src/models/item.model';
import { openTestRuntime } from '../helpers/runtime';

const PASSWORD = 'Correct-Horse-42';

describe('密级变更: an archivist sets an item\'s access level; readers below it lose access at once', function () {
  this.timeout(60_000);
  let ctx: Awaited<ReturnType<typeof openTestRuntime>>;
  let server: http.Server;
  let base: string;
  let itemId: string;
  const token: Record<string, string> = {};

  before(async () => {
    ctx = await openTestRuntime();
    const rt = ctx.rt;
    const app = createApp({ config: rt.config, logger: rt.logger, metrics: rt.metrics, readiness: rt.readiness, routes: featureRoutes(rt), auth: { auth: rt.auth, audit: rt.audit } });
    server = http.createServer(app.callback());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    for (const [username, role, clearance] of [['al.archivist', 'archivist', 'sensitive'], ['al.reader', 'caseworker', 'internal']] as const) {
      await rt.auth.createUser({ username, roles: [role], password: PASSWORD, clearance, scope: { fonds: ['Z001'] } });
      const res = await fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password: PASSWORD }) });
      token[username] = ((await res.json()) as any).token;
    }
    const doc = await itemModel(rt.db).create({ fonds: 'Z001', source: 's', channel: 'api', status: 'filed', contentHash: 'level-test', originals: [], documentDate: '2019-05-20', title: '工伤认定决定书' });
    itemId = String(doc._id);
  });
  after(async () => {
    server?.close();
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
