import assert from 'node:assert/strict';
import { idCheckDigit, idLinesToReread } from '../../../src/domain/id-number';
import { extractMetadata, type PageText } from '../../../src/services/filing/extraction';
import { agreedDate, linesToReread, repairDateGlyphs, repairYearGlyphs } from '../../../src/domain/date-lines';

function validId(first17: string): string {
  return first17 + idCheckDigit(first17);
}

function page(n: number, lines: string[]): PageText {
  return {
    n,
    text: lines.join('\n'),
    confidence: 90,
    lines: lines.map((t, i) => ({ text: t, bbox: { x0: 10, y0: 40 * i, x1: 900, y1: 40 * i + 30 }, confidence: 92 })),
  };
}

describe('metadata extraction from OCR pages', () => {
  const zhang = validId('11010519870315231');
  const li = validId('32010219900101002');

  // DA/T 22-2015 件内排序: 正文 first, then its 附件; the item's date (归档文件目录 日期) is the
  // 正文's. A page that opens with a title of its own starts an attachment.
  it('dates an item with attachments by its 正文, not by the attachment behind it', () => {
    const md = extractMetadata([
      page(1, ['工伤认定决定书', `受伤职工姓名：张伟 公民身份号码：${zhang}`, '经调查核实，认定为工伤。', '决定日期：2019年5月20日']),
      page(2, ['工伤认定调查笔录', '被调查人：张伟', '事故经过：搬运货物时摔伤。', '调查日期：2019年5月10日']),
    ]);
    assert.equal(md.documentDate, '2019-05-20');
    assert.equal(md.documentDateEvidence!.page, 1);
  });
  it('a 正文 running over two pages is dated by its 落款 on the second', () => {
    const md = extractMetadata([
      page(1, ['社会保险稽核通知书', '被稽核单位：北京市朝阳区星光科技有限公司', '根据《社会保险稽核办法》，定于2023年3月1日起对你单位进行稽核。']),
      page(2, ['请于收到本通知之日起十日内备齐下列材料。', '北京市朝阳区社会保险事业管理中心', '2023年2月9日']),
    ]);
    assert.equal(md.documentDate, '2023-02-09');
  });
  it('an attachment that only repeats the item\'s own title is still the 正文 (a continued form)', () => {
    const md = extractMetadata([
      page(1, ['参保人员增减表', '申报日期：2021年1月15日', `张伟 ${zhang} 增员`]),
      page(2, ['参保人员增减表', `李娜 ${li} 减员`, '填报日期：2021年1月18日']),
    ]);
    assert.equal(md.documentDate, '2021-01-18');
  });

  it('pairs names with their ID numbers, keeps clerks apart, finds unit, 文号, date, amount, 险种', () => {
    const md = extractMetadata([
      page(1, [
        '工伤认定决定书',
        '京人社工伤认字〔2019〕123号',
        `受伤职工姓名：张伟\u3000公民身份号码：${zhang}`,
        '用人单位：北京市朝阳区星光科技有限公司',
        '一次性伤残补助金 合计：12,345.50元',
      ]),
      page(2, [`申请人：李娜 身份证号：${li}`, '经办人：王小红\u3000审核人：赵敏', '决定日期：2019年5月20日']),
    ]);
    assert.equal(md.title, '工伤认定决定书');
    assert.deepEqual(md.persons.map((p) => [p.name, p.idNumber]), [['张伟', zhang], ['李娜', li]]);
    assert.deepEqual(md.clerks.map((c) => c.name).sort(), ['王小红', '赵敏'].sort());
    assert.equal(md.units[0]!.name, '北京市朝阳区星光科技有限公司');
    assert.equal(md.docNumber, '京人社工伤认字〔2019〕123号');
    assert.equal(md.documentDate, '2019-05-20');
    assert.equal(md.documentDateEvidence!.page, 2);
    assert.deepEqual(md.amounts.map((a) => a.value), [12345.5]);
    assert.equal(md.insuranceTypes[0], 'GS');
    const idEv = md.persons[0]!.evidence.find((e) => e.raw === zhang)!;
    assert.equal(idEv.page, 1);
    assert.deepEqual(idEv.bbox, { x0: 10, y0: 80, x1: 900, y1: 110 });
    assert.ok(idEv.confidence > 0.8);
  });

  it('never invents an ID number: a misread number that no single repair validates is dropped', () => {
    const broken = zhang.slice(0, 5) + 'OO' + zhang.slice(7); // two confusions: ambiguous
    const md = extractMetadata([page(1, [`姓名：张伟 公民身份号码：${broken}`])]);
    assert.equal(md.persons[0]!.idNumber === null || md.persons[0]!.idNumber === zhang, true);
    assert.ok(!md.persons.some((p) => p.idNumber && p.idNumber !== zhang));
  });

  it('reads dates whose closing 日 OCR got wrong, without shifting offsets', () => {
    assert.equal(repairDateGlyphs('核定日期：2010年2月8有日'), '核定日期：2010年2月8日日');
    assert.equal(repairDateGlyphs('二〇一九年五月二十目'), '二〇一九年五月二十日');
    assert.equal(repairDateGlyphs('项目名称'), '项目名称');
    const md = extractMetadata([page(1, ['伤残津贴核定表', '核定日期：2010年2月8有日'])]);
    assert.equal(md.documentDate, '2010-02-08');
  });

  it('reads the other glyphs OCR makes of 〇 inside a numeral year, one character for one', () => {
    for (const [read, year] of [['二O二一', '二〇二一'], ['二@一八', '二〇一八'], ['二口二一', '二〇二一'], ['二o一O', '二〇一〇'], ['二D一四', '二〇一四']]) {
      const text = `核定日期：${read}年一月十五日`;
      const out = repairYearGlyphs(text);
      assert.equal(out, `核定日期：${year}年一月十五日`);
      assert.equal(out.length, text.length);
    }
    // Only a run that can be a year (starts 一/二, four characters, right before 年) is touched.
    assert.equal(repairYearGlyphs('型号DO2O年'), '型号DO2O年');
    assert.equal(repairYearGlyphs('三O二一年'), '三O二一年');
  });

  it('one 〇 read as two glyphs (OO, O〇, DO) is merged when every merge gives the same year', () => {
    assert.equal(repairYearGlyphs('日期：二O〇一八年三月五日'), '日期： 二〇一八年三月五日');
    assert.equal(repairYearGlyphs('日期：二OO二O〇年五月四日'), '日期：  二〇二〇年五月四日');
    assert.equal(repairYearGlyphs('日期：二DO二O年五月四日'), '日期： 二〇二〇年五月四日');
    // No zero pair to merge: a fifth numeral is not a doubled 〇, and we do not guess which to drop.
    assert.equal(repairYearGlyphs('日期：二〇一七七年'), '日期：二〇一七七年');
    // A genuine 〇〇 in a four-character year stays two zeros.
    assert.equal(repairYearGlyphs('二〇〇二年'), '二〇〇二年');
  });

  it('a year that needs a 〇 repair is a candidate, not a date, until a second reading agrees', () => {
    // Read from a noisy page for 二〇二三年二月九日: the repair alone would file 2013-01-09.
    const alone = extractMetadata([page(1, ['参保单位登记表', '参保日期，二@一三年一月九目'])]);
    assert.equal(alone.documentDate, null);
    const p = page(1, ['伤残津贴核定表', '核定日期：二O〇一八年三月五日']);
    assert.equal(extractMetadata([p]).documentDate, null);
    p.lines[1] = { ...p.lines[1]!, rereads: [{ text: '核定日期: 二O一八年三月五日', confidence: 90 }, { text: '核定日期: 二二一八年', confidence: 60 }] };
    const md = extractMetadata([p]);
    assert.equal(md.documentDate, '2018-03-05');
    assert.ok(md.documentDateEvidence!.confidence < 0.9, 'a date resting on a repair is less sure than a direct reading');
  });

  it('data printed on the separator sheet outranks OCR', () => {
    const md = extractMetadata([page(1, ['参保人员登记表', '姓名：张伟'])], { idNumber: zhang, name: '张伟' });
    assert.ok(md.persons.some((p) => p.idNumber === zhang && p.name === '张伟'));
    assert.ok(md.persons.every((p) => p.idNumber === null || p.idNumber === zhang));
  });
});

