/**
 * Index snapshots (issue #16 §1, services/search/snapshot.ts): a process that loads the newest
 * snapshot and replays the log after it answers exactly like one that loads everything from the
 * database; a killed or racing writer never leaves a pointer to something unreadable; a snapshot
 * older than the latest rebuild is ignored. Real FerretDB and MinIO (the runtime's blob store).
 */
import assert from 'node:assert/strict';
import type { Runtime } from '../../../src/runtime';
import { SearchEngine } from '../../../src/services/search/engine';
import { snapshotBlobs, useSearchEngine } from '../../../src/services/search';
import { indexKey } from '../../../src/services/platform';
import { segmentKey, SNAPSHOT_PREFIX } from '../../../src/services/search/snapshot';
import type { IndexDocument } from '../../../src/services/search/types';
import { generateItem, rng } from '../../helpers/si-corpus';
import { openTestRuntime, serveTestApp } from '../../helpers/runtime';

describe('search index snapshots: snapshot + log tail = the database (real FerretDB + MinIO)', function () {
  this.timeout(120_000);
  let rt: Runtime;
  let close: () => Promise<void>;
  let key: Buffer;
  const r = rng(21);
  const docs = Array.from({ length: 12 }, (_, i) => generateItem(r, i, { fonds: ['Z101', 'Z102'], noise: 0 }).doc);
  const text = async () => Promise.reject(new Error('no snippets here'));
  /** a fresh process's engine: with the blob store (snapshots) or without (the database only) */
  const engine = (snapshots = true) => new SearchEngine({ db: rt.db, key, text, ...(snapshots ? { snapshots: snapshotBlobs(rt) } : {}) });
  const queries = () => ['养老保险', docs[3]!.persons[0]!.name!, docs[7]!.persons[0]!.idNumber!, '"失业保险金"', '工伤'];
  /** everything a caller can observe: ids, counts per scope, hits per query, the indexed 档号 */
  async function observe(e: SearchEngine) {
    const ids: string[] = [];
    for await (const id of e.ids()) ids.push(id);
    const hits: Record<string, string[]> = {};
    for (const q of queries()) hits[q] = (await e.search({ q, limit: 50, snippets: false, facets: false })).hits.map((h) => `${h.id}:${h.score}`);
    const codes = await Promise.all(docs.map(async (d) => (await e.indexed(d.id))?.archivalCode ?? null));
    return { ids: ids.sort(), all: await e.count(), z101: await e.count({ fonds: ['Z101'] }), hits, codes, liveDocs: e.liveDocs };
  }

  before(async () => {
    ({ rt, close } = await openTestRuntime());
    key = await indexKey(rt);
  });
  after(() => close?.());

  it('a fresh engine loads the snapshot and the log after it, and answers as one loaded from the database', async () => {
    const writer = engine(false);
    await writer.indexDocuments(docs.slice(0, 4));
    await writer.indexDocuments(docs.slice(4, 8));
    await writer.indexDocuments([{ ...docs[0]!, archivalCode: 'Z101-WS2020-Y-0001' }]);
    await writer.remove([docs[1]!.id]);

    const first = engine();
    await first.open();
    assert.equal(first.loadStats?.source, 'database', 'no snapshot yet');
    const w = await first.writeSnapshot();
    assert.ok(w, 'a snapshot was written');
    assert.equal(w.uploaded, 3, 'one mirror per segment holding a current item');
    assert.equal((await first.store.snapshotPointer())?.seq, w.seq);

    // Writes after the snapshot: new items, a correction and a removal of items it holds.
    await writer.indexDocuments(docs.slice(8, 12));
    const corrected: IndexDocument = { ...docs[5]!, archivalCode: 'Z101-WS2020-Y-0099' };
    await writer.indexDocuments([corrected]);
    await writer.remove([docs[6]!.id]);

    const fresh = engine();
    await fresh.open();
    assert.equal(fresh.loadStats?.source, 'snapshot');
    assert.equal(fresh.loadStats?.snapshotSeq, w.seq);
    assert.equal(fresh.loadStats?.tail, 3, 'the three entries after the snapshot were replayed');
    const fromDb = engine(false);
    await fromDb.open();
    assert.equal(fromDb.loadStats?.source, 'database');
    const a = await observe(fresh);
    assert.deepEqual(a, await observe(fromDb));
    assert.ok(!a.ids.includes(docs[1]!.id) && !a.ids.includes(docs[6]!.id), 'removed items stay removed');
    assert.equal(a.codes[0], 'Z101-WS2020-Y-0001', 'a correction before the snapshot holds');
    assert.equal(a.codes[5], 'Z101-WS2020-Y-0099', 'a correction after the snapshot holds');
    assert.equal(a.ids.length, 10);
    assert.ok(a.hits['养老保险']!.length > 0 && a.hits[docs[3]!.persons[0]!.name!]!.length > 0, 'the queries find something to compare');
    // And the running engines that wrote or loaded earlier agree too.
    assert.deepEqual(await observe(first), a);
  });

  it('a newer snapshot replaces the old one and removes the mirrors nothing current is in', async () => {
    const writer = engine(false);
    const e = engine();
    await e.open();
    const before = await e.store.snapshotPointer();
    // Every item of the first batch segment (docs 0–3) is superseded or removed: that segment dies.
    await writer.indexDocuments(docs.slice(0, 4).map((d) => ({ ...d, archivalCode: `${d.archivalCode ?? 'X'}-2` })));
    const w = await e.writeSnapshot();
    assert.ok(w && before && w.seq > before.seq);
    const blobs = snapshotBlobs(rt);
    await assert.rejects(blobs.get(before.key), 'the replaced manifest is gone');
    const fresh = engine();
    await fresh.open();
    assert.equal(fresh.loadStats?.source, 'snapshot');
    assert.equal(fresh.loadStats?.tail, 0);
    assert.deepEqual(await observe(fresh), await observe(e));
    // A stale writer (an engine that has not seen the newest entries) cannot move the pointer back.
    assert.equal(await e.store.moveSnapshotPointer(before, { seq: before.seq + 1, key: 'search/snapshots/stale' }), false);
    assert.equal((await e.store.snapshotPointer())?.key, w.key);
  });

  it('survives a writer killed before the pointer moved, and a pointer to an unreadable manifest', async () => {
    const blobs = snapshotBlobs(rt);
    const good = await engine(false).store.snapshotPointer();
    assert.ok(good);
    // Killed between uploading and moving the pointer: an orphan manifest nobody points at.
    await blobs.put(`${SNAPSHOT_PREFIX}${good.seq + 5}-orphan`, Buffer.from('half-written'));
    const a = engine();
    await a.open();
    assert.equal(a.loadStats?.source, 'snapshot', 'the orphan is never read');
    const expected = await observe(a);
    // A pointer to a manifest that cannot be read (deleted, damaged): the engine loads from the database.
    await rt.db.collection('search_meta').updateOne({ _id: 'snapshot' as never }, { $set: { key: `${SNAPSHOT_PREFIX}missing` } });
    const warnings: string[] = [];
    const b = new SearchEngine({ db: rt.db, key, text, snapshots: blobs, warn: (msg) => warnings.push(msg) });
    await b.open();
    assert.equal(b.loadStats?.source, 'database');
    assert.equal(warnings.length, 1);
    assert.deepEqual(await observe(b), expected);
    // It then writes a good one over the broken pointer (same log position: allowed only because
    // it could not read the one there).
    assert.ok(await b.writeSnapshot());
    const c = engine();
    await c.open();
    assert.equal(c.loadStats?.source, 'snapshot');
    assert.deepEqual(await observe(c), expected);
  });

  it('ignores a snapshot older than the latest rebuild', async () => {
    const e = engine();
    await e.open();
    const old = await e.store.snapshotPointer();
    assert.ok(old);
    const mirror = (await e.store.m.segments.find({}, { _id: 1 }).lean()).map((s) => s._id).find((id) => e.segs.has(id));
    assert.ok(mirror !== undefined);
    const rebuilt = docs.slice(0, 6);
    await engine(false).rebuild((async function* () { yield* rebuilt; })());
    const fresh = engine();
    await fresh.open();
    assert.equal(fresh.loadStats?.source, 'database', 'the snapshot predates the rebuild');
    assert.deepEqual((await observe(fresh)).ids, rebuilt.map((d) => d.id).sort());
    // The next snapshot drops the mirrors of the segments the rebuild replaced.
    assert.ok(await fresh.writeSnapshot());
    await assert.rejects(snapshotBlobs(rt).get(segmentKey(mirror)));
    const again = engine();
    await again.open();
    assert.equal(again.loadStats?.source, 'snapshot');
    assert.deepEqual(await observe(again), await observe(fresh));
  });

  it('GET /api/v1/search answers 503 search_index_loading while the index loads, then answers', async () => {
    // The blob store held back (as if reading gigabytes of mirrors): the load cannot finish.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const blobs = snapshotBlobs(rt);
    const slow = new SearchEngine({ db: rt.db, key, text, snapshots: { ...blobs, get: async (k) => (await gate, blobs.get(k)) } });
    useSearchEngine(rt, slow);
    const http = await serveTestApp(rt);
    try {
      const url = `${http.base}/api/v1/search?q=${encodeURIComponent('养老保险')}`;
      const t0 = Date.now();
      const res = await http.fetch(url);
      assert.equal(res.status, 503);
      const body = (await res.json()) as { error: { code: string; message: string; messageZh: string } };
      assert.equal(body.error.code, 'search_index_loading');
      assert.match(body.error.messageZh, /全文索引正在加载/);
      assert.match(body.error.message, /still loading/);
      assert.ok(Date.now() - t0 < 10_000, 'refused after a short wait, not held until the load ends');
      release();
      await slow.open();
      const ok = await http.fetch(url);
      assert.equal(ok.status, 200);
      assert.ok(((await ok.json()) as { total: number }).total > 0);
    } finally {
      release();
      await http.close();
    }
  });
});
