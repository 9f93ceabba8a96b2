/**
 * 档号 (archival reference code). DA/T 22-2015 builds it as
 * 全宗号-档案门类代码·年度-保管期限代码-机构(问题)代码-件号: "-" between levels, "·" inside one level,
 * e.g. Z109-WS·2011-Y-BGS-0001. The layout is a template so an agency can follow its own scheme;
 * for social-insurance archives 3号令 第八条 classifies by 年度—(险种—)业务环节, which goes where
 * DA/T 22 puts 机构(问题): see SI_TEMPLATE.
 */
import { AppError } from '../errors';

// DA/T 22 names Y, D30, D10; 3号令 第九条 adds 100年 and 50年, coded the same way.
export const PERIOD_CODES = ['Y', 'D100', 'D50', 'D30', 'D10'] as const;
export type PeriodCode = (typeof PERIOD_CODES)[number];

export const DAT22_TEMPLATE = '{fonds}-{category}·{year}-{period}-{org}-{piece}';
/** 3号令 第八条 年度—险种—业务环节: 险种·业务环节 fill the 机构(问题) level. */
export const SI_TEMPLATE = '{fonds}-{category}·{year}-{period}-{insurance}·{stage}-{piece}';

export interface FieldSpec {
  /** Regular-expression source for the whole field (anchored by us); must not match "-" or "·". */
  pattern: string;
  /** If given, the only values allowed (e.g. the agency's 险种 codes). */
  values?: readonly string[];
}

export const DEFAULT_FIELDS: Readonly<Record<string, FieldSpec>> = {
  fonds: { pattern: '[0-9A-Z]{4}' }, // 全宗号: 4 characters assigned by the archives
  category: { pattern: '[A-Z]{2,4}' }, // 门类代码, 文书 = WS
  year: { pattern: '(?:19|20)\\d{2}' },
  period: { pattern: PERIOD_CODES.join('|'), values: PERIOD_CODES },
  org: { pattern: '[0-9A-Z]{1,10}' }, // 机构(问题): pinyin initials (办公室 BGS) or digits
  insurance: { pattern: '[0-9A-Z]{1,6}' },
  stage: { pattern: '[0-9A-Z]{1,10}' },
};

export interface ArchivalCodeConfig {
  template?: string;
  fields?: Readonly<Record<string, FieldSpec>>;
  /** Digits of 件号, zero-padded; DA/T 22 uses 4. */
  pieceDigits?: number;
}

export type ArchivalCodeInput = Readonly<Record<string, string | number>>;

export interface ParsedArchivalCode {
  /** Every field but 件号, as strings. */
  parts: Record<string, string>;
  piece: number;
  /** The numbering class this code belongs to (see classKey). */
  classKey: string;
  /** The code as it should be written (separators normalised). */
  code: string;
}

export type ArchivalCodeCheck = ({ valid: true } & ParsedArchivalCode) | { valid: false; reason: string };

export interface ArchivalCodeFormat {
  readonly template: string;
  /** Field names in template order, 件号 (`piece`) included. */
  readonly fields: readonly string[];
  format(input: ArchivalCodeInput): string;
  parse(code: string): ParsedArchivalCode | null;
  validate(code: string): ArchivalCodeCheck;
  /**
   * Everything but 件号, rendered with the template's separators (Z109-WS·2011-Y-BGS). 件号 is a
   * sequence inside the lowest class (DA/T 22), so the app keeps one gapless counter per key.
   */
  classKey(input: ArchivalCodeInput): string;
}

type Token = { kind: 'literal'; text: string } | { kind: 'field'; name: string };

function tokenize(template: string): Token[] {
  const tokens: Token[] = [];
  const re = /\{([a-zA-Z][a-zA-Z0-9]*)\}/g;
  let last = 0;
  for (let m = re.exec(template); m; m = re.exec(template)) {
    if (m.index > last) tokens.push({ kind: 'literal', text: template.slice(last, m.index) });
    tokens.push({ kind: 'field', name: m[1] as string });
    last = m.index + m[0].length;
  }
  if (last < template.length) tokens.push({ kind: 'literal', text: template.slice(last) });
  return tokens;
}

const configError = (message: string): AppError => new AppError('config_invalid', { message: `档号 template: ${message}` });
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// What people type, and OCR reads, for the two separators.
const DOT_VARIANTS = /[・•‧∙･.．]/g;
const DASH_VARIANTS = /[－—–‐]/g;

