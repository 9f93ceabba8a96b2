import { svgToPng } from './images';
import { A4, imagesToPdf } from './pdf';

export interface TableColumn {
  key: string;
  label: string;
  /** Width in pixels of a 1754-pixel-wide A4 landscape page (150 dpi); the widths should add up to about 1674. */
  width: number;
}

export interface TablePdfOptions {
  heading: string;
  columns: TableColumn[];
  rows: Array<Record<string, unknown>>;
  rowsPerPage?: number;
  /** Lines printed under the table on the last page (signatures, totals, notes). */
  footer?: string[];
  keywords?: string[];
}

const FONT = 'WenQuanYi Zen Hei, Noto Sans CJK SC, sans-serif';

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

/**
 * A ruled table on A4 landscape pages (归档文件目录, 销毁清册 …), rendered from SVG so CJK text
 * uses the system's fonts, with a heading on every page and page numbers.
 */
export async function tablePdf(o: TablePdfOptions): Promise<Uint8Array> {
  const W = 1754;
  const H = 1240;
  const perPage = o.rowsPerPage ?? 20;
  const top = 150;
  const bottom = H - 80; // the page number sits below
  // The header row and every data row must fit above the page number.
  const rowH = Math.min(56, Math.floor((bottom - top) / (perPage + 1)));
  const x0 = 40;
  const footerH = o.footer?.length ? 50 + o.footer.length * 36 : 0;
  const lastRows = o.rows.length % perPage || (o.rows.length ? perPage : 0);
  // A footer that does not fit under the last page's rows gets a page of its own.
  const footerPage = footerH > 0 && top + (lastRows + 1) * rowH + footerH > bottom;
  const pages = Math.max(1, Math.ceil(o.rows.length / perPage)) + (footerPage ? 1 : 0);
  const pngs: Buffer[] = [];
  for (let p = 0; p < pages; p++) {
    const slice = o.rows.slice(p * perPage, (p + 1) * perPage);
    const onlyFooter = footerPage && p === pages - 1;
    let svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}"><rect width="100%" height="100%" fill="#fff"/>`;
    svg += `<text x="${W / 2}" y="80" font-family="${FONT}" font-size="40" text-anchor="middle">${xml(o.heading)}</text>`;
    const header = Object.fromEntries(o.columns.map((c) => [c.key, c.label]));
    (onlyFooter ? [] : [header, ...slice]).forEach((r, i) => {
      const y = top + i * rowH;
      let x = x0;
      for (const c of o.columns) {
        svg += `<rect x="${x}" y="${y}" width="${c.width}" height="${rowH}" fill="none" stroke="#000" stroke-width="1.5"/>`;
        const fit = fitCell(String(r[c.key] ?? ''), c.width - 10, i === 0 ? 24 : 20);
        fit.lines.forEach((line, k) => {
          const baseline = fit.lines.length === 1 ? y + rowH / 2 + fit.size * 0.35 : y + 8 + fit.size * (k + 1);
          svg += `<text x="${x + 5}" y="${baseline}" font-family="${FONT}" font-size="${fit.size}">${xml(line)}</text>`;
        });
        x += c.width;
      }
    });
    if (p === pages - 1 && o.footer?.length) {
      const y = onlyFooter ? top : top + (slice.length + 1) * rowH + 50;
      o.footer.forEach((line, k) => {
        svg += `<text x="${x0}" y="${y + k * 36}" font-family="${FONT}" font-size="24">${xml(line)}</text>`;
      });
    }
    svg += `<text x="${W - 60}" y="${H - 40}" font-family="sans-serif" font-size="20" text-anchor="end">${p + 1} / ${pages}</text></svg>`;
    pngs.push(await svgToPng(svg));
  }
  return imagesToPdf(pngs, { title: o.heading, size: A4.landscape, keywords: o.keywords });
}
