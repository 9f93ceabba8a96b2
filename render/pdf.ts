import { PDFDocument } from 'pdf-lib';

import { A4 } from './sizes';

export { A4 };

/** A PDF with one full-page image per page (rendered pages: sheets, tables, reports). */
export async function imagesToPdf(pngs: Buffer[], opts: { title?: string; size?: [number, number]; keywords?: string[] } = {}): Promise<Uint8Array> {
  const pdf = await PDFDocument.create();
  if (opts.title) pdf.setTitle(opts.title);
  pdf.setCreator('si-archive');
  if (opts.keywords) pdf.setKeywords(opts.keywords);
  const [w, h] = opts.size ?? A4.portrait;
  for (const png of pngs) {
    const img = await pdf.embedPng(png);
    pdf.addPage([w, h]).drawImage(img, { x: 0, y: 0, width: w, height: h });
  }
  return pdf.save();
}

/**
 * Stamps every page of a PDF with a watermark image (large and faint across the middle, small
 * and clear in the corner) and records keywords: each downloaded copy names who took it and when.
 */
export async function watermarkPdf(pdfBytes: Uint8Array, watermark: Buffer, keywords: string[]): Promise<Uint8Array> {
  const pdf = await PDFDocument.load(pdfBytes);
  const png = await pdf.embedPng(watermark);
  for (const page of pdf.getPages()) {
    const { width, height } = page.getSize();
    const w = width * 0.7;
    const h = (png.height / png.width) * w;
    page.drawImage(png, { x: (width - w) / 2, y: (height - h) / 2, width: w, height: h, opacity: 0.35 });
    page.drawImage(png, { x: width - w * 0.45 - 12, y: 12, width: w * 0.45, height: h * 0.45, opacity: 0.8 });
  }
  pdf.setKeywords(keywords);
  return pdf.save();
}
