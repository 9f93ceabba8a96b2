import assert from 'node:assert/strict';
import { whereFound } from '../../../src/cli/commands/search-run';

describe('archive search: where a hit was found', () => {
  it('names page 0 as the description (著录), never as a page', () => {
    assert.equal(whereFound([0]), '著录 description');
    assert.equal(whereFound([0, 1]), '著录 description；第 1 页 page');
    assert.equal(whereFound([2, 5]), '第 2,5 页 pages');
    assert.equal(whereFound([]), '');
  });
});
