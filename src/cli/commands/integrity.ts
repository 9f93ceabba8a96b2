import { OBJECT_ID } from '../../domain/ids';
import { loadConfig } from '../../config';
import { AppError } from '../../errors';
import fs from 'node:fs';
import { afterRestore, backup, checkFourProperties, FSCK_PHASES, getRun, listBackups, listRuns, openTarget, PROPERTIES, restore, runCsv, runFsck, runView, type Finding, type FsckPhase, type FourPropertiesReport } from '../../services/integrity';
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

export const backupCommand: Command = {
  name: 'backup',
  permission: 'backup.manage',
  summary: 'Back up the database, mirror the encrypted objects, and the keystore to a separate place (数据备份, 异地存储)',
  usage: '[--to URL] [--keys-to URL] [--keep N] | --list [--to URL]',
  description:
    'URL: file:///path or http(s)://ACCESS:SECRET@host:port/bucket[/prefix] (a second MinIO). Objects are copied as ' +
    'stored (ciphertext), only those changed since the last backup. The keystore goes to --keys-to, which must be a ' +
    'different place: keys and data are never kept together (docs/operations.md). Defaults: ARCHIVE_BACKUP_TARGET, ' +
    'ARCHIVE_BACKUP_KEYS_TARGET, ARCHIVE_BACKUP_KEEP.',
  options: {
    to: { type: 'string', description: 'backup location (default ARCHIVE_BACKUP_TARGET)', valueName: 'URL' },
    'keys-to': { type: 'string', description: 'keystore backup location, elsewhere (default ARCHIVE_BACKUP_KEYS_TARGET)', valueName: 'URL' },
    keep: { type: 'string', description: 'database snapshots to keep on the target (0 = all; default ARCHIVE_BACKUP_KEEP)', valueName: 'N' },
    list: { type: 'boolean', description: 'list the complete backups at the location instead' },
  },
  run: async ({ values, io }) =>
    withRuntime(async (rt) => {
      const to = typeof values.to === 'string' ? values.to : rt.config.backup.target;
      if (!to) throw new AppError('validation_failed', { message: 'No backup location: pass --to or set ARCHIVE_BACKUP_TARGET', zh: '未指定备份位置：请用 --to 或设置 ARCHIVE_BACKUP_TARGET' });
      if (values.list === true) {
        const all = await listBackups(await openTarget(to));
        if (values.json) io.out(JSON.stringify({ backups: all }));
        else if (!all.length) io.out('没有完整的备份 / no complete backups');
        else for (const b of all) io.out(`${b.id}  ${b.startedAt}  items ${b.collections.items?.docs ?? 0}  audit ≤ ${b.audit.lastSeq}  objects +${b.objects.copied}/-${b.objects.removed}  keys ${b.keys ? b.keys.location : '—'}`);
        return 0;
      }
      const keysTo = typeof values['keys-to'] === 'string' ? values['keys-to'] : rt.config.backup.keysTarget;
      const keep = values.keep === undefined ? rt.config.backup.keep : positiveNumber(values.keep, 'keep', 0);
      const who = cliPrincipal(rt);
      const m = await backup(rt, { to, keysTo, keep, actor: who?.username, role: who?.roles.join(','), onProgress: (l) => (!values.json ? io.err(l) : undefined) });
      describeCliForAudit({ type: 'backup', id: m.id }, { objectsCopied: m.objects.copied });
      if (values.json) io.out(JSON.stringify(m));
      else {
        io.out(`备份完成 / backup ${m.id} complete: ${Object.values(m.collections).reduce((a, c) => a + c.docs, 0)} documents, ${m.objects.copied} objects copied (${m.objects.total} in the archive), ${m.objects.removed} shredded objects removed from the mirror`);
        if (!m.keys) io.out('⚠ 未备份密钥库 / the keystore was NOT backed up (no --keys-to): without it this backup cannot be read');
      }
      return 0;
    }),
};

