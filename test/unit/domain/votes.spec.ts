/**
 * Agreement of several readings of one line (dates, 公民身份号码) and when more readings can no
 * longer change it: rereads stop there (issue #12 §4, the cost of second readings).
 */
import assert from 'node:assert/strict';
import { agreement, moreReadingsMatter, tally } from '../../../src/domain/votes';
import { agreedDate, dateRereadsSettled } from '../../../src/domain/date-lines';
import { agreedIdNumber, idCheckDigit, idRereadsSettled } from '../../../src/domain/id-number';

const ID = '11010519870315231' + idCheckDigit('11010519870315231');
const OTHER = '44030619900101123' + idCheckDigit('44030619900101123');
const BAD = ID.slice(0, 17) + (ID.endsWith('0') ? '1' : '0'); // check character fails

describe('domain/votes: readings that agree', () => {
  it('a reading votes once for each distinct value it holds', () => {
    const v = tally(['a a b', 'a', ''], (r) => r.split(' ').filter(Boolean));
    assert.deepEqual([...v].sort(), [['a', 2], ['b', 1]]);
  });

  it('agreement needs the minimum votes and no tie', () => {
    assert.deepEqual(agreement(new Map([['x', 2], ['y', 1]]), 5, 2), { value: 'x', votes: 2, of: 5 });
    assert.equal(agreement(new Map([['x', 1]]), 3, 2), null, 'one reading alone never decides');
    assert.equal(agreement(new Map([['x', 2], ['y', 2]]), 4, 2), null, 'a tie decides nothing');
    assert.equal(agreement(new Map(), 3, 2), null);
  });

  it('more readings matter while the runner-up could still catch up or a value could still reach the minimum', () => {
    // x leads by 2 with 2 readings to come: y could tie.
    assert.equal(moreReadingsMatter(new Map([['x', 3], ['y', 1]]), 2, 2), true);
    // x leads by 3 with 2 to come: no reading can change the result.
    assert.equal(moreReadingsMatter(new Map([['x', 3], ['y', 0]]), 2, 2), false);
    assert.equal(moreReadingsMatter(new Map([['x', 2]]), 1, 2), false);
    assert.equal(moreReadingsMatter(new Map([['x', 2]]), 2, 2), true);
    // Nothing yet, two to come: a value could still get two votes.
    assert.equal(moreReadingsMatter(new Map(), 2, 2), true);
    // One vote and none to come, or nothing and one to come: nothing can reach two.
    assert.equal(moreReadingsMatter(new Map([['x', 1]]), 0, 2), false);
    assert.equal(moreReadingsMatter(new Map(), 1, 2), false);
    // A leader under the minimum that could still reach it.
    assert.equal(moreReadingsMatter(new Map([['x', 1]]), 1, 2), true);
  });

  it('stopping where more readings no longer matter gives the value all readings would have given', () => {
    // Every sequence of 5 readings over three values (and none): the early stop never changes the agreement.
    const values = ['', 'x', 'y', 'x y'];
    const split = (r: string) => r.split(' ').filter(Boolean);
    let checked = 0, stoppedEarly = 0;
    for (let n = 0; n < values.length ** 5; n++) {
      const seq = Array.from({ length: 5 }, (_, i) => values[Math.floor(n / values.length ** i) % values.length]!);
      const full = agreement(tally(seq, split), seq.length, 2)?.value ?? null;
      let k = 1;
      while (k < seq.length && moreReadingsMatter(tally(seq.slice(0, k), split), seq.length - k, 2)) k++;
      const early = agreement(tally(seq.slice(0, k), split), k, 2)?.value ?? null;
      assert.equal(early, full, `${JSON.stringify(seq)} stopped after ${k}`);
      checked++;
      if (k < seq.length) stoppedEarly++;
    }
    assert.equal(checked, 1024);
    assert.ok(stoppedEarly >= 250, `the rule saves readings: ${stoppedEarly} of 1024 stopped early`);
  });

  it('date lines: settled once a date has a safe lead; agreedDate unchanged', () => {
    const good = '核定日期: 二〇二一年一月十五日';
    assert.deepEqual(agreedDate(['核定日期: 二O二一年一月十五日', good, '核定日期: 二二一年一月十五日']), { value: '2021-01-15', votes: 2, of: 3 });
    assert.equal(dateRereadsSettled(['核定月期', good, good], 3), false, 'a lead of 2 with 3 readings to come');
    assert.equal(dateRereadsSettled(['核定月期', good, good, good], 3), false);
    assert.equal(dateRereadsSettled(['核定月期', good, good, good], 2), true, 'a lead of 3 with 2 to come');
    assert.equal(dateRereadsSettled(['核定月期', '核定', '核定', '核定', '核定'], 1), true, 'no date can reach two votes');
  });

  it('ID-number lines: settled once a valid number has a safe lead; agreedIdNumber unchanged', () => {
    assert.deepEqual(agreedIdNumber([`号码 ${BAD}`, `号码 ${ID}`, `号码 ${ID}`]), { value: ID, votes: 2, of: 3 });
    assert.equal(idRereadsSettled([`号码 ${BAD}`, `号码 ${ID}`, `号码 ${ID}`], 3), false);
    assert.equal(idRereadsSettled([`号码 ${BAD}`, `号码 ${ID}`, `号码 ${ID}`, `号码 ${ID}`], 2), true);
    assert.equal(idRereadsSettled([`号码 ${BAD}`, `号码 ${ID}`, `号码 ${OTHER}`, `号码 ${ID}`], 2), false, 'the other number could still tie');
    assert.equal(idRereadsSettled([`号码 ${BAD}`, `号码 ${BAD}`], 0), true);
  });
});
