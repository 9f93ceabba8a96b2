/**
 * The OCR stage of an item: originals → pages → prepared images → OCR text → searchable PDF,
 * all stored encrypted. Idempotent: page blobs are keyed by item and page number and are simply
 * overwritten on a rerun, and the item row is replaced in one update at the end.
 */
import {
  buildSearchablePdf,
  iteratePages,
  LINE_DIRECTION_SURE,
  missedTextBands,
  normalizeOcrText,
  preparePage,
  scoreOrientations,
  type OcrEngine,
  type PreparedPage,
  type OcrPageResult,
  type PageImage,
  type Rotation,
} from '../../../ocr';
import { AppError, errorSpec } from '../../errors';
import { itemModel, type ItemDoc, type PageRecord } from '../../models/item.model';
import type { Runtime } from '../../runtime';
import { dateRereadsSettled, linesToReread } from '../../domain/date-lines';
import { idLinesToReread, idRereadsSettled } from '../../domain/id-number';
import { pageKeys, readPageText, STATUS, type StoredPageText } from '../records';
import { withPageLimit } from './intake';
import { splitStack } from './stack';

export interface CaptureOptions {
  engine: OcrEngine;
  lowConfidence?: number;
  maxPages?: number;
  signal?: AbortSignal;
  progress?: (p: { stage: string; done: number; total: number }) => Promise<void>;
  /** Each page's stored text as it is written: the pipeline's later stages use it instead of reading it back. */
  onPageText?: (n: number, text: StoredPageText) => void;
}

/**
 * The searchable PDF is built from the pages just prepared while their images add up to no more
 * than this; past it (a long dossier), from the store page by page, so memory stays bounded.
 * Reading back what was just written cost a fetch and a decryption of each image and text blob
 * (one-page items are most of a batch).
 */
const PDF_PAGES_IN_MEMORY_BYTES = 32 * 1024 * 1024;

const FLAG_TEXT: Record<string, [string, string]> = {
  low_confidence: ['OCR confidence is low on this page; check the text', '该页识别置信度低，请人工核对'],
  blank_page: ['Blank page (not OCRed)', '空白页（未进行文字识别）'],
  low_dpi: ['Scanned below 200 dpi, the minimum of DA/T 31-2017', '扫描分辨率低于 DA/T 31-2017 要求的 200 dpi'],
  dpi_unknown: ['The file does not say its resolution: it could not be checked against the 200 dpi of DA/T 31-2017; check the scan', '文件未记录分辨率，无法按 DA/T 31-2017（200 dpi）核验，请人工核对'],
  rotation_applied: ['Page was rotated to upright', '页面方向已自动纠正'],
  unreadable: ['The page reads as nonsense in every orientation (damaged, handwritten or not text): an archivist must check it', '该页在各个方向上均无法识别（可能破损、手写或非文字），需档案人员核查'],
};

function flag(code: keyof typeof FLAG_TEXT, page: number | null) {
  const [message, messageZh] = FLAG_TEXT[code]!;
  return { code, page, message, messageZh };
}

/**
 * A page's OCR made good where it can be: lines the layout pass left out are recovered, the
 * weakest lines are read again alone and replaced by a clearly more confident reading, and the
 * date lines the first pass could not read get second readings (the date decides retention: 3号令
 * 第九条), as do 公民身份号码 lines that do not validate. Those rereads are kept on their lines for
 * extraction to weigh (extraction.service agreedDate, agreedIdNumber); their text stays as read.
 */
