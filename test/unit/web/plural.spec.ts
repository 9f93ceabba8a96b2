/** English text with counts: one of a thing is singular (web/src/plural.ts). */
import assert from 'node:assert/strict';
import { singular } from '../../../web/src/plural';

describe('web i18n: English counts', () => {
  it('says "1 item", "1 page", "1 entry", "1 batch" and leaves other counts plural', () => {
    assert.equal(singular('1 items uploaded; processing'), '1 item uploaded; processing');
    assert.equal(singular('1 items / 1 pages in all'), '1 item / 1 page in all');
    assert.equal(singular('Showing 1 entries'), 'Showing 1 entry');
    assert.equal(singular('1 batches'), '1 batch');
    assert.equal(singular('21 items, 11 pages, 0 items'), '21 items, 11 pages, 0 items');
    assert.equal(singular('Hits on this page: 1'), 'Hits on this page: 1');
  });
});
