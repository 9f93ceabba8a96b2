import assert from 'node:assert/strict';
import { extractInsuranceTypes, extractLabelledNames, extractUnits } from '../../../src/domain/labels';

describe('labelled fields in OCR text: names, units, 险种', () => {
  it('tells the insured person apart from the clerks', () => {
    const text = '工伤认定申请表\n申请人：张伟　性别：男\n受伤职工姓名：张伟\n经办人：王小红  审核人：李强\n负责人:赵 敏';
    const names = extractLabelledNames(text);
    const insured = names.filter((n) => n.role === 'insured').map((n) => n.name);
    const clerks = names.filter((n) => n.role === 'clerk').map((n) => n.name);
    assert.deepEqual([...new Set(insured)], ['张伟']);
    assert.deepEqual(clerks.sort(), ['李强', '王小红', '赵敏'].sort());
    assert.ok(names.every((n) => n.start >= 0 && n.end > n.start));
  });

  it('does not take the next label or punctuation as a name', () => {
    const names = extractLabelledNames('姓名：性别：男\n姓名: 欧阳明月，');
    assert.deepEqual(names.map((n) => n.name), ['欧阳明月']);
  });

  it('reads unit names after their labels, up to the end of the field', () => {
    const units = extractUnits('单位名称：北京市朝阳区星光科技有限公司　统一社会信用代码：91110105MA01ABCD1X\n用人单位:上海申江物流中心（有限合伙）');
    assert.deepEqual(units.map((u) => u.name), ['北京市朝阳区星光科技有限公司', '上海申江物流中心（有限合伙）']);
  });

  it('finds the insurance types a document is about, most mentioned first', () => {
    assert.deepEqual(extractInsuranceTypes('失业保险金申领登记表 失业人员 领取失业保险金 医疗保险'), ['SY', 'YB']);
    assert.deepEqual(extractInsuranceTypes('工伤认定决定书'), ['GS']);
    assert.deepEqual(extractInsuranceTypes('基本养老保险关系转移接续'), ['YL']);
    assert.deepEqual(extractInsuranceTypes('生育津贴申报'), ['SH']);
    assert.deepEqual(extractInsuranceTypes('会议纪要'), []);
  });
});
