import fs from 'node:fs';
import { AppError } from '../../errors';
import { catalogueCsv, cataloguePdf, catalogueRows } from '../../services/records';
import { correctItem } from '../../services/filing';
import { presentItem } from '../../services/records';
import { withRuntime } from '../runtime';
import type { Command } from '../command';
import { cliUserFromEnv } from '../../config';

function actor(values: Record<string, unknown>): string {
  return (typeof values.as === 'string' ? values.as : undefined) ?? cliUserFromEnv() ?? 'operator';
}

export const confirmCommand: Command = {
  name: 'confirm',
  permission: 'item.confirm',
  summary: 'Accept the proposed description of an item (issues its 档号)',
  usage: 'ID [--as USER]',
  options: { as: { type: 'string', description: 'act as this account', valueName: 'USER' } },
  run: async ({ values, positionals, io }) =>
    withRuntime(async (rt) => {
      const id = positionals[0];
      if (!id) throw new AppError('validation_failed', { message: 'Give an item id', zh: '请提供条目编号' });
      const view = await presentItem(rt, await correctItem(rt, id, { confirm: true }, actor(values)));
      io.out(values.json ? JSON.stringify(view) : `已确认 / confirmed: ${view.id} 档号 ${view.archivalCode}`);
    }),
};

export const correctCommand: Command = {
  name: 'correct',
  permission: 'item.correct',
  summary: 'Correct an item\'s classification or description',
  usage: 'ID [--item ROW] [--date YYYY-MM-DD] [--title T] [--person ID:NAME ...] [--as USER]',
  options: {
    item: { type: 'string', description: 'appendix row of the retention schedule, e.g. 6-02', valueName: 'ROW' },
    date: { type: 'string', description: 'the document\'s formation date', valueName: 'DATE' },
    title: { type: 'string', description: '题名', valueName: 'TEXT' },
    person: { type: 'string', multiple: true, description: 'ID:NAME of a person the item belongs to (replaces the list)', valueName: 'ID:NAME' },
    as: { type: 'string', description: 'act as this account', valueName: 'USER' },
  },
  run: async ({ values, positionals, io }) =>
    withRuntime(async (rt) => {
      const id = positionals[0];
      if (!id) throw new AppError('validation_failed', { message: 'Give an item id', zh: '请提供条目编号' });
      const persons = (values.person as string[] | undefined)?.map((p) => {
        const [idNumber, name] = p.split(':');
        return { idNumber: idNumber || null, name: name || null };
      });
      const metadata = {
        ...(typeof values.date === 'string' ? { documentDate: values.date } : {}),
        ...(typeof values.title === 'string' ? { title: values.title } : {}),
        ...(persons ? { persons } : {}),
      };
      const view = await presentItem(
        rt,
        await correctItem(rt, id, { ...(typeof values.item === 'string' ? { classification: { item: values.item } } : {}), ...(Object.keys(metadata).length ? { metadata } : {}) }, actor(values)),
      );
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
      const rows = await catalogueRows(rt, { fonds: values.fonds as string | undefined, year });
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