export const restoreCommand: Command = {
  name: 'restore',
  // A machine-level step like create-admin: it runs into an empty database, where no account exists yet.
  permission: 'local',
  summary: 'Restore a backup into fresh (empty) services: keystore, database, objects; then re-apply destructions and fsck',
  usage: '--from URL [--backup ID] [--keys-from URL] --yes',
  description: 'Refuses a database that already holds items and an existing keystore unless --force. After loading, destructions recorded since the backup are re-applied and fsck --repair re-enqueues and reindexes what the backup caught half-done.',
  options: {
    from: { type: 'string', description: 'backup location (default ARCHIVE_BACKUP_TARGET)', valueName: 'URL' },
    backup: { type: 'string', description: 'backup id (default: the newest complete one)', valueName: 'ID' },
    'keys-from': { type: 'string', description: 'keystore backup location (default ARCHIVE_BACKUP_KEYS_TARGET)', valueName: 'URL' },
    yes: { type: 'boolean', description: 'confirm: this writes the database, the keystore and the bucket' },
    force: { type: 'boolean', description: 'replace a non-empty database and an existing keystore' },
  },
  run: async ({ values, io }) => {
    const config = loadConfig();
    const from = typeof values.from === 'string' ? values.from : config.backup.target;
    if (!from) throw new AppError('validation_failed', { message: 'No backup location: pass --from or set ARCHIVE_BACKUP_TARGET', zh: '未指定备份位置：请用 --from 或设置 ARCHIVE_BACKUP_TARGET' });
    if (values.yes !== true) throw new AppError('validation_failed', { message: 'Restoring writes the database, keystore and bucket: add --yes to confirm', zh: '恢复将写入数据库、密钥库和对象存储：请加 --yes 确认' });
    const log = (l: string) => (!values.json ? io.err(l) : undefined);
    const restored = await restore(config, {
      from,
      backupId: typeof values.backup === 'string' ? values.backup : undefined,
      keysFrom: typeof values['keys-from'] === 'string' ? values['keys-from'] : config.backup.keysTarget,
      force: values.force === true,
      onProgress: log,
    });
    return withRuntime(async (rt) => {
      const who = cliPrincipal(rt);
      const post = await afterRestore(rt, restored, { actor: who?.username, role: who?.roles.join(','), onProgress: log });
      describeCliForAudit({ type: 'backup', id: restored.backupId }, { objects: restored.objects, fsckOk: post.fsck.ok });
      if (values.json) io.out(JSON.stringify({ restored, reapplied: post.reapplied, fsck: { runId: post.fsck.runId, ok: post.fsck.ok, repaired: post.fsck.repaired, open: post.fsck.findings.filter((f) => !f.repaired) } }));
      else {
        io.out(`恢复完成 / restored backup ${restored.backupId}: ${restored.objects} objects, ${Object.values(restored.collections).reduce((a, b) => a + b, 0)} documents in ${(restored.ms / 1000).toFixed(1)} s; fsck ${post.fsck.ok ? 'consistent' : 'found problems'} (${post.fsck.repaired} repaired)`);
        for (const f of post.fsck.findings.filter((x) => !x.repaired).slice(0, 50)) io.out(findingLine(f));
      }
      return post.fsck.ok ? 0 : 1;
    });
  },
};

function summaryLines(summary: FourPropertiesReport['summary']): string[] {
  return Object.entries(summary).map(([p, v]) => `  ${PROPERTIES[p as keyof typeof PROPERTIES].zh} ${p.padEnd(12)} ${String(v.checks).padStart(6)} checks  ${v.failed ? `${v.failed} FAILED` : 'ok'}${v.warnings ? `  (${v.warnings} warning(s))` : ''}`);
}

