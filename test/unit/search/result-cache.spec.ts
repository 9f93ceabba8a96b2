import assert from 'node:assert/strict';
import { ResultCache } from '../../../src/services/search/engine';

const result = (total: number) => ({ total, found: [], facets: { documentType: [], category: [], insurance: [], year: [], retention: [], fonds: [] } });

describe('search result cache (embedded engine)', () => {
  it('answers only for the index version it was filled at; a new version empties it', () => {
    const c = new ResultCache(4);
    c.put(7, 'a', result(1));
    assert.equal(c.get(7, 'a')?.total, 1);
    assert.equal(c.get(8, 'a'), null, 'a later version never sees an older result');
    c.put(8, 'b', result(2));
    assert.equal(c.get(8, 'a'), null, 'filling a new version dropped the old results');
    assert.equal(c.get(8, 'b')?.total, 2);
  });

  it('keeps the most recently used results when full', () => {
    const c = new ResultCache(2);
    c.put(1, 'a', result(1));
    c.put(1, 'b', result(2));
    c.get(1, 'a');
    c.put(1, 'c', result(3));
    assert.equal(c.get(1, 'b'), null, 'the least recently used went');
    assert.equal(c.get(1, 'a')?.total, 1);
    assert.equal(c.get(1, 'c')?.total, 3);
  });
});