export async function recognizeForFiling(engine: OcrEngine, prepared: PreparedPage, first?: OcrPageResult): Promise<OcrPageResult> {
  const res = await recoverMissedLines(engine, prepared, first ?? (await engine.recognizePage(prepared)));
  await rereadLargeLines(engine, prepared, res);
  await rereadWeakLines(engine, prepared, res);
  // Date lines whose date did not parse, and lines whose 公民身份号码 did not validate.
  const dateLines = linesToReread(res.lines);
  const idLines = idLinesToReread(res.lines).slice(0, MAX_ID_REREADS);
  for (const line of new Set([...dateLines, ...idLines])) {
    // Extraction weighs the first reading with the rereads (agreedDate, agreedIdNumber): once more
    // rereads cannot change what they agree on, the rest are not read.
    const settled = (rereads: readonly { text: string }[], remaining: number) => {
      if (rereadsRepeat(rereads)) return true;
      const readings = [line.text, ...rereads.map((r) => r.text)];
      return (!dateLines.includes(line) || dateRereadsSettled(readings, remaining)) && (!idLines.includes(line) || idRereadsSettled(readings, remaining));
    };
    const rereads = await engine.rereadLine(prepared, line.bbox, settled);
    if (rereads.length) line.rereads = rereads;
  }
  return res;
}

/**
 * Whether a line's first two rereads read the very same text: then the ways were not independent
 * on this line, and the later ones did not change what the readings agree on. On our tuning pages
 * (bench:ocr-tuning and bench:extract's tuning set, 107 reread date and ID lines, 2026-12-03) 66
 * lines stopped here, no line's agreed date or number changed, and 132 of 427 line recognitions
 * were left out. Only the first two decide: once they differ, the ways disagree on the line and
 * all are read.
 */
export function rereadsRepeat(rereads: readonly { text: string }[]): boolean {
  const same = (t: string) => t.replace(/\s+/gu, '');
  return rereads.length >= 2 && same(rereads[0]!.text) === same(rereads[1]!.text);
}

/** Characters of a text, whitespace left out. */
function charCount(text: string): number {
  return [...text.replace(/\s/gu, '')].length;
}

/** At least two letters or digits: a reading that says something (seals and noise read as marks). */
function saysSomething(text: string): boolean {
  return (text.match(/[\p{L}\p{N}]/gu)?.length ?? 0) >= 2;
}

/** A line takes a reading of it whole: its words become that one reading (the searchable PDF and the viewer's boxes follow it). */
function takeReading(line: OcrPageResult['lines'][number], reading: { text: string; confidence: number }): void {
  line.text = reading.text;
  line.confidence = reading.confidence;
  line.words = [{ text: reading.text, bbox: line.bbox, confidence: reading.confidence }];
}

/** Ink that is not text (a stamp's remnant, a scribble) reads under 40 every way: two such readings end a reread. */
function readsAsNothing(rs: readonly { confidence: number }[]): boolean {
  return rs.length >= 2 && rs.every((r) => r.confidence < 40);
}

/** A missed band's best single-line reading is kept from this confidence up (noise and seals read far lower). */
export const MISSED_LINE_MIN_CONFIDENCE = 70;

/**
 * Lines tesseract's layout analysis skipped (missedTextBands: a widely spaced title, typically),
 * read as single lines and put back among the page's lines in reading order, so the text, the
 * searchable PDF and classification have them. A band is kept only when one of its readings is
 * confident and has at least two letters or digits: seals, stamps and noise read as nothing or
 * with low confidence.
 */
async function recoverMissedLines(engine: OcrEngine, prepared: PreparedPage, res: OcrPageResult): Promise<OcrPageResult> {
  const bands = missedTextBands(prepared, res.lines.map((l) => l.bbox));
  if (!bands.length) return res;
  const good = (r: { text: string; confidence: number }): boolean => r.confidence >= MISSED_LINE_MIN_CONFIDENCE && saysSomething(r.text);
  let added = 0;
  for (const bbox of bands) {
    // Ends at the first confident reading, or when the ink is not text after all.
    const readings = await engine.rereadLine(prepared, bbox, (rs) => rs.some(good) || readsAsNothing(rs));
    const best = readings.filter(good).sort((a, b) => b.confidence - a.confidence)[0];
    if (!best) continue;
    const text = normalizeOcrText(best.text);
    insertInReadingOrder(res.lines, { text, bbox, confidence: best.confidence, words: [{ text, bbox, confidence: best.confidence }] });
    added++;
  }
  // The page's confidence counts the recovered lines too: a page whose only text was skipped is not unreadable.
  if (added) settlePageText(res);
  return res;
}

