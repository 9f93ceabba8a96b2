/**
 * Small synthetic scans for app-level tests: known Chinese text rendered with a real CJK font
 * (Pango through sharp), at a stated DPI. The OCR package has its own richer fixtures.
 */
import sharp from 'sharp';

export interface ScanOptions {
  dpi?: number;
  format?: 'png' | 'jpeg' | 'tiff';
  fontSizePt?: number;
}

function escapeMarkup(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** One page: white A5-ish sheet, black text lines. */
export async function renderScan(lines: string[], opts: ScanOptions = {}): Promise<Buffer> {
  const dpi = opts.dpi ?? 300;
  const text = await sharp({
    text: {
      text: `<span foreground="black" size="${(opts.fontSizePt ?? 14) * 1024}">${lines.map(escapeMarkup).join('\n')}</span>`,
      font: 'WenQuanYi Zen Hei',
      dpi,
      rgba: true,
      spacing: Math.round(dpi / 10),
    },
  })
    .png()
    .toBuffer();
  const meta = await sharp(text).metadata();
  const margin = Math.round(dpi / 3);
  const page = sharp({
    create: { width: (meta.width ?? 100) + 2 * margin, height: (meta.height ?? 100) + 2 * margin, channels: 3, background: '#ffffff' },
  })
    .composite([{ input: text, top: margin, left: margin }])
    .withMetadata({ density: dpi });
  page.removeAlpha();
  const fmt = opts.format ?? 'png';
  if (fmt === 'jpeg') return page.jpeg({ quality: 90 }).toBuffer();
  if (fmt === 'tiff') return page.tiff({ compression: 'lzw', xres: dpi / 25.4, yres: dpi / 25.4 }).toBuffer();
  return page.png().toBuffer();
}

/** Character error rate: edit distance over reference length, whitespace ignored. */
export function cer(reference: string, hypothesis: string): number {
  const a = [...reference.replace(/\s+/g, '')];
  const b = [...hypothesis.replace(/\s+/g, '')];
  if (!a.length) return b.length ? 1 : 0;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]! / a.length;
}

export const SAMPLE_FORM = [
  '社会保险参保人员登记表',
  '姓名：张伟　性别：男',
  '公民身份号码：110105198703152318',
  '单位名称：北京市朝阳区星光科技有限公司',
  '参保日期：2016年4月12日',
];

/** The back of a sheet: paper only, a little scanner noise. */
export async function renderBlank(dpi = 300): Promise<Buffer> {
  return sharp({ create: { width: Math.round(5.8 * dpi), height: Math.round(8.3 * dpi), channels: 3, background: '#fdfdfb' } })
    .withMetadata({ density: dpi })
    .png()
    .toBuffer();
}
