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

export interface CatalogueFilter {
  fonds?: string;
  year?: number;
  /** The reader's fonds (undefined: every fonds). */
  scopeFonds?: readonly string[];
  allow?: (item: ItemDoc) => boolean;
}

/**
 * Filed items with a 档号, in 档号 order. The 档号's numeric parts are zero-padded (年度, 件号), so the
 * database's string order is the catalogue's order and a page can be read on its own.
 */
function catalogueQuery(filter: CatalogueFilter): Record<string, unknown> {
  const q: Record<string, unknown> = { status: 'filed', archivalCode: { $ne: null } };
  if (filter.fonds) q.fonds = filter.fonds;
  else if (filter.scopeFonds) q.fonds = { $in: [...filter.scopeFonds] };
  // The 年度 is the formation year (a filed item always has its 形成日期, #11 §1).
  if (filter.year) q.documentDate = { $gte: String(filter.year), $lt: String(filter.year + 1) };
  return q;
}

function toRow(it: ItemDoc, n: number): CatalogueRow {
  const md = it.metadata as ExtractedMetadata | null;
  const cls = it.classification as Classification | null;
  const notes = [cls?.provisional ? '保管期限待核实' : '', ...(it.flags ?? []).filter((f) => f.code === 'low_confidence').map(() => '识别待核对')].filter(Boolean);
  return {
    序号: n,
    档号: it.archivalCode!,
    文号: md?.docNumber ?? '',
    责任者: md?.units?.find((u) => u.name)?.name ?? '',
    题名: md?.title ?? it.title ?? '',
    日期: it.documentDate ? toCompactDate(it.documentDate) : '',
    密级: '',
    页数: (it.pages ?? []).filter((p) => !p.blank).length,
    备注: [...new Set(notes)].join('；'),
  };
}

/** The whole catalogue (CSV and PDF export). */
export async function catalogueRows(rt: Runtime, filter: CatalogueFilter): Promise<CatalogueRow[]> {
  const items = await itemModel(rt.db).find(catalogueQuery(filter)).sort({ archivalCode: 1, _id: 1 }).lean<ItemDoc[]>();
  return items.filter((it) => !filter.allow || filter.allow(it)).map((it, i) => toRow(it, i + 1));
}

/**
 * One page of the catalogue, read from the database alone (a preview of 100,000 rows stays quick).
 * 序号 counts from the page's offset; an item the reader's clearance does not cover is left out of
 * the page (its number stays unused), as in every other paged list.
 */
export async function cataloguePage(rt: Runtime, filter: CatalogueFilter, page: { offset: number; limit: number }): Promise<{ total: number; rows: CatalogueRow[] }> {
  const q = catalogueQuery(filter);
  const items = itemModel(rt.db);
  const [total, found] = await Promise.all([items.countDocuments(q), items.find(q).sort({ archivalCode: 1, _id: 1 }).skip(page.offset).limit(page.limit).lean<ItemDoc[]>()]);
  const rows: CatalogueRow[] = [];
  found.forEach((it, i) => {
    if (!filter.allow || filter.allow(it)) rows.push(toRow(it, page.offset + i + 1));
  });
  return { total, rows };
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
  // A 档号 needs ~330 of these units at full size and a unit's name of 14 characters ~290: the
  // 责任者 is printed at the size of its row, not shrunk, for the names units usually have.
  const widths: Array<[keyof CatalogueRow, number]> = [['序号', 60], ['档号', 350], ['文号', 230], ['责任者', 330], ['题名', 370], ['日期', 110], ['密级', 60], ['页数', 60], ['备注', 104]];
  return tablePdf({ heading, columns: widths.map(([key, width]) => ({ key, label: key, width })), rows: rows as unknown as Array<Record<string, unknown>> });
}
