import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../src/api/app';
import { featureRoutes } from '../../src/api/routes';
import { idCheckDigit } from '../../src/domain/id-number';
import { openTestRuntime } from '../helpers/runtime';
import { buildItemId } from '../helpers/factories';

const PASSWORD = 'Correct-Horse-42';
const ID17 = '11010519750505456';
const ID = ID17 + idCheckDigit(ID17);
const person = (name: string) => ({ metadata: { persons: [{ name, idNumber: ID, evidence: [] }], units: [] }, personIds: [ID] });

describe('review: the name a person\'s file (一人一档) gives, beside the name OCR read', function () {
  this.timeout(60_000);
  let ctx: Awaited<ReturnType<typeof openTestRuntime>>;
  let server: http.Server;
  let base: string;
  const token: Record<string, string> = {};
  let inReview = '';
  let filed = '';

  before(async () => {
    ctx = await openTestRuntime();
    const rt = ctx.rt;
    const app = createApp({ config: rt.config, logger: rt.logger, metrics: rt.metrics, readiness: rt.readiness, routes: featureRoutes(rt), auth: { auth: rt.auth, audit: rt.audit } });
    server = http.createServer(app.callback());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    for (const [username, fonds] of [['arch.z001', 'Z001'], ['arch.z002', 'Z002']] as const) {
      await rt.auth.createUser({ username, roles: ['archivist'], password: PASSWORD, clearance: 'sensitive', scope: { fonds: [fonds, 'Z009'] } });
      const res = await fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password: PASSWORD }) });
      token[username] = ((await res.json()) as any).token;
    }
    // The person's registration, filed in Z001, and a later scan of theirs whose name OCR misread.
    filed = await buildItemId(rt, { ...person('窦静'), title: '参保人员基本信息登记表', documentDate: '2012-04-24' });
    inReview = await buildItemId(rt, { ...person('窒静'), status: 'review', fonds: 'Z009', title: '参保人员基本信息登记表', documentDate: '2022-05-19' });
  });
  after(async () => {
    server?.close();
    await ctx?.close();
  });

  const item = async (id: string, who: string) => (await (await fetch(`${base}/api/v1/items/${id}`, { headers: { authorization: `Bearer ${token[who]}` } })).json()) as any;

  it('an item in review carries how the person\'s other items name them', async () => {
    const body = await item(inReview, 'arch.z001');
    assert.equal(body.metadata.persons[0].name, '窒静');
    assert.deepEqual(body.namesOnFile, [{ idNumber: ID, name: '窦静' }]);
  });

  it('only from items the reviewer may read, and only in review', async () => {
    assert.deepEqual((await item(inReview, 'arch.z002')).namesOnFile, [], 'the registration is in a fonds outside their scope');
    assert.deepEqual((await item(filed, 'arch.z001')).namesOnFile, [], 'a filed item is not being reviewed');
  });
});
