import assert from 'node:assert/strict';
import raw from '../../../retention-rules/rules/3hao-ling-2009.v1.json';
import { scheduleVersion, evaluate, loadSchedule, RETENTION_CODES, RuleFileError, type RuleIssue } from '../../../retention-rules/index';

type RawFile = { [key: string]: any; items: Record<string, unknown>[]; accountingRules: Record<string, unknown>[] };
const clone = (): RawFile => structuredClone(raw) as RawFile;

function issuesOf(data: unknown): RuleIssue[] {
  try {
    loadSchedule(data);
  } catch (err) {
    assert.ok(err instanceof RuleFileError, `expected RuleFileError, got ${String(err)}`);
    return [...err.issues];
  }
  assert.fail('the schedule loaded but should have been rejected');
}

describe('retention schedule 3hao-ling-2009.v1', () => {
  const s = scheduleVersion('3hao-ling-2009.v1');

  it('has a version id and the date 3号令 took effect', () => {
    assert.equal(s.versionId, '3hao-ling-2009.v1');
    assert.equal(s.effectiveFrom, '2009-09-01');
  });

  it('has the nine appendix categories in order', () => {
    assert.deepEqual(
      s.categories.map((c) => c.name),
      ['社会保险管理类', '社会保险费征缴类', '养老保险待遇类', '医疗保险待遇类', '失业保险待遇类', '工伤保险待遇类', '生育保险待遇类', '社会保险业务统计报表类', '社会保险稽核监管类'],
    );
  });

  // Every row the digest's table §1.2 gives with a number and a period, exactly as recorded there.
  const confirmed: [id: string, no: string, name: string, retention: string, confidence: string][] = [
    ['1-01', '（一）', '参保单位登记材料', 'Y', 'S-en'],
    ['1-02', '（二）', '参保人员登记材料', 'D100', 'S'],
    ['1-03', '（三）', '社会保险个人账户管理材料', 'D100', 'S-en'],
    ['1-04', '（四）', '社会保险登记证管理材料', 'D10', 'S-en'],
    ['1-05', '（五）', '社会保险卡(证、手册)管理材料', 'D50', 'S-en'],
    ['1-06', '（六）', '社会保险待遇领取资格认证材料', 'D50', 'S-en'],
    ['4-04', '（四）', '医疗保险门诊待遇核定材料', 'D10', 'S'],
    ['4-05', '（五）', '医疗保险付款凭证、会计账簿、会计报表等', 'KJ', 'S'],
    ['4-06', '（六）', '医疗保险支付明细表和汇总表', 'D30', 'S'],
    ['4-07', '（七）', '医疗保险基金支付年度汇总表', 'Y', 'S'],
    ['5-01', '（一）', '失业备案材料', 'D10', 'S'],
    ['5-02', '（二）', '失业人员失业保险关系转移材料', 'D10', 'S'],
    ['5-03', '（三）', '失业保险待遇核定材料', 'D10', 'S'],
    ['5-04', '（四）', '促进就业补贴核定材料', 'D10', 'S'],
    ['5-05', '（五）', '失业保险付款凭证、会计账簿、会计报表等', 'KJ', 'S'],
    ['5-06', '（六）', '失业保险支付明细表和汇总表', 'D30', 'S'],
    ['5-07', '（七）', '失业保险基金支付年度汇总表', 'Y', 'S'],
    ['6-01', '（一）', '工伤备案材料', 'D10', 'S'],
    ['6-02', '（二）', '工伤认定材料', 'D50', 'S'],
    ['6-03', '（三）', '工伤人员登记变动材料', 'D50', 'S'],
    ['6-04', '（四）', '工伤保险伤残工亡待遇核定材料', 'D50', 'S'],
    ['7-02', '（二）', '并发症登记材料', 'D10', 'S'],
    ['7-03', '（三）', '生育保险待遇核定材料', 'D10', 'S'],
    ['7-04', '（四）', '生育保险付款凭证、会计账簿、会计报表等', 'KJ', 'S'],
    ['7-05', '（五）', '生育保险支付明细表和汇总表', 'D30', 'S'],
    ['7-06', '（六）', '生育保险基金支付年度汇总表', 'Y', 'S'],
    ['8-01', '（一）', '各项社会保险年度统计报表', 'Y', 'S'],
    ['8-02', '（二）', '社会保险数据和分析报告等资料', 'D30', 'S'],
    ['8-03', '（三）', '社会保险业务月/季统计报表', 'D10', 'S'],
    ['8-04', '（四）', '各项社会保险基金年度预决算表', 'KJ', 'S'],
    ['9-01', '（一）', '社会保险稽核材料', 'D30', 'S'],
    ['9-02', '（二）', '社会保险监察材料', 'D30', 'S'],
    ['9-03', '（三）', '社会保险经办机构内部控制材料', 'D30', 'S'],
  ];
  for (const [id, no, name, retention, confidence] of confirmed) {
    it(`row ${id} ${name}: ${retention}, [${confidence}], not provisional`, () => {
      const item = s.itemsById.get(id);
      assert.ok(item, `row ${id} missing`);
      assert.deepEqual([item.no, item.name, item.retention, item.confidence, item.provisional], [no, name, retention, confidence, false]);
      assert.equal(item.category, id.split('-')[0]);
    });
  }

  // Rows the digest infers from the pattern of categories 四、五、七 ([P]): number unseen.
  const inferred: [id: string, retention: string][] = [
    ['3-T1', 'KJ'], ['3-T2', 'D30'], ['3-T3', 'Y'], ['6-T1', 'KJ'], ['6-T2', 'D30'], ['6-T3', 'Y'],
  ];
  for (const [id, retention] of inferred) {
    it(`inferred tail row ${id} is ${retention} with confidence P and no number`, () => {
      const item = s.itemsById.get(id);
      assert.ok(item);
      assert.deepEqual([item.retention, item.confidence, item.no], [retention, 'P', null]);
    });
  }

  it('flags every row the digest marks unknown as provisional, with a reason and a safe period', () => {
    const provisional = s.items.filter((i) => i.provisional).map((i) => i.id).sort();
    assert.deepEqual(provisional, ['1-P1', '2-P1', '2-P2', '2-P3', '2-P4', '2-P5', '2-P6', '3-P1', '3-P2', '3-P3', '3-P4', '4-P1', '4-P2', '4-P3', '6-05', '7-01', '9-04']);
    for (const id of provisional) {
      const item = s.itemsById.get(id);
      assert.ok(item?.provisionalReason && item.provisionalReason.length > 20, `${id} needs a reason`);
      // §1.4: 100年 for 个人权益 rows; 永久 is the only longer choice.
      assert.ok(item.retention === 'D100' || item.retention === 'Y', `${id} has ${item.retention}`);
    }
  });

  it('accounts for every row: confirmed, inferred or provisional, and each one evaluates', () => {
    assert.equal(s.items.length, 56);
    const known = new Set([...confirmed.map((c) => c[0]), ...inferred.map((c) => c[0]), ...s.items.filter((i) => i.provisional).map((i) => i.id)]);
    assert.deepEqual([...known].sort(), s.items.map((i) => i.id).sort());
    for (const item of s.items) {
      const d = evaluate(s, { itemId: item.id, formedOn: '2010-05-03' }, '2200-01-01');
      // Effective provisional status: the row's flag, or any rule it rests on not confirmed (issue #11 §1).
      const unconfirmedKj = (item.accounting ?? []).some((a) => !['S', 'S-en'].includes(s.accountingById.get(a)!.confidence));
      assert.equal(d.provisional, item.provisional || !['S', 'S-en'].includes(item.confidence) || unconfirmedKj, item.id);
      assert.ok(d.citation.includes(item.name), item.id);
    }
  });

  it('leaves no unknown-confidence row unflagged', () => {
    for (const item of s.items) if (item.confidence === '?') assert.equal(item.provisional, true, item.id);
  });

  it('gives every KJ row at least one accounting sub-rule', () => {
    const kj = s.items.filter((i) => i.retention === 'KJ');
    assert.equal(kj.length, 6);
    for (const item of kj) assert.ok((item.accounting ?? []).length > 0, item.id);
    assert.deepEqual(s.itemsById.get('8-04')?.accounting, ['report-annual']);
  });

  it('encodes the 会计档案管理办法 periods', () => {
    const periods = Object.fromEntries(s.accountingRules.map((r) => [r.id, r.retention]));
    assert.equal(periods.voucher, 'D30');
    assert.equal(periods.ledger, 'D30');
    assert.equal(periods['report-periodic'], 'D10');
    assert.equal(periods['report-annual'], 'Y');
    assert.equal(periods['destruction-register'], 'Y');
  });

  it('uses only the codes of the regulation', () => {
    for (const item of s.items) assert.ok((RETENTION_CODES as readonly string[]).includes(item.retention), item.id);
  });
});

