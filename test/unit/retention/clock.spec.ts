import assert from 'node:assert/strict';
import { appraisalDueOn, periodStartsOn, isoDateOf, longerPeriod, type PeriodCode } from '../../../retention-rules/index';

describe('appraisal clock (3号令: 自形成之日的次年1月1日起算)', () => {
  const cases: [formedOn: string, period: PeriodCode, due: string | null][] = [
    ['2010-05-03', 'D10', '2021-01-01'], // the regulation's own arithmetic
    ['2010-01-01', 'D10', '2021-01-01'], // first day of the year: still counted from next 1 January
    ['2010-12-31', 'D10', '2021-01-01'], // last day of the year: same due date
    ['2012-02-29', 'D10', '2023-01-01'], // leap-day formation
    ['2012-02-29', 'D30', '2043-01-01'],
    ['2016-02-29', 'D50', '2067-01-01'],
    ['2009-09-01', 'D100', '2110-01-01'],
    ['1999-12-31', 'D30', '2030-01-01'],
    ['2010-05-03', 'Y', null], // 永久 is never due
  ];
  for (const [formedOn, period, due] of cases) {
    it(`${formedOn} + ${period} → ${due ?? 'never'}`, () => {
      assert.equal(appraisalDueOn(formedOn, period), due);
    });
  }

  it('starts counting on 1 January of the next year', () => {
    assert.equal(periodStartsOn('2010-05-03'), '2011-01-01');
    assert.equal(periodStartsOn('2012-02-29'), '2013-01-01');
  });

  for (const bad of ['2010-02-30', '2011-02-29', '2010-13-01', '2010-5-3', '2010/05/03', '']) {
    it(`refuses the formation date ${JSON.stringify(bad)}`, () => {
      assert.throws(() => appraisalDueOn(bad, 'D10'), RangeError);
    });
  }

  it('takes the UTC calendar date of an instant, whatever the local zone', () => {
    // 2020-12-31T23:30 in UTC is already 1 January in Beijing; callers pass local dates explicitly.
    assert.equal(isoDateOf(new Date(Date.UTC(2020, 11, 31, 23, 30))), '2020-12-31');
  });

  it('orders periods for the safe choice', () => {
    assert.equal(longerPeriod('D10', 'D30'), 'D30');
    assert.equal(longerPeriod('Y', 'D100'), 'Y');
    assert.equal(longerPeriod('D100', 'D50'), 'D100');
  });
});
