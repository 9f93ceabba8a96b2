import assert from 'node:assert/strict';
import { accessDecisionModel } from '../../src/models/access-grant.model';
import { openTestRuntime, serveTestApp, signedInUsers } from '../helpers/runtime';
import { buildItem } from '../helpers/factories';

const PASSWORD = 'Correct-Horse-42';

describe('借阅/调阅: time-limited access grants to items outside the reader\'s scope', function () {
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
    token = await signedInUsers(rt, base, [
      ['reader.z002', 'caseworker', ['Z002']],
      ['head.z001', 'agency_head', ['Z001']],
      ['head.z002', 'agency_head', ['Z002']],
      ['archivist.z001', 'archivist', ['Z001']],
    ], PASSWORD);
    const doc = await buildItem(rt);
    itemId = String(doc._id);
  });
  after(async () => {
    await server?.close();
    await ctx?.close();
  });

  const call = (method: string, path: string, who: string, body?: unknown) =>
    fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${token[who]}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });

  it('request → approve by an approver of the item\'s fonds → read → ends by itself when the period is over', async () => {
    assert.equal((await call('GET', `/api/v1/items/${itemId}`, 'reader.z002')).status, 403);
    const bad = await call('POST', '/api/v1/access-requests', 'reader.z002', { itemId, reason: '' });
    assert.equal(bad.status, 400, 'a purpose of use is required');
    const req = await call('POST', '/api/v1/access-requests', 'reader.z002', { itemId, reason: '核对参保人工伤待遇申请', days: 3 });
    assert.equal(req.status, 201);
    const { id } = (await req.json()) as { id: string };
    assert.equal((await call('GET', `/api/v1/items/${itemId}`, 'reader.z002')).status, 403, 'not before approval');
    // What the request is for: the approver, who may read the item, sees its 档号 and 题名 (an item
    // number alone tells them nothing); the reader, who may not read it yet, sees neither.
    const toDecide = (await (await call('GET', '/api/v1/access-requests?status=pending', 'head.z001')).json()) as any;
    const row = toDecide.requests.find((r: any) => r.id === id);
    assert.equal(row.item.title, '工伤认定决定书');
    assert.ok('archivalCode' in row.item);
    const waiting = (await (await call('GET', '/api/v1/access-requests', 'reader.z002')).json()) as any;
    assert.equal(waiting.requests[0].item, null, 'nothing of the item before the grant');

    // An approver outside the item's fonds may not decide; nor may the reader (no role).
    const outside = await call('POST', `/api/v1/access-requests/${id}/decision`, 'head.z002', { approve: true });
    assert.equal(outside.status, 403);
    assert.equal(((await outside.json()) as any).error.details.reason, 'out_of_scope');
    assert.equal((await call('POST', `/api/v1/access-requests/${id}/decision`, 'reader.z002', { approve: true })).status, 403);
    assert.equal((await call('POST', `/api/v1/access-requests/${id}/decision`, 'head.z001', { approve: true, days: 10 })).status, 400, 'never longer than asked');

    const ok = await call('POST', `/api/v1/access-requests/${id}/decision`, 'head.z001', { approve: true, days: 2 });
    assert.equal(ok.status, 200);
    const granted = (await ok.json()) as any;
    assert.equal(granted.status, 'approved');
    assert.ok(Math.abs(new Date(granted.until).getTime() - Date.now() - 2 * 86_400_000) < 60_000);
    assert.equal((await call('POST', `/api/v1/access-requests/${id}/decision`, 'archivist.z001', { approve: false })).status, 409, 'decided once');

    const read = await call('GET', `/api/v1/items/${itemId}`, 'reader.z002');
    assert.equal(read.status, 200);
    // The reader is told they read through a grant, and until when.
    const seen = (await read.json()) as any;
    assert.equal(seen.accessGrant.id, id);
    assert.equal(seen.accessGrant.until, granted.until);
    const own = (await (await call('GET', `/api/v1/items/${itemId}`, 'archivist.z001')).json()) as any;
    assert.equal(own.accessGrant, null, 'an archivist of the fonds reads it in their own right');
    const mine = (await (await call('GET', '/api/v1/access-requests', 'reader.z002')).json()) as any;
    assert.deepEqual(mine.requests.map((r: any) => [r.id, r.status]), [[id, 'approved']]);
    assert.equal(mine.requests[0].item.title, '工伤认定决定书', 'while the grant runs, the reader sees what it is for');

    // Two days pass: the grant's end lies in the past now, and nobody has to do anything.
    await accessDecisionModel(ctx.rt.db).updateOne({ _id: id }, { $set: { until: new Date(Date.now() - 1000) } });
    assert.equal((await call('GET', `/api/v1/items/${itemId}`, 'reader.z002')).status, 403);
    const after = (await (await call('GET', '/api/v1/access-requests', 'reader.z002')).json()) as any;
    assert.equal(after.requests[0].status, 'expired');
    assert.equal(after.requests[0].item, null, 'and no longer once it has ended');

    await ctx.rt.audit.flush();
    const trail = await ctx.rt.audit.list({ limit: 200 });
    const actions = trail.map((e: any) => `${e.action}:${e.outcome}`);
    for (const a of ['access.request:success', 'access.approve:denied', 'access.approve:success', 'item.read:success']) assert.ok(actions.includes(a), a);
  });

  it('nobody approves their own request; an approver can end a running grant early', async () => {
    const req = await call('POST', '/api/v1/access-requests', 'head.z002', { itemId, reason: '复核待遇核定依据' });
    const { id } = (await req.json()) as { id: string };
    // head.z002 cannot approve it anyway (scope); grant head.z002 the fonds to test self-approval alone.
    const rt = ctx.rt;
    const me = await rt.auth.findUser('head.z002');
    await rt.auth.users.updateOne({ _id: me!._id }, { $set: { scope: { fonds: ['Z001', 'Z002'], agencies: '*', districts: '*' } } });
    const self = await call('POST', `/api/v1/access-requests/${id}/decision`, 'head.z002', { approve: true });
    assert.equal(self.status, 403);
    assert.equal(((await self.json()) as any).error.details.reason, 'own_proposal');
    await rt.auth.users.updateOne({ _id: me!._id }, { $set: { scope: { fonds: ['Z002'], agencies: '*', districts: '*' } } });

    assert.equal((await call('POST', `/api/v1/access-requests/${id}/decision`, 'archivist.z001', { approve: true })).status, 200);
    assert.equal((await call('GET', `/api/v1/items/${itemId}`, 'head.z002')).status, 200);
    const pending = (await (await call('GET', '/api/v1/access-requests?status=approved', 'archivist.z001')).json()) as any;
    assert.ok(pending.requests.some((r: any) => r.id === id), 'the approver sees the grants on items they may approve');
    assert.equal((await call('POST', `/api/v1/access-requests/${id}/end`, 'archivist.z001')).status, 200);
    assert.equal((await call('GET', `/api/v1/items/${itemId}`, 'head.z002')).status, 403);
    assert.equal((await call('POST', `/api/v1/access-requests/${id}/end`, 'archivist.z001')).status, 409);
  });

  it('a request for an item one can already read is refused as pointless', async () => {
    const res = await call('POST', '/api/v1/access-requests', 'archivist.z001', { itemId, reason: '查阅本全宗档案' });
    assert.equal(res.status, 409);
    assert.equal(((await res.json()) as any).error.details.reason, 'already_readable');
  });
});
