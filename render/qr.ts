import jsQR from 'jsqr';
import QRCode from 'qrcode';
import { rgbaPixels } from './images';

/** A QR code as a PNG `width` pixels wide (error correction M: survives a smudged scan). */
export function qrPng(text: string, width: number): Promise<Buffer> {
  return QRCode.toBuffer(text, { errorCorrectionLevel: 'M', margin: 2, width });
}

/**
 * The text of a QR code on a page image, or null. Scans are large: a downscaled copy first (fast,
 * and separator codes are big), then the page at a moderate size.
 */
export async function readQr(image: Buffer, widths: number[] = [900, 1600]): Promise<string | null> {
  for (const w of widths) {
    const px = await rgbaPixels(image, w);
    const found = jsQR(px.data, px.width, px.height, { inversionAttempts: 'dontInvert' });
    if (found) return found.data;
  }
  return null;
}
