import os from 'node:os';
import sharp from 'sharp';
import Tesseract from 'tesseract.js';
import { histogram } from './analysis';
import type { OrientationScorer, PreparedPage } from './prepare';
import { pgm } from './pgm';
import { resolveLangPath, type ModelVariant } from './tessdata';
import { normalizeOcrText } from './text';
import type { BBox } from './types';

export interface OcrWord { text: string; bbox: BBox; confidence: number }
export interface LineReading { text: string; confidence: number }
export interface OcrLine {
  text: string;
  bbox: BBox;
  confidence: number;
  words: OcrWord[];
  /** Second readings of this line (OcrEngine.rereadLine), where the caller asked for them. */
  rereads?: LineReading[];
}
export interface OcrPageResult {
  /** Normalised text (see normalizeOcrText); '' for blank pages. */
  text: string;
  /** Mean word confidence 0..100 (0 for blank pages). */
  confidence: number;
  /** Boxes in PreparedPage.image pixels. */
  lines: OcrLine[];
  skipped?: 'blank';
  ms: number;
}

export interface OcrEngineOptions {
  /** Worker threads (default: one per CPU core, at most 4). */
  workers?: number;
  /** A tessdata folder to use instead of the npm model packages. */
  tessdataDir?: string;
  /** Model variant from @tesseract.js-data (default '4.0.0_best_int', see below). */
  variant?: ModelVariant;
  /** Page segmentation mode (default 3, automatic). */
  psm?: number;
  /** Tesseract's preserve_interword_spaces (default true; CJK spaces are removed by normalizeOcrText either way). */
  preserveInterwordSpaces?: boolean;
  /** A worker is replaced after this many pages (default 200): the wasm heap only ever grows. */
  recycleAfterPages?: number;
}

export interface OcrEngine extends OrientationScorer {
  recognizePage(page: PreparedPage): Promise<OcrPageResult>;
  /**
   * Reads one line again (bbox in PreparedPage.image pixels, as recognizePage gives them): the
   * crop alone, enlarged and binarised a few ways, as a single text line. Returns one reading per
   * way; [] when the crop has no contrast. The readings are independent evidence for the caller
   * to compare, not a better text to trust blindly. `settled` (the readings so far, the ways left)
   * ends the rereads early when more could not change what the caller makes of them.
   */
  rereadLine(page: PreparedPage, bbox: BBox, settled?: (readings: readonly LineReading[], remaining: number) => boolean): Promise<LineReading[]>;
  /**
   * Reads one line again from the grey recognition image, resized by `scale`, as a single line:
   * how capture reads a title in type much larger than the page's body at the body's size (the
   * model reads large type worse; TEXT_PX_TARGET). Null when the box is too small to read.
   */
  readLineScaled(page: PreparedPage, bbox: BBox, scale: number): Promise<LineReading | null>;
  /**
   * Starts every recognition worker now (each loads its models, ~1 s) instead of at the first
   * pages: a caller that knows pages are coming overlaps that with other work.
   */
  warm(): void;
  /** Pages recognised and workers created so far (for metrics and the benchmark). */
  stats(): { pages: number; workersStarted: number };
  close(): Promise<void>;
}

// Defaults measured with bench/ocr.ts on the 14 degraded fixture pages (docs/benchmarks.md, bench:ocr):
//   4.0.0_best_int, psm 3: CER 2.29 %, ~190 MB RSS per worker
//   4.0.0 (20 MB chi_sim, LSTM used): CER 1.99 %, ~400 MB per worker, 0.61× the CLI's speed against 0.81×
//   psm 6: CER 2.36 %, ~40 % faster, but it reads the page as one uniform block, which interleaves
//     the columns of real forms and tables; the single-block fixtures cannot show that cost
//   psm 4: same CER as psm 3, no faster; preserve_interword_spaces 0/1: same CER (normalizeOcrText
//     removes CJK spaces either way), 1 keeps spacing inside Latin and number runs
// so best_int + psm 3 + preserve_interword_spaces=1: 2× less memory for 0.3 points of CER.
const DEFAULT_PSM = 3;

