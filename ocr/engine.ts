import os from 'node:os';
import Tesseract from 'tesseract.js';
import type { OrientationScorer, PreparedPage } from './prepare';
import { resolveLangPath, type ModelVariant } from './tessdata';
import { normalizeOcrText } from './text';
import type { BBox } from './types';

export interface OcrWord { text: string; bbox: BBox; confidence: number }
export interface OcrLine { text: string; bbox: BBox; confidence: number; words: OcrWord[] }
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

interface Slot {
  worker: Promise<Tesseract.Worker>;
  pages: number;
  busy: boolean;
}

export function createOcrEngine(opts: OcrEngineOptions = {}): OcrEngine {
  const size = Math.max(1, opts.workers ?? Math.min(4, os.availableParallelism()));
  const recycleAfter = Math.max(1, opts.recycleAfterPages ?? 200);
  const psm = String(opts.psm ?? DEFAULT_PSM);
  const lang = resolveLangPath({ ...(opts.tessdataDir ? { tessdataDir: opts.tessdataDir } : {}), variant: opts.variant ?? '4.0.0_best_int' });
  let workersStarted = 0;
  let pages = 0;
  let closed = false;

  const start = async (): Promise<Tesseract.Worker> => {
    workersStarted++;
    const w = await Tesseract.createWorker(['chi_sim', 'eng'], Tesseract.OEM.LSTM_ONLY, {
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
    });
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
      const res = await run((w) => w.recognize(page.ocrImage, {}, { text: true, blocks: true }));
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
    async scoreOrientation(png) {
      // The band is one uniform block of a few lines: psm 6 skips page layout analysis, which is
      // most of the cost of recognising a small strip.
      const res = await run(async (w) => {
        await w.setParameters({ tessedit_pageseg_mode: '6' as Tesseract.PSM });
        try {
          return await w.recognize(png, {}, { text: true });
        } finally {
          await w.setParameters({ tessedit_pageseg_mode: psm as Tesseract.PSM });
        }
      }, false);
      const text = res.data.text.replace(/\s/g, '');
      // Upside-down CJK still yields a few "characters"; a strip that reads as almost nothing scores 0.
      return text.length < 2 ? 0 : res.data.confidence;
    },
    stats: () => ({ pages, workersStarted }),
    async close() {
      closed = true;
      await Promise.all(slots.map((s) => s.worker.then((w) => w.terminate()).catch(() => undefined)));
    },
  };
}
