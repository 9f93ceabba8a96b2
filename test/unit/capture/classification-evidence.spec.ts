import assert from 'node:assert/strict';
import { fuzzyMatchTitle, substringDistance } from '../../../retention-rules';
import { ruleOpinion } from '../../../src/services/filing/classification';

describe('classification weighs title over body, and forgives a misread title (issue #12 §2)', () => {
  it('an unambiguous title decides the row; a body cue (缴费基数) does not override it', () => {
    const text = ['社会保险参保人员基本信息登记表', '姓名：张伟 公民身份号码：110105198703152318', '缴费基数：5000元', '本人缴费基数按上年度月平均工资核定'].join('\n');
    const o = ruleOpinion('社会保险参保人员基本信息登记表', text);
    assert.equal(o.top?.itemId, '1-02');
    assert.ok(o.top!.score >= 0.8);
    assert.ok(o.candidates.some((c) => c.itemId === '2-P1' && c.via === 'body'), 'the body cue stays a ranked candidate');
  });

  it('a title with one misread character (稽 → 入 / 稿) still finds 社会保险稽核材料, confirmed by the body', () => {
    for (const misread of ['社会保险入核通知书', '社会保险稿核通知书']) {
      const o = ruleOpinion(misread, [misread, '被稽核单位：星光科技有限公司', '稽核事项：缴费基数申报情况', '请于十五日内配合稽核'].join('\n'));
      assert.equal(o.top?.itemId, '9-01', misread);
      assert.equal(o.top?.via, 'title-fuzzy');
      assert.ok(o.top!.score >= 0.75, String(o.top!.score));
    }
  });

  it('without a title the body decides, below the certainty of a title, with ranked candidates', () => {
    const o = ruleOpinion(null, ['被稽核单位：星光科技有限公司', '稽核事项：缴费情况', '请配合稽核工作', '稽核人员：王芳'].join('\n'));
    assert.equal(o.top?.itemId, '9-01');
    assert.equal(o.top?.via, 'body');
    assert.ok(o.top!.score < 0.75, 'goes to review');
    const inj = ruleOpinion(null, ['申请人：李娜', '申请工伤认定，事故经过如下', '请予以工伤认定'].join('\n'));
    assert.equal(inj.top?.itemId, '6-02');
  });

  it('names the document type from the words the title holds, never a pattern or a body cue (文件类型)', () => {
    // 1-02's title pattern is a regular expression: its source is evidence, not a name.
    const reg = ruleOpinion('社会保险参保人员基本信息登记表', ['社会保险参保人员基本信息登记表', '姓名：张伟', '民族：汉'].join('\n'));
    assert.equal(reg.top?.itemId, '1-02');
    assert.equal(reg.top?.found[0], '参保人员基本信息登记表');
    assert.ok(reg.top!.matched.some((m) => m.startsWith('/')), 'the evidence still shows the pattern');
    // A misread title is named as the pattern reads, not as OCR misread it.
    const fuzzy = ruleOpinion('社会保险入核通知书', ['社会保险入核通知书', '请于十五日内配合稽核'].join('\n'));
    assert.equal(fuzzy.top?.via, 'title-fuzzy');
    assert.equal(fuzzy.top?.found[0], '稽核通知书');
    // Decided by body cues alone (稽核 …): no name; the schedule row's name stands in.
    const body = ruleOpinion(null, ['被稽核单位：星光科技有限公司', '稽核事项：缴费情况', '请配合稽核工作'].join('\n'));
    assert.equal(body.top?.via, 'body');
    assert.deepEqual(body.top?.found, []);
    for (const o of [reg, fuzzy, body]) for (const c of o.candidates) for (const f of c.found) assert.ok(!/^[/~]|[|()\\.{}]/.test(f), `a name, not a pattern: ${f}`);
  });

  it('fuzzy matching needs the distinctive characters: 社会保险X does not match 社会保险卡', () => {
    assert.deepEqual(fuzzyMatchTitle('社会保险入核通知书').map((c) => c.itemId), ['9-01']);
    assert.equal(fuzzyMatchTitle('社会保险登记表').some((c) => c.itemId === '1-05'), false);
    assert.equal(substringDistance([...'稽核通知书'], [...'关于社会保险入核通知书的'], 1), 1);
    assert.equal(substringDistance([...'稽核通知书'], [...'毫不相干的文字'], 1), 2);
  });
});
