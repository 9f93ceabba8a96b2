/**
 * 归档文件目录 (DA/T 22-2015): 序号、档号、文号、责任者、题名、日期、密级、页数、备注, as CSV
 * (UTF-8 with BOM, so spreadsheet programs open the Chinese correctly) and as a printable PDF.
 */
import { tablePdf } from '../../../render';
import { toCompactDate } from '../../domain/dates';
import { itemModel, type ItemDoc } from '../../models/item.model';
import type { Runtime } from '../../runtime';
import type { Classification } from './item-types';
import type { ExtractedMetadata } from './item-types';

export const CATALOGUE_COLUMNS = ['序号', '档号', '文号', '责任者', '题名', '日期', '密级', '页数', '备注'] as const;

export interface CatalogueRow {
  序号: number;
  档号: string;
  文号: string;
  责任者: string;
  题名: string;
  日期: string;
  密级: string;
  页数: number;
  备注: string;
}

const collator = new Intl.Collator('zh-Hans-CN', { numeric: true });

export async function catalogueRows(rt: Runtime, filter: { fonds?: string; year?: number; allow?: (item: ItemDoc) => boolean }): Promise<CatalogueRow[]> {
  const q: Record<string, unknown> = { status: 'filed', archivalCode: { $ne: null } };
  if (filter.fonds) q.fonds = filter.fonds;
  const items = await itemModel(rt.db).find(q).lean<ItemDoc[]>();
  return items
    .filter((it) => !filter.allow || filter.allow(it))
    .filter((it) => !filter.year || (it.documentDate ?? '').startsWith(String(filter.year)) || (!it.documentDate && it.createdAt.getUTCFullYear() === filter.year))
    .sort((a, b) => collator.compare(a.archivalCode!, b.archivalCode!))
    .map((it, i) => {
      const md = it.metadata as ExtractedMetadata | null;
      const cls = it.classification as Classification | null;
      const notes = [cls?.provisional ? '保管期限待核实' : '', ...(it.flags ?? []).filter((f) => f.code === 'low_confidence').map(() => '识别待核对')].filter(Boolean);
      return {
        序号: i + 1,
        档号: it.archivalCode!,
        文号: md?.docNumber ?? '',
        责任者: md?.units?.find((u) => u.name)?.name ?? '',
        题名: md?.title ?? it.title ?? '',
        日期: it.documentDate ? toCompactDate(it.documentDate) : '',
        密级: '',
        页数: (it.pages ?? []).filter((p) => !p.blank).length,
        备注: [...new Set(notes)].join('；'),
      };
    });
}

function csvCell(v: string | number): string {
  const s = String(v);
  // Leading = + - @ would be formulas in a spreadsheet: neutralise them.
  const safe = /^[=+\-@]/.test(s) ? `'${s}` : s;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function catalogueCsv(rows: CatalogueRow[]): string {
  const lines = [CATALOGUE_COLUMNS.join(','), ...rows.map((r) => CATALOGUE_COLUMNS.map((c) => csvCell(r[c])).join(','))];
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}

/** A4 landscape pages, 20 rows a page, the columns of DA/T 22-2015's 归档文件目录. */
export async function cataloguePdf(rows: CatalogueRow[], heading: string): Promise<Uint8Array> {
  const widths: Array<[keyof CatalogueRow, number]> = [['序号', 60], ['档号', 390], ['文号', 270], ['责任者', 270], ['题名', 350], ['日期', 110], ['密级', 60], ['页数', 60], ['备注', 104]];
  return tablePdf({ heading, columns: widths.map(([key, width]) => ({ key, label: key, width })), rows: rows as unknown as Array<Record<string, unknown>> });
}
