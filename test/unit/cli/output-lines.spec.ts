import assert from 'node:assert/strict';
import { whereFound } from '../../../src/cli/commands/search-run';
import { descriptionLines, statusLines } from '../../../src/cli/commands/ingest';

describe('archive search: where a hit was found', () => {
  it('names page 0 as the description (著录), never as a page', () => {
    assert.equal(whereFound([0]), '著录 description');
    assert.equal(whereFound([0, 1]), '著录 description；第 1 页 page');
    assert.equal(whereFound([2, 5]), '第 2,5 页 pages');
    assert.equal(whereFound([]), '');
  });
});

describe('archive show: the description (著录)', () => {
  it('prints title, type, schedule row, retention with its due date, date, persons and units', () => {
    const lines = descriptionLines({
      title: '社会保障卡申领登记表',
      metadata: { documentDate: '2013-12-24', docNumber: null, persons: [{ name: '郑文', idNumber: '230109********0721' }], units: [{ name: '青岛海湾船舶配件厂' }] },
      classification: { documentType: '社会保障卡申领', item: '1-05', itemName: '社会保险卡(证、手册)管理材料', categoryName: '社会保险管理类', retention: 'D50', dueOn: '2064-01-01', needsReview: false },
    });
    assert.deepEqual(lines, [
      '题名 title: 社会保障卡申领登记表',
      '文件类型 type: 社会保障卡申领',
      '类目 schedule row: 1-05 社会保险卡(证、手册)管理材料（社会保险管理类）',
      '保管期限 retention: 50年 D50，到期鉴定 due 2064-01-01',
      '形成日期 date: 2013-12-24',
      '人员 persons: 郑文 230109********0721',
      '单位 units: 青岛海湾船舶配件厂',
    ]);
  });

  it('says why an item waits for review, with its ranked candidates, and leaves out what is unknown', () => {
    const lines = descriptionLines({
      title: null,
      metadata: { persons: [] },
      classification: { needsReview: true, reason: 'no rule or learned example matches this document', candidates: [{ item: '9-01', score: 0.62, by: 'body' }, { item: '6-02', score: 0.3, by: 'classifier' }] },
    });
    assert.deepEqual(lines, ['需审核 review: no rule or learned example matches this document', '候选 candidates: 9-01 0.62（body），6-02 0.30（classifier）']);
  });
});

describe('archive show: what a failed or held item needs', () => {
  it('says why an item failed, in Chinese and English', () => {
    assert.deepEqual(statusLines({ id: 'x1', status: 'failed', reason: 'The image could not be decoded (truncated or damaged).', reasonZh: '文件已损坏或不完整，无法读取' }), [
      '失败原因 reason: 文件已损坏或不完整，无法读取 / The image could not be decoded (truncated or damaged).',
    ]);
  });
  it('tells how a scan held by quality control goes on', () => {
    assert.match(statusLines({ id: 'x2', status: 'qc_hold' })[0]!, /archive qc accept x2 --reason/);
  });
  it('says nothing more for a filed item', () => {
    assert.deepEqual(statusLines({ id: 'x3', status: 'filed' }), []);
  });
});
