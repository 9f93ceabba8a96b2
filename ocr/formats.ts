import { OcrInputError } from './errors';

export type InputFormat = 'jpeg' | 'png' | 'tiff' | 'pdf';

/**
 * The format by content only: an upload's name and declared MIME type are the client's claim,
 * and "scan.jpg" that is an HTML error page must fail here, not inside a decoder.
 */
export function detectFormat(buf: Uint8Array): InputFormat {
  if (buf.length === 0) throw new OcrInputError('empty_file', 'The file is empty (0 bytes).');
  const b = (i: number) => buf[i] ?? -1;
  if (b(0) === 0xff && b(1) === 0xd8 && b(2) === 0xff) return 'jpeg';
  if ([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].every((v, i) => b(i) === v)) return 'png';
  // Classic TIFF (42) and BigTIFF (43), either byte order.
  if ((b(0) === 0x49 && b(1) === 0x49 && (b(2) === 42 || b(2) === 43) && b(3) === 0)
    || (b(0) === 0x4d && b(1) === 0x4d && b(2) === 0 && (b(3) === 42 || b(3) === 43))) return 'tiff';
  // PDF readers accept the header anywhere in the first 1024 bytes (some scanners prepend junk).
  const head = Buffer.from(buf.buffer, buf.byteOffset, Math.min(buf.length, 1024)).toString('latin1');
  if (head.includes('%PDF-')) return 'pdf';
  throw new OcrInputError('unsupported_media_type', 'Not a JPEG, PNG, TIFF or PDF file (checked by content, not name).', {
    magic: Buffer.from(buf.subarray(0, 8)).toString('hex'),
  });
}