/**
 * Puts a line among tesseract's, which are in its reading order (blocks, then lines): before the
 * first line of the same row that starts right of it, or else before the first line below it.
 * Re-sorting all lines by position would break that order where a table row's cells sit a few
 * pixels apart vertically.
 */
function insertInReadingOrder(lines: OcrPageResult['lines'], line: OcrPageResult['lines'][number]): void {
  const b = line.bbox;
  const sameRow = (o: typeof b): boolean => Math.min(o.y1, b.y1) - Math.max(o.y0, b.y0) > 0.5 * Math.min(o.y1 - o.y0, b.y1 - b.y0);
  const at = lines.findIndex((l) => (sameRow(l.bbox) ? l.bbox.x0 > b.x0 : l.bbox.y0 + l.bbox.y1 > b.y0 + b.y1));
  lines.splice(at < 0 ? lines.length : at, 0, line);
}

/** A line this much taller than the page's body lines is in large type (a title): read again at the body's size. */
export const LARGE_LINE_RATIO = 1.3;
/** Large lines read again per page at most (titles: one or two a form). */
const LARGE_LINES_PER_PAGE = 2;

/**
 * Lines in type much larger than the page's body (titles) read again at the body's size. The page
 * is read at a scale chosen for its body (preparePage, TEXT_PX_TARGET), and chi_sim reads large
 * type worse: on our tuning-style forms with titles 1.6 times the body (bench:ocr-tuning
 * "titles"), titles read at 6.3 % CER in the page (社会 → 任会, 保 → 你) and 0 % alone at the
 * body's size, where the body read at 1.7 %. The same grey image, only smaller (readLineScaled),
 * so the reading is not a different way of seeing the line but the same one at the size the model
 * reads best: it replaces the line when it is at least as confident.
 */
async function rereadLargeLines(engine: OcrEngine, prepared: PreparedPage, res: OcrPageResult): Promise<void> {
  const height = (l: OcrPageResult['lines'][number]): number => l.bbox.y1 - l.bbox.y0;
  const lines = res.lines.filter((l) => charCount(l.text) >= 2);
  if (lines.length < 3) return;
  const body = lines.map(height).sort((a, b) => a - b)[Math.floor(lines.length / 2)]!;
  const large = lines
    .filter((l) => height(l) > LARGE_LINE_RATIO * body)
    .sort((a, b) => height(b) - height(a))
    .slice(0, LARGE_LINES_PER_PAGE);
  let changed = false;
  for (const line of large) {
    const reading = await engine.readLineScaled(prepared, line.bbox, body / height(line));
    if (!reading || reading.confidence < line.confidence || !saysSomething(reading.text)) continue;
    takeReading(line, reading);
    changed = true;
  }
  if (changed) settlePageText(res);
}

/** Lines under this confidence are read again alone (WEAK_LINES_PER_PAGE at most, weakest first). */
export const WEAK_LINE_BELOW = 60;
/**
 * A reading replaces the line only when it is this much more confident and a second way read the
 * same text, or when it is WEAK_LINE_SURE more confident on its own. A line read alone scores
 * higher than the same line in its page even when it is no better: on our own clean notice,
 * 知核事项 at 51 in the page read as 移核事项 / 稿核事项 at 68-81 alone, one character wrong either
 * way. So a gain alone is weak evidence; two ways that agree are the same kind of evidence the
 * date and 公民身份号码 rereads vote with.
 */
export const WEAK_LINE_GAIN = 15;
export const WEAK_LINE_SURE = 40;
const WEAK_LINES_PER_PAGE = 2;

