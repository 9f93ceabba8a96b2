/**
 * Fields that forms announce with a label: 姓名：张伟, 单位名称：…, and which 险种 a document is
 * about. Chinese has no word boundaries, so values end at the next label, punctuation, a long
 * space, or the end of the line, never at `\b`.
 */

export type NameRole = 'insured' | 'clerk';

export interface LabelledName {
  name: string;
  label: string;
  role: NameRole;
  start: number;
  end: number;
}

// The insured person's labels (参保人, the applicant, the injured worker, the householder…) versus
// the agency's and the unit's people who handle, check or sign the case (内控: the handler is never
// the checker). The vocabulary is that of real forms, not of our own generator: 公民身份号码 is the
// official term (GB 11643) and the most common label on real forms.
const INSURED_LABELS = [
  '受伤害职工姓名', '受伤害职工', '受伤职工姓名', '参保人员姓名', '被保险人姓名', '申请人姓名', '参保人姓名', '户主姓名', '职工姓名', '死者姓名', '退休人员姓名',
  '被保险人', '参保人员', '失业人员', '退休人员', '申请人', '参保人', '当事人', '户主', '姓名',
];
const CLERK_LABELS = ['法定代表人', '单位负责人', '经办人', '审核人', '复核人', '审批人', '负责人', '受理人', '填表人', '核定人', '制表人', '联系人'];
/** Labels of other fields: a name ends where one begins, and a name never contains one. */
const FIELD_LABELS = [
  '公民身份号码', '社会保障号码', '社会保障卡号', '身份证号码', '身份证号(码)', '身份证件号码', '身份证号', '证件号码', '证件类型', '个人编号', '社保编号',
  '性别', '民族', '出生日期', '出生年月', '年龄', '联系电话', '电话', '手机', '住址', '地址', '邮编', '籍贯', '户籍', '职务', '职业',
  '单位名称', '用人单位', '参保单位', '工作单位', '签字', '签名', '盖章', '日期', '与户主关系', '关系', '文化程度', '婚姻状况',
];

const LABELS = [...INSURED_LABELS.map((l) => [l, 'insured'] as const), ...CLERK_LABELS.map((l) => [l, 'clerk'] as const)].sort(
  (a, b) => b[0].length - a[0].length,
);
const ALL_STOPS = [...new Set([...LABELS.map(([l]) => l), ...FIELD_LABELS])].sort((a, b) => b.length - a.length);
// Words that follow a label but are themselves a field or form word, not a name.
const NOT_NAMES = new Set(['性别', '民族', '身份', '出生', '单位', '年龄', '签字', '签名', '盖章', '日期', '电话', '地址', '时间', '本人', '提交', '基本', '信息', '登记', '申请', '情况', '填写', '证件', '联系', '关系', '公民', '社会', '户籍', '工作', '职工', '人员']);

/** Common 姓 (and the compound ones): a name met without a colon or a cell border must start with one. */
const SURNAMES = new Set([...'王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫阎段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝萧']);
const COMPOUND_SURNAMES = ['欧阳', '司马', '上官', '诸葛', '东方', '皇甫', '尉迟', '公孙', '慕容', '长孙', '宇文', '司徒', '夏侯', '令狐', '西门'];

// A label on a form may be spaced out (姓 名) by the layout; OCR keeps those spaces.
const spaced = (l: string) => [...l].map((c) => c.replace(/[()（）]/u, (b) => `[${b === '(' || b === '（' ? '(（' : ')）'}]`)).join('[ \\u3000]?');
const labelRe = new RegExp(`(${LABELS.map(([l]) => spaced(l)).join('|')})`, 'gu');
const stopRe = new RegExp(ALL_STOPS.map(spaced).join('|'), 'u');
/** Two-character starts of the stop labels: what is left of a label OCR damaged further on (公民身分号码). */
const STOP_PREFIXES = [...new Set(ALL_STOPS.filter((l) => l.length >= 3).map((l) => l.slice(0, 2)))];

type Joint = 'colon' | 'cell' | 'newline' | 'space' | 'glued';

/**
 * What joins a label to its value: a colon (full-width or ASCII; OCR reads a colon's two dots as a
 * semicolon too), a table-cell border, a line break, spaces, or nothing.
 */
function jointAt(text: string, at: number): { joint: Joint; length: number } {
  const m = /^[ \u3000]*(?:([:：;；])|([|丨│])|(\n))[ \u3000]*/u.exec(text.slice(at, at + 12));
  if (m) return { joint: m[1] ? 'colon' : m[2] ? 'cell' : 'newline', length: m[0].length };
  const sp = /^[ \u3000]+/u.exec(text.slice(at, at + 12));
  return sp ? { joint: 'space', length: sp[0].length } : { joint: 'glued', length: 0 };
}

