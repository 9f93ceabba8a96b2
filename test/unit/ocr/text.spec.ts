import assert from 'node:assert/strict';
import { normalizeOcrText } from '../../../ocr/index';

describe('ocr normalizeOcrText', () => {
  const cases: Array<[string, string, string]> = [
    ['spaces between Han characters', '参 保 人 员 登 记 表', '参保人员登记表'],
    ['ASCII colon next to Han becomes full-width, spaces around it go', '姓名 : 张伟', '姓名：张伟'],
    ['ideographic space between Han characters', '单位\u3000名称', '单位名称'],
    ['full-width digits and letters become half-width', '１１０１０１ＡＢ', '110101AB'],
    ['space between digits is kept (not Chinese)', '2024 03', '2024 03'],
    ['Latin words keep their single space', 'Social  Insurance', 'Social Insurance'],
    ['comma and parentheses around Chinese', '社保 ( 养老 ) , 医保', '社保（养老），医保'],
    ['decimal point inside numbers stays', '缴费基数6520.50元', '缴费基数6520.50元'],
    ['blank lines collapse, ends trimmed', '  第一行 \n\n\n\n第二行  ', '第一行\n\n第二行'],
    ['CRLF', '甲\r\n乙', '甲\n乙'],
  ];
  for (const [what, input, want] of cases) {
    it(what, () => assert.equal(normalizeOcrText(input), want));
  }
});
