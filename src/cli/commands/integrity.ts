import { AppError } from '../../errors';
import { FSCK_PHASES, runFsck, type Finding, type FsckPhase } from '../../services/integrity';
import { cliPrincipal, describeCliForAudit } from '../identity';
import { withRuntime } from '../runtime';
import type { Command } from '../command';

function positiveNumber(v: unknown, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new AppError('validation_failed', { message: `--${name} must be a number ≥ 0`, zh: `--${name} 必须是不小于 0 的数` });
  return n;
}

function phasesOf(v: unknown): FsckPhase[] | undefined {
  if (typeof v !== 'string') return undefined;
  const list = v.split(',').map((s) => s.trim()).filter(Boolean);
  for (const p of list) {
    if (!(FSCK_PHASES as readonly string[]).includes(p)) {
      throw new AppError('validation_failed', { message: `--only: unknown check "${p}" (one of ${FSCK_PHASES.join(', ')})`, zh: `--only：未知检查项 "${p}"（可选 ${FSCK_PHASES.join('、')}）` });
    }
  }
  return list as FsckPhase[];
}

export function findingLine(f: Finding): string {
  const state = f.repaired === true ? '已修复 repaired' : f.repairError ? `修复失败 repair failed: ${f.repairError}` : f.repair ? `可修复 would: ${f.action}` : `需人工 needs a person: ${f.action}`;
  return `  [${f.severity}] ${f.check}/${f.kind} ${f.subject}\n      ${f.messageZh}\n      ${f.message}\n      → ${state}`;
}

export const fsckCommand: Command = {
  name: 'fsck',
  permission: 'integrity.check',
  summary: 'Check the archive for inconsistencies (items ↔ blobs, search index, 档号 numbering, stuck jobs, audit chain)',
  usage: '[--repair] [--only items,orphans,numbering,jobs,audit] [--rate N] [--resume]',
  description:
    'Reports every inconsistency with what would be done about it. --repair does only the safe repairs ' +
    '(re-enqueue a pipeline job, reindex/unindex, remove orphan objects older than the grace period, finish ' +
    'shredding a destroyed item) and records each in the audit trail. Exit 0 when consistent, 1 when not.',
  options: {
    repair: { type: 'boolean', description: 'do the safe repairs (audited)' },
    only: { type: 'string', description: `only these checks (${FSCK_PHASES.join(',')})`, valueName: 'LIST' },
    rate: { type: 'string', description: 'items per second (0 = unthrottled); keep low on a busy archive', valueName: 'N', default: '0' },
    'grace-hours': { type: 'string', description: 'orphan objects younger than this are left alone', valueName: 'H', default: '1' },
    'no-fixity': { type: 'boolean', description: 'only check that objects exist (skip decrypting them)' },
    resume: { type: 'boolean', description: 'continue the last interrupted fsck run where it stopped' },
  },
  run: async ({ values, io }) =>
    withRuntime(async (rt) => {
      const who = cliPrincipal(rt);
      const report = await runFsck(rt, {
        repair: values.repair === true,
        phases: phasesOf(values.only),
        ratePerSecond: positiveNumber(values.rate, 'rate', 0),
        orphanGraceMs: positiveNumber(values['grace-hours'], 'grace-hours', 1) * 3600_000,
        fixity: values['no-fixity'] !== true,
        resume: values.resume === true,
        actor: who?.username ?? 'system',
        role: who?.roles.join(',') ?? 'system',
        onProgress: (p) => (!values.json && io.isTTY ? io.err(`… ${p.phase}: ${p.findings} finding(s)`) : undefined),
      });
      describeCliForAudit({ type: 'integrity_run', id: report.runId }, { ok: report.ok, findings: report.findings.length, repaired: report.repaired, repair: values.repair === true });
      if (values.json) io.out(JSON.stringify(report));
      else {
        io.out(
          report.ok
            ? `一致性检查通过 / archive consistent (${report.counts['items/checked'] ?? 0} items, ${report.counts['blobs/verified'] ?? 0} objects authenticated, ${report.repaired} repaired) in ${(report.ms / 1000).toFixed(1)} s — run ${report.runId}`
            : `发现不一致 / inconsistencies found: ${report.findings.filter((f) => !f.repaired).length} open, ${report.repaired} repaired — run ${report.runId}`,
        );
        for (const f of report.findings.slice(0, 200)) io.out(findingLine(f));
        if (report.findings.length > 200) io.out(`  … ${report.findings.length - 200} more (use --json)`);
      }
      return report.ok ? 0 : 1;
    }),
};
