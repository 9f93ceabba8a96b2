import fs from 'node:fs';
import { AppError } from '../../errors';
import { filedItemIds } from '../../services/records';
import { exportTransfer, importReceipt, listTransfers, verifyTransfer } from '../../services/transfer';
import { cliPrincipal, describeCliForAudit } from '../identity';
import { withRuntime } from '../runtime';
import type { Command } from '../command';

export const transferCommand: Command = {
  name: 'transfer',
  summary: '移交: export a signed BagIt transfer package, verify it (四性), import the archives\' receipt',
  usage: '<export|verify DIR|receipt FILE|list>',
  subcommands: [
    {
      name: 'export',
      permission: 'transfer.manage',
      summary: 'Export filed items (by id, or by fonds and year) as a signed BagIt package, 四性-checked before it leaves',
      usage: '(--item ID ... | --year YYYY [--fonds F]) [--out DIR]',
      options: {
        item: { type: 'string', multiple: true, description: 'an item id (repeat)', valueName: 'ID' },
        year: { type: 'string', description: 'every filed item formed in this year', valueName: 'YYYY' },
        fonds: { type: 'string', description: '全宗号 (with --year; default: the configured one)', valueName: 'F' },
        out: { type: 'string', description: 'an empty folder for the package (default: <data>/transfers/<id>)', valueName: 'DIR' },
      },
      run: async ({ values, io }) =>
        withRuntime(async (rt) => {
          let ids = (values.item as string[] | undefined) ?? [];
          if (ids.length === 0 && typeof values.year === 'string') {
            const fonds = typeof values.fonds === 'string' ? values.fonds : rt.config.fonds;
            ids = await filedItemIds(rt, { fonds, year: values.year });
          }
          if (ids.length === 0) throw new AppError('validation_failed', { message: 'Nothing selected: give --item ID or --year YYYY', zh: '未选择任何档案：请用 --item 或 --year 指定' });
          const p = cliPrincipal(rt);
          const r = await exportTransfer(rt, { itemIds: ids, actor: p?.username ?? 'operator', role: p?.roles.join(',') ?? null, outDir: typeof values.out === 'string' ? values.out : undefined });
          describeCliForAudit({ type: 'transfer', id: r.packageId }, { items: r.items });
          if (values.json) return io.out(JSON.stringify(r));
          io.out(`移交包 package ${r.packageId}: ${r.items} 件 items, ${r.files} files, ${r.bytes} bytes → ${r.dir}`);
          io.out(`四性检测 check: ${Object.entries(r.report.aspects).map(([k, v]) => `${k} ${v}`).join(' · ')}`);
          for (const e of r.alsoIn) {
            const where = e.status === 'received' ? '档案馆已接收 / already accepted by the archives' : '尚无接收回执 / no receipt yet';
            io.out(`注意 note: ${e.items} 件已在移交包 ${e.packageId} 中（${where}）; ${e.items} item(s) also in package ${e.packageId}`);
          }
        }),
    },
    {
      name: 'verify',
      permission: 'transfer.manage',
      summary: 'The 四性 check of a package folder: fixity, completeness against the 移交清册, open formats, no active content, the agency signature',
      usage: 'DIR',
      run: async ({ values, positionals, io }) =>
        withRuntime(async (rt) => {
          const dir = positionals[0];
          if (!dir) throw new AppError('validation_failed', { message: 'Give the package folder', zh: '请指定移交包目录' });
          const r = verifyTransfer(rt, dir);
          describeCliForAudit({ type: 'transfer', id: dir }, { ok: r.ok, findings: r.findings.length });
          if (values.json) io.out(JSON.stringify(r));
          else {
            io.out(`${r.ok ? '通过 passed' : '未通过 FAILED'}: ${r.items} 件, ${r.files} files — ${Object.entries(r.aspects).map(([k, v]) => `${k} ${v}`).join(' · ')}`);
            for (const f of r.findings) io.out(`  [${f.aspect}] ${f.code} ${f.file ?? ''} ${f.message}`);
          }
          return r.ok ? 0 : 1;
        }),
    },
    {
      name: 'receipt',
      permission: 'transfer.manage',
      summary: 'Import the archives\' receipt (JSON): accepted items are marked transferred; the local copy follows ARCHIVE_TRANSFER_LOCAL_COPY',
      usage: 'FILE',
      run: async ({ values, positionals, io }) => {
        const file = positionals[0];
        if (!file) throw new AppError('validation_failed', { message: 'Give the receipt file', zh: '请指定接收回执文件' });
        let body: unknown;
        try {
          body = JSON.parse(fs.readFileSync(file, 'utf8'));
        } catch (err) {
          throw new AppError('validation_failed', { message: `${file}: not readable JSON: ${(err as Error).message}`, zh: `${file} 不是有效的 JSON` });
        }
        return withRuntime(async (rt) => {
          const p = cliPrincipal(rt);
          const r = await importReceipt(rt, body, { actor: p?.username ?? 'operator', role: p?.roles.join(',') ?? null });
          if (values.json) return io.out(JSON.stringify(r));
          io.out(`${r.packageId}: ${r.transferred.length} 件已移交 transferred, ${r.refused.length} 件退回 refused, ${r.unknown.length} 未知 unknown; 本地副本 local copy: ${r.localCopy}`);
        });
      },
    },
    {
      name: 'list',
      permission: 'transfer.manage',
      summary: 'Transfer packages, newest first',
      usage: '',
      run: async ({ values, io }) =>
        withRuntime(async (rt) => {
          const rows = await listTransfers(rt);
          if (values.json) return io.out(JSON.stringify({ packages: rows }));
          if (!rows.length) io.out('没有移交包 / no transfer packages');
          for (const p of rows) io.out(`${p.packageId}  ${p.status === 'received' ? '已接收' : '已导出'}/${p.status}  ${p.items} 件  ${p.createdAt.slice(0, 10)}  ${p.createdBy}`);
        }),
    },
  ],
};
