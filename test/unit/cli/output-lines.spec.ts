import assert from 'node:assert/strict';
import { whereFound } from '../../../src/cli/commands/search-run';
import { descriptionLines, nameOnFileLines, statusLines } from '../../../src/cli/commands/ingest';

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

describe('archive show: the names the person\'s and unit\'s files give (review)', () => {
  const P1 = '110105197505054560';
  const P2 = '320506199109141781';
  const U = '91370203MA3C8K7Q1X';
  const view = (persons: Array<{ name: string | null; idNumber: string | null }>, units: Array<{ name: string | null; creditCode: string | null }>, namesOnFile: Array<{ idNumber: string; name: string }>, unitNamesOnFile: Array<{ creditCode: string; name: string }>) =>
    ({ id: 'ITEM', metadata: { persons, units }, namesOnFile, unitNamesOnFile });

  it('says nothing where the files agree with the scan, or have no name', () => {
    assert.deepEqual(nameOnFileLines(view([{ name: '窦静', idNumber: P1 }], [], [{ idNumber: P1, name: '窦静' }], [])), []);
    assert.deepEqual(nameOnFileLines(view([{ name: '窒静', idNumber: P1 }], [], [], [])), []);
  });

  it('names what differs; the command keeps every other person and the units as they are', () => {
    const lines = nameOnFileLines(view([{ name: '窒静', idNumber: P1 }, { name: '周德福', idNumber: P2 }], [{ name: '青岛海湾船舶配件厂', creditCode: U }], [{ idNumber: P1, name: '窦静' }], []));
    assert.deepEqual(lines, [
      `档案中的姓名 name on file: ${P1} 窦静（本件识别为 read here as 窒静）`,
      `  采用 take it: archive correct ITEM --person ${P1}:窦静 --person ${P2}:周德福`,
    ]);
  });

  it('a unit by its credit code, quoted for the shell where its name needs it', () => {
    const lines = nameOnFileLines(view([], [{ name: '青岛海湾船舶配件三', creditCode: U }, { name: '北京星光(集团)工会', creditCode: null }], [], [{ creditCode: U, name: '青岛海湾船舶配件厂' }]));
    assert.deepEqual(lines, [
      `单位档案中的名称 unit name on file: ${U} 青岛海湾船舶配件厂（本件识别为 read here as 青岛海湾船舶配件三）`,
      `  采用 take it: archive correct ITEM --unit ${U}:青岛海湾船舶配件厂 --unit '北京星光(集团)工会'`,
    ]);
  });

  it('a masked ID number (no personal.full) is named but not offered as a command', () => {
    const masked = '110105********4560';
    assert.deepEqual(nameOnFileLines(view([{ name: '窒静', idNumber: masked }], [], [{ idNumber: masked, name: '窦静' }], [])), [`档案中的姓名 name on file: ${masked} 窦静（本件识别为 read here as 窒静）`]);
  });
});
