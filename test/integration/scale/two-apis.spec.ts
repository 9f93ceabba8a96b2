/**
 * Two API processes behind a load balancer share one archive (issue #16 §5: "API stateless behind
 * a load balancer: sessions, rate limits, caches and index updates shared or invalidated across
 * processes"). Each API here is its own Runtime — its own database connection, keystore handle,
 * search engine, caches — over the same FerretDB database, MinIO bucket and keystore, as two
 * `archive serve --role api` processes would be. A request may land on either, so everything a
 * person does on one must hold on the other at once.
 */
import assert from 'node:assert/strict';
import { parseConfig } from '../../../src/config';
import { createMetrics } from '../../../src/metrics';
import { createRuntime, type Runtime } from '../../../src/runtime';
import { indexItem } from '../../../src/services/search';
import { buildItemWithText } from '../../helpers/factories';
import { testLogger } from '../../helpers/logger';
import { openTestRuntime, serveTestApp, signIn, type TestApp } from '../../helpers/runtime';

const PASSWORD = 'Two-Apis-Passw0rd!';

describe('two API processes share one archive (load-balanced)', function () {
  this.timeout(120_000);
  let ctx: Awaited<ReturnType<typeof openTestRuntime>>;
  let rtB: Runtime;
  let a: TestApp;
  let b: TestApp;

  before(async () => {
    ctx = await openTestRuntime();
    // The second process: same configuration (database, bucket, keystore), nothing shared in memory.
    rtB = await createRuntime(parseConfig(ctx.env), { logger: testLogger, metrics: createMetrics({ defaultMetrics: false }) });
    a = await serveTestApp(ctx.rt);
    b = await serveTestApp(rtB);
    await ctx.rt.auth.createUser({ username: 'lb.reader', roles: ['caseworker'], password: PASSWORD, clearance: 'internal', scope: { fonds: '*' } });
    await ctx.rt.auth.createUser({ username: 'lb.locked', roles: ['caseworker'], password: PASSWORD, clearance: 'internal', scope: { fonds: '*' } });
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await rtB?.close();
    await ctx?.close();
  });

  const login = (base: string, username: string, password: string) =>
    fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
  const me = (base: string, token: string) => fetch(`${base}/api/v1/auth/me`, { headers: { authorization: `Bearer ${token}` } });

  it('a session opened on one API works on the other, and signing out on one ends it on both', async () => {
    const token = await signIn(a.base, 'lb.reader', PASSWORD);
    assert.equal((await me(b.base, token)).status, 200, 'the session is in the database, not in the process that opened it');
    const out = await fetch(`${b.base}/api/v1/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    assert.ok(out.status < 300, `logout answered ${out.status}`);
    assert.equal((await me(a.base, token)).status, 401, 'signed out on B, refused on A');
  });

  it('the sign-in lockout counts attempts on both APIs together: 5 checks, not 5 per process', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await login(i % 2 ? b.base : a.base, 'lb.locked', `wrong-${i}`)).status);
    assert.equal(statuses.filter((s) => s === 401).length, 5, `statuses: ${statuses.join(',')}`);
    assert.deepEqual(statuses.slice(5), [429, 429, 429]);
    assert.equal((await login(a.base, 'lb.locked', PASSWORD)).status, 429, 'locked on A');
    assert.equal((await login(b.base, 'lb.locked', PASSWORD)).status, 429, 'locked on B');
  });

  it('an item indexed by one process is found through the other; a level raised on one hides it on the other at once', async () => {
    const id = await buildItemWithText(ctx.rt, [['申请人欧阳晓岚申请领取失业保险金，经审核符合条件。']], { fonds: 'Z001', title: '失业保险金申领表' });
    await indexItem(ctx.rt, id);
    const reader = await signIn(b.base, 'lb.reader', PASSWORD);
    const search = async (base: string) => {
      const res = await fetch(`${base}/api/v1/search?q=${encodeURIComponent('欧阳晓岚')}`, { headers: { authorization: `Bearer ${reader}` } });
      assert.equal(res.status, 200);
      return ((await res.json()) as { hits: Array<{ id: string }> }).hits.map((h) => h.id);
    };
    assert.deepEqual(await search(b.base), [id], 'B follows the index log A wrote');
    assert.equal((await fetch(`${b.base}/api/v1/items/${id}`, { headers: { authorization: `Bearer ${reader}` } })).status, 200);

    // The archivist raises the level through A; the very next requests on B must not show it.
    const raised = await a.fetch(`${a.base}/api/v1/items/${id}/access-level`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ level: 'sensitive' }) });
    assert.equal(raised.status, 200, await raised.text());
    assert.deepEqual(await search(b.base), [], 'B must not answer from a stale index or cache');
    assert.equal((await fetch(`${b.base}/api/v1/items/${id}`, { headers: { authorization: `Bearer ${reader}` } })).status, 403);
    assert.deepEqual(await search(a.base), []);
  });
});
