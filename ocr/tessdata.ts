import { createHash } from 'node:crypto';
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
 * package. A folder of symlinks under the OS temp dir joins them; nothing is written into
 * node_modules and, with cacheMethod 'none', nothing is cached or downloaded. The folder is named
 * by its targets, so every process reuses it and none leaves a new one behind.
 */
export function resolveLangPath(src: TessdataSource): { langPath: string; gzip: boolean } {
  if (src.tessdataDir) {
    const gz = LANGS.every((l) => fs.existsSync(path.join(src.tessdataDir as string, `${l}.traineddata.gz`)));
    const plain = LANGS.every((l) => fs.existsSync(path.join(src.tessdataDir as string, `${l}.traineddata`)));
    if (!gz && !plain) throw new Error(`tessdata folder ${src.tessdataDir} lacks ${LANGS.join('/')}.traineddata`);
    return { langPath: src.tessdataDir, gzip: !plain };
  }
  const variant = src.variant ?? '4.0.0_best_int';
  const targets = LANGS.map((lang) => {
    const pkg = path.dirname(require.resolve(`@tesseract.js-data/${lang}/package.json`));
    const file = path.join(pkg, variant, `${lang}.traineddata.gz`);
    if (!fs.existsSync(file)) throw new Error(`@tesseract.js-data/${lang} has no ${variant} model`);
    return { lang, file };
  });
  const id = createHash('sha256').update(targets.map((t) => t.file).join('\n')).digest('hex').slice(0, 12);
  const dir = path.join(os.tmpdir(), `ocr-tessdata-${variant}-${id}`);
  fs.mkdirSync(dir, { recursive: true });
  for (const { lang, file } of targets) {
    const link = path.join(dir, `${lang}.traineddata.gz`);
    const current = fs.existsSync(link) ? fs.readlinkSync(link) : undefined;
    if (current === file) continue;
    // Another process may be creating the same link right now: write ours aside, then rename over.
    const tmp = `${link}.${process.pid}.${Date.now()}`;
    fs.symlinkSync(file, tmp);
    fs.renameSync(tmp, link);
  }
  return { langPath: dir, gzip: true };
}
