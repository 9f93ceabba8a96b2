/**
 * Generated social-insurance documents for search tests and the search benchmark: forms with
 * names, 公民身份号码, units, dates and amounts, plus policy boilerplate, with a configurable share
 * of characters corrupted the way OCR misreads them. Deterministic per seed.
 */
import { idCheckDigit } from '../../src/domain/id-number';
import type { IndexDocument } from '../../src/services/search/types';

export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SURNAMES = '王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文';
const GIVEN = '伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国建华志强海燕红梅玉兰淑珍宏宇晓东振华德明春生秋菊冬梅立新文博子涵浩然欣怡梓轩思远雨桐佳琪';
const CITIES = ['杭州', '宁波', '温州', '嘉兴', '湖州', '绍兴', '金华', '衢州', '舟山', '台州', '丽水'];
const UNIT_KINDS = ['机械制造有限公司', '纺织品进出口有限公司', '建筑工程有限公司', '商贸有限公司', '食品有限公司', '电子科技有限公司', '物流有限公司', '第一人民医院', '实验中学', '供销合作社'];
const UNIT_WORDS = ['华东', '永康', '恒达', '金诚', '新世纪', '东方', '瑞丰', '宏远', '鑫源', '天成', '润泽', '长兴', '万通', '正泰', '博宇'];
const CLAUSES = [
  '根据《中华人民共和国社会保险法》第十六条规定，参加基本养老保险的个人，达到法定退休年龄时累计缴费满十五年的，按月领取基本养老金。',
  '用人单位应当自用工之日起三十日内为其职工向社会保险经办机构申请办理社会保险登记。',
  '职工应当参加工伤保险，由用人单位缴纳工伤保险费，职工不缴纳工伤保险费。',
  '失业人员在领取失业保险金期间，参加职工基本医疗保险，享受基本医疗保险待遇。',
  '个人跨统筹地区就业的，其基本养老保险关系随本人转移，缴费年限累计计算。',
  '经审核，申请人提交的材料齐全，符合法定形式，予以受理。',
  '本表一式三份，参保单位、经办机构、参保人员各执一份。',
  '参保人员对核定结果有异议的，可自收到本通知之日起六十日内申请行政复议。',
  '缴费基数按照本人上年度月平均工资核定，低于全省平均工资百分之六十的按百分之六十核定。',
  '医疗费用报销范围按照基本医疗保险药品目录、诊疗项目和医疗服务设施标准执行。',
  '工伤职工停工留薪期满仍需治疗的，继续享受工伤医疗待遇。',
  '本人承诺以上所填信息真实有效，如有虚假，愿承担相应法律责任。',
];

export interface DocType {
  title: string;
  documentType: string;
  category: string;
  insurance: string;
  retention: string;
  fields: string[];
}

export const DOC_TYPES: DocType[] = [
  { title: '参保人员基本养老保险待遇核定表', documentType: '待遇核定表', category: 'YL', insurance: '养老保险', retention: 'Y', fields: ['参加工作时间', '缴费年限', '月基本养老金'] },
  { title: '失业保险金申领登记表', documentType: '申领登记表', category: 'SY', insurance: '失业保险', retention: 'D30', fields: ['失业时间', '累计缴费时间', '领取期限'] },
  { title: '工伤认定申请表', documentType: '认定申请表', category: 'GS', insurance: '工伤保险', retention: 'D100', fields: ['事故时间', '受伤部位', '诊断结论'] },
  { title: '医疗保险费用报销审批单', documentType: '报销审批单', category: 'YB', insurance: '医疗保险', retention: 'D30', fields: ['就诊医院', '医疗总费用', '统筹支付金额'] },
  { title: '社会保险登记表', documentType: '社会保险登记表', category: 'DJ', insurance: '养老保险', retention: 'Y', fields: ['登记日期', '参保险种', '职工人数'] },
  { title: '基本养老保险关系转移接续申请表', documentType: '转移接续申请表', category: 'YL', insurance: '养老保险', retention: 'Y', fields: ['转出地', '转入地', '转移金额'] },
  { title: '职工退休审批表', documentType: '退休审批表', category: 'YL', insurance: '养老保险', retention: 'Y', fields: ['出生日期', '退休类别', '视同缴费年限'] },
  { title: '社会保险缴费基数申报表', documentType: '缴费基数申报表', category: 'ZJ', insurance: '养老保险', retention: 'D10', fields: ['申报年度', '缴费基数', '月缴费额'] },
];

// Pairs OCR confuses in print: the damage our fuzzy matching must survive.
const CONFUSIONS: Record<string, string> = { 己: '已', 未: '末', 人: '入', 日: '曰', 土: '士', 王: '玉', 大: '太', 天: '夫', 刀: '力', 工: '土', 保: '堡', 险: '脸', 费: '赀', 金: '全', 待: '侍', 遇: '禺', 核: '该', 定: '锭', 申: '甲', 请: '清', 登: '凳', 记: '纪', 养: '恙', 老: '考', 伟: '伟', 明: '朋', 华: '毕', 军: '车', 建: '健', 国: '围', 强: '蛋', 东: '东', 杰: '木' };

