import { currentSchedule } from '../../../retention-rules';
import { AppError } from '../../errors';
import { loadScheduleFile, scheduleReviewList } from '../../services/filing';
import { withRuntime } from '../runtime';
import type { Command } from '../command';

export const scheduleCommand: Command = {
  name: 'schedule',
  summary: 'The retention schedule (《社会保险业务档案管理规定（试行）》附件): show, check a new version',
  usage: '<show|review FILE>',
  subcommands: [
    {
      name: 'show',
      // The published schedule (a regulation's appendix), read from the code, not the archive.
      permission: 'session',
      summary: 'Rows of the schedule in force, with retention and whether they are provisional',
      usage: '',
      run: async ({ values, io }) => {
        const s = currentSchedule();
        const rows = [...s.itemsById.values()].map((i) => ({ id: i.id, category: i.category, name: i.name, retention: i.retention, provisional: i.provisional }));
        if (values.json) io.out(JSON.stringify({ version: s.versionId, rows }));
        else {
          io.out(`保管期限表 schedule ${s.versionId}`);
          for (const r of rows) io.out(`${r.id.padEnd(6)} ${r.retention.padEnd(5)} ${r.provisional ? '（待核实）' : '          '} ${r.name}`);
        }
      },
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
  ],
};