describe('second readings of date lines OCR could not read', () => {
  // What tesseract made of 核定日期：二〇二一年一月十五日 on a noisy serif page, and what the
  // binarised, enlarged single-line rereads gave (bench:extract, document 17).
  const garbled = '核定日期：王@ 二年一月二五目';
  const withRereads = (text: string, rereads: string[], confidence = 52): PageText => {
    const p = page(1, ['伤残津贴核定表', '姓名：张伟', text]);
    p.lines[2] = { ...p.lines[2]!, confidence, rereads: rereads.map((t) => ({ text: t, confidence: 88 })) };
    return p;
  };

  it('picks lines whose date did not parse, not lines that read fine', () => {
    const lines = page(1, ['伤残津贴核定表', '核定金额：1066.60元', garbled, '自2019年1月起参加社会保险', '缴费期间：2019年1月至12月', '日期：2019年5月20日', '备案日期，二一八年三月五日', '核定日期：二O〇一八年三月五日', '从IB卓期，二衬有本和上']).lines;
    lines[8] = { ...lines[8]!, confidence: 2 };
    assert.deepEqual(linesToReread(lines).map((l) => l.text), [garbled, '备案日期，二一八年三月五日', '核定日期：二O〇一八年三月五日', '从IB卓期，二衬有本和上']);
  });

  it('on a page with no date at all, also picks low-confidence lines (the date line may be unrecognisable)', () => {
    const p = page(1, ['养老保险个人账户对账单', '姓名：王海燕', '有']);
    p.lines[2] = { ...p.lines[2]!, confidence: 46 };
    assert.deepEqual(linesToReread(p.lines).map((l) => l.text), ['有']);
    const dated = page(1, ['日期：2019年5月20日', '有']);
    dated.lines[1] = { ...dated.lines[1]!, confidence: 46 };
    assert.deepEqual(linesToReread(dated.lines), []);
  });

  it('takes a date two readings agree on, whatever glyph each used for 〇', () => {
    assert.deepEqual(agreedDate(['核定日期: 二O二一年一月十五日', '核定日期: 二〇二一年一月十五日', '核定日期: 二二一年一月十五日']), { value: '2021-01-15', votes: 2, of: 3 });
  });

  it('outvotes a first reading whose repaired year disagrees with the rereads', () => {
    const md = extractMetadata([withRereads('参保日期，二@一三年一月九目', ['参保日期: 二O二三年二月九日', '参保日期: 二〇二三年二月九日', '参保日期: 二二三年二月九日'])]);
    assert.equal(md.documentDate, '2023-02-09');
  });

  it('never takes a date only one reading gives, or one two readings dispute', () => {
    assert.equal(agreedDate(['核定日期: 二O二一年一月十五日', '核定日期: 二二一年一月十五日', '核定月期']), null);
    assert.equal(agreedDate(['二O二一年一月十五日', '二O二一年二月十五日']), null);
    assert.equal(agreedDate(['二O二一年二月三十日', '二O二一年二月三十日']), null, 'an impossible date stays refused');
  });

  it('files the agreed reading of a garbled date line, at lower confidence than a direct reading', () => {
    const md = extractMetadata([withRereads(garbled, ['核定日期: 二O二一年一月十五日', '核定日期: 二〇二一年一月十五日', '核定日期: 二二一年一月十五日'])]);
    assert.equal(md.documentDate, '2021-01-15');
    const ev = md.documentDateEvidence!;
    assert.deepEqual(ev.bbox, { x0: 10, y0: 80, x1: 900, y1: 110 });
    assert.match(ev.raw ?? '', /二O二一年一月十五日/);
    assert.ok(ev.confidence > 0 && ev.confidence < 0.9, String(ev.confidence));
  });

  it('keeps the first reading when it holds a date, even if rereads disagree', () => {
    const md = extractMetadata([withRereads('申请日期：二〇一四年三月二十七日', ['申请日期: 二O一四年二月二十七日', '申请日期: 二O一四年二月二十七日'], 87)]);
    assert.equal(md.documentDate, '2014-03-27');
  });

  it('leaves the date empty when the rereads do not agree', () => {
    const md = extractMetadata([withRereads(garbled, ['核定日期: 二O二一年一月十五日', '核定日期: 二二一年一月十五日', '核定月期'])]);
    assert.equal(md.documentDate, null);
  });
});

