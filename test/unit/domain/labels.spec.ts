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

  it('finds a unit whose label lost its colon: glued to the name, in the next cell, or on the line below', () => {
    // As OCR returns real forms: the colon of a table cell's label is absent or not read.
    const glued = extractUnits('参保单位苏州工业园区恒信精密模具有限公司\n原工作单位哈尔滨松北新材料科技有限公司');
    assert.deepEqual(glued.map((u) => [u.label, u.name]), [['参保单位', '苏州工业园区恒信精密模具有限公司'], ['工作单位', '哈尔滨松北新材料科技有限公司']]);
    assert.deepEqual(extractUnits('用人单位\n昆明滇池园林绿化工程有限公司\n事故经过：').map((u) => u.name), ['昆明滇池园林绿化工程有限公司']);
    assert.deepEqual(extractUnits('用人单位 | 青岛海湾船舶配件厂 | 联系电话 | 0532-1234567').map((u) => u.name), ['青岛海湾船舶配件厂']);
    assert.deepEqual(extractUnits('缴费单位  南宁市邕江纸业有限责任公司   经办人  韦芳').map((u) => u.name), ['南宁市邕江纸业有限责任公司']);
    // The next field glued on is cut off, and the span (the evidence on the page) is the name's.
    const text = '参保单位青岛海湾船舶配件厂联系电话0532-1234567';
    const [u] = extractUnits(text);
    assert.equal(u!.name, '青岛海湾船舶配件厂');
    assert.equal(text.slice(u!.start, u!.end), '青岛海湾船舶配件厂');
    // The name keeps what follows its organisation word when that is still part of it.
    assert.deepEqual(extractUnits('用人单位上海申江物流中心（有限合伙）').map((u) => u.name), ['上海申江物流中心（有限合伙）']);
    assert.deepEqual(extractUnits('参保单位广州市白云的士有限公司\n用人单位上海第一被服厂').map((u) => u.name), ['广州市白云的士有限公司', '上海第一被服厂']);
  });

  it('reads the labels audit and other notices use for the unit', () => {
    assert.deepEqual(extractUnits('被稽核单位：长沙市岳麓区湘江餐饮管理有限公司').map((u) => [u.label, u.name]), [['被稽核单位', '长沙市岳麓区湘江餐饮管理有限公司']]);
    assert.deepEqual(extractUnits('申报单位:成都锦江机械制造有限公司').map((u) => u.name), ['成都锦江机械制造有限公司']);
  });

  it('reads a unit through the OCR errors of its field: a colon read as a semicolon, a misread label character, a stray quote, 厂 read as 三 or 广', () => {
    assert.deepEqual(extractUnits('用人单位；上海申江物流有限公司').map((u) => u.name), ['上海申江物流有限公司']);
    assert.deepEqual(extractUnits('被移核单位成都锦江机械制造有限公司').map((u) => [u.label, u.name]), [['被稽核单位', '成都锦江机械制造有限公司']]);
    assert.deepEqual(extractUnits('缴费单位 ”杭州西湖食品有限公司').map((u) => u.name), ['杭州西湖食品有限公司']);
    assert.deepEqual(extractUnits('单位名称：广州市天河区华南建材三\n缴费单位 青岛海湾船舶配件广').map((u) => u.name), ['广州市天河区华南建材厂', '青岛海湾船舶配件厂']);
    // Four-character labels are too short to be recognised with any character wrong (合作单位 is
    // another word), only with one of the glyphs OCR is known to confuse it with: 工 read as 王 or
    // 土 (an extra stroke), 位 as 住.
    assert.deepEqual(extractUnits('合作单位北京市朝阳区星光科技有限公司'), []);
    assert.deepEqual(extractUnits('原王作单位哈尔滨松北新材料科技有限公司\n缴费单住：南宁市邕江纸业有限责任公司').map((u) => [u.label, u.name]), [['工作单位', '哈尔滨松北新材料科技有限公司'], ['缴费单位', '南宁市邕江纸业有限责任公司']]);
  });

  it('does not take running text after a unit word for a unit without a colon', () => {
    const prose = [
      '用人单位应当自用工之日起三十日内为其职工向社会保险经办机构申请办理社会保险登记。',
      '用人单位与职工签订劳动合同后到社保中心',
      '根据《社会保险稽核办法》，我中心将对你单位社会保险费缴纳情况进行稽核。',
      '参保单位名称变更的，应当自变更之日起三十日内到经办机构办理变更登记',
      '工作单位',
      '用人单位\n请于十五日内提供工资发放记录等材料',
    ];
    for (const text of prose) assert.deepEqual(extractUnits(text), [], text);
  });

  it('finds the insurance types a document is about, most mentioned first', () => {
    assert.deepEqual(extractInsuranceTypes('失业保险金申领登记表 失业人员 领取失业保险金 医疗保险'), ['SY', 'YB']);
    assert.deepEqual(extractInsuranceTypes('工伤认定决定书'), ['GS']);
    assert.deepEqual(extractInsuranceTypes('基本养老保险关系转移接续'), ['YL']);
    assert.deepEqual(extractInsuranceTypes('生育津贴申报'), ['SH']);
    assert.deepEqual(extractInsuranceTypes('会议纪要'), []);
  });
});