// Rereads of a hard line. Tesseract's own binarisation of a noisy page can turn a whole line into
// glyph soup (二〇二三年二月九日 → 二年二月册卓) while the same crop, enlarged with a smooth kernel
// and cut at a fixed depth below the paper, reads clean as one line (psm 7). `depth` is the cut as a
// share of the paper-to-ink contrast. Each way alone misreads some lines (〇 as O, OO or O〇; 三 as
// 二), each a different few, hence five ways for the caller to vote on. Chosen from a grid of scales
// (1.5-2.5) and cuts on the date lines bench:extract's pages fail; measured in docs/benchmarks.md.
const REREAD_WAYS = [
  { scale: 1.5, depth: 0.18 },
  { scale: 1.5, depth: 0.25 },
  { scale: 2, depth: 0.25 },
  { scale: 2, depth: 0.18 },
  { scale: 2.5, depth: 0.18 },
] as const;
/** Paper-to-ink contrast (grey levels) under which a crop is empty paper, not a line. */
const MIN_LINE_CONTRAST = 40;

/** Grey level at a fraction of the pixels, darkest first. */
function percentile(hist: Uint32Array, total: number, fraction: number): number {
  let seen = 0;
  for (let v = 0; v < 256; v++) {
    seen += hist[v] ?? 0;
    if (seen >= total * fraction) return v;
  }
  return 255;
}

/**
 * A line's box (PreparedPage.image pixels) in ocrImage pixels, padded by `padFrac` of its height
 * above and below and `sideFrac` left and right; null when too small to read.
 */
function lineRegion(page: PreparedPage, bbox: BBox, padFrac: number, sideFrac = padFrac): sharp.Region | null {
  const s = page.ocrScale;
  const { x: dx, y: dy } = page.ocrOffset;
  const W = page.ocrWidth, H = page.ocrHeight;
  // Tesseract's line boxes hug the glyphs: a margin around them.
  const pad = Math.max(4, Math.round((bbox.y1 - bbox.y0) * s * padFrac));
  const side = Math.max(4, Math.round((bbox.y1 - bbox.y0) * s * sideFrac));
  const left = Math.max(0, Math.floor((bbox.x0 - dx) * s) - side);
  const top = Math.max(0, Math.floor((bbox.y0 - dy) * s) - pad);
  const width = Math.min(W, Math.ceil((bbox.x1 - dx) * s) + side) - left;
  const height = Math.min(H, Math.ceil((bbox.y1 - dy) * s) + pad) - top;
  return width < 8 || height < 8 ? null : { left, top, width, height };
}

const LANGUAGES = ['chi_sim', 'eng'] as const;

/**
 * What the WebAssembly build of tesseract prints on every recogniser start: chi_sim's model asks
 * for the sub-language chi_sim_vert (vertical text), which we do not ship, and the build prints its
 * name garbled, with a hint about TESSDATA_PREFIX that never applies here (tesseract.js reads the
 * models from its own in-memory file system, and a missing model is reported by resolveLangPath
 * before any recogniser starts). Three lines per recogniser on every `archive ingest` that read,
 * in a terminal, like a failure. A failure to load a language we read with is kept.
 */
export function isRecogniserStartNoise(line: string): boolean {
  if (line === 'Please make sure the TESSDATA_PREFIX environment variable is set to your "tessdata" directory.') return true;
  const name = /^Error opening data file \.\/(.+)\.traineddata$/.exec(line)?.[1] ?? /^Failed loading language '(.+)'$/.exec(line)?.[1];
  return name !== undefined && !(LANGUAGES as readonly string[]).includes(name);
}

/** A chunk of output without those lines (line ends kept on the rest). */
export function withoutRecogniserStartNoise(text: string): string {
  return text.split(/(?<=\n)/).filter((l) => !isRecogniserStartNoise(l.replace(/\r?\n$/, ''))).join('');
}

let startNoiseFiltered = false;
/**
 * The recognisers are tesseract.js's worker threads, whose standard error Node pipes into this
 * process's: their start lines can only be taken out here, on the way to the terminal.
 */