describe('second readings of ID-number lines whose check character fails (issue #12 §2)', () => {
  const zhang = validId('11010519870315231');
  // One digit read wrong (the check fails), one inserted (19 characters), as tesseract gives them.
  const substituted = `${zhang.slice(0, 10)}${zhang[10] === '9' ? '8' : '9'}${zhang.slice(11)}`;
  const inserted = `${zhang.slice(0, 9)}5${zhang.slice(9)}`;
  const idPage = (idLine: string, rereads: string[]): PageText => {
    const p = page(1, ['工伤认定申请表', '受伤害职工', '张伟', '公民身份号码', idLine, '申请日期：2015年9月12日']);
    p.lines[4] = { ...p.lines[4]!, rereads: rereads.map((t) => ({ text: t, confidence: 88 })) };
    return p;
  };

  it('picks a line whose number-like run does not validate, not one that does, nor other numbers', () => {
    const p = page(1, ['公民身份号码', substituted, zhang, inserted, '缴费基数：6520元', '统一社会信用代码：91110105MA01ABCD2X', '电话：13800138000']);
    assert.deepEqual(idLinesToReread(p.lines).map((l) => l.text), [substituted, inserted]);
  });

  it('takes the number two rereads agree on, with lower confidence than a direct reading', () => {
    const md = extractMetadata([idPage(inserted, [zhang, zhang, inserted])]);
    assert.deepEqual(md.persons.map((x) => [x.name, x.idNumber]), [['张伟', zhang]]);
    const ev = md.persons[0]!.evidence.find((e) => e.raw === zhang);
    assert.ok(ev && ev.confidence < 0.9, JSON.stringify(md.persons[0]!.evidence));
  });

  it('pairs an agreed number with the name before it on the same line', () => {
    const p = page(1, ['失业保险金申领表', `申请人姓名张伟证件号码 ${inserted}`, '申领日期：2012年5月20日']);
    p.lines[1] = { ...p.lines[1]!, rereads: [`申请人姓名张伟证件号码 ${zhang}`, `申请人姓名张伟证件号码 ${zhang}`].map((t) => ({ text: t, confidence: 88 })) };
    assert.deepEqual(extractMetadata([p]).persons.map((x) => [x.name, x.idNumber]), [['张伟', zhang]]);
  });

  it('takes nothing when only one reread validates, or two rereads give different valid numbers', () => {
    const other = validId('11010519870315232');
    assert.equal(extractMetadata([idPage(substituted, [zhang, substituted, substituted])]).persons[0]!.idNumber, null);
    assert.equal(extractMetadata([idPage(substituted, [zhang, other, substituted])]).persons[0]!.idNumber, null);
  });
});
