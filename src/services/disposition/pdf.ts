/**
 * The workflow's documents (鉴定工作报告, 销毁清册, 销毁证明) as real-text PDFs through render/'s
 * documentPdf, with an installed CJK face (ocr/ findCjkFont; a TTC's first face): their Chinese is seen.
 */
import fs from 'node:fs';
import { extractTtcFace, findCjkFont } from '../../../ocr';
import { documentPdf, type DocumentBlock } from '../../../render';

export type Block = DocumentBlock;

let fontCache: Uint8Array | null = null;
function cjkFont(): Uint8Array {
  fontCache ??= extractTtcFace(fs.readFileSync(findCjkFont()));
  return fontCache;
}

export function buildPdf(spec: { title: string; subject: string; createdAt: Date; blocks: DocumentBlock[]; attachments?: Array<{ name: string; bytes: Uint8Array; mimeType: string }> }): Promise<Buffer> {
  return documentPdf({ ...spec, font: cjkFont() });
}
