/**
 * The held-out evaluation set (issue #12 §2/§4): social-insurance forms laid out the way public
 * sample forms are (bordered tables with label and value in separate cells, labels above values,
 * ASCII colons, the official 公民身份号码 / 社会保障号码 / 证件号码 wording, 户主 / 被保险人 /
 * 申请人 / 职工姓名 as the person's label), in three faces (楷体 AR PL UKai, 明体 AR PL UMing TW,
 * 黑体 WenQuanYi Zen Hei Sharp) at 200-300 dpi, degraded in ways the tuning set (bench/extract.ts
 * TEMPLATES, test/helpers/si-corpus.ts) does not use: grey paper and low contrast, salt-and-pepper
 * noise, blur, heavy JPEG, a red seal over the name, upside-down and sideways scans.
 *
 * NEVER tune extraction or classification on this set: when it shows a failure, fix the general
 * cause and add a new case to the tuning set (bench/extract.ts, test/unit).
 */
import sharp from 'sharp';
import { idCheckDigit } from '../../src/domain/id-number';

export interface HeldOutDoc {
  key: string;
  /** Expected appendix row (3号令 附件). */
  row: string;
  name: string | null;
  id: string | null;
  /** The unit (单位) the form names in a unit field, when it does. */
  unit: string | null;
  /** ISO date the document was formed (its 落款 / 填表日期). */
  date: string;
  /** Reference text, one entry per printed line or table row, for CER. */
  lines: string[];
  image: Buffer;
  dpi: number;
  degradation: string;
  font: string;
}

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 16), 0x45d9f3b) + 0x9e3779b9) >>> 0;
    return s / 4294967296;
  };
}

const FAMILY_NAMES = ['赵', '钱', '孙', '周', '郑', '冯', '陈', '褚', '卫', '蒋', '沈', '韩', '杨', '秦', '尤', '许', '何', '吕', '施', '孔', '曹', '严', '华', '金', '魏', '陶', '姜', '谢', '邹', '喻', '柏', '水', '窦', '章'];
const GIVEN_NAMES = ['子轩', '雨涵', '浩宇', '欣然', '思源', '梦琪', '俊杰', '诗涵', '博文', '佳怡', '建平', '淑芬', '国庆', '丽萍', '志刚', '桂兰', '德福', '玉珍', '文', '静', '磊', '颖'];
const COMPANIES = ['苏州工业园区恒信精密模具有限公司', '青岛海湾船舶配件厂', '长沙市岳麓区湘江餐饮管理有限公司', '昆明滇池园林绿化工程有限公司', '哈尔滨松北新材料科技有限公司', '南宁市邕江纸业有限责任公司'];
const AREAS = ['320506', '370203', '430104', '530112', '230109', '450103'];

const FACES = [
  { font: 'AR PL UKai CN', label: 'kai' },
  { font: 'AR PL UMing TW', label: 'ming-tw' },
  { font: 'WenQuanYi Zen Hei Sharp', label: 'hei-sharp' },
];

type Cell = string | { label: string; value: string };
interface FormSpec { row: string; title: string | null; layout: 'table' | 'stacked' | 'inline'; cells: Cell[][]; footer: string[]; nameInTruth: boolean; idInTruth: boolean; unit?: string | null }

function idNumber(r: () => number): string {
  const y = 1955 + Math.floor(r() * 45);
  const first = `${AREAS[Math.floor(r() * AREAS.length)]}${y}${String(1 + Math.floor(r() * 12)).padStart(2, '0')}${String(1 + Math.floor(r() * 28)).padStart(2, '0')}${String(Math.floor(r() * 1000)).padStart(3, '0')}`;
  return first + idCheckDigit(first);
}

