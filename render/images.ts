import sharp from 'sharp';

const CJK_FONT = 'WenQuanYi Zen Hei, Noto Sans CJK SC, sans';

function escapeMarkup(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A JPEG `width` pixels wide (never enlarged), for page thumbnails. */
export async function thumbnail(image: Buffer, width = 320): Promise<Buffer> {
  return sharp(image).resize({ width, withoutEnlargement: true }).jpeg({ quality: 75 }).toBuffer();
}

/** Raw pixels (as ocr.iteratePages yields them) encoded as PNG. */
export async function rawToPng(raw: Buffer, info: { width: number; height: number; channels: 1 | 2 | 3 | 4 }): Promise<Buffer> {
  return sharp(raw, { raw: info }).png().toBuffer();
}

/** Lines of text as a transparent PNG, rendered with the system's CJK font (Pango markup escaped). */
export async function textPng(lines: string[], opts: { color?: string; sizePt?: number; dpi?: number; align?: 'left' | 'centre'; spacing?: number } = {}): Promise<Buffer> {
  const size = opts.sizePt ? ` size="${opts.sizePt * 1024}"` : '';
  return sharp({
    text: {
      text: `<span foreground="${opts.color ?? 'black'}"${size}>${lines.map(escapeMarkup).join('\n')}</span>`,
      font: opts.sizePt ? CJK_FONT : `${CJK_FONT} 28`,
      dpi: opts.dpi ?? 144,
      rgba: true,
      align: opts.align ?? 'left',
      ...(opts.spacing ? { spacing: opts.spacing } : {}),
    },
  })
    .png()
    .toBuffer();
}

/** A white page of the given pixel size with images placed on it, as PNG. */
export async function composePage(width: number, height: number, parts: Array<{ image: Buffer; top: number; left: number }>): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: '#ffffff' } })
    .composite(parts.map((p) => ({ input: p.image, top: p.top, left: p.left })))
    .png()
    .toBuffer();
}

/** An SVG document rasterised to PNG (CJK text through the system's fonts). */
export async function svgToPng(svg: string): Promise<Buffer> {
  return sharp(Buffer.from(svg)).png().toBuffer();
}

/** Downscaled RGBA pixels of an image, for detectors that read raw pixels (QR codes). */
export async function rgbaPixels(image: Buffer, width: number): Promise<{ data: Uint8ClampedArray; width: number; height: number }> {
  const { data, info } = await sharp(image, { limitInputPixels: 200_000_000 }).resize({ width, withoutEnlargement: true }).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8ClampedArray(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}
