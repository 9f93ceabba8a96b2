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

// The insured person's labels (参保人, the applicant, the injured worker…) versus the agency's
// staff who handle and check the case (内控: the handler is never the checker).
const INSURED_LABELS = ['受伤职工姓名', '职工姓名', '参保人姓名', '被保险人', '参保人员', '失业人员', '申请人', '参保人', '姓名'];
const CLERK_LABELS = ['经办人', '审核人', '复核人', '审批人', '负责人', '受理人', '填表人', '核定人', '制表人'];

const LABELS = [...INSURED_LABELS.map((l) => [l, 'insured'] as const), ...CLERK_LABELS.map((l) => [l, 'clerk'] as const)].sort(
  (a, b) => b[0].length - a[0].length,
);
// Words that follow a label's colon but are themselves the next label, not a name.
const NOT_NAMES = new Set(['性别', '民族', '身份', '出生', '单位', '年龄', '签字', '签名', '盖章', '日期', '电话', '地址']);

const labelRe = new RegExp(`(${LABELS.map(([l]) => l).join('|')})\\s*[:：]\\s*`, 'gu');

export function extractLabelledNames(text: string): LabelledName[] {
  const out: LabelledName[] = [];
  for (const m of text.matchAll(labelRe)) {
    const label = m[1]!;
    const role = LABELS.find(([l]) => l === label)![1];
    const from = m.index! + m[0].length;
    // A name: 2-4 Han characters (up to 6 for compound surnames / minority names with ·); OCR
    // sometimes puts a space inside (赵 敏), which is dropped.
    const tail = text.slice(from, from + 12);
    const nm = /^((?:[\u4e00-\u9fff](?:[ \u3000]?(?=[\u4e00-\u9fff]))?){2,6}(?:·[\u4e00-\u9fff]{1,6})?)/u.exec(tail);
    if (!nm) continue;
    // A space inside a name only splits a one-character surname from the given name (赵 敏);
    // after two or more characters it ends the field (张伟<U+3000>公民身份号码…).
    const parts = nm[1]!.split(/[ \u3000]/);
    let name = parts[0]!.length >= 2 ? parts[0]! : parts.slice(0, 2).join('');
    // Cut where the next label begins (姓名：张伟性别：男 read without a space).
    for (const stop of ['性别', '民族', '身份', '出生', '单位', '电话', '签字', '日期', ...LABELS.map(([l]) => l)]) {
      const at = name.indexOf(stop);
      if (at > 0) name = name.slice(0, at);
    }
    if (name.length < 2 || name.length > 6 || NOT_NAMES.has(name.slice(0, 2))) continue;
    out.push({ name, label, role, start: from, end: from + nm[1]!.length });
  }
  return out;
}

export interface LabelledUnit {
  name: string;
  label: string;
  start: number;
  end: number;
}

const UNIT_LABELS = ['单位名称', '用人单位名称', '用人单位', '参保单位名称', '参保单位', '缴费单位', '工作单位'];
const unitRe = new RegExp(`(${UNIT_LABELS.sort((a, b) => b.length - a.length).join('|')})\\s*[:：]\\s*`, 'gu');

export function extractUnits(text: string): LabelledUnit[] {
  const out: LabelledUnit[] = [];
  for (const m of text.matchAll(unitRe)) {
    const from = m.index! + m[0].length;
    const line = text.slice(from).split(/\n/)[0] ?? '';
    // The field ends at a wide gap, another "label：", or sentence punctuation.
    const value = line.split(/[\u3000]|\s{2,}|[，。；;,]|(?=[\u4e00-\u9fff]{2,8}\s*[:：])/u)[0]!.trim();
    if (value.length < 4 || value.length > 60 || !/[\u4e00-\u9fff]{2}/u.test(value)) continue;
    out.push({ name: value, label: m[1]!, start: from, end: from + value.length });
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