/**
 * The page's weakest lines read again alone (rereadLine: the crop enlarged and binarised a few
 * ways, as one line). A table row garbled in the page's context often reads cleanly alone (参保险种
 * 外人医启从由 → 参保险种 养老、医疗、失业 on a held-out grey page). The line takes the most confident
 * reading when it clears WEAK_LINE_GAIN, without the cell borders a single-line reading spells as
 * "|"; its words become that one reading (the searchable PDF and the viewer's boxes follow it).
 */
async function rereadWeakLines(engine: OcrEngine, prepared: PreparedPage, res: OcrPageResult): Promise<void> {
  const weak = res.lines
    .filter((l) => l.confidence < WEAK_LINE_BELOW && charCount(l.text) >= 2)
    .sort((a, b) => a.confidence - b.confidence)
    .slice(0, WEAK_LINES_PER_PAGE);
  let changed = false;
  for (const line of weak) {
    const choice = (rs: readonly { text: string; confidence: number }[]): { text: string; confidence: number } | null => {
      const good = rs.map((r) => ({ text: withoutCellBorders(r.text), confidence: r.confidence })).filter((r) => r.text && r.confidence >= line.confidence + WEAK_LINE_GAIN);
      const sure = good.filter((r) => r.confidence >= line.confidence + WEAK_LINE_SURE);
      const agreed = good.filter((r) => good.some((o) => o !== r && o.text === r.text));
      return [...sure, ...agreed].sort((a, b) => b.confidence - a.confidence)[0] ?? null;
    };
    // Ends once there is a choice, or when the crop reads as nothing.
    const readings = await engine.rereadLine(prepared, line.bbox, (rs) => choice(rs) !== null || readsAsNothing(rs));
    const best = choice(readings);
    if (!best) continue;
    takeReading(line, best);
    changed = true;
  }
  if (changed) settlePageText(res);
}