describe('labelled names on forms we did not write (issue #12 §2)', () => {
  const insured = (text: string) => extractLabelledNames(text).filter((n) => n.role === 'insured').map((n) => n.name);
  const all = (text: string) => extractLabelledNames(text).map((n) => `${n.role}:${n.name}`);

  it('never glues the next label onto the name (公民身份号码, 社会保障号码, 证件号码 …), with or without a space or colon', () => {
    assert.deepEqual(insured('申请人：曾涛 公民身份号码：110105198703152318'), ['曾涛']);
    assert.deepEqual(insured('申请人：曾涛公民身份号码：110105198703152318'), ['曾涛']);
    assert.deepEqual(insured('被保险人:欧阳明月社会保障号码:110105198703152318'), ['欧阳明月']);
    assert.deepEqual(insured('参保人：孙丽证件号码：110105198703152318'), ['孙丽']);
    assert.deepEqual(insured('户主：王建国身份证号(码)：110105198703152318'), ['王建国']);
    assert.deepEqual(insured('职工姓名：赵敏 性别：女'), ['赵敏']);
  });

  it('cuts at a next label that OCR damaged (公民身分号码, 社会保彰号码)', () => {
    assert.deepEqual(insured('申请人：曾涛公民身分号码：110105198703152318'), ['曾涛']);
    assert.deepEqual(insured('姓名：李建华社会保彰号码'), ['李建华']);
  });

  it('reads labels glued to the value without a colon, table cells, spaced-out labels and values on the next line', () => {
    assert.deepEqual(insured('姓名张伟性别男'), ['张伟']);
    assert.deepEqual(insured('姓 名 | 陈晓燕 | 性 别 | 女'), ['陈晓燕']);
    assert.deepEqual(insured('姓　名　刘洋　　公民身份号码　110105198703152318'), ['刘洋']);
    assert.deepEqual(insured('被保险人\n黄海燕\n公民身份号码\n110105198703152318'), ['黄海燕']);
  });

  it('accepts a glued name whose 姓 OCR misread when the next label follows at once; knows 受伤害职工 (工伤认定申请表)', () => {
    assert.deepEqual(insured('姓名突静性别将民族汉'), ['突静']);
    assert.deepEqual(insured('受伤害职工\n秦佳怡\n身份证号\n430104196801022583'), ['秦佳怡']);
  });

  it('a label alone on its line is a form field: the next line is its value whatever the surname (水, 仝, 逯 are not on our list)', () => {
    assert.deepEqual(insured('被保险人\n水国庆\n社会保障号码\n230109196603217616'), ['水国庆']);
    assert.deepEqual(insured('申请人\n仝玉兰\n公民身份号码\n110105198703152318'), ['仝玉兰']);
    assert.deepEqual(insured('生育津贴申领审核表\n  姓名  \n逯晨\n性别'), ['逯晨']);
    // In running text, or with more on the label's line, the surname still has to look like one.
    assert.deepEqual(insured('经审核申请人\n水国庆'), []);
    assert.deepEqual(insured('申请人 签字\n水国庆'), []);
    // A value line that goes on (a sentence, not a field) is not a name either.
    assert.deepEqual(insured('申请人\n水国庆同志于二〇一九年十二月申请'), []);
    assert.deepEqual(insured('申请人\n星光科技公司\n统一社会信用代码'), [], 'five or more characters on their own are a unit, not a person');
  });

  it('reads a label with one character misread (申请人姓名 read 申请人夫名, 参保人 read 参保火), and only where a name follows', () => {
    assert.deepEqual(insured('申请人夫名何建平证件号码 37020319961220501'), ['何建平']);
    assert.deepEqual(insured('被保险人姓各：李建华 性别：男'), ['李建华']);
    assert.deepEqual(insured('参保人员娃名\n刘洋\n公民身份号码'), ['刘洋']);
    // A three-character label only before a colon or a cell border (参保人 read 参保火).
    assert.deepEqual(insured('参保火：褚俊杰公民身份号码：450103198709206220'), ['褚俊杰']);
    assert.deepEqual(insured('参保火褚俊杰公民身份号码'), []);
    assert.deepEqual(insured('申请日：2023年3月1日\n参保地：杭州市'), []);
    // Not a label, and no name after it: nothing.
    assert.deepEqual(insured('申请人签名：\n日期：2023年3月1日'), []);
    assert.deepEqual(insured('申请人夫名为何不同'), []);
    // Correct labels are read as before, once.
    assert.deepEqual(insured('申请人姓名周德福证件号码 320506198803205661'), ['周德福']);
  });

  it('knows the staff and officials of real forms (经办人, 复核人, 负责人, 法定代表人 …)', () => {
    assert.deepEqual(all('法定代表人：周强 经办人:吴芳 复核人：郑杰'), ['clerk:周强', 'clerk:吴芳', 'clerk:郑杰']);
  });

  it('takes nothing from running text that merely uses a label word', () => {
    assert.deepEqual(all('经审核，申请人提交的材料齐全，符合法定形式，予以受理。'), []);
    assert.deepEqual(all('社会保险参保人员登记表'), []);
    assert.deepEqual(all('参保人员基本信息登记表'), []);
  });
});
