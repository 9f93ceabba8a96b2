import assert from 'node:assert/strict';
import { idCheckDigit } from '../../src/domain/id-number';
import { itemModel, type ItemDoc } from '../../src/models/item.model';
import { linkItem } from '../../src/services/records';
import { openTestRuntime, serveTestApp, signedInUsers } from '../helpers/runtime';

const PASSWORD = 'Correct-Horse-42';
const ID = '11010519870315231' + idCheckDigit('11010519870315231');
const MASKED = `${ID.slice(0, 6)}********${ID.slice(-4)}`;

describe('ID numbers are masked for roles without personal.full, and full views are recorded', function () {
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
    token = await signedInUsers(rt, base, [['pd.auditor', 'auditor', ['Z001']], ['pd.compliance', 'compliance_officer', ['Z001']], ['pd.caseworker', 'caseworker', ['Z001']]], PASSWORD);
    const doc = await itemModel(rt.db).create({
      fonds: 'Z001',
      source: 's',
      channel: 'api',
      status: 'filed',
      contentHash: 'mask-test',
      originals: [],
      documentDate: '2019-05-20',
      title: '工伤认定决定书',
      metadata: { persons: [{ name: '张伟', idNumber: ID, role: 'insured' }], units: [] },
      personIds: [ID],
    });
    itemId = String(doc._id);
    await linkItem(ctx.rt, (await itemModel(ctx.rt.db).findById(doc._id).lean<ItemDoc>())!); // what filing does: into the person's file
  });
  after(async () => {
    await server?.close();
    await ctx?.close();
  });

  const get = (path: string, who: string) => fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token[who]}` } });

  it('a compliance officer sees the item with the ID number masked; a caseworker sees it in full, and that is audited', async () => {
    const masked = await (await get(`/api/v1/items/${itemId}`, 'pd.compliance')).text();
    assert.ok(!masked.includes(ID), 'no full ID number for the compliance officer');
    assert.ok(masked.includes(MASKED), masked.slice(0, 400));
    const full = await (await get(`/api/v1/items/${itemId}`, 'pd.caseworker')).text();
    assert.ok(full.includes(ID));
    await ctx.rt.audit.flush();
    const trail = await ctx.rt.audit.list({ limit: 100 });
    const views = trail.filter((e: any) => e.action === 'personal.view');
    assert.equal(views.length, 1, 'one record of the full view');
    assert.equal(views[0]!.actor, 'pd.caseworker');
    assert.ok(!JSON.stringify(views).includes(ID), 'the record does not copy the number');
  });

  it('the person file lists the item with the number masked for the compliance officer', async () => {
    const res = await get(`/api/v1/persons/${ID}/items`, 'pd.compliance');
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.ok(!text.includes(ID));
    assert.equal((await get(`/api/v1/persons/${ID}/items`, 'pd.caseworker')).status, 200);
    await ctx.rt.audit.flush();
    const trail = JSON.stringify(await ctx.rt.audit.list({ limit: 500 }));
    assert.ok(trail.includes(`/api/v1/persons/${MASKED}/items`), 'the call is recorded…');
    assert.ok(!trail.includes(ID), '…without the ID number in its path');
  });

  it('a search is recorded with its query (ID numbers masked) and its hit count', async () => {
    const res = await get(`/api/v1/search?q=${encodeURIComponent(`张伟 ${ID}`)}`, 'pd.caseworker');
    assert.equal(res.status, 200);
    const { total } = (await res.json()) as { total: number };
    await ctx.rt.audit.flush();
    const entry = (await ctx.rt.audit.list({ action: 'search', limit: 10 }))[0] as any;
    assert.ok(entry, 'search recorded');
    assert.equal(entry.actor, 'pd.caseworker');
    assert.equal(entry.details.q, `张伟 ${MASKED}`);
    assert.equal(entry.details.total, total);
  });

  it('the trail filters by the object acted on (auditor roles only)', async () => {
    await ctx.rt.audit.flush();
    const viaService = await ctx.rt.audit.list({ objectId: itemId, limit: 50 });
    assert.ok(viaService.length >= 1);
    assert.ok(viaService.every((e: any) => e.object?.id === itemId));
    const res = await get(`/api/v1/audit?objectId=${itemId}`, 'pd.auditor');
    assert.equal(res.status, 200);
    const { entries } = (await res.json()) as { entries: Array<{ object: { id: string } | null }> };
    assert.deepEqual(new Set(entries.map((e) => e.object?.id)), new Set([itemId]));
    assert.equal((await get(`/api/v1/audit?objectId=${itemId}`, 'pd.caseworker')).status, 403);
  });
});