/** Forms as their public samples lay them out; the wording is the forms', not ours. */
function forms(r: () => number, who: string, id: string, date: { y: number; m: number; d: number }): FormSpec[] {
  const co = COMPANIES[Math.floor(r() * COMPANIES.length)]!;
  const cn = `${date.y}年${date.m}月${date.d}日`;
  const dash = `${date.y}-${String(date.m).padStart(2, '0')}-${String(date.d).padStart(2, '0')}`;
  const specs: FormSpec[] = [
    { row: '1-02', title: '社会保险参保人员基本信息登记表', layout: 'table', nameInTruth: true, idInTruth: true,
      cells: [[{ label: '姓名', value: who }, { label: '性别', value: '女' }, { label: '民族', value: '汉' }], [{ label: '公民身份号码', value: id }], [{ label: '参保单位', value: co }], [{ label: '缴费基数(元)', value: '6850' }, { label: '参保险种', value: '养老、医疗、失业' }]],
      footer: [`填表日期：${cn}`] },
    { row: '6-02', title: '工伤认定申请表', layout: 'stacked', nameInTruth: true, idInTruth: true,
      cells: [[{ label: '申请人', value: who }], [{ label: '社会保障号码', value: id }], [{ label: '用人单位', value: co }], ['事故经过：在车间搬运模具时右手被压伤']],
      footer: [`申请日期 ${dash}`] },
    { row: '9-01', title: '社会保险稽核通知书', layout: 'inline', nameInTruth: false, idInTruth: false,
      cells: [[`被稽核单位:${co}`], ['根据《社会保险稽核办法》，我中心将对你单位社会保险费缴纳情况进行稽核。'], ['请于接到本通知书之日起十日内，提供职工花名册、工资发放表等资料。'], [`稽核人员:${who}`]],
      footer: [cn] },
    { row: '5-03', title: '失业保险金申领表', layout: 'table', nameInTruth: true, idInTruth: true,
      cells: [[{ label: '申请人姓名', value: who }, { label: '证件号码', value: id }], [{ label: '原工作单位', value: co }], [{ label: '累计缴费年限', value: '7年' }, { label: '失业原因', value: '劳动合同期满' }]],
      footer: [`申领日期：${cn}`] },
    { row: '1-05', title: '社会保障卡申领登记表', layout: 'inline', nameInTruth: true, idInTruth: true,
      cells: [[`户主:${who}  身份证号码:${id}`], ['申领原因:首次申领'], [`联系地址:${co.slice(0, 6)}人民路18号`]],
      footer: [`日期:${dash}`] },
    { row: '3-P1', title: '职工基本养老金核定表', layout: 'stacked', nameInTruth: true, idInTruth: true,
      cells: [[{ label: '职工姓名', value: who }], [{ label: '公民身份号码', value: id }], [{ label: '月基本养老金', value: '3218.40元' }]],
      footer: [`核定日期：${cn}`] },
    { row: '7-03', title: '生育津贴申领审核表', layout: 'table', nameInTruth: true, idInTruth: true,
      cells: [[{ label: '被保险人', value: who }, { label: '社会保障号码', value: id }], [{ label: '生育日期', value: `${date.y}年${date.m}月` }, { label: '津贴天数', value: '158' }]],
      footer: [`审核日期：${cn}`] },
    { row: '2-P3', title: '社会保险费补缴申请表', layout: 'inline', nameInTruth: true, idInTruth: true,
      cells: [[`参保人:${who}公民身份号码:${id}`], ['补缴期间:2019年1月至2019年12月'], [`单位名称:${co}`]],
      footer: [`申请日期:${cn}`] },
    // No printed title: the row must come from the body.
    { row: '6-02', title: null, layout: 'stacked', nameInTruth: true, idInTruth: true,
      cells: [[{ label: '受伤害职工', value: who }], [{ label: '身份证号', value: id }], ['现申请工伤认定，请予受理。'], ['工伤认定申请人签字：']],
      footer: [`${cn}`] },
  ];
  // The unit is in the truth where a field holds its whole name (an address that starts with the
  // city is not a unit field).
  return specs.map((f) => ({ ...f, unit: f.cells.flat().some((c) => (typeof c === 'string' ? c.includes(co) : c.value === co)) ? co : null }));
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** One page as SVG: a title, then the form in its layout, then the footer. Returns the SVG and its reference lines. */
function svgPage(f: FormSpec, font: string, dpi: number): { svg: string; lines: string[] } {
  const W = Math.round(8.27 * dpi), H = Math.round(11.69 * dpi);
  const pt = (p: number) => Math.round((p * dpi) / 72);
  const size = pt(13), titleSize = pt(20);
  const x0 = pt(60);
  let y = pt(90);
  const parts: string[] = [];
  const lines: string[] = [];
  const text = (x: number, yy: number, s: string, sz = size, anchor = 'start') =>
    parts.push(`<text x="${x}" y="${yy}" font-family="${font}" font-size="${sz}" text-anchor="${anchor}" fill="#111">${esc(s)}</text>`);
  if (f.title) {
    text(W / 2, y, f.title, titleSize, 'middle');
    lines.push(f.title);
    y += pt(50);
  }
  const rowH = pt(34);
  const tableW = W - 2 * x0;
  for (const row of f.cells) {
    if (f.layout === 'table') {
      // Bordered cells: label | value | label | value …
      const cells = row.flatMap((c) => (typeof c === 'string' ? [c] : [c.label, c.value]));
      const w = tableW / cells.length;
      cells.forEach((c, i) => {
        parts.push(`<rect x="${x0 + i * w}" y="${y - rowH + pt(9)}" width="${w}" height="${rowH}" fill="none" stroke="#222" stroke-width="${Math.max(2, pt(1))}"/>`);
        text(x0 + i * w + pt(6), y, c);
      });
      lines.push(cells.join(''));
      y += rowH;
    } else if (f.layout === 'stacked') {
      for (const c of row) {
        if (typeof c === 'string') { text(x0, y, c); lines.push(c); y += rowH; continue; }
        // Label above, value below, underlined like a fill-in field.
        text(x0, y, c.label, Math.round(size * 0.85));
        lines.push(c.label);
        y += rowH;
        text(x0 + pt(20), y, c.value);
        parts.push(`<line x1="${x0 + pt(16)}" y1="${y + pt(5)}" x2="${x0 + pt(300)}" y2="${y + pt(5)}" stroke="#333" stroke-width="2"/>`);
        lines.push(c.value);
        y += rowH * 1.2;
      }
    } else {
      const s = row.map((c) => (typeof c === 'string' ? c : `${c.label}:${c.value}`)).join('  ');
      text(x0, y, s);
      lines.push(s);
      y += rowH;
    }
  }
  y += pt(30);
  for (const s of f.footer) {
    text(W - x0, y, s, size, 'end');
    lines.push(s);
    y += rowH;
  }
  return { svg: `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}"><rect width="100%" height="100%" fill="white"/>${parts.join('')}</svg>`, lines };
}

const DEGRADATIONS = ['grey-paper', 'salt-pepper', 'blur-jpeg', 'seal', 'upside-down', 'sideways', 'clean-250dpi'] as const;

async function degrade(svg: string, how: (typeof DEGRADATIONS)[number], dpi: number, r: () => number): Promise<Buffer> {
  let img = sharp(Buffer.from(svg)).flatten({ background: '#ffffff' });
  const raw = await img.greyscale().raw().toBuffer({ resolveWithObject: true });
  const { data, info } = raw;
  if (how === 'grey-paper') for (let i = 0; i < data.length; i++) data[i] = Math.round(95 + (data[i]! / 255) * 120 + (r() - 0.5) * 16); // ink ~95, paper ~215
  if (how === 'salt-pepper') for (let i = 0; i < data.length; i++) if (r() < 0.015) data[i] = r() < 0.5 ? 0 : 255;
  img = sharp(data, { raw: { width: info.width, height: info.height, channels: 1 } });
  if (how === 'blur-jpeg') return img.blur(1.1).jpeg({ quality: 45 }).withMetadata({ density: dpi }).toBuffer();
  if (how === 'upside-down') img = sharp(await img.rotate(180).png().toBuffer());
  if (how === 'sideways') img = sharp(await img.rotate(r() < 0.5 ? 90 : 270).png().toBuffer());
  if (how === 'seal') {
    const rgb = await img.toColourspace('srgb').png().toBuffer();
    const m = await sharp(rgb).metadata();
    const R = Math.round(dpi * 0.8);
    const seal = Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${2 * R + 10}" height="${2 * R + 10}"><circle cx="${R + 5}" cy="${R + 5}" r="${R}" fill="none" stroke="rgb(210,40,40)" stroke-width="${Math.round(dpi / 25)}" opacity="0.75"/><text x="${R + 5}" y="${R + 5 + dpi / 10}" font-family="WenQuanYi Zen Hei" font-size="${Math.round(dpi / 4)}" fill="rgb(210,40,40)" opacity="0.75" text-anchor="middle">业务专用章</text></svg>`);
    return sharp(rgb).composite([{ input: seal, left: Math.round((m.width ?? 1000) * 0.12), top: Math.round(dpi * 1.0) }]).jpeg({ quality: 80 }).withMetadata({ density: dpi }).toBuffer();
  }
  return img.png().withMetadata({ density: dpi }).toBuffer();
}

/** The held-out documents: every form × `perForm`, cycling faces, resolutions and degradations. Deterministic. */
export async function heldOutSet(perForm = 2, seed = 4242): Promise<HeldOutDoc[]> {
  const r = prng(seed);
  const out: HeldOutDoc[] = [];
  let k = 0;
  const nForms = forms(r, '某某', '000000000000000000', { y: 2020, m: 1, d: 1 }).length;
  for (let i = 0; i < perForm; i++) {
    for (let f = 0; f < nForms; f++, k++) {
      const who = FAMILY_NAMES[Math.floor(r() * FAMILY_NAMES.length)]! + GIVEN_NAMES[Math.floor(r() * GIVEN_NAMES.length)]!;
      const id = idNumber(r);
      const date = { y: 2012 + Math.floor(r() * 12), m: 1 + Math.floor(r() * 12), d: 1 + Math.floor(r() * 28) };
      const spec = forms(r, who, id, date)[f]!;
      const face = FACES[k % FACES.length]!;
      const how = DEGRADATIONS[k % DEGRADATIONS.length]!;
      const dpi = how === 'clean-250dpi' ? 250 : k % 2 ? 300 : 240;
      const { svg, lines } = svgPage(spec, face.font, dpi);
      out.push({
        key: `${spec.row}-${f}-${i}`,
        row: spec.row,
        name: spec.nameInTruth ? who : null,
        id: spec.idInTruth ? id : null,
        unit: spec.unit ?? null,
        date: `${date.y}-${String(date.m).padStart(2, '0')}-${String(date.d).padStart(2, '0')}`,
        lines,
        image: await degrade(svg, how, dpi, r),
        dpi,
        degradation: how,
        font: face.label,
      });
    }
  }
  return out;
}
