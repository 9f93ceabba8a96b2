import { inForceFrom, scheduleVersions } from '../../../retention-rules';
import { AppError } from '../../errors';
import { applySchedule, loadScheduleFile, scheduleById, scheduleFor, scheduleReviewList, withdrawalRegister, withdrawNumber } from '../../services/filing';
import { presentItem } from '../../services/records';
import { cliPrincipal, describeCliForAudit } from '../identity';
import { withRuntime } from '../runtime';
import type { Command } from '../command';
import type { Runtime } from '../../runtime';

function who(rt: Runtime): { actor: string; role: string | null } {
  const p = cliPrincipal(rt);
  return { actor: p?.username ?? 'operator', role: p ? p.roles.join(',') || null : null };
}

export const scheduleCommand: Command = {
  name: 'schedule',
  summary: 'The retention schedule (《社会保险业务档案管理规定（试行）》附件): show, list versions, check and apply a version',
  usage: '<show|versions|review FILE|apply VERSION>',
  subcommands: [
    {
      name: 'show',
      // The published schedule (a regulation's appendix), read from the code, not the archive.
      permission: 'session',
      summary: 'Rows of the schedule in force, with retention and whether they are provisional',
      usage: '[--version VERSION]',
      options: { version: { type: 'string', description: 'a schedule version id (default: the one in force)', valueName: 'VERSION' } },
      run: async ({ values, io }) =>
        withRuntime(async (rt) => {
          const s = typeof values.version === 'string' ? scheduleById(values.version) : scheduleFor(rt);
          const rows = [...s.itemsById.values()].map((i) => ({ id: i.id, category: i.category, name: i.name, retention: i.retention, provisional: i.provisional }));
          if (values.json) io.out(JSON.stringify({ version: s.versionId, rows }));
          else {
            io.out(`保管期限表 schedule ${s.versionId}`);
            for (const r of rows) io.out(`${r.id.padEnd(6)} ${r.retention.padEnd(5)} ${r.provisional ? '（待核实）' : '          '} ${r.name}`);
          }
        }),
    },
    {
      name: 'versions',
      // Like `show`: the bundled versions are published data; any signed-in account may list them.
      permission: 'session',
      summary: 'The schedule versions bundled as data files (retention-rules/rules/) and the one in force',
      usage: '',
      run: async ({ values, io }) =>
        withRuntime(async (rt) => {
          const inForce = scheduleFor(rt).versionId;
          const list = scheduleVersions().map((s) => ({ version: s.versionId, inForceFrom: inForceFrom(s), inForce: s.versionId === inForce, provisionalRows: s.items.filter((i) => i.provisional).length }));
          if (values.json) return io.out(JSON.stringify({ inForce, pinned: rt.config.schedule.version ?? null, versions: list }));
          for (const v of list) io.out(`${v.inForce ? '*' : ' '} ${v.version.padEnd(22)} 施行 in force from ${v.inForceFrom}  待核实 provisional rows ${v.provisionalRows}`);
        }),
    },
    {
      name: 'review',
      permission: 'retention.manage',
      summary: 'Validate a new schedule file and list the items whose decisions it would change (nothing is changed)',
      usage: 'FILE',
      run: async ({ values, positionals, io }) => {
        const file = positionals[0];
        if (!file) throw new AppError('validation_failed', { message: 'Give the new schedule file', zh: '请指定新的保管期限表文件' });
        const next = loadScheduleFile(file);
        return withRuntime(async (rt) => {
          const r = await scheduleReviewList(rt, next);
          if (values.json) return io.out(JSON.stringify(r));
          io.out(`${r.from} → ${r.to}: ${r.changes.length} 行变更 changed rows, ${r.items.length} 件待复核 items to review`);
          for (const e of r.items) io.out(`  ${e.archivalCode ?? e.itemId}  ${e.row}  ${e.kinds.join(',')}  ${e.before?.retention ?? '—'} → ${e.after?.retention ?? '—'}`);
        });
      },
    },
    {
      name: 'apply',
      permission: 'retention.manage',
      summary: 'Re-evaluate every filed/review item under VERSION, recording each change with it; never shortens a period a person decided (those go to review)',
      usage: 'VERSION [--dry-run] [--yes]',
      description: 'Without --yes only the plan is shown (as --dry-run). A changed period code withdraws the 档号 into the register and numbers the item again.',
      options: {
        'dry-run': { type: 'boolean', description: 'list what would change, change nothing' },
        yes: { type: 'boolean', description: 'apply (a person\'s confirmation: the changes are recorded, not undone)' },
      },
      run: async ({ values, positionals, io }) => {
        const version = positionals[0];
        if (!version) throw new AppError('validation_failed', { message: 'Give the schedule version, e.g. 3hao-ling-2009.v2 (see "archive schedule versions")', zh: '请指定保管期限表版本（见 archive schedule versions）' });
        const target = scheduleById(version);
        const dryRun = values['dry-run'] === true || values.yes !== true;
        return withRuntime(async (rt) => {
          describeCliForAudit({ type: 'schedule', id: target.versionId }, { dryRun });
          const r = await applySchedule(rt, target, { ...who(rt), dryRun, onProgress: (n) => n % 500 === 0 && io.err(`… ${n} items examined`) });
          if (values.json) return io.out(JSON.stringify(r));
          io.out(`${dryRun ? '预览 plan (nothing changed; add --yes to apply)' : '已应用 applied'} ${r.version}: ${r.examined} 件检查 examined, ${r.unchanged} 未变 unchanged, ${r.changes.length} 变更 changed`);
          for (const c of r.changes) io.out(`  ${c.archivalCode ?? c.itemId}  ${c.row}  ${c.outcome}  ${c.from.retention ?? '—'} → ${c.to?.retention ?? '—'}${c.newArchivalCode ? `  新档号 ${c.newArchivalCode}` : ''}`);
        });
      },
    },
  ],
};

