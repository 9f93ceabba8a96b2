import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ScopedCounts } from '../../../src/services/search/opensearch';
import { buildSegment, PositionPool, scanPostings, scanPostingsAt, type SegItem } from '../../../src/services/search/segment';
import { TokenHasher, tokenizePage } from '../../../src/services/search/tokenize';

describe('search postings read on given pages (skip tables)', () => {
  it('scanPostingsAt gives exactly what scanPostings gives on those pages, positions included', () => {
    const hasher = new TokenHasher(randomBytes(32));
    const items: SegItem[] = [];
    const pages = [];
    // 1,500 pages: 保险 on most (a long list, with skip entries), 工伤 on every seventh.
    for (let i = 0; i < 1500; i++) {
      items.push({ id: String(i), fonds: 'Z', title: null, code: null, documentType: null, category: null, insurance: [], retention: null, year: null, date: null, access: 0, pids: [], names: [] });
      const text = `${i % 5 ? '养老保险待遇' : '档案'}第${i}页${i % 7 ? '' : '工伤认定'}${i % 3 ? '' : '保险'}`;
      pages.push({ item: i, page: 1, tokens: tokenizePage(text) });
    }
    const seg = buildSegment(items, pages, hasher);
    const live = new Uint8Array(items.length).fill(1);
    live[10] = 0; // a removed item: none of its postings may come back
    const r = (() => {
      let s = 7;
      return () => (s = (s * 48271) % 2147483647) / 2147483647;
    })();
    for (const tok of ['b:保险', 'b:工伤', 'w:养老保险', 'b:不在']) {
      const h = hasher.hash(tok);
      for (const share of [0.001, 0.01, 0.2, 1]) {
        const docs = Int32Array.from({ length: 1500 }, (_, d) => d).filter(() => r() < share);
        const only = new Uint8Array(1500);
        for (const d of docs) only[d] = 1;
        const want: Array<[number, number, number[]]> = [];
        const pool1 = new PositionPool();
        scanPostings(seg, h, live, pool1, true, (doc, tf, at) => want.push([doc, tf, at < 0 ? [] : Array.from(pool1.a.subarray(at, at + tf))]), only);
        const got: Array<[number, number, number[]]> = [];
        const pool2 = new PositionPool();
        scanPostingsAt(seg, h, live, pool2, true, (doc, tf, at) => got.push([doc, tf, at < 0 ? [] : Array.from(pool2.a.subarray(at, at + tf))]), docs, docs.length);
        assert.deepEqual(got, want, `${tok} on ${docs.length} pages`);
      }
    }
  });
});

describe('scoped page counts kept for OpenSearch idf (ScopedCounts)', () => {
  it('serves a count only to the scope it was counted in, only while fresh, and forgets on clear', () => {
    let now = 0;
    const c = new ScopedCounts(1000, 100, () => now);
    const a = { fonds: ['A01'], maxAccessLevel: 1 };
    c.put(a, 50, new Map([['b:x', 7]]));
    assert.deepEqual(c.get(a, ['b:x', 'b:y']), { n: 50, df: new Map([['b:x', 7]]) });
    assert.deepEqual(c.get({ fonds: ['A01'], maxAccessLevel: 1 }, ['b:x']).df.get('b:x'), 7, 'the same scope, another object');
    for (const other of [{ fonds: ['A01'] }, { fonds: ['A01'], maxAccessLevel: 2 }, { fonds: ['A01', 'B02'], maxAccessLevel: 1 }, { maxAccessLevel: 1 }, {}, { fonds: [] }]) {
      assert.deepEqual(c.get(other, ['b:x']), { n: null, df: new Map() }, JSON.stringify(other));
    }
    assert.equal(ScopedCounts.keyOf({ fonds: ['B', 'A'] }), ScopedCounts.keyOf({ fonds: ['A', 'B'] }), 'the order of fonds does not matter');
    now = 1001;
    assert.deepEqual(c.get(a, ['b:x']), { n: null, df: new Map() }, 'expired');
    c.put(a, 51, new Map([['b:x', 8]]));
    c.clear();
    assert.deepEqual(c.get(a, ['b:x']), { n: null, df: new Map() }, 'cleared');
  });

  it('stays within its bound, dropping other scopes first', () => {
    const c = new ScopedCounts(60_000, 10, () => 0);
    const many = (p: string, n: number) => new Map(Array.from({ length: n }, (_, i) => [`${p}${i}`, i]));
    c.put({ fonds: ['A'] }, 1, many('a', 6));
    c.put({ fonds: ['B'] }, 1, many('b', 6));
    assert.equal(c.get({ fonds: ['A'] }, ['a0']).df.size, 0, 'the older scope went');
    assert.equal(c.get({ fonds: ['B'] }, ['b5']).df.get('b5'), 5);
  });
});
