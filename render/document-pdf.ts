/**
 * Record documents as real-text PDFs (鉴定工作报告, 销毁清册, 销毁证明): pdf-lib with a CJK font the
 * caller passes (the one the searchable PDFs use), subset-embedded, so the text is searchable and
 * copyable — unlike tablePdf's images. A4 landscape, headings, paragraphs, and tables that wrap
 * cells and repeat their header on each page; files can be attached (a JSON manifest) and read back.
 */
import fontkit from '@pdf-lib/fontkit';
import { decodePDFRawStream, PDFArray, PDFDict, PDFDocument, PDFHexString, PDFName, PDFRawStream, PDFString, rgb, type PDFFont, type PDFPage } from 'pdf-lib';

export type DocumentBlock =
  | { kind: 'heading'; text: string }
  | { kind: 'text'; text: string }
  | { kind: 'table'; columns: Array<{ title: string; width: number }>; rows: string[][]; size?: number };

export interface DocumentPdfSpec {
  /** a TTF/OTF face with CJK coverage (not a TTC) */
  font: Uint8Array;
  title: string;
  subject: string;
  createdAt: Date;
  blocks: DocumentBlock[];
  /** files attached inside the PDF (a JSON manifest a verifier reads back) */
  attachments?: Array<{ name: string; bytes: Uint8Array; mimeType: string }>;
}

const W = 842;
const H = 595;
const M = 40;

export async function documentPdf(spec: DocumentPdfSpec): Promise<Buffer> {
  const pdf = await PDFDocument.create();
  pdf.registerFontkit(fontkit);
  pdf.setTitle(spec.title);
  pdf.setSubject(spec.subject);
  pdf.setCreationDate(spec.createdAt);
  pdf.setModificationDate(spec.createdAt);
  pdf.setProducer('si-archive disposition');
  pdf.setCreator('si-archive');
  const font = await pdf.embedFont(spec.font, { subset: true });
  let page: PDFPage = pdf.addPage([W, H]);
  let y = H - M;
  const newPage = () => {
    page = pdf.addPage([W, H]);
    y = H - M;
  };
  const wrap = (text: string, size: number, width: number): string[] => wrapText(font, text, size, width);
  const line = (text: string, size: number, x = M) => {
    if (y - size < M) newPage();
    y -= size * 1.4;
    page.drawText(text, { x, y, size, font, color: rgb(0, 0, 0) });
  };

  page.drawText(spec.title, { x: (W - font.widthOfTextAtSize(spec.title, 18)) / 2, y: y - 18, size: 18, font });
  y -= 36;
  for (const b of spec.blocks) {
    if (b.kind === 'heading') {
      y -= 6;
      line(b.text, 13);
    } else if (b.kind === 'text') {
      for (const l of wrap(b.text, 10, W - 2 * M)) line(l, 10);
    } else {
      const size = b.size ?? 7.5;
      const total = b.columns.reduce((s, c) => s + c.width, 0);
      const widths = b.columns.map((c) => (c.width / total) * (W - 2 * M));
      const drawRow = (cells: string[], bold: boolean) => {
        const wrapped = cells.map((c, i) => wrap(c ?? '', size, widths[i]! - 4));
        const h = Math.max(1, ...wrapped.map((w) => w.length)) * size * 1.3 + 4;
        if (y - h < M) {
          newPage();
          if (!bold) drawRow(b.columns.map((c) => c.title), true);
        }
        let x = M;
        wrapped.forEach((ls, i) => {
          page.drawRectangle({ x, y: y - h, width: widths[i]!, height: h, borderColor: rgb(0.4, 0.4, 0.4), borderWidth: 0.5, ...(bold ? { color: rgb(0.92, 0.92, 0.92) } : {}) });
          ls.forEach((l, k) => page.drawText(l, { x: x + 2, y: y - 2 - size * 1.3 * (k + 1) + size * 0.3, size, font }));
          x += widths[i]!;
        });
        y -= h;
      };
      y -= 4;
      drawRow(b.columns.map((c) => c.title), true);
      for (const r of b.rows) drawRow(r, false);
      y -= 8;
    }
  }
  const pages = pdf.getPages();
  pages.forEach((p, i) => p.drawText(`${i + 1} / ${pages.length}`, { x: W - M - 30, y: 20, size: 8, font }));
  for (const a of spec.attachments ?? []) await pdf.attach(a.bytes, a.name, { mimeType: a.mimeType, creationDate: spec.createdAt, modificationDate: spec.createdAt });
  return Buffer.from(await pdf.save({ useObjectStreams: false }));
}

function wrapText(font: PDFFont, text: string, size: number, width: number): string[] {
  const out: string[] = [];
  for (const para of String(text).split('\n')) {
    let cur = '';
    for (const ch of para) {
      if (font.widthOfTextAtSize(cur + ch, size) > width && cur) {
        out.push(cur);
        cur = ch;
      } else cur += ch;
    }
    out.push(cur);
  }
  return out;
}

/** The bytes of a file attached to a PDF (by its name), or null. */
export async function pdfAttachment(pdf: Uint8Array, name: string): Promise<Uint8Array | null> {
  const doc = await PDFDocument.load(pdf, { updateMetadata: false });
  const names = doc.catalog.lookupMaybe(PDFName.of('Names'), PDFDict);
  const ef = names?.lookupMaybe(PDFName.of('EmbeddedFiles'), PDFDict);
  const arr = ef?.lookupMaybe(PDFName.of('Names'), PDFArray);
  if (!arr) return null;
  for (let i = 0; i + 1 < arr.size(); i += 2) {
    const n = arr.lookup(i);
    if (!(n instanceof PDFString || n instanceof PDFHexString) || n.decodeText() !== name) continue;
    const stream = arr.lookup(i + 1, PDFDict).lookup(PDFName.of('EF'), PDFDict).lookup(PDFName.of('F'));
    return stream instanceof PDFRawStream ? decodePDFRawStream(stream).decode() : null;
  }
  return null;
}