export const checkCommand: Command = {
  name: 'check',
  summary: '四性检测 (DA/T 70-2018): 真实性、完整性、可用性、安全性 — run now, list, show, export',
  usage: '<run|list|show>',
  subcommands: [
    {
      name: 'run',
      permission: 'integrity.check',
      summary: 'Check items now (given ids, or the whole archive) and store the report; exit 1 when a check fails',
      usage: '[--items ID,ID…] [--expect N] [--trigger manual|transfer] [--rate N]',
      options: {
        items: { type: 'string', description: 'comma-separated item ids (a batch or transfer package); default the whole archive', valueName: 'IDS' },
        expect: { type: 'string', description: 'item count of the hand-over list (移交清单)', valueName: 'N' },
        trigger: { type: 'string', description: 'manual (default) or transfer', valueName: 'T' },
        rate: { type: 'string', description: 'items per second (0 = unthrottled)', valueName: 'N', default: '0' },
        resume: { type: 'boolean', description: 'continue the last unfinished run' },
      },
      run: async ({ values, io }) =>
        withRuntime(async (rt) => {
          const ids = typeof values.items === 'string' ? values.items.split(',').map((x) => x.trim()).filter(Boolean) : undefined;
          if (ids?.some((id) => !OBJECT_ID.test(id))) throw new AppError('validation_failed', { message: '--items: item ids are 24 hex characters', zh: '--items：条目编号为 24 位十六进制' });
          const trigger = values.trigger === 'transfer' ? 'transfer' : 'manual';
          const expect = values.expect === undefined ? undefined : positiveNumber(values.expect, 'expect', 0);
          const r = await checkFourProperties(rt, { trigger, itemIds: ids, handover: expect === undefined ? undefined : { count: expect }, archiveWide: !ids, ratePerSecond: positiveNumber(values.rate, 'rate', 0), resume: values.resume === true, actor: cliPrincipal(rt)?.username });
          describeCliForAudit({ type: 'integrity_run', id: r.runId }, { ok: r.ok, items: r.items });
          if (values.json) io.out(JSON.stringify(r));
          else {
            io.out(`四性检测 / 4-property check ${r.ok ? '通过 passed' : '未通过 FAILED'}: ${r.items} items — report ${r.runId}`);
            for (const l of summaryLines(r.summary)) io.out(l);
            for (const f of r.findings.slice(0, 100)) io.out(`  [${f.severity}] ${f.check} ${f.subject}\n      ${f.messageZh}\n      ${f.message}`);
          }
          return r.ok ? 0 : 1;
        }),
    },
    {
      name: 'list',
      permission: 'integrity.check',
      summary: 'Stored reports, newest first (四性 by default; --kind fsck|backup|restore)',
      usage: '[--kind K] [--limit N]',
      options: {
        kind: { type: 'string', description: 'four-properties (default), fsck, backup or restore', valueName: 'K' },
        limit: { type: 'string', description: 'at most N', valueName: 'N', default: '20' },
      },
      run: async ({ values, io }) =>
        withRuntime(async (rt) => {
          const kind = (['four-properties', 'fsck', 'backup', 'restore'].includes(String(values.kind)) ? values.kind : 'four-properties') as 'four-properties';
          const runs = await listRuns(rt, kind, Math.max(1, positiveNumber(values.limit, 'limit', 20)));
          if (values.json) io.out(JSON.stringify({ runs }));
          else if (!runs.length) io.out('没有报告 / no reports');
          else for (const r of runs) io.out(`${r.id}  ${r.startedAt}  ${r.kind}/${r.trigger}  ${r.state}  ${r.ok === null ? '—' : r.ok ? '通过 ok' : '未通过 FAILED'}  by ${r.actor}`);
        }),
    },
    {
      name: 'show',
      permission: 'integrity.check',
      summary: 'One report with its findings; --csv FILE exports it (UTF-8, for spreadsheets)',
      usage: 'RUN_ID [--csv FILE]',
      options: { csv: { type: 'string', description: 'write the report as CSV to FILE (- for stdout)', valueName: 'FILE' } },
      run: async ({ values, positionals, io }) =>
        withRuntime(async (rt) => {
          const run = await getRun(rt, positionals[0] ?? '');
          if (!run) throw new AppError('not_found', { message: `No report ${positionals[0] ?? '(none given)'}`, zh: `没有报告 ${positionals[0] ?? ''}` });
          describeCliForAudit({ type: 'integrity_run', id: String(run._id) });
          if (typeof values.csv === 'string') {
            if (values.csv === '-') io.out(runCsv(run));
            else {
              fs.writeFileSync(values.csv, runCsv(run));
              io.err(`已导出 / exported to ${values.csv}`);
            }
            return;
          }
          const v = runView(run);
          if (values.json) io.out(JSON.stringify({ ...v, findings: run.findings ?? [] }));
          else {
            io.out(`${v.id}  ${v.kind}/${v.trigger}  ${v.state}  ${v.ok === null ? '—' : v.ok ? '通过 ok' : '未通过 FAILED'}  ${v.startedAt} → ${v.finishedAt ?? '…'}`);
            const summary = (v.result as { summary?: FourPropertiesReport['summary'] } | null)?.summary;
            if (summary) for (const l of summaryLines(summary)) io.out(l);
            for (const f of (run.findings ?? []) as Array<Record<string, unknown>>) io.out(`  [${String(f.severity)}] ${String(f.check)}/${String(f.kind ?? f.property ?? '')} ${String(f.subject)}\n      ${String(f.messageZh)}\n      ${String(f.message)}`);
          }
        }),
    },
  ],
};
