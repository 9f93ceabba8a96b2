import assert from 'node:assert/strict';
import { featurize, NaiveBayes } from '../../../src/services/filing/classifier';

const key = Buffer.alloc(32, 7);

describe('learned document-type classifier (naive Bayes over keyed Chinese bigrams)', () => {
  it('featurizes Chinese without word boundaries, and the key changes the hashes', () => {
    const a = featurize('工伤认定决定书', key);
    assert.equal([...a.values()].reduce((x, y) => x + y, 0), 6, 'six bigrams in seven characters');
    const b = featurize('工伤认定决定书', Buffer.alloc(32, 8));
    assert.notDeepEqual([...a.keys()].sort(), [...b.keys()].sort());
  });

  it('says nothing until it has seen two kinds of document', () => {
    const nb = new NaiveBayes();
    nb.add({ label: '6.2', features: featurize('工伤认定决定书 认定为工伤', key) });
    assert.equal(nb.predict(featurize('工伤认定', key)), null);
  });

  it('learns from corrections and gives a confidence', () => {
    const nb = new NaiveBayes();
    const train: Array<[string, string]> = [
      ['6.2', '工伤认定决定书 经调查核实 认定为工伤 用人单位 职工'],
      ['6.2', '认定工伤决定书 受伤害职工 工伤认定申请 予以认定'],
      ['5.3', '失业保险金申领登记表 失业人员 领取失业保险金 申领'],
      ['5.3', '失业保险待遇核定表 失业保险金 领取期限 核定'],
      ['1.2', '社会保险参保人员登记表 参保登记 个人基本信息 参保日期'],
      ['1.2', '参保人员信息变更登记表 参保 登记 变更'],
    ];
    for (const [label, text] of train) nb.add({ label, features: featurize(text, key) });
    const p = nb.predict(featurize('关于张伟同志认定为工伤的决定书，受伤害职工', key))!;
    assert.equal(p.label, '6.2');
    assert.ok(p.confidence > 0.8, `confidence ${p.confidence}`);
    const q = nb.predict(featurize('失业人员领取失业保险金', key))!;
    assert.equal(q.label, '5.3');
    const r = nb.predict(featurize('天气晴朗', key))!;
    assert.ok(r.confidence < 0.8, 'unrelated text is not confidently classified');
  });
});
