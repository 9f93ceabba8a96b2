import assert from 'node:assert/strict';
import { decideItem, DEFAULT_CHAIN, executableFrom, extendedDueOn, listStage, opinionProblem, signRefusal, supervisorRefusal, yearsKept, type ListFacts } from '../../../src/services/disposition/rules';

const ctx = { formedOn: '2010-05-03', appraisedOn: '2026-12-02', current: 'D10' as const };

describe('disposition rules (3号令 第十至十二条, R2-R6)', () => {
  describe('the 鉴定小组 decides an item only together', () => {
    it('all members destroy → destroy; one missing → stays', () => {
      const ops = [{ userId: 'a', opinion: 'destroy' as const, reason: '已无保存价值' }, { userId: 'b', opinion: 'destroy' as const, reason: '已无保存价值' }];
      assert.equal(decideItem(['a', 'b'], ops, ctx).kind, 'destroy');
      assert.equal(decideItem(['a', 'b', 'c'], ops, ctx).kind, 'none');
    });
    it('a split group is no agreement (the item stays)', () => {
      const out = decideItem(['a', 'b'], [{ userId: 'a', opinion: 'destroy', reason: 'x1' }, { userId: 'b', opinion: 'keep', reason: 'x2' }], ctx);
      assert.equal(out.kind, 'none');
    });
    it('opinions of non-members do not count', () => {
      assert.equal(decideItem(['a'], [{ userId: 'z', opinion: 'destroy', reason: 'xx' }], ctx).kind, 'none');
    });
    it('extensions that differ take the longest', () => {
      const out = decideItem(['a', 'b'], [{ userId: 'a', opinion: 'extend', period: 'D30', reason: '仍有查考价值' }, { userId: 'b', opinion: 'extend', years: 30, reason: '涉及待遇' }], ctx);
      assert.equal(out.kind, 'extend');
      if (out.kind === 'extend') assert.deepEqual([out.retention, out.dueOn], ['D30', '2056-01-01']);
    });
    it('keep permanently', () => {
      assert.equal(decideItem(['a'], [{ userId: 'a', opinion: 'keep', reason: '重要凭证' }], ctx).kind, 'keep');
    });
  });

  it('an extension must lengthen the period and give a reason', () => {
    assert.equal(opinionProblem({ opinion: 'extend', period: 'D10', reason: '理由' }, 'D10'), 'extend_must_lengthen');
    assert.equal(opinionProblem({ opinion: 'extend', reason: '理由' }, 'D10'), 'extend_needs_period');
    assert.equal(opinionProblem({ opinion: 'extend', period: 'Y', reason: '理由' }, 'D10'), 'use_keep_for_permanent');
    assert.equal(opinionProblem({ opinion: 'destroy', reason: '' }, 'D10'), 'reason_required');
    assert.equal(opinionProblem({ opinion: 'extend', period: 'D30', reason: '理由' }, 'D10'), null);
    assert.deepEqual(extendedDueOn('2010-05-03', '2026-12-02', { period: 'D30' }, 'D10'), { retention: 'D30', dueOn: '2041-01-01' });
  });

  it('已保管期限 counts from 1 January after formation (R3)', () => {
    assert.equal(yearsKept('2010-05-03', '2026-12-02'), 15);
  });

  describe('approval chain and separation of duties', () => {
    const base: ListFacts = { proposerId: 'p', version: 1, signatures: [], filedVersion: null, cancelled: false, executionStarted: false };
    const at = new Date('2026-01-01T00:00:00Z');
    it('signoffs → 备案 → head, in order; the proposer signs nothing; nobody signs twice', () => {
      assert.equal(listStage(base, DEFAULT_CHAIN), 'awaiting_signoffs');
      assert.equal(signRefusal(base, DEFAULT_CHAIN, 'p', 'appraisal'), 'own_proposal');
      assert.equal(signRefusal(base, DEFAULT_CHAIN, 'h', 'head'), 'wrong_stage');
      const one = { ...base, signatures: [{ step: 'appraisal' as const, userId: 'a', version: 1, at }] };
      assert.equal(signRefusal(one, DEFAULT_CHAIN, 'a', 'appraisal'), 'already_signed');
      const two = { ...one, signatures: [...one.signatures, { step: 'appraisal' as const, userId: 'b', version: 1, at }] };
      assert.equal(listStage(two, DEFAULT_CHAIN), 'awaiting_filing');
      const filed = { ...two, filedVersion: 1 };
      assert.equal(listStage(filed, DEFAULT_CHAIN), 'awaiting_approval');
      assert.equal(signRefusal(filed, DEFAULT_CHAIN, 'a', 'head'), 'already_signed', 'a signer of the group may not also approve');
      assert.equal(signRefusal(filed, DEFAULT_CHAIN, 'p', 'head'), 'own_proposal');
      const approved = { ...filed, signatures: [...filed.signatures, { step: 'head' as const, userId: 'h', version: 1, at }] };
      assert.equal(listStage(approved, DEFAULT_CHAIN), 'approved');
      assert.equal(executableFrom(approved, DEFAULT_CHAIN)?.toISOString(), '2026-01-08T00:00:00.000Z', 'seven days of cooling-off');
      // An edit makes version 2: every signature and the 备案 of version 1 are void.
      const edited = { ...approved, version: 2 };
      assert.equal(listStage(edited, DEFAULT_CHAIN), 'awaiting_signoffs');
      assert.equal(executableFrom(edited, DEFAULT_CHAIN), null);
    });
    it('two supervisors, neither proposer nor approver, not the same person', () => {
      const f = { ...base, signatures: [{ step: 'head' as const, userId: 'h', version: 1, at }] };
      assert.equal(supervisorRefusal(f, ['s1']), 'two_supervisors');
      assert.equal(supervisorRefusal(f, ['s1', 's1']), 'same_person');
      assert.equal(supervisorRefusal(f, ['s1', 'p']), 'is_proposer');
      assert.equal(supervisorRefusal(f, ['s1', 'h']), 'is_approver');
      assert.equal(supervisorRefusal(f, ['s1', 's2']), null);
    });
  });
});
