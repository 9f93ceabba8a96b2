import assert from 'node:assert/strict';
import { extractDocNumbers, formatDocNumber, parseDocNumber } from '../../../src/domain/doc-number';

describe('文号', () => {
  const table: [input: string, normalized: string, issuer: string, year: number, serial: number][] = [
    ['京人社工伤认字〔2019〕123号', '京人社工伤认字〔2019〕123号', '京人社工伤认字', 2019, 123],
    ['人社部发[2019]12号', '人社部发〔2019〕12号', '人社部发', 2019, 12],
    ['人社部发［2019］12号', '人社部发〔2019〕12号', '人社部发', 2019, 12],
    ['京人社工伤认字（2019）123号', '京人社工伤认字〔2019〕123号', '京人社工伤认字', 2019, 123],
    ['京人社工伤认字(2019)123号', '京人社工伤认字〔2019〕123号', '京人社工伤认字', 2019, 123],
    ['渝人社发【2016】132号', '渝人社发〔2016〕132号', '渝人社发', 2016, 132],
    ['渝人社发〔2016〕第132号', '渝人社发〔2016〕132号', '渝人社发', 2016, 132],
    ['档办发〔2017〕3号', '档办发〔2017〕3号', '档办发', 2017, 3],
    ['国发〔2019〕 007 号', '国发〔2019〕7号', '国发', 2019, 7],
    ['京人社工伤认字 〔 ２０１９ 〕 １２３ 号', '京人社工伤认字〔2019〕123号', '京人社工伤认字', 2019, 123],
  ];
  for (const [input, normalized, issuer, year, serial] of table) {
    it(`normalises ${input}`, () => {
      const r = parseDocNumber(input);
      assert.deepEqual(r, { issuer, year, serial, normalized });
    });
  }

  for (const bad of ['人社部发2019年12号', '人社部发〔2019〕号', '〔2019〕12号', '人社部发〔19〕12号', '人社部发〔2019〕0号', '人社部发〔2019〕12']) {
    it(`refuses ${bad}`, () => assert.equal(parseDocNumber(bad), null));
  }

  it('formats with 〔〕', () => assert.equal(formatDocNumber('人社部发', 2019, 12), '人社部发〔2019〕12号'));

  describe('extraction', () => {
    it('finds 文号 in prose and cuts lead-in words off the issuer', () => {
      const text = '根据京人社工伤认字（2019）123号决定，并按照人社部发[2019]12号文件执行。';
      const found = extractDocNumbers(text);
      assert.deepEqual(found.map((d) => d.normalized), ['京人社工伤认字〔2019〕123号', '人社部发〔2019〕12号']);
      for (const d of found) assert.equal(text.slice(d.start, d.end), d.raw);
      assert.equal(found[0]?.raw, '京人社工伤认字（2019）123号');
    });

    it('reads a 文号 cited after a title', () => {
      const [d] = extractDocNumbers('《关于印发〈社会保险业务档案管理规定〉的通知》（人社部发〔2009〕99号）');
      assert.equal(d?.normalized, '人社部发〔2009〕99号');
    });

    it('keeps issuer codes that contain common characters', () => {
      assert.deepEqual(extractDocNumbers('按照京经信委发〔2019〕1号').map((d) => d.issuer), ['京经信委发']);
      assert.deepEqual(extractDocNumbers('转发人社厅发〔2018〕5号的通知').map((d) => d.issuer), ['人社厅发']);
    });

    it('finds nothing in text without 文号', () => {
      assert.deepEqual(extractDocNumbers('参保人员于2019年12月到窗口办理（共12页）'), []);
    });
  });
});