function filterRecogniserStartNoise(): void {
  if (startNoiseFiltered) return;
  startNoiseFiltered = true;
  const stderr = process.stderr;
  const write = stderr.write.bind(stderr) as (chunk: unknown, ...rest: unknown[]) => boolean;
  stderr.write = ((chunk: unknown, ...rest: unknown[]) => {
    if (typeof chunk !== 'string' && !Buffer.isBuffer(chunk)) return write(chunk, ...rest);
    const text = chunk.toString();
    const kept = withoutRecogniserStartNoise(text);
    if (kept === text) return write(chunk, ...rest);
    if (kept.length > 0) return write(kept, ...rest.filter((a) => typeof a === 'function'));
    const done = rest.find((a): a is () => void => typeof a === 'function');
    if (done) process.nextTick(done);
    return true;
  }) as typeof stderr.write;
}

/**
 * tesseract.js writes each model to the recogniser's in-memory file system and keeps it there after
 * tesseract has read it in: 7.7 MB per worker (chi_sim 2.5, eng 5.2) held for nothing, ~12 MB off
 * the peak of bench:ocr's process (docs/benchmarks.md bench:ocr (18)). Nothing reads them again:
 * a recycled worker is a new one, which loads them afresh.
 */
export async function dropModelFiles(w: Tesseract.Worker, languages: readonly string[]): Promise<void> {
  for (const lang of languages) await w.FS('unlink', [`/${lang}.traineddata`]).catch(() => undefined);
}

interface Slot {
  worker: Promise<Tesseract.Worker>;
  pages: number;
  busy: boolean;
}

/** Tesseract parameters for one recognition only: set and restored inside that message. */
type RecognitionParams = { tessedit_pageseg_mode?: string; user_defined_dpi?: string };

/**
 * One recognition with its parameters in the same message (tesseract.js sets them for this image
 * and restores them after), so nothing a caller changes outlives its own image: one message to the
 * recogniser's thread instead of two or three, and no state left behind (an orientation strip was
 * read at whatever resolution the recogniser's previous page had set). The image goes as an
 * ArrayBuffer: given a Buffer, tesseract.js copies it into a new array before posting it.
 */
function recognizeWith(w: Tesseract.Worker, image: Buffer, params: RecognitionParams, output: Partial<Tesseract.OutputFormats>): Promise<Tesseract.RecognizeResult> {
  const whole = image.byteOffset === 0 && image.byteLength === image.buffer.byteLength ? image.buffer : image.buffer.slice(image.byteOffset, image.byteOffset + image.byteLength);
  return w.recognize(whole as unknown as Buffer, params as Partial<Tesseract.RecognizeOptions>, output);
}