export function createArchivalCodeFormat(config: ArchivalCodeConfig = {}): ArchivalCodeFormat {
  const template = config.template ?? DAT22_TEMPLATE;
  const pieceDigits = config.pieceDigits ?? 4;
  const specs: Record<string, FieldSpec> = { ...DEFAULT_FIELDS, ...(config.fields ?? {}) };
  const tokens = tokenize(template);
  const fieldNames = tokens.flatMap((t) => (t.kind === 'field' ? [t.name] : []));

  if (!Number.isInteger(pieceDigits) || pieceDigits < 1 || pieceDigits > 8) throw configError('pieceDigits must be 1–8');
  if (new Set(fieldNames).size !== fieldNames.length) throw configError(`a field appears twice in ${template}`);
  for (const required of ['piece', 'period', 'year']) {
    if (!fieldNames.includes(required)) throw configError(`${template} has no {${required}}`);
  }
  tokens.forEach((t, i) => {
    if (t.kind === 'field' && tokens[i + 1]?.kind === 'field') throw configError(`{${t.name}} must be followed by a separator`);
    if (t.kind === 'field' && t.name !== 'piece' && !specs[t.name]) throw configError(`no pattern for {${t.name}}`);
  });
  const separators = tokens.flatMap((t) => (t.kind === 'literal' ? [...t.text] : []));
  const fieldRe = new Map<string, RegExp>();
  for (const name of fieldNames) {
    if (name === 'piece') continue;
    const spec = specs[name] as FieldSpec;
    const re = new RegExp(`^(?:${spec.pattern})$`, 'u');
    for (const sep of separators) if (re.test(sep)) throw configError(`the pattern of {${name}} matches the separator "${sep}"`);
    fieldRe.set(name, re);
  }

  const whole = new RegExp(
    `^${tokens
      .map((t) => (t.kind === 'literal' ? escapeRe(t.text) : `(?<f_${t.name}>${t.name === 'piece' ? `\\d{${pieceDigits}}` : `(?:${(specs[t.name] as FieldSpec).pattern})`})`))
      .join('')}$`,
    'u',
  );

  function checkField(name: string, value: string): string | null {
    const spec = specs[name] as FieldSpec;
    if (!(fieldRe.get(name) as RegExp).test(value)) return `${name} ${JSON.stringify(value)} does not match ${spec.pattern}`;
    if (spec.values && !spec.values.includes(value)) return `${name} ${JSON.stringify(value)} is not one of ${spec.values.join(', ')}`;
    return null;
  }

  function render(input: ArchivalCodeInput, withPiece: boolean): string {
    const problems: string[] = [];
    const values = new Map<string, string>();
    for (const name of fieldNames) {
      if (name === 'piece') {
        if (!withPiece) continue;
        const raw = input.piece;
        const n = typeof raw === 'number' ? raw : Number(raw);
        if (!Number.isInteger(n) || n < 1 || String(n).length > pieceDigits) {
          problems.push(`piece ${JSON.stringify(raw)} must be a whole number from 1 to ${'9'.repeat(pieceDigits)}`);
        } else values.set(name, String(n).padStart(pieceDigits, '0'));
        continue;
      }
      const raw = input[name];
      if (raw === undefined || raw === '') {
        problems.push(`${name} is missing`);
        continue;
      }
      const value = String(raw);
      const problem = checkField(name, value);
      if (problem) problems.push(problem);
      else values.set(name, value);
    }
    if (problems.length > 0) {
      throw new AppError('validation_failed', { message: `档号 cannot be formed: ${problems.join('; ')}`, zh: '档号要素不合规', details: { problems } });
    }
    const shown = withPiece ? tokens : withoutPiece(tokens);
    return shown.map((t) => (t.kind === 'literal' ? t.text : (values.get(t.name) as string))).join('');
  }

  function validate(code: string): ArchivalCodeCheck {
    let text = code.trim();
    // Only fold look-alikes into a separator the template uses and does not itself distinguish.
    if (separators.includes('·') && !separators.includes('.')) text = text.replace(DOT_VARIANTS, '·');
    if (separators.includes('-')) text = text.replace(DASH_VARIANTS, '-');
    const m = whole.exec(text);
    if (!m) return { valid: false, reason: `does not follow ${template}` };
    const parts: Record<string, string> = {};
    let piece = 0;
    fieldNames.forEach((name) => {
      const v = m.groups?.[`f_${name}`] ?? '';
      if (name === 'piece') piece = Number(v);
      else parts[name] = v;
    });
    for (const [name, value] of Object.entries(parts)) {
      const problem = checkField(name, value);
      if (problem) return { valid: false, reason: problem };
    }
    if (piece < 1) return { valid: false, reason: '件号 starts at 1' };
    return { valid: true, parts, piece, code: text, classKey: render(parts, false) };
  }

  return {
    template,
    fields: fieldNames,
    format: (input) => render(input, true),
    classKey: (input) => render(input, false),
    validate,
    parse(code) {
      const r = validate(code);
      if (!r.valid) return null;
      const { valid: _valid, ...parsed } = r;
      return parsed;
    },
  };
}

/** The template without {piece} and the separator that joins it to the rest. */
function withoutPiece(tokens: Token[]): Token[] {
  const i = tokens.findIndex((t) => t.kind === 'field' && t.name === 'piece');
  if (i < 0) return tokens;
  if (i > 0 && tokens[i - 1]?.kind === 'literal') return [...tokens.slice(0, i - 1), ...tokens.slice(i + 1)];
  if (tokens[i + 1]?.kind === 'literal') return [...tokens.slice(0, i), ...tokens.slice(i + 2)];
  return [...tokens.slice(0, i), ...tokens.slice(i + 1)];
}

/** DA/T 22-2015 default layout: 全宗号-门类代码·年度-保管期限代码-机构(问题)代码-件号. */
export const dat22ArchivalCode: ArchivalCodeFormat = createArchivalCodeFormat();

// 3号令 第八条: classes follow 年度—险种—业务环节. 险种 is implied by the appendix category for
// the benefit categories; 业务环节 is the category's business stage plus the row.
export const CATEGORY_INSURANCE: Record<string, string> = { '3': 'YL', '4': 'YB', '5': 'SY', '6': 'GS', '7': 'SH' };
export const CATEGORY_STAGE: Record<string, string> = { '1': 'GL', '2': 'ZJ', '3': 'DY', '4': 'DY', '5': 'DY', '6': 'DY', '7': 'DY', '8': 'TJ', '9': 'JH' };
