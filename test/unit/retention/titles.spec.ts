import assert from 'node:assert/strict';
import raw from '../../../retention-rules/rules/title-patterns.v1.json';
import { currentSchedule, loadTitlePatterns, matchTitle, normaliseTitle, RuleFileError } from '../../../retention-rules/index';

describe('title patterns', () => {
  it('cover every row of the schedule with at least two patterns', () => {
    const counts = new Map<string, number>();
    for (const p of raw.patterns) counts.set(p.itemId, (counts.get(p.itemId) ?? 0) + 1);
    for (const item of currentSchedule().items) assert.ok((counts.get(item.id) ?? 0) >= 2, `${item.id} has ${counts.get(item.id) ?? 0}`);
  });

  const table: [title: string, best: string][] = [
    ['北京市社会保险参保人员登记表', '1-02'],
    ['参 保 人 员 登 记 表', '1-02'], // OCR spaces between characters
    ['城镇职工基本养老保险关系转移接续申请表', '1-P1'],
    ['认定工伤决定书', '6-02'],
    ['京人社工伤认字〔2019〕123号 工伤认定决定书', '6-02'],
    ['失业保险金申领登记表', '5-03'],
    ['失业保险关系转移联系函', '5-02'],
    ['生育津贴申报表', '7-03'],
    ['社会保险稽核通知书', '9-01'],
    ['社会保险稽核告知书', '9-01'],
    ['养老保险个人账户对账单', '1-03'],
    ['一次性工亡补助金申报核定表', '6-04'],
    ['２０１８年医疗保险基金支付年度汇总表', '4-07'],
    ['社会保险业务统计月报（2018年3月）', '8-03'],
    ['参保缴费证明', '2-P6'],
    ['社会保险费补缴申请表', '2-P3'],
    ['工伤事故备案登记表', '6-01'],
    ['失业人员名单', '5-01'],
    ['计划生育手术并发症申报表', '7-02'],
  ];
  for (const [title, best] of table) {
    it(`ranks ${best} first for ${title}`, () => {
      const [first] = matchTitle(title);
      assert.equal(first?.itemId, best, JSON.stringify(matchTitle(title, { limit: 3 })));
      assert.ok(first.score > 0 && first.score <= 1);
    });
  }

  it('scores several matching patterns above one', () => {
    const one = matchTitle('缴费证明').find((c) => c.itemId === '2-P6');
    const two = matchTitle('参保缴费证明').find((c) => c.itemId === '2-P6');
    assert.ok(one && two && two.score > one.score);
    assert.deepEqual(two.matched.sort(), ['参保缴费证明', '缴费证明'].sort());
  });

  it('reports what each pattern found: the words for a substring, the matched text for a regular expression', () => {
    const two = matchTitle('参保缴费证明').find((c) => c.itemId === '2-P6')!;
    assert.deepEqual([...two.found].sort(), ['参保缴费证明', '缴费证明'].sort());
    const reg = matchTitle('关于 单位 信息 变更 登记 的申请').find((c) => c.itemId === '1-01')!;
    assert.equal(reg.matched.length, reg.found.length);
    assert.equal(reg.found[reg.matched.findIndex((m) => m.startsWith('/'))], '单位信息变更登记');
  });

  it('returns nothing for an unrelated title', () => {
    assert.deepEqual(matchTitle('会议通知：关于召开年度工作会议的通知'), []);
  });

  it('respects limit and minScore', () => {
    assert.equal(matchTitle('工伤认定决定书 工伤医疗费用 伤残津贴', { limit: 1 }).length, 1);
    assert.ok(matchTitle('工伤认定决定书 工伤医疗费用 伤残津贴', { minScore: 0.9 }).every((c) => c.score >= 0.9));
  });

  it('normalises width, spaces and case', () => {
    assert.equal(normaliseTitle('２０１９ 年 Ｘ（一）'), '2019年x(一)');
  });

  describe('pattern file validation', () => {
    type RawPatterns = { [key: string]: any; patterns: Record<string, unknown>[] };
    const bad = (mutate: (f: RawPatterns) => void): RuleFileError => {
      const f = structuredClone(raw) as RawPatterns;
      mutate(f);
      try {
        loadTitlePatterns(f, currentSchedule());
      } catch (e) {
        assert.ok(e instanceof RuleFileError);
        return e;
      }
      assert.fail('accepted a bad pattern file');
    };

    it('rejects \\b word boundaries', () => {
      const e = bad((f) => { f.patterns[0] = { itemId: '1-01', regex: '\\b参保\\b', weight: 0.5 }; });
      assert.match(e.message, /patterns\[0\] \(item "1-01"\)\.regex: regex uses \\b word boundaries/);
    });
    it('rejects an unknown item id', () => {
      const e = bad((f) => { f.patterns[1]!.itemId = '99-01'; });
      assert.match(e.message, /patterns\[1\] \(item "99-01"\)\.itemId: unknown item id/);
    });
    it('rejects a regex that does not compile', () => {
      const e = bad((f) => { f.patterns[2] = { itemId: '1-01', regex: '(参保', weight: 0.5 }; });
      assert.match(e.message, /does not compile/);
    });
    it('rejects a pattern with both contains and regex', () => {
      const e = bad((f) => { f.patterns[0] = { itemId: '1-01', contains: '参保', regex: '参保', weight: 0.5 }; });
      assert.match(e.message, /exactly one of "contains" or "regex"/);
    });
    it('rejects a weight above 1', () => {
      const e = bad((f) => { f.patterns[0]!.weight = 2; });
      assert.match(e.message, /patterns\[0\]\.weight: weight must be ≤ 1/);
    });
    it('rejects patterns written for another schedule', () => {
      const e = bad((f) => { f.schedule = '3hao-ling-2009.v0'; });
      assert.match(e.message, /schedule: patterns are for "3hao-ling-2009.v0"/);
    });
  });
});
