import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Which trained models recognition uses. The @tesseract.js-data packages ship two variants:
 * '4.0.0' (LSTM + legacy, ~20 MB chi_sim) and '4.0.0_best_int' (LSTM only, integer "best", ~1.7 MB);
 * the choice and its measurements are in engine.ts and docs/benchmarks.md.
 */
export type ModelVariant = '4.0.0' | '4.0.0_best_int';

export interface TessdataSource {
  /** A folder holding <lang>.traineddata or <lang>.traineddata.gz (e.g. /usr/share/tesseract-ocr/5/tessdata). */
  tessdataDir?: string;
  variant?: ModelVariant;
}

const LANGS = ['chi_sim', 'eng'] as const;

/**
 * tesseract.js takes one langPath for all languages, while npm installs each language in its own
 * package. A private temp folder of symlinks joins them; nothing is written into node_modules and,
 * with cacheMethod 'none', nothing is cached or downloaded.
 */
export function resolveLangPath(src: TessdataSource): { langPath: string; gzip: boolean; cleanup: () => void } {
  if (src.tessdataDir) {
    const gz = LANGS.every((l) => fs.existsSync(path.join(src.tessdataDir as string, `${l}.traineddata.gz`)));
    const plain = LANGS.every((l) => fs.existsSync(path.join(src.tessdataDir as string, `${l}.traineddata`)));
    if (!gz && !plain) throw new Error(`tessdata folder ${src.tessdataDir} lacks ${LANGS.join('/')}.traineddata`);
    return { langPath: src.tessdataDir, gzip: !plain, cleanup: () => undefined };
  }
  const variant = src.variant ?? '4.0.0_best_int';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ocr-tessdata-'));
  for (const lang of LANGS) {
    const pkg = path.dirname(require.resolve(`@tesseract.js-data/${lang}/package.json`));
    const file = path.join(pkg, variant, `${lang}.traineddata.gz`);
    if (!fs.existsSync(file)) throw new Error(`@tesseract.js-data/${lang} has no ${variant} model`);
    fs.symlinkSync(file, path.join(dir, `${lang}.traineddata.gz`));
  }
  return { langPath: dir, gzip: true, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
