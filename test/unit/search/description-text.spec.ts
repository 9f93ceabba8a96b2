import assert from 'node:assert/strict';
import { metadataText } from '../../../src/services/search/types';

describe('the description a hit shows and its words are searched in', () => {
  const d = {
    title: '社会保险稽核通知书', documentType: '稽核通知书', category: '9', insurance: ['YL', 'GS'], documentDate: '2014-07-16',
    archivalCode: 'Z001-SB·2014-D30-ZH·JH01-0001', fonds: 'Z001', year: 2014,
    persons: [{ name: '张伟', idNumber: null }], units: [{ name: '长沙市岳麓区湘江餐饮管理有限公司', creditCode: null }],
  };

  it('reads as words a person types: the category and 险种 by name, not by code', () => {
    const lines = metadataText({ ...d, categoryName: '社会保险稽核类' }).split('\n');
    assert.ok(lines.includes('社会保险稽核类'), lines.join(' | '));
    assert.ok(lines.includes('养老保险 工伤保险'), lines.join(' | '));
    assert.ok(!lines.includes('9') && !lines.some((l) => /\bYL\b/.test(l)), 'no bare codes');
    assert.ok(lines.includes('长沙市岳麓区湘江餐饮管理有限公司') && lines.includes('张伟'));
  });

  it('falls back to the category code when the name is not known (documents indexed without it)', () => {
    assert.ok(metadataText(d).split('\n').includes('9'));
  });
});
