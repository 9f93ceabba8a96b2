/**
 * The disposition routes over HTTP with auth: in the OpenAPI with their permissions; an auditor reads
 * everything and changes nothing; the compliance officer opens a round; a member's sign-off needs
 * a fresh TOTP code; holds are released by another person.
 */
import assert from 'node:assert/strict';
import { openTestRuntime, serveTestApp, signedInUsers } from '../helpers/runtime';
import { makeDueItem } from '../helpers/disposition';

const PASSWORD = 'Zebra-Staple-93';

describe('API: appraisal, destruction lists and holds', function () {
  this.timeout(120_000);
  let ctx: Awaited<ReturnType<typeof openTestRuntime>>;
  let server: Awaited<ReturnType<typeof serveTestApp>>;
  let token: Record<string, string> = {};

  before(async () => {
    ctx = await openTestRuntime();
    server = await serveTestApp(ctx.rt);
    token = await signedInUsers(ctx.rt, server.base, [['co', 'compliance_officer'], ['m1', 'appraisal_member'], ['m2', 'appraisal_member'], ['aud', 'auditor'], ['head', 'agency_head'], ['clerk', 'caseworker']], PASSWORD);
  });
  after(async () => {
    await server?.close();
    await ctx?.close();
  });

  const call = (method: string, path: string, who: string, body?: unknown) =>
    fetch(`${server.base}${path}`, { method, headers: { authorization: `Bearer ${token[who]}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });

  it('routes are in the OpenAPI with their permissions', async () => {
    const doc = (await (await fetch(`${server.base}/api/v1/openapi.json`)).json()) as any;
    assert.equal(doc.paths['/api/v1/appraisal/due'].get['x-permission'], 'disposition.read');
    assert.equal(doc.paths['/api/v1/disposal/lists/{id}/approval'].post['x-permission'], 'destruction.approve');
    assert.equal(doc.paths['/api/v1/disposal/lists/{id}/execution'].post['x-permission'], 'destruction.execute');
    assert.equal(doc.paths['/api/v1/holds/{id}/release'].post['x-permission'], 'hold.manage');
  });

  it('auditor reads, changes nothing; a caseworker sees nothing; the officer opens a round; sign-off needs TOTP; holds released by another', async () => {
    const id = await makeDueItem(ctx.rt, { fonds: 'Z888', index: false });
    const due = await call('GET', '/api/v1/appraisal/due?fonds=Z888', 'aud');
    assert.equal(due.status, 200);
    assert.deepEqual(((await due.json()) as any).items.map((i: any) => i.id), [id]);
    assert.equal((await call('GET', '/api/v1/appraisal/due', 'clerk')).status, 403);
    const round = { title: '接口鉴定', members: [{ username: 'm1', capacity: 'archivist' }, { username: 'm2', capacity: 'business_staff' }], itemIds: [id] };
    assert.equal((await call('POST', '/api/v1/appraisal/rounds', 'aud', round)).status, 403);
    const opened = await call('POST', '/api/v1/appraisal/rounds', 'co', round);
    assert.equal(opened.status, 201);
    const r = (await opened.json()) as any;
    const covered = await call('GET', `/api/v1/appraisal/rounds/${r.id}/items`, 'm1');
    assert.equal(covered.status, 200);
    const row = ((await covered.json()) as any).items;
    assert.equal(row.length, 1);
    assert.equal(row[0].id, id);
    assert.match(row[0].dueOn ?? '', /^\d{4}-\d{2}-\d{2}$/, 'the due date members appraise against');
    assert.equal((await call('GET', `/api/v1/appraisal/rounds/${r.id}/items`, 'clerk')).status, 403);
    for (const m of ['m1', 'm2']) assert.equal((await call('POST', `/api/v1/appraisal/rounds/${r.id}/opinions`, m, { opinions: [{ itemId: id, opinion: 'destroy', reason: '期满无价值' }] })).status, 200);
    assert.equal((await call('POST', `/api/v1/appraisal/rounds/${r.id}/close`, 'co')).status, 200);
    const report = await call('GET', `/api/v1/appraisal/rounds/${r.id}/report`, 'aud');
    assert.equal(report.headers.get('content-type'), 'application/pdf');
    const list = (await (await call('POST', '/api/v1/disposal/lists', 'co', { roundId: r.id })).json()) as any;
    assert.equal(list.stage, 'awaiting_signoffs');
    const noFactor = await call('POST', `/api/v1/disposal/lists/${list.id}/signoffs`, 'm1', { totp: '123456' });
    assert.equal(noFactor.status, 401);
    assert.equal(((await noFactor.json()) as any).error.code, 'second_factor_required');
    const hold = (await (await call('POST', '/api/v1/holds', 'co', { name: '稽核', kind: 'audit', reason: '年度稽核进行中', target: { type: 'items', itemIds: [id] } })).json()) as any;
    assert.equal(hold.covers, 1, 'placing a hold says how many items it covers');
    const listed = (await (await call('GET', '/api/v1/holds', 'aud')).json()) as any;
    assert.equal(listed.holds.find((h: any) => h.id === hold.id).covers, 1, 'and so does the list, for an active hold');
    // The item itself says it is held, and by which hold.
    const held = (await (await call('GET', `/api/v1/items/${id}`, 'co')).json()) as any;
    assert.deepEqual(held.legalHolds.map((h: any) => [h.id, h.name, h.kind]), [[hold.id, '稽核', 'audit']]);
    assert.equal((await call('POST', `/api/v1/holds/${hold.id}/release`, 'co', { reason: '稽核结束了' })).status, 403);
    assert.equal((await call('POST', `/api/v1/holds/${hold.id}/release`, 'aud', { reason: '稽核结束了' })).status, 403);
    assert.equal((await call('POST', `/api/v1/holds/${hold.id}/release`, 'head', { reason: '稽核结束了' })).status, 200);
    assert.deepEqual(((await (await call('GET', `/api/v1/items/${id}`, 'co')).json()) as any).legalHolds, [], 'released: no longer held');
    assert.equal((await call('GET', `/api/v1/disposal/lists/${list.id}`, 'aud')).status, 200);
  });
});
