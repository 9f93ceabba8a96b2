/**
 * The web workplace's read-only routes: item queues paged on the server and limited to the caller's
 * fonds, the retry of a failed item, accounts for the administrators only, names for codes, and
 * the dashboard's figures — with auth, against the real FerretDB.
 */
import assert from 'node:assert/strict';
import { itemModel } from '../../src/models/item.model';
import { buildItemId, type ItemOverrides } from '../helpers/factories';
import { openTestRuntime, serveTestApp, signedInUsers } from '../helpers/runtime';

const PASSWORD = 'Correct-Horse-42';
/** Subdocument arrays (history, flags, pages) as plain objects: the model casts them. */
const loose = (o: Record<string, unknown>): ItemOverrides => o as ItemOverrides;

describe('workplace routes: queues, retry, accounts, vocabulary, stats', function () {
  this.timeout(60_000);
  let ctx: Awaited<ReturnType<typeof openTestRuntime>>;
  let server: Awaited<ReturnType<typeof serveTestApp>>;
  let tokens: Record<string, string>;
  let failedId: string;
  const ids: Record<string, string> = {};

  before(async () => {
    ctx = await openTestRuntime();
    const rt = ctx.rt;
    server = await serveTestApp(rt);
    tokens = await signedInUsers(rt, server.base, [['wp.archivist', 'archivist'], ['wp.z002', 'archivist', ['Z002']], ['wp.sysadmin', 'sysadmin'], ['wp.auditor', 'auditor'], ['wp.caseworker', 'caseworker']], PASSWORD);
    const history = [{ at: new Date(), actor: 'system', kind: 'proposed', changes: {} }];
    ids.review = await buildItemId(rt, loose({ status: 'review', history, classification: { category: '6', retention: 'D50', needsReview: true, dueOn: null } }));
    ids.flagged = await buildItemId(rt, loose({ status: 'filed', history, pageCount: 2, ocrAt: new Date(), flags: [{ code: 'low_dpi', page: 1, message: 'low', messageZh: '低' }], pages: [{ n: 1, source: 0, dpi: 150, confidence: 88 }, { n: 2, source: 0, dpi: 300, confidence: 92 }] }));
    ids.reviewed = await buildItemId(rt, loose({ status: 'filed', flags: [{ code: 'low_dpi', page: 1, message: 'low', messageZh: '低' }], history: [...history, { at: new Date(), actor: 'a', kind: 'confirmation', changes: {} }] }));
    ids.clean = await buildItemId(rt, loose({ status: 'filed', history, classification: { category: '6', retention: 'D50', dueOn: null } }));
    ids.other = await buildItemId(rt, loose({ status: 'review', fonds: 'Z002', history }));
    failedId = await buildItemId(rt, loose({ status: 'failed', failure: { code: 'ocr_failed', message: 'OCR failed', messageZh: '识别失败' } }));
    const soon = new Date(Date.now() + 40 * 86_400_000).toISOString().slice(0, 10);
    ids.due = await buildItemId(rt, loose({ status: 'filed', history, classification: { category: '3', retention: 'D10', dueOn: soon } }));
  });
  after(async () => {
    await server?.close();
    await ctx?.close();
  });

  const call = async (who: string, path: string, init: RequestInit = {}) => {
    const res = await fetch(`${server.base}${path}`, { ...init, headers: { authorization: `Bearer ${tokens[who]}`, ...(init.body ? { 'content-type': 'application/json' } : {}) } });
    return { status: res.status, body: (await res.json().catch(() => null)) as any };
  };

  it('the review queue holds items awaiting review and flagged items nobody has looked at, paged on the server and within the fonds scope', async () => {
    const all = await call('wp.archivist', '/api/v1/items?queue=review&limit=50');
    assert.equal(all.status, 200);
    const got = new Set(all.body.items.map((i: any) => i.id));
    assert.ok(got.has(ids.review) && got.has(ids.flagged) && got.has(ids.other));
    assert.ok(!got.has(ids.reviewed), 'a confirmed flagged item has left the queue');
    assert.ok(!got.has(ids.clean), 'an unflagged filed item is not in the queue');
    assert.equal(all.body.total, 3);
    const page = await call('wp.archivist', '/api/v1/items?queue=review&limit=2&offset=2');
    assert.equal(page.body.items.length, 1);
    assert.equal(page.body.total, 3);
    const scoped = await call('wp.z002', '/api/v1/items?queue=review');
    assert.deepEqual(scoped.body.items.map((i: any) => i.id), [ids.other], 'another fonds sees only its own');
    const flagged = all.body.items.find((i: any) => i.id === ids.flagged);
    assert.deepEqual(flagged.pages, { blank: 0, dpi: [150, 300], confidence: 90 });
  });

  it('a failed item is retried: queued again, failure cleared; anything else is a conflict', async () => {
    const res = await call('wp.archivist', `/api/v1/items/${failedId}/retry`, { method: 'POST', body: '{}' });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const item = await itemModel(ctx.rt.db).findById(failedId).lean();
    assert.equal(item!.status, 'received');
    assert.equal(item!.jobId, res.body.jobId);
    assert.equal(item!.failure?.code ?? null, null);
    assert.equal((await ctx.rt.queue.get(res.body.jobId))!.state, 'queued');
    const again = await call('wp.archivist', `/api/v1/items/${failedId}/retry`, { method: 'POST', body: '{}' });
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'conflict');
    assert.equal((await call('wp.auditor', `/api/v1/items/${ids.clean}/retry`, { method: 'POST', body: '{}' })).status, 403);
  });

  it('accounts are listed for administrators only, never with secrets', async () => {
    const res = await call('wp.sysadmin', '/api/v1/users?limit=3');
    assert.equal(res.status, 200);
    assert.equal(res.body.total, 6, 'the five accounts and the spec\'s own');
    assert.equal(res.body.users.length, 3);
    assert.ok(res.body.users.every((u: any) => !('passwordHash' in u) && !('totpSecret' in u)));
    assert.equal((await call('wp.archivist', '/api/v1/users')).status, 403);
    assert.equal((await call('wp.sysadmin', '/api/v1/users?q=auditor')).body.users[0].username, 'wp.auditor');
  });

  it('names codes in both languages, and the dashboard counts holdings, quality and what falls due', async () => {
    const v = await call('wp.caseworker', '/api/v1/vocabulary');
    assert.deepEqual(v.body.categories['6'], ['工伤保险待遇类', 'Work-injury benefits']);
    assert.equal(v.body.insurance.GS[0], '工伤保险');
    const s = await call('wp.caseworker', '/api/v1/stats');
    assert.equal(s.status, 200);
    const cat6 = s.body.holdings.byCategory.find((g: any) => g.key === '6');
    assert.equal(cat6.items, 2);
    assert.equal(s.body.holdings.byFonds.find((g: any) => g.key === 'Z001').pages, 2);
    assert.equal(s.body.due.length, 12);
    assert.equal(s.body.due.reduce((a: number, d: any) => a + d.items, 0), 1);
    assert.ok(s.body.ocr.flags.some((f: any) => f.code === 'low_dpi'));
    assert.equal((await call('wp.auditor', '/api/v1/stats')).status, 403, 'no archive figures for the auditor');
  });

  it('an item list leaves out the items above the reader\'s clearance (they still count in the total)', async () => {
    const history = [{ at: new Date(), actor: 'system', kind: 'proposed', changes: {} }];
    const sensitive = await buildItemId(ctx.rt, loose({ status: 'review', fonds: 'Z009', history, accessLevel: 2 }));
    const open = await buildItemId(ctx.rt, loose({ status: 'review', fonds: 'Z009', history }));
    Object.assign(tokens, await signedInUsers(ctx.rt, server.base, [['wp.public', 'archivist', ['Z009'], 'public']], PASSWORD));
    const low = await call('wp.public', '/api/v1/items?status=review&fonds=Z009');
    assert.equal(low.status, 200);
    assert.deepEqual([low.body.total, low.body.items.map((i: any) => i.id)], [2, [open]]);
    const cleared = await call('wp.archivist', '/api/v1/items?status=review&fonds=Z009');
    assert.deepEqual(cleared.body.items.map((i: any) => i.id), [sensitive, open].reverse(), 'newest first');
  });
});
