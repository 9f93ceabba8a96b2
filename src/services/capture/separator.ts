/**
 * Separator sheets for batch scanning. Archivists scan a whole box as one stack; the system
 * prints a sheet with a QR code to put before each item. The code may carry the item's
 * pre-registered data (the person's ID number, name, box), so the split-off item starts out
 * described. Separator pages are recognised on the scanned stack and never filed.
 */
import jsQR from 'jsqr';
import { PDFDocument } from 'pdf-lib';
import QRCode from 'qrcode';
import sharp from 'sharp';
import { z } from 'zod';

const PREFIX = 'SIARCH-SEP:1:';

export const SeparatorDataSchema = z.object({
  box: z.string().max(40).optional(),
  idNumber: z.string().regex(/^\d{17}[\dX]$/, '18-character 公民身份号码').optional(),
  name: z.string().max(40).optional(),
  unit: z.string().max(80).optional(),
  note: z.string().max(80).optional(),
});
export type SeparatorData = z.infer<typeof SeparatorDataSchema>;

export function encodeSeparator(data: SeparatorData): string {
  return PREFIX + Buffer.from(JSON.stringify(SeparatorDataSchema.parse(data))).toString('base64url');
}

/** The sheet's data, or null when the text is not one of our separator codes. */
export function decodeSeparator(text: string): SeparatorData | null {
  if (!text.startsWith(PREFIX)) return null;
  try {
    const parsed = SeparatorDataSchema.safeParse(JSON.parse(Buffer.from(text.slice(PREFIX.length), 'base64url').toString('utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

function escapeMarkup(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** One A4 sheet as an image (150 dpi): big QR code, and the same data in words for people. */
async function sheetImage(data: SeparatorData, index: number): Promise<Buffer> {
  const width = 1240;
  const height = 1754;
  const qr = await QRCode.toBuffer(encodeSeparator(data), { errorCorrectionLevel: 'M', margin: 2, width: 700 });
  const lines = [
    '档案分隔页 · SEPARATOR SHEET',
    '本页不归档 / this page is not filed',
    `序号 No. ${index + 1}`,
    ...(data.box ? [`盒号 Box: ${data.box}`] : []),
    ...(data.name ? [`姓名 Name: ${data.name}`] : []),
    ...(data.idNumber ? [`公民身份号码 ID: ${data.idNumber}`] : []),
    ...(data.unit ? [`单位 Unit: ${data.unit}`] : []),
    ...(data.note ? [`备注 Note: ${data.note}`] : []),
  ];
  const text = await sharp({
    text: {
      text: `<span foreground="black" size="${16 * 1024}">${lines.map(escapeMarkup).join('\n')}</span>`,
      font: 'WenQuanYi Zen Hei, Noto Sans CJK SC, sans',
      dpi: 150,
      rgba: true,
      spacing: 12,
    },
  })
    .png()
    .toBuffer();
  return sharp({ create: { width, height, channels: 3, background: '#ffffff' } })
    .composite([
      { input: qr, top: 180, left: Math.round((width - 700) / 2) },
      { input: text, top: 960, left: 160 },
    ])
    .png()
    .toBuffer();
}

/** A printable PDF with one separator sheet per entry. */
export async function separatorSheetsPdf(entries: SeparatorData[]): Promise<Uint8Array> {
  const pdf = await PDFDocument.create();
  pdf.setTitle('档案分隔页 Separator sheets');
  pdf.setCreator('si-archive');
  for (const [i, data] of entries.entries()) {
    const png = await pdf.embedPng(await sheetImage(data, i));
    const page = pdf.addPage([595.28, 841.89]); // A4 in points
    page.drawImage(png, { x: 0, y: 0, width: 595.28, height: 841.89 });
  }
  return pdf.save();
}

/**
 * Looks for one of our separator codes on a page image. Scans are large: try a downscaled copy
 * first (fast, and the code is big), then the page at a moderate size.
 */
export async function detectSeparator(image: Buffer): Promise<SeparatorData | null> {
  for (const w of [900, 1600]) {
    const { data, info } = await sharp(image, { limitInputPixels: 200_000_000 })
      .resize({ width: w, withoutEnlargement: true })
      .ensureAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const found = jsQR(new Uint8ClampedArray(data.buffer, data.byteOffset, data.length), info.width, info.height, { inversionAttempts: 'dontInvert' });
    if (found) return decodeSeparator(found.data);
  }
  return null;
}