export const numberCommand: Command = {
  name: 'number',
  summary: '档号: withdraw a number (撤销) and read the withdrawal register (空号登记)',
  usage: '<withdraw ITEM --reason TEXT|register>',
  subcommands: [
    {
      name: 'withdraw',
      permission: 'number.withdraw',
      summary: 'Withdraw the item\'s 档号 with a reason: never reused, kept in the register; the item returns to review to be re-classified and numbered again',
      usage: 'ITEM --reason TEXT',
      options: { reason: { type: 'string', description: '撤销理由 / why the number is withdrawn', valueName: 'TEXT' } },
      run: async ({ values, positionals, io }) => {
        const id = positionals[0];
        if (!id) throw new AppError('validation_failed', { message: 'Give an item id', zh: '请提供条目编号' });
        if (typeof values.reason !== 'string') throw new AppError('validation_failed', { message: 'Give --reason', zh: '请用 --reason 填写撤销理由', details: { field: 'reason' } });
        const reason = values.reason;
        return withRuntime(async (rt) => {
          describeCliForAudit({ type: 'item', id });
          const { item, withdrawal } = await withdrawNumber(rt, id, { reason, ...who(rt) });
          if (values.json) return io.out(JSON.stringify({ item: await presentItem(rt, item), withdrawal }));
          io.out(`已撤销 / withdrawn: ${withdrawal.archivalCode}（${withdrawal.reason}）；条目 ${id} 待重新分类 / back in review`);
        });
      },
    },
    {
      name: 'register',
      permission: 'item.read',
      summary: 'The withdrawal register: every withdrawn 档号 with reason, who and when',
      usage: '[--class KEY] [--item ID]',
      options: { class: { type: 'string', description: 'one numbering class', valueName: 'KEY' }, item: { type: 'string', description: 'one item', valueName: 'ID' } },
      run: async ({ values, io }) =>
        withRuntime(async (rt) => {
          const rows = await withdrawalRegister(rt, { classKey: typeof values.class === 'string' ? values.class : undefined, itemId: typeof values.item === 'string' ? values.item : undefined });
          if (values.json) return io.out(JSON.stringify({ entries: rows }));
          io.out(`撤销登记 withdrawal register: ${rows.length}`);
          for (const w of rows) io.out(`  ${w.archivalCode}  ${w.at.toISOString().slice(0, 19)}  ${w.actor}  ${w.reason}${w.scheduleVersion ? `  (${w.scheduleVersion})` : ''}`);
        }),
    },
  ],
};