describe('loading a malformed schedule', () => {
  const cases: [name: string, mutate: (f: RawFile) => unknown, path: RegExp, message: RegExp][] = [
    ['a duplicate item id', (f) => { f.items[1]!.id = '1-01'; return f; }, /^items\[1\] \(id "1-01"\)\.id$/, /duplicate item id "1-01" \(first used by items\[0\]\)/],
    ['an unknown category', (f) => { f.items[2]!.category = '10'; return f; }, /^items\[2\] \(id "1-03"\)\.category$/, /unknown category "10"/],
    ['a retention code outside the set', (f) => { f.items[3]!.retention = 'D20'; return f; }, /^items\[3\] \(id "1-04"\)\.retention$/, /retention "D20" is not one of Y, D100, D50, D30, D10, KJ/],
    ['a provisional row without a reason', (f) => { delete f.items[0]!.provisionalReason; f.items[0]!.provisional = true; return f; }, /^items\[0\] \(id "1-01"\)\.provisionalReason$/, /must say why/],
    ['a KJ row without a sub-rule', (f) => { const r = f.items.find((i) => i.id === '4-05')!; delete r.accounting; return f; }, /\(id "4-05"\)\.accounting$/, /KJ needs at least one accounting sub-rule/],
    ['a KJ row pointing at an unknown sub-rule', (f) => { f.items.find((i) => i.id === '8-04')!.accounting = ['report-daily']; return f; }, /\(id "8-04"\)\.accounting\[0\]$/, /unknown accounting sub-rule "report-daily"/],
    ['sub-rules on a non-KJ row', (f) => { f.items[0]!.accounting = ['voucher']; return f; }, /^items\[0\] \(id "1-01"\)\.accounting$/, /only allowed with retention KJ, not Y/],
    ['an unknown row that is not provisional', (f) => { const r = f.items.find((i) => i.id === '2-P1')!; r.provisional = false; delete r.provisionalReason; return f; }, /\(id "2-P1"\)\.provisional$/, /confidence \? requires provisional: true/],
    ['two rows with one number in a category', (f) => { f.items[1]!.no = '（一）'; return f; }, /^items\[1\] \(id "1-02"\)\.no$/, /（一） is used twice in category 1/],
    ['an impossible effective date', (f) => { f.effectiveFrom = '2009-02-30'; return f; }, /^effectiveFrom$/, /not a real calendar date/],
    ['a missing name', (f) => { delete f.items[4]!.name; return f; }, /^items\[4\] \(id "1-05"\)\.name$/, /./],
    ['an unknown confidence tag', (f) => { f.items[0]!.confidence = 'sure'; return f; }, /^items\[0\] \(id "1-01"\)\.confidence$/, /confidence "sure" is not one of/],
    ['an unexpected field (typo)', (f) => { f.items[0]!.retension = 'Y'; return f; }, /^items\[0\] \(id "1-01"\)$/, /retension/],
    ['an accounting sub-rule set to KJ', (f) => { f.accountingRules[0]!.retention = 'KJ'; return f; }, /^accountingRules\[0\] \(id "voucher"\)\.retention$/, /concrete period/],
  ];
  for (const [name, mutate, path, message] of cases) {
    it(`rejects ${name} and says where`, () => {
      const issues = issuesOf(mutate(clone()));
      const hit = issues.find((i) => path.test(i.path));
      assert.ok(hit, `no issue at ${path}; got ${JSON.stringify(issues)}`);
      assert.match(hit.message, message);
    });
  }

  it('lists every problem at once, in the error message too', () => {
    const f = clone();
    f.items[0]!.retention = 'forever';
    f.items[5]!.confidence = 'maybe';
    let err: unknown;
    try {
      loadSchedule(f);
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof RuleFileError);
    assert.equal(err.issues.length, 2);
    assert.match(err.message, /items\[0\] \(id "1-01"\)\.retention: retention "forever"/);
    assert.match(err.message, /items\[5\] \(id "1-06"\)\.confidence: confidence "maybe"/);
  });

  it('rejects something that is not a schedule at all', () => {
    assert.ok(issuesOf(null).length > 0);
    assert.ok(issuesOf({ items: [] }).some((i) => i.path === 'id'));
  });
});
