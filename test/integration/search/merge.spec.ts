import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Connection } from 'mongoose';
import { SearchEngine } from '../../../src/services/search/engine';
import { planMerge, replayLog, tierOf } from '../../../src/services/search/merge';
import type { IndexDocument } from '../../../src/services/search/types';
import { dropTestDb, openTestDb } from '../../helpers/db';
import { generateItem, rng } from '../../helpers/si-corpus';

describe('search index: merging small segments (real FerretDB)', function () {
  this.timeout(120_000);
  let conn: Connection;
  const key = randomBytes(32);
  /** the source of truth the merge re-reads: id → the item as it is now (absent: destroyed) */
  const source = new Map<string, IndexDocument>();
  const text = async (id: string, page: number) => {
    const d = source.get(id);
    if (!d) throw new Error('gone');
    return page === 0 ? (d.title ?? '') : d.pages.find((p) => p.n === page)!.text;
  };
  const read = (ids: string[]) =>
    (async function* () {
      for (const id of ids) {
        const d = source.get(id);
        if (d) yield d;
      }
    })();
  const r = rng(9);
  const docs = Array.from({ length: 20 }, (_, i) => generateItem(r, i, { fonds: ['Z101'], noise: 0 }).doc);
  const engine = () => new SearchEngine({ db: conn, key, text });
  let before0: Set<number> = new Set();
  const top = async (e: SearchEngine, q: string) => (await e.search({ q, limit: 50, snippets: false, facets: false })).hits.map((h) => h.id).sort();

  before(async () => {
    conn = await openTestDb('merge');
  });
  after(() => dropTestDb(conn));

  it('sizes segments in tiers of the fan-out', () => {
    assert.deepEqual([1, 7, 8, 63, 64, 512, 4095, 4096].map((p) => tierOf(p, 8)), [0, 0, 1, 1, 2, 3, 3, 4]);
  });

  it('merges one-item segments into one, with the same answers, for this engine and a fresh one', async () => {
    const writer = engine();
    const reader = engine();
    await reader.open();
    for (const d of docs) {
      source.set(d.id, d);
      await writer.indexDocuments([d]);
    }
    const name = docs[3]!.persons[0]!.name!;
    const idNumber = docs[5]!.persons[0]!.idNumber!;
    const before = { name: await top(reader, name), id: await top(reader, idNumber), common: await top(reader, '养老保险') };
    assert.ok(before.name.includes(docs[3]!.id));
    assert.ok(before.id.includes(docs[5]!.id));
    assert.equal((await writer.store.allSegmentIds()).length, 20);

    const stats = await writer.compact(read, { fanout: 8 });
    assert.equal(stats.merged, 20, 'all 20 small segments are in one tier and merged together');
    assert.equal(stats.items, 20);
    const left = await writer.store.allSegmentIds();
    assert.deepEqual(left, [stats.into], 'the merged-away segments are deleted');

    const fresh = engine();
    for (const e of [reader, fresh]) {
      assert.deepEqual(await top(e, name), before.name);
      assert.deepEqual(await top(e, idNumber), before.id);
      assert.deepEqual(await top(e, '养老保险'), before.common);
    }
    assert.equal(fresh.segs.size, 1, 'a fresh engine loads one segment');
    assert.equal(reader.segs.size, 1, 'a running engine forgets the merged-away segments');
    assert.equal(fresh.liveDocs, reader.liveDocs);
  });

  it('never lets a merge resurrect a removed item or undo a later correction', async () => {
    const writer = engine();
    const batch = Array.from({ length: 8 }, (_, i) => generateItem(r, 100 + i, { fonds: ['Z101'], noise: 0 }).doc);
    for (const d of batch) {
      source.set(d.id, d);
      await writer.indexDocuments([d]);
    }
    const state = await replayLog(writer.store);
    const metas = await writer.store.m.segments.find({}, { _id: 1, pages: 1 }).lean();
    const plan = planMerge(state, metas, { fanout: 8 });
    assert.ok(plan && plan.items.includes(batch[0]!.id) && plan.items.includes(batch[1]!.id));

    // While the merge reads its source, item 0 is destroyed and item 1 corrected: their log
    // entries land before the merge entry.
    const removed = batch[0]!;
    const corrected = { ...batch[1]!, pages: [{ n: 1, text: '更正后的页面：工伤认定决定书，单位名称北辰精密机械有限公司。' }] };
    const racing = async function* (ids: string[]) {
      const stale = new Map(source);
      source.delete(removed.id);
      source.set(corrected.id, corrected);
      await writer.remove([removed.id]);
      await writer.indexDocuments([corrected]);
      for (const id of ids) if (stale.get(id)) yield stale.get(id)!; // what the merge read before the changes
    };
    const stats = await writer.compact(racing, { fanout: 8 });
    assert.ok(stats.into !== null);

    for (const e of [writer, engine()]) {
      await e.open();
      assert.ok(!(await top(e, removed.persons[0]!.idNumber!)).includes(removed.id), 'the destroyed item stays gone');
      assert.equal(e.current.has(removed.id), false);
      assert.ok((await top(e, '北辰精密机械有限公司')).includes(corrected.id), 'the correction stays current');
      assert.notEqual(e.current.get(corrected.id)?.seg, stats.into, 'the stale version the merge read is not current');
      assert.equal(e.current.get(batch[2]!.id)?.seg, stats.into, 'untouched items moved to the merged segment');
    }
  });

  it('deletes a segment once every item in it was re-indexed elsewhere; follows the log by point reads', async () => {
    const writer = engine();
    before0 = new Set(await writer.store.allSegmentIds());
    const d = generateItem(r, 300, { fonds: ['Z101'], noise: 0 }).doc;
    source.set(d.id, d);
    await writer.indexDocuments([d]);
    const first = (await writer.store.allSegmentIds()).filter((id) => !(before0 as Set<number>).has(id));
    assert.equal(first.length, 1);
    await writer.compact(read, { fanout: 8 });
    assert.ok((await writer.store.allSegmentIds()).includes(first[0]!), 'still current: kept');
    await writer.indexDocuments([{ ...d, title: '更正后的题名' }]);
    await writer.compact(read, { fanout: 8 });
    assert.ok(!(await writer.store.allSegmentIds()).includes(first[0]!), 'superseded: deleted');
    const fresh = engine();
    assert.deepEqual(await top(fresh, '更正后的题名'), [d.id]);
  });

  it('does nothing while a tier holds fewer segments than the fan-out', async () => {
    const writer = engine();
    const before = await writer.store.allSegmentIds();
    const stats = await writer.compact(read, { fanout: 8 });
    assert.equal(stats.merged, 0);
    assert.equal(stats.into, null);
    const after = await writer.store.allSegmentIds();
    assert.ok(after.length <= before.length);
  });
});
