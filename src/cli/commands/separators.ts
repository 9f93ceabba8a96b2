import fs from 'node:fs';
import { AppError } from '../../errors';
import { separatorSheetsPdf, SeparatorDataSchema, type SeparatorData } from '../../services/capture';
import { withRuntime } from '../runtime';
import type { Command } from '../command';

export const separatorsCommand: Command = {
  name: 'separators',
  // The same permission as POST /api/v1/separators: sheets carry ID numbers and feed ingest.
  permission: 'item.ingest',
  summary: 'Print separator sheets (QR) for batch scanning: put one before each item of a stack',
  usage: '--out FILE.pdf [--count N] [--box BOX] [--person ID:NAME ...]',
  description: 'Each --person gives one sheet carrying that person\'s 公民身份号码 and name; --count adds plain sheets.',
  options: {
    out: { type: 'string', description: 'where to write the PDF', valueName: 'FILE' },
    count: { type: 'string', description: 'number of plain sheets', valueName: 'N' },
    box: { type: 'string', description: '盒号 printed on and encoded in every sheet', valueName: 'BOX' },
    person: { type: 'string', multiple: true, description: 'ID:NAME, one sheet each', valueName: 'ID:NAME' },
  },
  run: async ({ values, io }) => {
    if (typeof values.out !== 'string') throw new AppError('validation_failed', { message: 'Give --out FILE.pdf', zh: '请用 --out 指定输出文件' });
    const box = typeof values.box === 'string' ? values.box : undefined;
    const sheets: SeparatorData[] = [];
    for (const p of (values.person as string[] | undefined) ?? []) {
      const [idNumber, name] = p.split(':');
      const parsed = SeparatorDataSchema.safeParse({ box, idNumber: idNumber?.toUpperCase(), name: name || undefined });
      if (!parsed.success) throw new AppError('validation_failed', { message: `--person ${p}: ${parsed.error.issues[0]?.message}`, zh: `--person ${p} 格式不正确（应为 身份证号:姓名）` });
      sheets.push(parsed.data);
    }
    const count = values.count === undefined ? (sheets.length ? 0 : 1) : Number(values.count);
    if (!Number.isInteger(count) || count < 0 || count > 1000) throw new AppError('validation_failed', { message: '--count must be 0..1000', zh: '--count 应为 0 到 1000 的整数' });
    for (let i = 0; i < count; i++) sheets.push({ box });
    const out = values.out;
    await withRuntime(async () => {
      fs.writeFileSync(out, await separatorSheetsPdf(sheets));
      if (values.json) io.out(JSON.stringify({ out, sheets: sheets.length }));
      else io.out(`已生成 ${sheets.length} 张分隔页 / wrote ${sheets.length} separator sheets: ${out}`);
    });
  },
};