/** A single-line reading of a table row spells the cell borders as "|" (with a stray quote mark): not text. */
function withoutCellBorders(text: string): string {
  return normalizeOcrText(text.replace(/[“”"']?\s*[|丨│]\s*[“”"']?/gu, ' '));
}

/** The page text from its lines again, and its confidence per character (a replaced or recovered line is one "word"). */
function settlePageText(res: OcrPageResult): void {
  res.text = normalizeOcrText(res.lines.map((l) => l.text).join('\n'));
  const total = res.lines.reduce((a, l) => a + charCount(l.text), 0);
  if (total) res.confidence = Math.round((res.lines.reduce((a, l) => a + l.confidence * charCount(l.text), 0) / total) * 10) / 10;
}

/** ID-number lines read again per page at most (a form holds one or two persons' numbers). */
const MAX_ID_REREADS = 2;

/** Under this mean confidence a page may be read again in other orientations (wrong-way pages score 16-40, upright 85-92). */
export const ORIENTATION_RETRY_BELOW = 60;
/** A reading this good ends the search for a better orientation. */
const ORIENTATION_GOOD = 75;
/** Still under this after every orientation tried: the page is unreadable and goes to a person. */
export const UNREADABLE_BELOW = 40;
/**
 * An orientation whose strip reads this much below the best strip is ruled out without a full
 * recognition. Wrong-way strips read 20-40 points below the upright one even on grey or noisy
 * paper (the noise lowers every orientation alike), so a low full-page confidence that the strips
 * do not blame on orientation is left to the low_confidence flag instead of paying for three more
 * full recognitions (docs/benchmarks.md, bench:ocr).
 */
export const ORIENTATION_STRIP_MARGIN = 12;

/** Lines with fewer characters than this say nothing about direction (a seal's 盖章, a tick box). */
const DIRECTION_MIN_CHARS = 3;
/** A line box this many times taller than wide runs down the page. */
const TALL_LINE = 1.5;
/** Share of the directional characters in tall lines above which the whole reading ran down the page. */
const SIDEWAYS_SHARE = 0.6;

/**
 * The quarter turn that brings a reading's page upright when tesseract read it as vertical lines,
 * or null. With the horizontal model (chi_sim), a page lying on its side comes out as lines taller
 * than wide, and when its characters were turned a quarter clockwise the reading is as good as
 * the upright one (same text, confidence 81-91 either way on our A4 sheets): the confidence check cannot
 * see it, and the page would be filed sideways. Each line's first and last word say which way it
 * ran: top to bottom (turned clockwise: turn back 270) or bottom to top (90). Vertical type read
 * upright by the horizontal model comes out as nonsense with low confidence, so a good reading
 * mostly of tall lines is a page on its side (the caller checks the confidence).
 */
export function sidewaysTurn(ocr: OcrPageResult): 90 | 270 | null {
  let chars = 0, tallChars = 0, down = 0, up = 0;
  for (const l of ocr.lines) {
    const n = charCount(l.text);
    if (n < DIRECTION_MIN_CHARS) continue;
    chars += n;
    const w = l.bbox.x1 - l.bbox.x0, h = l.bbox.y1 - l.bbox.y0;
    if (h <= TALL_LINE * w) continue;
    tallChars += n;
    const first = l.words[0], last = l.words[l.words.length - 1];
    if (!first || !last || first === last) continue;
    if (last.bbox.y0 + last.bbox.y1 > first.bbox.y0 + first.bbox.y1) down += n;
    else up += n;
  }
  if (!chars || tallChars <= SIDEWAYS_SHARE * chars || down === up) return null;
  return down > up ? 270 : 90;
}

/** The upright reading of a sideways page is kept unless it reads this much worse than the sideways one. */
const UPRIGHT_REREAD_LOSS = 10;

export interface OrientedReading {
  prepared: PreparedPage;
  ocr: OcrPageResult | null;
  /** Orientations recognised in full (1 when the first one read well). */
  tries: number;
  unreadable: boolean;
}

/**
 * Recognition verifies the orientation estimate (preparePage's line direction, or its strips when
 * asked for them): a page that reads badly is checked in every orientation by the cheap strip
 * reading (scoreOrientations: a band of two lines, read once per orientation), then in full for
 * each orientation the strips cannot rule out, best strip first; the best reading is kept with its rotation (so the
 * stored image, word boxes, searchable PDF and viewer boxes all follow the chosen one). A good
 * reading in vertical lines is of a page on its side (sidewaysTurn), read once more upright.
 * Date-line rereads run once, on the kept reading.
 */
export async function recognizeOriented(engine: OcrEngine, page: PageImage, prepared: PreparedPage): Promise<OrientedReading> {
  if (prepared.blank) return { prepared, ocr: null, tries: 0, unreadable: false };
  let best = { prepared, ocr: await engine.recognizePage(prepared) };
  let tries = 1;
  if (best.ocr.confidence < ORIENTATION_RETRY_BELOW) {
    const r0 = prepared.rotation;
    // Ink that clearly runs in one direction leaves only that direction's two ways up (the rule
    // preparePage's own strip check follows): the other two are neither read as strips nor in full.
    const turns = prepared.orientationProbe.directionRatio > LINE_DIRECTION_SURE ? [0, 180] : [0, 180, 90, 270];
    const all = turns.map((d) => ((r0 + d) % 360) as Rotation);
    const strips = await scoreOrientations(engine, prepared, all);
    const top = Math.max(...all.map((r) => strips[r] ?? 0));
    // Every orientation whose strip is within the margin of the best one, best first; when the
    // strips say nothing (no probe, or all read as nothing), all of them, as before.
    const others = all.slice(1)
      .filter((r) => top <= 0 || (strips[r] ?? 0) >= top - ORIENTATION_STRIP_MARGIN)
      .sort((a, b) => (strips[b] ?? 0) - (strips[a] ?? 0));
    for (const rotation of others) {
      const p = await preparePage(page, { rotation });
      const o = await engine.recognizePage(p);
      tries++;
      // A clearly better reading, not noise between two bad ones.
      if (o.confidence > best.ocr.confidence + 5) best = { prepared: p, ocr: o };
      if (best.ocr.confidence >= ORIENTATION_GOOD) break;
    }
  }
  // A good reading in vertical lines is a page on its side read the right way round: read it once
  // more upright, so that the stored image, the boxes and the PDF are upright too.
  const turn = best.ocr.confidence >= ORIENTATION_RETRY_BELOW ? sidewaysTurn(best.ocr) : null;
  if (turn) {
    const p = await preparePage(page, { rotation: ((best.prepared.rotation + turn) % 360) as Rotation });
    const o = await engine.recognizePage(p);
    tries++;
    if (o.confidence >= best.ocr.confidence - UPRIGHT_REREAD_LOSS) best = { prepared: p, ocr: o };
  }
  const ocr = await recognizeForFiling(engine, best.prepared, best.ocr);
  return { prepared: best.prepared, ocr, tries, unreadable: ocr.confidence < UNREADABLE_BELOW };
}

export async function captureItem(rt: Runtime, itemId: string, opts: CaptureOptions): Promise<ItemDoc> {
  const items = itemModel(rt.db);
  const item = await items.findById(itemId).lean<ItemDoc>();
  if (!item) throw Object.assign(new AppError('item_not_found', { details: { itemId } }), { permanent: true });
  // Already OCRed (a rerun after a crash during filing): nothing to redo here.
  if (STATUS.captured.has(item.status) || item.ocrAt) return item;
  if (item.stack?.enabled) {
    await splitStack(rt, item, { maxPages: opts.maxPages, progress: opts.progress });
    return (await items.findById(itemId).lean<ItemDoc>())!;
  }
  await items.updateOne({ _id: item._id }, { $set: { status: 'processing' } });

  const threshold = opts.lowConfidence ?? 60;
  const pages: PageRecord[] = [];
  const flags: ReturnType<typeof flag>[] = [];
  // Pages stream through: each is prepared, read, stored and let go; only its small record stays.
  // The item's page limit is the budget across all its files, checked before a file is decoded
  // (a TIFF's or PDF's page count is in its header) and final: too many pages never succeed.
  const { itemPages, fileBytes } = rt.config.intake;
  const maxItemPages = Math.min(itemPages, opts.maxPages ?? Infinity);
  let n = 0;
  let total = 0;
  // The pages for the PDF, while they fit (PDF_PAGES_IN_MEMORY_BYTES); null once they do not.
  let kept: Array<{ image: Buffer; lines: StoredPageText['lines'] }> | null = [];
  let keptBytes = 0;

  for (const [sourceIndex, original] of item.originals.entries()) {
    const buf = await rt.storage.blobs.getBuffer(original.blobKey);
    const pagesOf = iteratePages(buf, { maxPages: maxItemPages - n, maxBytes: fileBytes });
    for await (const page of withPageLimit(pagesOf, maxItemPages)) {
      if (opts.signal?.aborted) throw new Error('aborted');
      n++;
      total = Math.max(total, n);
      await opts.progress?.({ stage: 'ocr', done: n - 1, total: Math.max(total, n) });
      const t0 = Date.now();
      const reading = await recognizeOriented(opts.engine, page, await preparePage(page, { verifyByRecognition: true }));
      const { prepared, ocr } = reading;
      // The profile bench:ocr reads: full recognitions per page and the time they took.
      rt.logger.debug({ itemId, page: n, tries: reading.tries, rotation: prepared.rotation, confidence: ocr?.confidence ?? null, ms: Date.now() - t0 }, 'page read');
      const imageKey = pageKeys.image(itemId, n, prepared.imageFormat === 'png' ? 'png' : 'jpeg');
      const textKey = pageKeys.text(itemId, n);
      await rt.storage.blobs.put(imageKey, prepared.image, { contentType: `image/${prepared.imageFormat}` });
      const stored: StoredPageText = { text: ocr?.text ?? '', confidence: ocr?.confidence ?? 0, lines: ocr?.lines ?? [] };
      await rt.storage.blobs.put(textKey, Buffer.from(JSON.stringify(stored)), { contentType: 'application/json' });
      opts.onPageText?.(n, stored);
      keptBytes += prepared.image.length;
      if (kept && keptBytes <= PDF_PAGES_IN_MEMORY_BYTES) kept.push({ image: prepared.image, lines: stored.lines });
      else kept = null;
      pages.push({
        n,
        source: sourceIndex,
        sourcePage: page.n,
        imageKey,
        textKey,
        width: prepared.width,
        height: prepared.height,
        dpi: prepared.scanDpi,
        dpiAssumed: prepared.dpiAssumed ?? false,
        rotation: prepared.rotation,
        skewDeg: prepared.skewDeg,
        colorMode: prepared.colorMode,
        blank: prepared.blank,
        lowDpi: prepared.lowDpi,
        unreadable: reading.unreadable,
        confidence: ocr ? ocr.confidence : null,
        chars: stored.text.replace(/\s/g, '').length,
      });
      if (prepared.blank) flags.push(flag('blank_page', n));
      if (prepared.lowDpi) flags.push(flag('low_dpi', n));
      if (prepared.dpiAssumed) flags.push(flag('dpi_unknown', n));
      if (prepared.rotation !== 0) flags.push(flag('rotation_applied', n));
      if (reading.unreadable) flags.push(flag('unreadable', n));
      else if (ocr && ocr.confidence < threshold) flags.push(flag('low_confidence', n));
    }
  }
  await opts.progress?.({ stage: 'pdf', done: n, total: n });
  // A long item's PDF reads each page back from the store as it goes, not from a list of prepared pages.
  const inMemory = kept;
  async function* storedPages() {
    for (const [i, p] of pages.entries()) {
      const page = inMemory?.[i] ?? { image: await rt.storage.blobs.getBuffer(p.imageKey!), lines: (await readPageText(rt, p.textKey!)).lines };
      yield { image: page.image, width: p.width!, height: p.height!, dpi: p.dpi ?? 300 /* only the PDF page size: an unknown resolution is flagged dpi_unknown */, lines: page.lines };
    }
  }
  const pdf = await buildSearchablePdf(storedPages(), { title: item.title ?? item.source, itemId, createdAt: item.createdAt });
  const pdfKey = pageKeys.pdf(itemId);
  await rt.storage.blobs.put(pdfKey, Buffer.from(pdf), { contentType: 'application/pdf' });
  const captured = { pages, pageCount: n, flags, pdfKey, ocrAt: new Date(), failure: { code: null, message: null, messageZh: null } };
  await items.updateOne({ _id: item._id }, { $set: captured });
  // The item as written, not read again: the job's lease keeps every other writer of these fields away.
  return { ...item, status: 'processing', ...captured } as unknown as ItemDoc; // lean shape: plain arrays where ItemDoc has mongoose's
}

/** Marks an item failed with a reason a person can act on. */
export async function failItem(rt: Runtime, itemId: string, err: unknown): Promise<void> {
  const e = err as { code?: unknown; message?: unknown; zh?: unknown };
  await itemModel(rt.db).updateOne(
    { _id: itemId },
    {
      $set: {
        status: 'failed',
        failure: {
          code: typeof e.code === 'string' ? e.code : 'internal_error',
          message: typeof e.message === 'string' ? e.message : String(err),
          // The catalogue's Chinese for a known code (an OCR input error carries English only).
          messageZh: typeof e.zh === 'string' ? e.zh : errorSpec(err)?.zh ?? '处理失败',
        },
      },
    },
  );
}
