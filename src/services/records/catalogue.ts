/**
 * 归档文件目录 (DA/T 22-2015): 序号、档号、文号、责任者、题名、日期、密级、页数、备注, as CSV
 * (UTF-8 with BOM, so spreadsheet programs open the Chinese correctly) and as a printable PDF.
 */
// pdf-lib and sharp load on first use: a command that never prints a catalogue skips ~0.4 s of start-up.
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

function xml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Rough advance widths: Han characters and full-width forms are one em, the rest about half. */
function textWidth(s: string, size: number): number {
  let w = 0;
  for (const ch of s) w += /[\u2e80-\u9fff\uff00-\uffef\u3000-\u303f〔〕]/u.test(ch) ? size : size * 0.56;
  return w;
}

/** Shrinks, then wraps to two lines, and only then shortens: a 档号 must stay whole. */
function fitCell(v: string, width: number, size: number): { size: number; lines: string[] } {
  for (let s = size; s >= 15; s -= 1) if (textWidth(v, s) <= width) return { size: s, lines: [v] };
  const s = 16;
  const lines: string[] = [];
  let cur = '';
  for (const ch of v) {
    if (textWidth(cur + ch, s) > width) {
      lines.push(cur);
      cur = '';
      if (lines.length === 2) break;
    }
    cur += ch;
  }
  if (lines.length < 2 && cur) lines.push(cur);
  else if (lines.length === 2 && lines.join('').length < [...v].length) lines[1] = `${lines[1]!.slice(0, -1)}…`;
  return { size: s, lines };
}

/** A4 landscape pages rendered from SVG (CJK through the system's fonts), 20 rows a page. */
export async function cataloguePdf(rows: CatalogueRow[], heading: string): Promise<Uint8Array> {
  const W = 1754;
  const H = 1240; // A4 landscape at 150 dpi
  const cols: Array<[keyof CatalogueRow, number]> = [['序号', 60], ['档号', 390], ['文号', 270], ['责任者', 270], ['题名', 350], ['日期', 110], ['密级', 60], ['页数', 60], ['备注', 104]];
  const perPage = 20;
  const [{ PDFDocument }, { default: sharp }] = await Promise.all([import('pdf-lib'), import('sharp')]);
  const pdf = await PDFDocument.create();
  pdf.setTitle(heading);
  const pages = Math.max(1, Math.ceil(rows.length / perPage));
  for (let p = 0; p < pages; p++) {
    const slice = rows.slice(p * perPage, (p + 1) * perPage);
    const x0 = 40;
    const top = 150;
    const rowH = 56;
    let svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}"><rect width="100%" height="100%" fill="#fff"/>`;
    svg += `<text x="${W / 2}" y="80" font-family="WenQuanYi Zen Hei, Noto Sans CJK SC, sans-serif" font-size="40" text-anchor="middle">${xml(heading)}</text>`;
    const all = [Object.fromEntries(cols.map(([c]) => [c, c])) as unknown as CatalogueRow, ...slice];
    all.forEach((r, i) => {
      const y = top + i * rowH;
      let x = x0;
      for (const [c, w] of cols) {
        svg += `<rect x="${x}" y="${y}" width="${w}" height="${rowH}" fill="none" stroke="#000" stroke-width="1.5"/>`;
        const fit = fitCell(String(r[c]), w - 10, i === 0 ? 24 : 20);
        fit.lines.forEach((line, k) => {
          const baseline = fit.lines.length === 1 ? y + rowH / 2 + fit.size * 0.35 : y + 8 + fit.size * (k + 1);
          svg += `<text x="${x + 5}" y="${baseline}" font-family="WenQuanYi Zen Hei, Noto Sans CJK SC, sans-serif" font-size="${fit.size}">${xml(line)}</text>`;
        });
        x += w;
      }
    });
    svg += `<text x="${W - 60}" y="${H - 40}" font-family="sans-serif" font-size="20" text-anchor="end">${p + 1} / ${pages}</text></svg>`;
    const png = await pdf.embedPng(await sharp(Buffer.from(svg)).png().toBuffer());
    pdf.addPage([841.89, 595.28]).drawImage(png, { x: 0, y: 0, width: 841.89, height: 595.28 });
  }
  return pdf.save();
}