export function createOcrEngine(opts: OcrEngineOptions = {}): OcrEngine {
  // libvips keeps the results of recent operations (up to 50 MB) in case the same image is asked
  // for again; a page pipeline never asks twice (each page's buffers are new), so the cache only
  // holds memory next to the recognition workers (bench:ocr's RSS).
  sharp.cache(false);
  // One libvips thread per image operation: pages already run in parallel, one per recognition
  // worker, so more threads per operation only compete for the same cores, and each thread keeps
  // a malloc arena of its own (bench:ocr peak RSS 613 → 558 MB with MALLOC_ARENA_MAX=2, same time).
  sharp.concurrency(1);
  const size = Math.max(1, opts.workers ?? Math.min(4, os.availableParallelism()));
  const recycleAfter = Math.max(1, opts.recycleAfterPages ?? 200);
  const psm = String(opts.psm ?? DEFAULT_PSM);
  const lang = resolveLangPath({ ...(opts.tessdataDir ? { tessdataDir: opts.tessdataDir } : {}), variant: opts.variant ?? '4.0.0_best_int' });
  let workersStarted = 0;
  let pages = 0;
  let closed = false;

  const start = async (): Promise<Tesseract.Worker> => {
    workersStarted++;
    // Each start prints three lines about the sub-language chi_sim_vert (`tessedit_load_sublangs`
    // in chi_sim's model), which we do not ship; harmless, chi_sim and eng are loaded. Turning the
    // sub-language off changed the text read in noisy regions, so its lines are filtered instead.
    filterRecogniserStartNoise();
    const w = await Tesseract.createWorker([...LANGUAGES], Tesseract.OEM.LSTM_ONLY, {
      langPath: lang.langPath,
      gzip: lang.gzip,
      cacheMethod: 'none',
      legacyCore: false,
      legacyLang: false,
    });
    await w.setParameters({
      tessedit_pageseg_mode: psm as Tesseract.PSM,
      preserve_interword_spaces: opts.preserveInterwordSpaces === false ? '0' : '1',
      user_defined_dpi: '300',
      // Tesseract reads every word it is unsure of a second time as white on black, for inverted
      // print (table headers in reverse). Social-insurance forms rarely have any, and a scan's
      // unsure words are noise or blur, where the second reading changed 2 of 48 held-out pages by
      // one wrong character for another: 7 % of recognition CPU for nothing (bench:ocr's 48 pages
      // read by two engines in turn, with and without).
      tessedit_do_invert: '0',
    });
    await dropModelFiles(w, LANGUAGES);
    return w;
  };

  const slots: Slot[] = [];
  const waiting: Array<(s: Slot) => void> = [];

  const acquire = (): Promise<Slot> => {
    const free = slots.find((s) => !s.busy);
    if (free) { free.busy = true; return Promise.resolve(free); }
    if (slots.length < size) {
      const s: Slot = { worker: start(), pages: 0, busy: true };
      slots.push(s);
      return Promise.resolve(s);
    }
    return new Promise((resolve) => waiting.push(resolve));
  };

  const release = (s: Slot, broken: boolean) => {
    if (broken || s.pages >= recycleAfter) {
      const old = s.worker;
      void old.then((w) => w.terminate()).catch(() => undefined);
      s.worker = start();
      s.pages = 0;
    }
    const next = waiting.shift();
    if (next) next(s);
    else s.busy = false;
  };

  // Orientation strips are small and do not count towards recycling; full pages do.
  const run = async <T>(fn: (w: Tesseract.Worker) => Promise<T>, page = true): Promise<T> => {
    if (closed) throw new Error('OCR engine is closed');
    const slot = await acquire();
    let broken = false;
    try {
      const w = await slot.worker;
      return await fn(w);
    } catch (e) {
      broken = true;
      throw e;
    } finally {
      if (page) slot.pages++;
      release(slot, broken);
    }
  };

  return {
    async recognizePage(page) {
      const t0 = Date.now();
      if (page.blank) return { text: '', confidence: 0, lines: [], skipped: 'blank', ms: 0 };
      // Tesseract sizes its noise and line filters by the resolution it is told: each page says its
      // own (a caller may read scans at their own resolution, PrepareOptions.ocrDpiRange).
      const dpi = String(Math.round(page.dpi * page.ocrScale));
      const image = pgm({ data: page.ocrImage, info: { width: page.ocrWidth, height: page.ocrHeight } });
      const res = await run((w) => recognizeWith(w, image, { user_defined_dpi: dpi }, { text: true, blocks: true }));
      pages++;
      const k = 1 / page.ocrScale;
      const { x: dx, y: dy } = page.ocrOffset;
      const box = (b: Tesseract.Bbox): BBox => ({ x0: Math.round(b.x0 * k + dx), y0: Math.round(b.y0 * k + dy), x1: Math.round(b.x1 * k + dx), y1: Math.round(b.y1 * k + dy) });
      const lines: OcrLine[] = [];
      let confSum = 0, confN = 0;
      for (const block of res.data.blocks ?? []) {
        for (const para of block.paragraphs) {
          for (const line of para.lines) {
            const text = normalizeOcrText(line.text);
            if (!text) continue;
            const words = line.words.map((wd) => ({ text: wd.text, bbox: box(wd.bbox), confidence: wd.confidence }));
            for (const wd of words) { confSum += wd.confidence; confN++; }
            lines.push({ text, bbox: box(line.bbox), confidence: line.confidence, words });
          }
        }
      }
      return {
        text: normalizeOcrText(lines.map((l) => l.text).join('\n')),
        confidence: confN ? Math.round((confSum / confN) * 10) / 10 : 0,
        lines,
        ms: Date.now() - t0,
      };
    },
    async rereadLine(page, bbox, settled) {
      if (page.blank) return [];
      const s = page.ocrScale;
      const W = page.ocrWidth, H = page.ocrHeight;
      const region = lineRegion(page, bbox, 0.2);
      if (!region) return [];
      const { width, height } = region;
      const crop = await sharp(page.ocrImage, { raw: { width: W, height: H, channels: 1 } }).extract(region).extractChannel(0).raw().toBuffer();
      const hist = histogram(crop);
      // A text line is mostly paper: the median is the paper, the darkest 2% the ink.
      const paper = percentile(hist, crop.length, 0.5);
      const ink = percentile(hist, crop.length, 0.02);
      if (paper - ink < MIN_LINE_CONTRAST) return [];
      const dpi = Math.round(page.dpi * s);
      // Each way's image is made just before it is read: most lines settle before the last way.
      const image = ({ scale, depth }: (typeof REREAD_WAYS)[number]) =>
        sharp(crop, { raw: { width, height, channels: 1 } })
          .resize(Math.round(width * scale), Math.round(height * scale), { kernel: 'lanczos3' })
          .threshold(Math.round(paper - depth * (paper - ink)))
          .extend({ top: 20, bottom: 20, left: 20, right: 20, background: '#ffffff' })
          .extractChannel(0).raw().toBuffer({ resolveWithObject: true })
          .then(pgm);
      return run(async (w) => {
        const out: LineReading[] = [];
        for (const [i, way] of REREAD_WAYS.entries()) {
          const img = await image(way);
          const res = await recognizeWith(w, img, { tessedit_pageseg_mode: '7', user_defined_dpi: String(Math.round(dpi * way.scale)) }, { text: true });
          out.push({ text: normalizeOcrText(res.data.text), confidence: res.data.confidence });
          if (settled?.(out, REREAD_WAYS.length - i - 1)) break;
        }
        return out;
      }, false);
    },
    async readLineScaled(page, bbox, scale) {
      if (page.blank) return null;
      // A line height more on either side: the box may leave out a glyph at the line's end (生 of
      // 生育津贴申领审核表 in large type, in the page and in a crop of the box alike).
      const region = lineRegion(page, bbox, 0.15, 1);
      if (!region) return null;
      const W = page.ocrWidth, H = page.ocrHeight;
      // Grey, as the page itself is read: only the size changes.
      const img = await sharp(page.ocrImage, { raw: { width: W, height: H, channels: 1 } }).extract(region)
        .resize(Math.max(1, Math.round(region.width * scale)), Math.max(1, Math.round(region.height * scale)), { kernel: 'lanczos3' })
        .extend({ top: 20, bottom: 20, left: 20, right: 20, background: '#ffffff' })
        .extractChannel(0).raw().toBuffer({ resolveWithObject: true });
      const dpi = String(Math.round(page.dpi * page.ocrScale * scale));
      const res = await run((w) => recognizeWith(w, pgm(img), { tessedit_pageseg_mode: '7', user_defined_dpi: dpi }, { text: true }), false);
      return { text: normalizeOcrText(res.data.text), confidence: res.data.confidence };
    },
    async scoreOrientation(image) {
      // The band is one uniform block of a few lines: psm 6 skips page layout analysis, which is
      // most of the cost of recognising a small strip.
      const res = await run((w) => recognizeWith(w, image, { tessedit_pageseg_mode: '6' }, { text: true }), false);
      const text = res.data.text.replace(/\s/g, '');
      // Upside-down CJK still yields a few "characters"; a strip that reads as almost nothing scores 0.
      return text.length < 2 ? 0 : res.data.confidence;
    },
    warm() {
      if (closed) return;
      while (slots.length < size) {
        const worker = start();
        // A failed start is reported to the page that waits for this worker, not as an unhandled rejection now.
        worker.catch(() => undefined);
        slots.push({ worker, pages: 0, busy: false });
      }
    },
    stats: () => ({ pages, workersStarted }),
    async close() {
      closed = true;
      await Promise.all(slots.map((s) => s.worker.then((w) => w.terminate()).catch(() => undefined)));
    },
  };
}