export function personName(r: () => number): string {
  const s = SURNAMES[Math.floor(r() * SURNAMES.length)]!;
  const g = [...GIVEN];
  const n = r() < 0.3 ? 1 : 2;
  let given = '';
  for (let i = 0; i < n; i++) given += g[Math.floor(r() * g.length)]!;
  return s + given;
}

export function idNumber(r: () => number): string {
  const area = String(330102 + Math.floor(r() * 900));
  const y = 1950 + Math.floor(r() * 50);
  const m = String(1 + Math.floor(r() * 12)).padStart(2, '0');
  const d = String(1 + Math.floor(r() * 28)).padStart(2, '0');
  const seq = String(Math.floor(r() * 1000)).padStart(3, '0');
  const first = `${area}${y}${m}${d}${seq}`;
  return first + idCheckDigit(first);
}

/** Replaces a share of CJK characters the way OCR does (look-alikes, else a random common char). */
export function corrupt(text: string, rate: number, r: () => number): string {
  const pool = [...'的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严'];
  let out = '';
  for (const ch of text) {
    if (/[\u4e00-\u9fff]/.test(ch) && r() < rate) out += CONFUSIONS[ch] && CONFUSIONS[ch] !== ch ? CONFUSIONS[ch] : pool[Math.floor(r() * pool.length)]!;
    else out += ch;
  }
  return out;
}

export interface GeneratedItem {
  doc: IndexDocument;
  /** clean page texts (before OCR damage), for building queries with known answers */
  clean: string[];
  person: { name: string; idNumber: string };
  unit: string;
  type: DocType;
}

export function generateItem(r: () => number, i: number, opts: { fonds?: string[]; noise?: number; pages?: number } = {}): GeneratedItem {
  const type = DOC_TYPES[Math.floor(r() * DOC_TYPES.length)]!;
  const fondsList = opts.fonds ?? ['Z101'];
  const fonds = fondsList[i % fondsList.length]!;
  const name = personName(r);
  const id = idNumber(r);
  const city = CITIES[Math.floor(r() * CITIES.length)]!;
  const unit = `${city}${UNIT_WORDS[Math.floor(r() * UNIT_WORDS.length)]!}${UNIT_KINDS[Math.floor(r() * UNIT_KINDS.length)]!}`;
  const clerk = personName(r);
  const year = 2000 + Math.floor(r() * 24);
  const date = `${year}-${String(1 + Math.floor(r() * 12)).padStart(2, '0')}-${String(1 + Math.floor(r() * 28)).padStart(2, '0')}`;
  const [yy, mm, dd] = date.split('-');
  const nPages = opts.pages ?? 1 + Math.floor(r() * 3);
  const clean: string[] = [];
  for (let p = 0; p < nPages; p++) {
    const lines: string[] = [];
    if (p === 0) {
      lines.push(type.title, `经办机构：${city}市社会保险事业管理中心`, `姓名：${name}\u3000性别：${r() < 0.5 ? '男' : '女'}\u3000公民身份号码：${id}`, `参保单位：${unit}`);
      for (const f of type.fields) lines.push(`${f}：${r() < 0.5 ? `${yy}年${Number(mm)}月` : `${Math.floor(r() * 90000) / 10}元`}`);
    } else {
      lines.push(`${type.title}（续页 第${p + 1}页）`, `参保人：${name}`);
    }
    const n = 6 + Math.floor(r() * 6);
    for (let k = 0; k < n; k++) lines.push(CLAUSES[Math.floor(r() * CLAUSES.length)]!);
    lines.push(`经办人：${clerk}\u3000审核人：${personName(r)}`, `${yy}年${Number(mm)}月${Number(dd)}日`);
    clean.push(lines.join('\n'));
  }
  const noise = opts.noise ?? 0.03;
  const doc: IndexDocument = {
    id: (0x100000000000 + i).toString(16).padStart(24, '0'),
    fonds,
    title: type.title,
    archivalCode: `${fonds}-WS·${year}-${type.retention}-${type.category}·DY-${String(i % 10000).padStart(4, '0')}`,
    documentType: type.documentType,
    category: type.category,
    insurance: [type.insurance],
    retention: type.retention,
    year,
    documentDate: date,
    accessLevel: i % 3 === 0 ? 2 : 0,
    persons: [{ name, idNumber: id }],
    units: [{ name: unit, creditCode: null }],
    pages: clean.map((t, k) => ({ n: k + 1, text: corrupt(t, noise, r) })),
  };
  return { doc, clean, person: { name, idNumber: id }, unit, type };
}
