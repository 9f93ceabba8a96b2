import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../src/api/app';
import { featureRoutes } from '../../src/api/routes';
import { idCheckDigit } from '../../src/domain/id-number';
import { openTestRuntime } from '../helpers/runtime';
import { buildItem } from '../helpers/factories';

const PASSWORD = 'Correct-Horse-42';
const ID = '11010519870315231' + idCheckDigit('11010519870315231');

describe('item reads honour the caller\'s scope (fonds), not only the route permission', function () {
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
    for (const [username, fonds] of [['cw.z001', ['Z001']], ['cw.z002', ['Z002']]] as const) {
      await rt.auth.createUser({ username, roles: ['caseworker'], password: PASSWORD, clearance: 'sensitive', scope: { fonds: [...fonds] } });
      const res = await fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password: PASSWORD }) });
      token[username] = ((await res.json()) as any).token;
    }
    const doc = await buildItem(rt, { personIds: [ID], title: '工伤认定决定书' });
    itemId = String(doc._id);
  });
  after(async () => {
    server?.close();
    await ctx?.close();
  });

  const get = (path: string, who: string) => fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token[who]}` } });

  it('a caseworker of the item\'s fonds reads it; one of another fonds gets 403', async () => {
    assert.equal((await get(`/api/v1/items/${itemId}`, 'cw.z001')).status, 200);
    const denied = await get(`/api/v1/items/${itemId}`, 'cw.z002');
    assert.equal(denied.status, 403);
    assert.equal(((await denied.json()) as any).error.details.reason, 'out_of_scope');
  });

  it('a person\'s file lists only the items in the caller\'s scope', async () => {
    const mine = (await (await get(`/api/v1/persons/${ID}/items`, 'cw.z001')).json()) as any;
    const theirs = (await (await get(`/api/v1/persons/${ID}/items`, 'cw.z002')).json()) as any;
    assert.equal(mine.total, 1);
    assert.equal(theirs.total, 0);
    assert.equal(theirs.name, null, 'no name from items outside the scope');
  });
});
