/**
 * The render leaf: images and PDFs the system makes for people (thumbnails, watermarked copies,
 * QR separator sheets and their detection, ruled tables such as 归档文件目录 and 销毁清册).
 * Services never import sharp, pdf-lib, jsqr or qrcode themselves; they come here.
 */
export { composePage, rawToPng, svgToPng, textPng, thumbnail } from './images';
export { A4, imagesToPdf, watermarkPdf } from './pdf';
export { qrPng, readQr } from './qr';
export { tablePdf, type TableColumn, type TablePdfOptions } from './table-pdf';