/**
 * The name at the start of `tail`, cut at the next label (even a damaged one), punctuation, a digit
 * or a field gap. `bounded`: something visibly ends the value (not just the length limit).
 */
function nameAt(tail: string, atTextEnd: boolean): { name: string; consumed: number; bounded: boolean; byLabel: boolean } | null {
  const delim = tail.search(/[\n，。,;；:：|丨│()（）[\]【】\d]/u);
  const stop = stopRe.exec(tail);
  if (stop && stop.index === 0) return null;
  const ends = [delim, stop ? stop.index : -1].filter((i) => i >= 0);
  const fieldEnd = ends.length ? Math.min(...ends) : tail.length;
  const field = tail.slice(0, fieldEnd);
  const fieldBounded = fieldEnd < tail.length || atTextEnd;
  // Han characters with at most one space inside (赵 敏: a one-character surname set apart).
  const m = /^((?:[\u4e00-\u9fff](?:[ \u3000]?(?=[\u4e00-\u9fff]))?){2,6}(?:·[\u4e00-\u9fff]{1,6})?)/u.exec(field);
  if (!m) return null;
  const parts = m[1]!.split(/[ \u3000]/u);
  // A space after two or more characters ends the field (张伟<U+3000>公民身份号码…).
  const joined = parts[0]!.length < 2 && parts.length > 1;
  let name = joined ? parts.slice(0, 2).join('') : parts[0]!;
  let consumed = joined ? parts[0]!.length + 1 + parts[1]!.length : name.length;
  let cut = false;
  // A label OCR damaged past matching still starts with its first two characters (曾涛公民身分号码).
  if (!joined) {
    for (let i = 2; i < name.length - 1; i++) {
      if (STOP_PREFIXES.includes(name.slice(i, i + 2))) {
        name = name.slice(0, i);
        consumed = i;
        cut = true;
        break;
      }
    }
  }
  const rest = field.slice(consumed);
  const bounded = cut || (rest === '' ? fieldBounded : /^[ \u3000]/u.test(rest));
  // The next field's label follows right after the name (姓名突静性别…): the strongest boundary.
  const byLabel = cut || (rest.trim() === '' && !!stop && stop.index === fieldEnd);
  return { name, consumed, bounded, byLabel };
}

const looksLikeName = (n: string) => SURNAMES.has(n[0]!) || COMPOUND_SURNAMES.some((c) => n.startsWith(c));

export function extractLabelledNames(text: string): LabelledName[] {
  const out: LabelledName[] = [];
  for (const m of text.matchAll(labelRe)) {
    const label = m[1]!.replace(/[ \u3000]/gu, '');
    const entry = LABELS.find(([l]) => l === label);
    if (!entry) continue;
    const role = entry[1];
    const { joint, length } = jointAt(text, m.index! + m[0].length);
    const from = m.index! + m[0].length + length;
    const found = nameAt(text.slice(from, from + 16), from + 16 >= text.length);
    if (!found) continue;
    const { name } = found;
    if (name.length < 2 || name.length > 6 || NOT_NAMES.has(name.slice(0, 2))) continue;
    // Without a colon or a cell border the label may be a word in running text (经审核，申请人提交的
    // 材料齐全): the value must then end where a field ends and either start with a 姓 or be followed
    // at once by the next field's label (姓名突静性别: OCR misread the 姓 窦 as 突).
    // A label alone on its line with the value alone on the next is a form's field (table cells
    // read as separate lines), as sure as a colon: no 姓 list can hold every surname (水, 仝, 逯 …).
    const ownLine = joint === 'newline' && /(^|\n)[ \u3000]*$/u.test(text.slice(0, m.index!)) && /^[ \u3000]*(\n|$)/u.test(text.slice(from + found.consumed));
    if (joint !== 'colon' && joint !== 'cell' && (name.length > 4 || !(ownLine || (looksLikeName(name) && found.bounded) || found.byLabel))) continue;
    out.push({ name, label, role, start: from, end: from + found.consumed });
  }
  for (const n of damagedLabelNames(text)) if (!out.some((o) => n.start < o.end && o.start < n.end)) out.push(n);
  return out.sort((a, b) => a.start - b.start);
}

/**
 * Person labels known with one character misread: OCR read 申请人姓名 as 申请人夫名 (only 申请人
 * matched above, and 夫名何建平 failed as a name) and 参保人 as 参保火. Each insured label of three
 * or more characters, any one of its characters any Han character; a three-character one only
 * where a colon or a cell border follows it (damagedLabelNames).
 */
