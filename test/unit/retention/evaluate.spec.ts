import assert from 'node:assert/strict';
import { scheduleVersion, evaluate, RuleLookupError } from '../../../retention-rules/index';

describe('evaluate', () => {
  const s = scheduleVersion('3hao-ling-2009.v1');

  it('computes the due date and eligibility for a confirmed 10-year row', () => {
    const d = evaluate(s, { itemId: '5-03', formedOn: '2010-05-03' }, '2021-01-01');
    assert.equal(d.retention, 'D10');
    assert.equal(d.dueOn, '2021-01-01');
    assert.equal(d.eligibleForAppraisal, true);
    assert.equal(d.provisional, false);
    assert.equal(d.ruleId, '5-03');
    assert.equal(d.scheduleVersion, '3hao-ling-2009.v1');
    assert.match(d.citation, /令第3号.*五、失业保险待遇类（三）失业保险待遇核定材料/);
  });

  it('is not eligible the day before the due date', () => {
    const d = evaluate(s, { itemId: '5-03', formedOn: '2010-05-03' }, '2020-12-31');
    assert.equal(d.eligibleForAppraisal, false);
  });

  it('never makes a permanent row due', () => {
    const d = evaluate(s, { itemId: '1-01', formedOn: '1990-01-01' }, '2999-12-31');
    assert.deepEqual([d.retention, d.dueOn, d.eligibleForAppraisal], ['Y', null, false]);
  });

  it('handles a leap-day formation date', () => {
    const d = evaluate(s, { itemId: '6-02', formedOn: '2012-02-29' }, '2063-01-01');
    assert.deepEqual([d.retention, d.dueOn, d.eligibleForAppraisal], ['D50', '2063-01-01', true]);
  });

  describe('KJ rows (会计档案管理办法)', () => {
    const table: [accounting: string, retention: string, dueOn: string | null][] = [
      ['voucher', 'D30', '2046-01-01'],
      ['ledger', 'D30', '2046-01-01'],
      ['report-periodic', 'D10', '2026-01-01'],
      ['report-annual', 'Y', null],
      ['bank-statement', 'D10', '2026-01-01'],
    ];
    for (const [accountingRuleId, retention, dueOn] of table) {
      it(`resolves 4-05 ${accountingRuleId} formed 2015-06-30 to ${retention}`, () => {
        const d = evaluate(s, { itemId: '4-05', formedOn: '2015-06-30', accountingRuleId }, '2030-01-01');
        assert.deepEqual([d.scheduleRetention, d.retention, d.dueOn, d.accountingRuleId, d.ruleId], ['KJ', retention, dueOn, accountingRuleId, `4-05/${accountingRuleId}`]);
        assert.match(d.citation, /会计档案管理办法/);
      });
    }

    it('keeps an unspecified accounting record as long as the longest sub-rule allows', () => {
      const d = evaluate(s, { itemId: '5-05', formedOn: '2015-06-30' }, '2090-01-01');
      assert.deepEqual([d.retention, d.dueOn, d.eligibleForAppraisal, d.accountingRuleId], ['Y', null, false, null]);
      assert.match(d.notes.join(' '), /longest period/);
    });

    it('uses the only sub-rule of a single-rule KJ row', () => {
      const d = evaluate(s, { itemId: '8-04', formedOn: '2015-06-30' });
      assert.deepEqual([d.retention, d.accountingRuleId], ['Y', 'report-annual']);
    });

    it('refuses a sub-rule the row does not allow', () => {
      assert.throws(() => evaluate(s, { itemId: '8-04', formedOn: '2015-06-30', accountingRuleId: 'voucher' }), (e: unknown) => e instanceof RuleLookupError && e.code === 'unknown_accounting_rule');
    });

    it('refuses a sub-rule on a row that is not KJ', () => {
      assert.throws(() => evaluate(s, { itemId: '5-03', formedOn: '2015-06-30', accountingRuleId: 'voucher' }), /not an accounting \(KJ\) row/);
    });
  });

  it('blocks provisional rows even after their date', () => {
    const d = evaluate(s, { itemId: '2-P6', formedOn: '1990-01-01' }, '2200-01-01');
    assert.equal(d.retention, 'D100');
    assert.equal(d.dueOn, '2091-01-01');
    assert.equal(d.provisional, true);
    assert.deepEqual(d.blockers, ['provisional_rule']);
    assert.equal(d.eligibleForAppraisal, false);
  });

  it('blocks records under legal hold', () => {
    const d = evaluate(s, { itemId: '5-03', formedOn: '2000-01-01', legalHold: true }, '2020-01-01');
    assert.deepEqual([d.eligibleForAppraisal, d.blockers], [false, ['legal_hold']]);
  });

  it('notes records formed before the schedule took effect', () => {
    const d = evaluate(s, { itemId: '5-03', formedOn: '2001-03-04' }, '2020-01-01');
    assert.match(d.notes.join(' '), /before the schedule took effect/);
    assert.equal(d.eligibleForAppraisal, true);
  });

  it('refuses unknown rows and impossible dates', () => {
    assert.throws(() => evaluate(s, { itemId: '10-01', formedOn: '2010-01-01' }), (e: unknown) => e instanceof RuleLookupError && e.code === 'unknown_item');
    assert.throws(() => evaluate(s, { itemId: '5-03', formedOn: '2010-02-30' }), (e: unknown) => e instanceof RuleLookupError && e.code === 'invalid_date');
    assert.throws(() => evaluate(s, { itemId: '5-03', formedOn: '2010-02-01' }, '2021-1-1'), /asOf/);
  });
});
