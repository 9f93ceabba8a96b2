import assert from 'node:assert/strict';
import raw from '../../../retention-rules/rules/3hao-ling-2009.v2.json';
import {
  diffSchedules,
  evaluate,
  loadSchedule,
  resolveAccountingKind,
  RuleFileError,
  scheduleInForce,
  scheduleVersion,
  scheduleVersions,
  ScheduleVersionError,
} from '../../../retention-rules/index';

// Issue #11 §1: what is not confirmed can be filed under, never destroyed (digest §1.4).
describe('provisional rules and schedule versions', () => {
  const v1 = scheduleVersion('3hao-ling-2009.v1');
  const v2 = scheduleVersion('3hao-ling-2009.v2');
  const INFERRED = ['3-T1', '3-T2', '3-T3', '6-T1', '6-T2', '6-T3'];
  const KJ_ROWS = ['3-T1', '4-05', '5-05', '6-T1', '7-04', '8-04'];

  it('bundles the versions as data files, oldest first, and picks the one in force by date', () => {
    assert.deepEqual(scheduleVersions().map((s) => s.versionId), ['3hao-ling-2009.v1', '3hao-ling-2009.v2']);
    assert.equal(scheduleInForce({ asOf: '2026-11-30' }).versionId, '3hao-ling-2009.v1');
    assert.equal(scheduleInForce({ asOf: '2026-12-01' }).versionId, '3hao-ling-2009.v2');
    assert.equal(scheduleInForce({ asOf: '2030-01-01', version: '3hao-ling-2009.v1' }).versionId, '3hao-ling-2009.v1', 'configuration pins a version');
    assert.throws(() => scheduleInForce({ asOf: '2030-01-01', version: '3hao-ling-2009.v9' }), ScheduleVersionError);
    assert.throws(() => scheduleInForce({ asOf: '2000-01-01' }), /no schedule version is in force/);
  });

  for (const [name, s] of [['v1', v1], ['v2', v2]] as const) {
    it(`${name}: every [P] row is provisional and never eligible, whatever the date`, () => {
      for (const id of INFERRED) {
        const d = evaluate(s, { itemId: id, formedOn: '1990-05-03' }, '2999-01-01');
        assert.equal(d.provisional, true, id);
        assert.equal(d.eligibleForAppraisal, false, id);
        assert.ok(d.blockers.includes('provisional_rule'), id);
      }
    });

    it(`${name}: every KJ sub-rule not confirmed from the official text is provisional, on every KJ row`, () => {
      for (const row of KJ_ROWS) {
        for (const acc of s.itemsById.get(row)!.accounting!) {
          const d = evaluate(s, { itemId: row, formedOn: '1990-05-03', accountingRuleId: acc }, '2999-01-01');
          assert.deepEqual([d.provisional, d.eligibleForAppraisal], [true, false], `${row}/${acc}`);
        }
        const unsure = evaluate(s, { itemId: row, formedOn: '1990-05-03' }, '2999-01-01');
        assert.equal(unsure.provisional, true, row);
      }
    });
  }

  it('v2 says so in the data: the [P] rows and the sub-rules carry provisional: true with a reason', () => {
    for (const id of INFERRED) {
      const r = v2.itemsById.get(id)!;
      assert.equal(r.provisional, true, id);
      assert.ok((r.provisionalReason ?? '').length > 20, id);
    }
    for (const a of v2.accountingRules) assert.deepEqual([a.provisional, (a.provisionalReason ?? '').length > 20], [true, true], a.id);
    // Confirmed rows stay eligible once due.
    assert.equal(evaluate(v2, { itemId: '5-03', formedOn: '2010-05-03' }, '2021-01-01').eligibleForAppraisal, true);
  });

  it('the diff v1 → v2 lists the rows whose provisional status or sub-rules changed, and no period', () => {
    const changes = diffSchedules(v1, v2);
    const kinds = Object.fromEntries(changes.map((c) => [c.itemId, c.kinds]));
    for (const id of ['3-T2', '3-T3', '6-T2', '6-T3']) assert.deepEqual(kinds[id], ['provisional'], id);
    for (const id of ['4-05', '5-05', '7-04', '8-04']) assert.deepEqual(kinds[id], ['accounting'], id);
    assert.ok(changes.every((c) => !c.kinds.includes('retention')));
  });

  it('refuses a provisional sub-rule without a reason', () => {
    const f = structuredClone(raw) as any;
    delete f.accountingRules[0].provisionalReason;
    assert.throws(() => loadSchedule(f), (err: unknown) => err instanceof RuleFileError && err.issues.some((i) => /accountingRules\[0\].*provisionalReason/.test(i.path)));
  });

  describe('accounting kind: guessing never shortens a period', () => {
    it('a voucher that mentions 季度 (cues: voucher + report-periodic) is kept 30 years as a voucher, and unsure', () => {
      const k = resolveAccountingKind(v2, '4-05', ['report-periodic', 'voucher']);
      assert.deepEqual([k.accountingRuleId, k.certain], ['voucher', false]);
      assert.equal(evaluate(v2, { itemId: '4-05', formedOn: '2015-06-30', accountingRuleId: k.accountingRuleId }).retention, 'D30');
    });
    it('no cue at all: the longest the row allows (annual report, 永久), unsure', () => {
      const k = resolveAccountingKind(v2, '4-05', []);
      assert.deepEqual([k.accountingRuleId, k.certain], ['report-annual', false]);
    });
    it('exactly one cue is taken as it is', () => {
      assert.deepEqual(resolveAccountingKind(v2, '4-05', ['bank-statement']), { accountingRuleId: 'bank-statement', certain: true, candidates: ['bank-statement'] });
    });
    it('a row that allows one kind needs no cue', () => {
      assert.deepEqual([resolveAccountingKind(v2, '8-04', []).accountingRuleId, resolveAccountingKind(v2, '8-04', []).certain], ['report-annual', true]);
    });
    it('refuses a row that is not KJ', () => {
      assert.throws(() => resolveAccountingKind(v2, '5-03', []), /not an accounting/);
    });
  });

  it('no formation date: no due date, blocked, never eligible (the scan date never stands in)', () => {
    const d = evaluate(v2, { itemId: '5-03', formedOn: null }, '2999-01-01');
    assert.deepEqual([d.retention, d.dueOn, d.eligibleForAppraisal], ['D10', null, false]);
    assert.ok(d.blockers.includes('no_formation_date'));
  });
});