const DAMAGEABLE = INSURED_LABELS.filter((l) => l.length >= 3);
const damagedLabelRe = new RegExp(
  `(${DAMAGEABLE.sort((a, b) => b.length - a.length).flatMap((l) => [...l].map((_, i) => [...l].map((c, j) => (j === i ? '[\\u4e00-\\u9fff]' : c)).join(''))).join('|')})`,
  'gu',
);
const KNOWN_LABELS = new Set(ALL_STOPS);

/**
 * Names after a damaged compound label. Stricter than after an intact one, since a label seen
 * through one wrong character may be ordinary words: the value must look like a name (a 姓 of our
 * list) and end where a field ends, or a colon or cell border must follow the label.
 */
function damagedLabelNames(text: string): LabelledName[] {
  const out: LabelledName[] = [];
  for (const m of text.matchAll(damagedLabelRe)) {
    const seen = m[1]!;
    // An intact label of another field (审核人, 联系人) is that field, not a damaged one of ours.
    if (KNOWN_LABELS.has(seen)) continue;
    const label = DAMAGEABLE.find((l) => l.length === seen.length && [...l].filter((c, i) => c !== seen[i]).length <= 1);
    if (!label) continue;
    const { joint, length } = jointAt(text, m.index! + seen.length);
    if (label.length === 3 && joint !== 'colon' && joint !== 'cell') continue;
    const from = m.index! + seen.length + length;
    const found = nameAt(text.slice(from, from + 16), from + 16 >= text.length);
    if (!found) continue;
    const { name } = found;
    if (name.length < 2 || name.length > 4 || NOT_NAMES.has(name.slice(0, 2)) || !looksLikeName(name)) continue;
    if (joint !== 'colon' && joint !== 'cell' && !found.byLabel && !(found.bounded && joint === 'newline')) continue;
    out.push({ name, label, role: 'insured', start: from, end: from + found.consumed });
  }
  return out;
}

export interface LabelledUnit {
  name: string;
  label: string;
  start: number;
  end: number;
}

// The unit's labels on enrolment, benefit and audit forms (被稽核单位 on a 稽核通知书).
const UNIT_LABELS = ['被稽核单位', '用人单位名称', '参保单位名称', '单位名称', '用人单位', '参保单位', '缴费单位', '申报单位', '投保单位', '用工单位', '所在单位', '工作单位'];
/**
 * Glyphs OCR reads in place of a label's character: one stroke more or less (工 as 王 or 土, 位 as
 * 住, 人 as 入, 用 as 甩, 单 as 里). Unlike any character at all, these keep short labels safe: 合作单位
 * is no misreading of 工作单位.
 */
const CONFUSABLE: Readonly<Record<string, string>> = { 工: '王土', 位: '住', 人: '入', 用: '甩', 单: '里' };
const confusable = (l: string) => [...l].map((c) => (CONFUSABLE[c] ? `[${c}${CONFUSABLE[c]}]` : c)).join('[ \\u3000]?');
/**
 * Each label as printed, through its confusable glyphs, and, for a label of five or more
 * characters, with any one character misread before its 单位 (被移核单位: 稽 read as 移); a shorter
 * one is not matched that loosely (合作单位 is a word of its own).
 */
const unitLabelForms = UNIT_LABELS.flatMap((l) => [
  spaced(l),
  ...([...l].some((c) => CONFUSABLE[c]) ? [confusable(l)] : []),
  ...(l.length >= 5 ? [...l.slice(0, -2)].map((_, i) => [spaced(l.slice(0, i)), '[\\u4e00-\\u9fff]', spaced(l.slice(i + 1))].filter(Boolean).join('[ \\u3000]?')) : []),
]);
// Longest first (a misread form is as long as its label, and after it). A label may carry a note
// before its value: 单位名称（盖章）：…
const unitLabelRe = new RegExp(`(${unitLabelForms.sort((a, b) => b.length - a.length).join('|')})(?:[(（][\u4e00-\u9fff]{1,6}[)）])?`, 'gu');
/** The label as printed: the one read, or the one a misread character away. */
function unitLabel(read: string): string {
  const s = read.replace(/[ \u3000]/gu, '');
  const same = (c: string, i: number) => c === s[i] || !!CONFUSABLE[c]?.includes(s[i]!);
  return UNIT_LABELS.find((l) => l === s) ?? UNIT_LABELS.find((l) => l.length === s.length && [...l].every(same)) ?? UNIT_LABELS.find((l) => l.length === s.length && [...l].filter((c, i) => c !== s[i]).length === 1) ?? s;
}
/** What ends an organisation's name: its kind (有限公司, 厂, 中心, 医院, 委员会 …). */
const ORG_END = /(?:公司|集团|厂|局|中心|医院|卫生院|卫生室|诊所|学校|学院|大学|中学|小学|幼儿园|委员会|协会|商会|联合会|事务所|银行|研究所|研究院|设计院|合作社|商店|商行|超市|酒店|宾馆|饭店|餐厅|工作室|办事处|站|所|院|馆|社|店|部|处|队|场|矿)$/u;
/**
 * Words of a sentence, not of a name: 用人单位与职工签订劳动合同后到社保中心 … Names have 的士 (taxi),
 * 被服厂 (bedding works) and 将军 in them.
 */
