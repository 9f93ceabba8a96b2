/** Stored integrity reports (fsck, 四性, backup, restore runs): listing, one run, CSV export. */
import { isValidObjectId } from 'mongoose';
import { integrityRunModel, type IntegrityKind, type IntegrityRunDoc } from '../../models/integrity.model';
import type { Runtime } from '../../runtime';
import { CHECKS, PROPERTIES, type Property } from './four-properties';

export interface RunView {
  id: string;
  kind: string;
  trigger: string;
  state: string;
  ok: boolean | null;
  actor: string;
  startedAt: string;
  finishedAt: string | null;
  counts: Record<string, number>;
  result: Record<string, unknown> | null;
  findings: number;
}

export function runView(r: IntegrityRunDoc): RunView {
  return {
    id: String(r._id),
    kind: r.kind,
    trigger: r.trigger,
    state: r.state,
    ok: r.ok ?? null,
    actor: r.actor,
    startedAt: new Date(r.startedAt).toISOString(),
    finishedAt: r.finishedAt ? new Date(r.finishedAt).toISOString() : null,
    counts: r.counts ?? {},
    result: r.result ?? null,
    findings: (r.findings ?? []).length,
  };
}

export async function listRuns(rt: Runtime, kind: IntegrityKind, limit = 20): Promise<RunView[]> {
  const rows = await integrityRunModel(rt.db).find({ kind }, { findings: 0 }).sort({ startedAt: -1 }).limit(limit).lean<IntegrityRunDoc[]>();
  return rows.map((r) => runView({ ...r, findings: [] }));
}

export async function getRun(rt: Runtime, id: string): Promise<IntegrityRunDoc | null> {
  if (!isValidObjectId(id)) return null;
  return integrityRunModel(rt.db).findById(id).lean<IntegrityRunDoc>();
}

const csvCell = (v: unknown): string => {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** One line per finding, Chinese first; a header block with the run and its per-property summary. UTF-8 with BOM for spreadsheet programs. */
export function runCsv(r: IntegrityRunDoc): string {
  const lines: string[] = [];
  lines.push(['检测编号 run', '类型 kind', '触发 trigger', '结果 ok', '开始 started', '结束 finished'].map(csvCell).join(','));
  lines.push([String(r._id), r.kind, r.trigger, r.ok === null ? '' : r.ok ? '通过 pass' : '未通过 fail', new Date(r.startedAt).toISOString(), r.finishedAt ? new Date(r.finishedAt).toISOString() : ''].map(csvCell).join(','));
  const summary = (r.result as { summary?: Record<Property, { checks: number; failed: number; warnings: number }> } | null)?.summary;
  if (summary) {
    lines.push('');
    lines.push(['性质 property', '检测项数 checks', '未通过 failed', '警告 warnings'].map(csvCell).join(','));
    for (const [p, s] of Object.entries(summary)) lines.push([`${PROPERTIES[p as Property].zh} ${p}`, s.checks, s.failed, s.warnings].map(csvCell).join(','));
  }
  lines.push('');
  lines.push(['检测项 check', '性质 property', '对象 subject', '级别 severity', '说明', 'message'].map(csvCell).join(','));
  for (const f of (r.findings ?? []) as Array<Record<string, unknown>>) {
    const check = String(f.check ?? '');
    const prop = (f.property as string | undefined) ?? CHECKS[check]?.property ?? '';
    lines.push([check, prop, f.subject, f.severity, f.messageZh, f.message].map(csvCell).join(','));
  }
  return `\ufeff${lines.join('\r\n')}\r\n`;
}
