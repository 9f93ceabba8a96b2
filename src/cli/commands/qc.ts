/** `archive qc`: quality control of scans (DA/T 31-2017): a batch's summary, accepting a held scan. */
import { AppError } from '../../errors';
import { acceptQc, batchQcSummary, type BatchQcSummary } from '../../services/capture';
import { loadItem, presentItem } from '../../services/records';
import { describeCliForAudit, cliPrincipal } from '../identity';
import { withRuntime } from '../runtime';
import type { Command } from '../command';

export function formatQcSummary(s: BatchQcSummary): string[] {
  const d = s.dpi;
  const out = [
    `质检汇总 QC summary — 批次 batch ${s.batchId}: ${s.items} 件 items, ${s.pages} 页 pages; ${Object.entries(s.byStatus).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `  分辨率 dpi: <200: ${d.below200}, 200-299: ${d.from200to299}, 300-399: ${d.from300to399}, ≥400: ${d.from400}, 未知 unknown: ${d.unknown}${d.min !== null ? ` (min ${d.min}, max ${d.max})` : ''}`,
    `  提示 flags: ${Object.entries(s.flags).map(([k, v]) => `${k} ${v}`).join(', ') || '无 none'}`,
  ];
  for (const h of s.held) out.push(`  ⏸ 暂存待处理 held: ${h.id} ${h.source} (${h.reasons.map((r) => `${r.code}${r.page ? ` p${r.page}` : ''}`).join(', ')}) — 重新扫描，或 archive qc accept ${h.id} --reason "…"`);
  if (s.sample.length) out.push(`  请抽查 check: ${s.sample.map((x) => `${x.source} p${x.page} (${x.why})`).join('; ')}`);
  return out;
}

const summaryCommand: Command = {
  name: 'summary',
  permission: 'item.read',
  summary: 'QC summary of one intake batch (pages, dpi distribution, flags, held items, pages to check)',
  usage: 'BATCH [--json]',
  run: async ({ values, positionals, io }) =>
    withRuntime(async (rt) => {
      const batch = positionals[0];
      if (!batch) throw new AppError('validation_failed', { message: 'Give a batch id (printed by archive ingest)', zh: '请提供批次编号（archive ingest 会输出）' });
      describeCliForAudit({ type: 'batch', id: batch });
      const s = await batchQcSummary(rt, batch);
      if (values.json) io.out(JSON.stringify(s));
      else for (const line of formatQcSummary(s)) io.out(line);
    }),
};

const acceptCommand: Command = {
  name: 'accept',
  permission: 'item.confirm',
  summary: 'Accept a scan held by quality control, with a reason (it then goes on to filing)',
  usage: 'ID --reason TEXT [--json]',
  options: { reason: { type: 'string', description: 'why the scan is accepted as it is (recorded)', valueName: 'TEXT' } },
  run: async ({ values, positionals, io }) =>
    withRuntime(async (rt) => {
      const id = positionals[0];
      if (!id) throw new AppError('validation_failed', { message: 'Give an item id', zh: '请提供条目编号' });
      const reason = typeof values.reason === 'string' ? values.reason : '';
      await loadItem(rt, id);
      describeCliForAudit({ type: 'item', id }, { qc: 'accepted', reason });
      const view = await presentItem(rt, await acceptQc(rt, id, { actor: cliPrincipal(rt)?.username ?? 'operator' }, reason));
      io.out(values.json ? JSON.stringify(view) : `已接受 / accepted: ${view.id}（${reason}）；继续归档 / filing continues`);
    }),
};

export const qcCommand: Command = {
  name: 'qc',
  summary: 'Quality control of scans (DA/T 31-2017): batch summary, accept a held scan',
  usage: '<summary|accept> ...',
  subcommands: [summaryCommand, acceptCommand],
};