const PROSE = /[与到请把]|的(?!士)|被(?!服)|将(?!军)|应当|之日|签订|办理|申请|提供|缴纳/u;
/** Fields that follow a unit's name on the same line when their colon was lost. */
const FIELD_AFTER_UNIT = /统一社会信用代码|社会信用代码|组织机构代码|法定代表人|单位负责人|负责人|经办人|联系人|联系电话|电话|单位地址|地址|邮政编码|邮编|开户银行|银行账号|账号/u;

/**
 * Units named after their labels. After a colon or a table cell's border the field is the unit's,
 * whatever it says (up to a wide gap, punctuation, a border or the next "label："). OCR often loses
 * a cell label's colon, leaving the name glued to the label, after spaces, or alone on the next
 * line (参保单位苏州…有限公司, 用人单位⏎昆明…公司); there the label may also be a word in a
 * sentence (用人单位应当…), so the value is taken only when it reads as an organisation's name:
 * it ends with the organisation's kind and holds no word of a sentence.
 */
export function extractUnits(text: string): LabelledUnit[] {
  const out: LabelledUnit[] = [];
  for (const m of text.matchAll(unitLabelRe)) {
    const at = m.index! + m[0].length;
    const { joint, length } = jointAt(text, at);
    // A label whose value is on the next line stands alone on its own line (a form's cell).
    if (joint === 'newline' && !/(^|\n)[ \u3000]*$/u.test(text.slice(0, m.index!))) continue;
    const from = at + length;
    const line = text.slice(from).split(/\n/)[0] ?? '';
    // The field ends at a wide gap, another "label：", a cell border, or sentence punctuation.
    let value = line.split(/[\u3000|丨│]|\s{2,}|[，。；;,]|(?=[\u4e00-\u9fff]{2,8}\s*[:：])/u)[0]!.trim();
    // Specks before the name read as quotes or dots.
    value = value.replace(/^[“”"'‘’`·.、]+\s*/u, '');
    const start = from + line.indexOf(value);
    const sure = joint === 'colon' || joint === 'cell';
    if (!sure) {
      const next = FIELD_AFTER_UNIT.exec(value);
      if (next && next.index >= 4) value = value.slice(0, next.index).trim();
    }
    // 厂 is a small glyph that OCR reads as 三 or 广; no unit's name ends with either (same length,
    // so the evidence's span still points at what was read).
    value = value.replace(/(?<=[\u4e00-\u9fff]{3})[三广]$/u, '厂');
    if (!sure) {
      const core = value.replace(/[(（][^()（）]{1,10}[)）]$/u, '');
      if (core.length < 4 || !ORG_END.test(core) || PROSE.test(value)) continue;
    }
    if (value.length < 4 || value.length > 60 || !/[\u4e00-\u9fff]{2}/u.test(value)) continue;
    out.push({ name: value, label: unitLabel(m[1]!), start, end: start + value.length });
  }
  return out;
}

/** 险种 codes used in the 档号 (3号令 第八条 年度—险种—业务环节). */
export const INSURANCE_TYPES = {
  YL: '养老保险',
  YB: '医疗保险',
  SY: '失业保险',
  GS: '工伤保险',
  SH: '生育保险',
} as const;
export type InsuranceType = keyof typeof INSURANCE_TYPES;

const INSURANCE_CUES: Record<InsuranceType, RegExp> = {
  YL: /养老/gu,
  YB: /医疗保险|医保|门诊|住院|医疗待遇/gu,
  SY: /失业/gu,
  GS: /工伤|伤残|工亡/gu,
  SH: /生育/gu,
};

export function extractInsuranceTypes(text: string): InsuranceType[] {
  return (Object.keys(INSURANCE_CUES) as InsuranceType[])
    .map((t) => ({ t, n: (text.match(INSURANCE_CUES[t]) ?? []).length }))
    .filter((x) => x.n > 0)
    .sort((a, b) => b.n - a.n)
    .map((x) => x.t);
}
