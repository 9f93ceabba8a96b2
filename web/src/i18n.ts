// zh-CN first, English switchable. Every text the UI shows is a key here with both languages; the
// type of `t` only accepts known keys, so a missing translation does not compile (vue-tsc).
import { ref, watch } from 'vue';
import { M, type MessageKey } from './messages';
import { singular } from './plural';

export type Locale = 'zh' | 'en';
const saved = typeof localStorage !== 'undefined' ? localStorage.getItem('archive.locale') : null;
export const locale = ref<Locale>(saved === 'en' ? 'en' : 'zh');
watch(locale, (l) => {
  localStorage.setItem('archive.locale', l);
  document.documentElement.lang = l === 'zh' ? 'zh-CN' : 'en';
});

/** The text of a key in the current language; {name} placeholders are filled from params. */
export function t(key: MessageKey, params: Record<string, string | number> = {}): string {
  const pair = M[key];
  const s = locale.value === 'zh' ? pair[0] : pair[1];
  const filled = s.replace(/\{(\w+)\}/g, (_m, k: string) => (params[k] === undefined ? `{${k}}` : String(params[k])));
  return locale.value === 'zh' ? filled : singular(filled);
}

/**
 * Punctuation around words in the current language: Chinese 、 （） ： are full-width and take no
 * spaces; in English they read as ", ", " ( )" and ": ".
 */
export function listOf(words: readonly string[]): string {
  return words.join(locale.value === 'zh' ? '、' : ', ');
}
export function paren(s: string | number): string {
  return locale.value === 'zh' ? `（${s}）` : ` (${s})`;
}
export function colon(): string {
  return locale.value === 'zh' ? '：' : ': ';
}

/** A code's name from a table of [zh, en] pairs (categories, roles…), the code itself when unknown. */
export function named(table: Record<string, readonly [string, string]>, code: string | null | undefined): string {
  if (code === null || code === undefined || code === '') return '—';
  const pair = table[code];
  return pair ? (locale.value === 'zh' ? pair[0] : pair[1]) : code;
}

export const ROLE_NAMES: Record<string, readonly [string, string]> = {
  archivist: ['档案员', 'Archivist'],
  caseworker: ['经办人员', 'Caseworker'],
  compliance_officer: ['合规专员', 'Compliance officer'],
  appraisal_member: ['鉴定小组成员', 'Appraisal group member'],
  agency_head: ['负责人', 'Agency head'],
  auditor: ['审计员', 'Auditor'],
  sysadmin: ['系统管理员', 'System administrator'],
  secadmin: ['安全保密管理员', 'Security administrator'],
  secauditor: ['安全审计员', 'Security auditor'],
  disposal_supervisor: ['监销人', 'Destruction supervisor'],
};

/** The default clearance labels (ARCHIVE_CLEARANCE_LEVELS); a label configured beyond these shows as it is. */
export const CLEARANCE_NAMES: Record<string, readonly [string, string]> = {
  public: ['公开', 'Public'],
  internal: ['内部', 'Internal'],
  sensitive: ['敏感', 'Sensitive'],
};

export const RETENTION_NAMES: Record<string, readonly [string, string]> = {
  Y: ['永久', 'Permanent'],
  D100: ['100年', '100 years'],
  D50: ['50年', '50 years'],
  D30: ['30年', '30 years'],
  D10: ['10年', '10 years'],
};

export const STATUS_NAMES: Record<string, readonly [string, string]> = {
  received: ['已接收', 'Received'],
  processing: ['处理中', 'Processing'],
  filed: ['已归档', 'Filed'],
  review: ['待审核', 'Awaiting review'],
  failed: ['失败', 'Failed'],
  qc_hold: ['质检暂存', 'Held by QC'],
  split: ['已拆分', 'Split'],
  merged: ['已合并', 'Merged'],
  destroyed: ['已销毁', 'Destroyed'],
  queued: ['排队中', 'Queued'],
  running: ['运行中', 'Running'],
  done: ['完成', 'Done'],
  cancelled: ['已取消', 'Cancelled'],
  pending: ['待审批', 'Pending'],
  rejected: ['已拒绝', 'Refused'],
  approved: ['已批准', 'Approved'],
  ended: ['已结束', 'Ended'],
  expired: ['已过期', 'Expired'],
};

export const FLAG_NAMES: Record<string, readonly [string, string]> = {
  blank_page: ['空白页', 'Blank page'],
  low_dpi: ['分辨率低', 'Low resolution'],
  dpi_unknown: ['分辨率未知', 'Resolution unknown'],
  rotation_applied: ['已纠正方向', 'Rotated upright'],
  low_confidence: ['识别置信度低', 'Low OCR confidence'],
  unreadable: ['无法识别', 'Unreadable'],
};

export const INSURANCE_NAMES: Record<string, readonly [string, string]> = {
  YL: ['养老保险', 'Pension insurance'],
  GS: ['工伤保险', 'Work-injury insurance'],
  SY: ['失业保险', 'Unemployment insurance'],
  YB: ['医疗保险', 'Medical insurance'],
  SYU: ['生育保险', 'Maternity insurance'],
  JG: ['机关事业单位养老保险', 'Public-sector pension'],
  ZG: ['综合', 'General'],
};

/**
 * Filing's review reasons are stored in English (services/filing/classification.ts); an archivist
 * reads them in Chinese. Known shapes are rendered here; anything else is shown as stored.
 */
const REVIEW_REASONS_ZH: Array<[RegExp, (m: RegExpExecArray) => string]> = [
  [/^no rule or learned example matches this document/, () => '没有标题规则或已学习的样例与本文件相符，请选择分类'],
  [/^title rules say (\S+), the learned classifier says (\S+)/, (m) => `标题规则判为 ${m[1]}，学习分类器判为 ${m[2]}，二者不一致`],
  [/^accounting record/, () => '会计类材料：会计档案子规则不明确（未写明或写明多种），已按候选中最长的保管期限处理'],
  [/^no formation date/, () => '未找到形成日期：编号前请补录形成日期'],
  [/^confidence ([\d.]+) is below ([\d.]+)/, (m) => `分类置信度 ${m[1]} 低于 ${m[2]}`],
];
export function reviewReason(reason: string): string {
  if (locale.value !== 'zh') return reason;
  for (const [re, zh] of REVIEW_REASONS_ZH) {
    const m = re.exec(reason);
    if (m) return zh(m);
  }
  return reason;
}
