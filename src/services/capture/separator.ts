/**
 * Separator sheets for batch scanning. Archivists scan a whole box as one stack; the system
 * prints a sheet with a QR code to put before each item. The code may carry the item's
 * pre-registered data (the person's ID number, name, box), so the split-off item starts out
 * described. Separator pages are recognised on the scanned stack and never filed.
 */
import { A4, composePage, imagesToPdf, qrPng, readQr, textPng } from '../../../render';
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

/** One A4 sheet as an image (150 dpi): big QR code, and the same data in words for people. */
async function sheetImage(data: SeparatorData, index: number): Promise<Buffer> {
  const width = 1240;
  const height = 1754;
  const qr = await qrPng(encodeSeparator(data), 700);
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
  const text = await textPng(lines, { sizePt: 16, dpi: 150, spacing: 12 });
  return composePage(width, height, [
    { image: qr, top: 180, left: Math.round((width - 700) / 2) },
    { image: text, top: 960, left: 160 },
  ]);
}

/** A printable PDF with one separator sheet per entry. */
export async function separatorSheetsPdf(entries: SeparatorData[]): Promise<Uint8Array> {
  const pngs: Buffer[] = [];
  for (const [i, data] of entries.entries()) pngs.push(await sheetImage(data, i));
  return imagesToPdf(pngs, { title: '档案分隔页 Separator sheets', size: A4.portrait });
}

/** Looks for one of our separator codes on a page image. */
export async function detectSeparator(image: Buffer): Promise<SeparatorData | null> {
  const text = await readQr(image);
  return text === null ? null : decodeSeparator(text);
}
