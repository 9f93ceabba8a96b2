/**
 * The render leaf: images and PDFs the system makes for people (thumbnails, watermarked copies,
 * QR separator sheets and their detection, ruled tables such as 归档文件目录 and 销毁清册).
 * Services never import sharp, pdf-lib, jsqr or qrcode themselves; they come here.
 *
 * The modules behind this door load on first use: sharp and pdf-lib cost ~0.4 s of start-up that a
 * CLI command which never renders anything should not pay.
 */
import type * as Images from './images';
import type * as Pdf from './pdf';
import type * as Qr from './qr';
import type * as Table from './table-pdf';
import type * as Doc from './document-pdf';

export { A4 } from './sizes';
export type { TableColumn, TablePdfOptions } from './table-pdf';
export type { DocumentBlock, DocumentPdfSpec } from './document-pdf';

/* eslint-disable @typescript-eslint/no-require-imports -- loading on first use is the point */
const images = async (): Promise<typeof Images> => require('./images') as typeof Images;
const pdf = async (): Promise<typeof Pdf> => require('./pdf') as typeof Pdf;
const qr = async (): Promise<typeof Qr> => require('./qr') as typeof Qr;
const table = async (): Promise<typeof Table> => require('./table-pdf') as typeof Table;
const doc = async (): Promise<typeof Doc> => require('./document-pdf') as typeof Doc;
/* eslint-enable @typescript-eslint/no-require-imports */

export const thumbnail = async (...a: Parameters<typeof Images.thumbnail>) => (await images()).thumbnail(...a);
export const rawToPng = async (...a: Parameters<typeof Images.rawToPng>) => (await images()).rawToPng(...a);
export const textPng = async (...a: Parameters<typeof Images.textPng>) => (await images()).textPng(...a);
export const composePage = async (...a: Parameters<typeof Images.composePage>) => (await images()).composePage(...a);
export const svgToPng = async (...a: Parameters<typeof Images.svgToPng>) => (await images()).svgToPng(...a);
export const imagesToPdf = async (...a: Parameters<typeof Pdf.imagesToPdf>) => (await pdf()).imagesToPdf(...a);
export const watermarkPdf = async (...a: Parameters<typeof Pdf.watermarkPdf>) => (await pdf()).watermarkPdf(...a);
export const qrPng = async (...a: Parameters<typeof Qr.qrPng>) => (await qr()).qrPng(...a);
export const readQr = async (...a: Parameters<typeof Qr.readQr>) => (await qr()).readQr(...a);
export const tablePdf = async (...a: Parameters<typeof Table.tablePdf>) => (await table()).tablePdf(...a);
export const documentPdf = async (...a: Parameters<typeof Doc.documentPdf>) => (await doc()).documentPdf(...a);
export const pdfAttachment = async (...a: Parameters<typeof Doc.pdfAttachment>) => (await doc()).pdfAttachment(...a);
