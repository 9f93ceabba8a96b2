import fs from 'node:fs';
import { AppError } from '../../errors';
import { catalogueCsv, cataloguePdf, catalogueRows } from '../../services/records';
import { correctItem, type Correction } from '../../services/filing';
import { presentItem, type ItemView } from '../../services/records';
import { mayActOn } from '../../services/access';
import type { Runtime } from '../../runtime';
import { cliItem, cliPrincipal, forPrincipal } from '../identity';
import { withRuntime } from '../runtime';
import type { Command } from '../command';

/**
 * Confirms or corrects an item as the CLI account: the same item check as PATCH /api/v1/items/:id
 * (access.authorizeItem: role, the item's fonds and level), then only what the
 * account may see of the result (ID numbers masked without personal.full).
 */
async function correctAs(rt: Runtime, action: 'item.confirm' | 'item.correct', id: string | undefined, body: Correction): Promise<ItemView> {
  if (!id) throw new AppError('validation_failed', { message: 'Give an item id', zh: '请提供条目编号' });
  const me = cliPrincipal(rt)!;
  await cliItem(rt, id, action);
  return forPrincipal(me, await presentItem(rt, await correctItem(rt, id, body, me.username)));
}

export const confirmCommand: Command = {
  name: 'confirm',
  permission: 'item.confirm',
  summary: 'Accept the proposed description of an item (issues its 档号)',
  usage: 'ID [--as USER]',
  options: { as: { type: 'string', description: 'act as this account', valueName: 'USER' } },
  run: async ({ values, positionals, io }) =>
    withRuntime(async (rt) => {
      const view = await correctAs(rt, 'item.confirm', positionals[0], { confirm: true });
      io.out(values.json ? JSON.stringify(view) : `已确认 / confirmed: ${view.id} 档号 ${view.archivalCode}`);
    }),
};

export const correctCommand: Command = {
  name: 'correct',
  permission: 'item.correct',
  summary: 'Correct an item\'s classification or description',
  usage: 'ID [--item ROW] [--date YYYY-MM-DD] [--title T] [--doc-number 文号] [--person ID:NAME ...] [--unit [CODE:]NAME ...] [--as USER]',
  options: {
    item: { type: 'string', description: 'appendix row of the retention schedule, e.g. 6-02', valueName: 'ROW' },
    date: { type: 'string', description: 'the document\'s formation date', valueName: 'DATE' },
    title: { type: 'string', description: '题名', valueName: 'TEXT' },
    'doc-number': { type: 'string', description: '文号 (an empty value removes it)', valueName: 'TEXT' },
    person: { type: 'string', multiple: true, description: 'ID:NAME of a person the item belongs to (replaces the list)', valueName: 'ID:NAME' },
    unit: { type: 'string', multiple: true, description: 'the unit (单位, printed as 责任者), its 统一社会信用代码 first when known (replaces the list)', valueName: '[CODE:]NAME' },
    as: { type: 'string', description: 'act as this account', valueName: 'USER' },
  },
  run: async ({ values, positionals, io }) =>
    withRuntime(async (rt) => {
      const persons = (values.person as string[] | undefined)?.map((p) => {
        const [idNumber, name] = p.split(':');
        return { idNumber: idNumber || null, name: name || null };
      });
      // A unit name may hold a colon of its own; only an 18-character code before the first one is a code.
      const units = (values.unit as string[] | undefined)?.map((u) => {
        const m = /^([0-9A-Z]{18})[:：](.*)$/u.exec(u.trim());
        return m ? { creditCode: m[1]!, name: m[2]!.trim() || null } : { creditCode: null, name: u.trim() || null };
      });
      const docNumber = values['doc-number'];
      const metadata = {
        ...(typeof values.date === 'string' ? { documentDate: values.date } : {}),
        ...(typeof values.title === 'string' ? { title: values.title } : {}),
        ...(persons ? { persons } : {}),
        ...(units ? { units } : {}),
        ...(typeof docNumber === 'string' ? { docNumber: docNumber.trim() || null } : {}),
      };
      const view = await correctAs(rt, 'item.correct', positionals[0], { ...(typeof values.item === 'string' ? { classification: { item: values.item } } : {}), ...(Object.keys(metadata).length ? { metadata } : {}) });
      io.out(values.json ? JSON.stringify(view) : `已更正 / corrected: ${view.id} 档号 ${view.archivalCode}`);
    }),
};

export const catalogueCommand: Command = {
  name: 'catalogue',
  permission: 'catalogue.export',
  summary: '归档文件目录 (DA/T 22-2015) as CSV or printable PDF',
  usage: '[--fonds CODE] [--year YYYY] [--format csv|pdf] [--out FILE]',
  options: {
    fonds: { type: 'string', description: '全宗号', valueName: 'CODE' },
    year: { type: 'string', description: '年度', valueName: 'YYYY' },
    format: { type: 'string', description: 'csv (default) or pdf', valueName: 'FMT' },
    out: { type: 'string', description: 'write to a file instead of standard output', valueName: 'FILE' },
  },
  run: async ({ values, io }) =>
    withRuntime(async (rt) => {
      const year = typeof values.year === 'string' ? Number(values.year) : undefined;
      if (year !== undefined && !Number.isInteger(year)) throw new AppError('validation_failed', { message: '--year must be a year', zh: '--year 应为年度' });
      // Only the fonds and levels the account may export, as GET /api/v1/catalogue (one predicate).
      const me = cliPrincipal(rt)!;
      const rows = forPrincipal(me, await catalogueRows(rt, { fonds: values.fonds as string | undefined, year, allow: (it) => mayActOn(rt, me, it, 'catalogue.export') }));
      if (values.json) return io.out(JSON.stringify({ rows }));
      if (values.format === 'pdf') {
        if (typeof values.out !== 'string') throw new AppError('validation_failed', { message: 'PDF needs --out FILE', zh: 'PDF 格式需要 --out 指定文件' });
        fs.writeFileSync(values.out, await cataloguePdf(rows, `归档文件目录${year ? `（${year}年度）` : ''}`));
        io.out(`${rows.length} 条 rows → ${values.out}`);
      } else if (typeof values.out === 'string') {
        fs.writeFileSync(values.out, catalogueCsv(rows));
        io.out(`${rows.length} 条 rows → ${values.out}`);
      } else io.out(catalogueCsv(rows));
    }),
};
