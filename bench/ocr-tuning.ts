/**
 * bench:ocr-tuning — the tuning-side evidence for the capture rules that depend on how a page
 * looks (issue #12): type size, titles larger than the body, aged paper. Every page here is ours
 * (renderText with the two tuning faces); the held-out set is not read. A rule is chosen on these
 * figures, and the held-out set (`npm run bench:ocr`) is run once afterwards.
 *
 *   npm run bench:ocr-tuning
 *
 * Sets (one recognition worker, pages read as capture reads them: recognizeOriented):
 * - sizes: 2 documents × 2 faces × 9, 11, 13, 16 pt × clean / noise / blur+JPEG / 3° skew (64 pages);
 * - titles: 8 titles × 2 faces × body 11 and 13 pt, title 1.6 times the body (32 pages): the
 *   titles' CER and the body's;
 * - aged: 2 documents × 2 faces × 11 and 13 pt × paper/ink 215/70, 190/90, 170/100 with
 *   mottling, grain and JPEG (24 pages);
 * - fixtures: test/helpers/fixtures pages, every condition (44 pages);
 * - orientation: 128 A4 sheets (renderSheet: short, table, full, plain) × 0/90/180/270: the first guess,
 *   and for the wrong guesses the rotation capture files them at (`TUNING_SETS=orientation` runs
 *   only this set).
 * Last line: RESULT orientation_first_right=… upright_turned=… orientation_filed_right=…
 * orientation_rereads=… sizes_cer=… titles_cer=… title_body_cer=… aged_cer=… fixtures_cer=… cpu_s=…
 */
import sharp from 'sharp';
import { createOcrEngine, iteratePages, normalizeOcrText, preparePage, type OcrEngine, type OcrPageResult } from '../ocr';
import { recognizeOriented } from '../src/services/capture/capture';
import { DEGRADED, DOCUMENTS, FONTS, cer, makePage, renderSheet, renderText, type Condition, type DocKey, type FontKey, type SheetLayout } from '../test/helpers/fixtures/ocr-fixtures';
import { rng as prng } from '../test/helpers/si-corpus';

const flat = (s: string): string => normalizeOcrText(s).replace(/\s/g, '');
const mean = (x: number[]): number => x.reduce((a, b) => a + b, 0) / Math.max(1, x.length);
const pct = (x: number): string => (x * 100).toFixed(2);

async function read(engine: OcrEngine, image: Buffer): Promise<OcrPageResult | null> {
  for await (const page of iteratePages(image)) return (await recognizeOriented(engine, page, await preparePage(page, { verifyByRecognition: true }))).ocr;
  return null;
}

async function grey(png: Buffer): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(png).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

async function degrade(png: Buffer, how: 'clean' | 'noise' | 'blur' | 'skew'): Promise<Buffer> {
  if (how === 'clean') return sharp(png).withMetadata({ density: 300 }).toBuffer();
  if (how === 'skew') return sharp(png).rotate(3, { background: '#ffffff' }).png().withMetadata({ density: 300 }).toBuffer();
  if (how === 'blur') return sharp(png).blur(1.1).jpeg({ quality: 45 }).withMetadata({ density: 300 }).toBuffer();
  const g = await grey(png);
  const r = prng(7);
  for (let i = 0; i < g.data.length; i++) {
    let v = g.data[i]! + (r() + r() + r() - 1.5) * 40;
    const s = r();
    if (s < 0.004) v = 0; else if (s < 0.008) v = 255;
    g.data[i] = Math.max(0, Math.min(255, Math.round(v)));
  }
  return sharp(g.data, { raw: { width: g.width, height: g.height, channels: 1 } }).png().withMetadata({ density: 300 }).toBuffer();
}

/** Grey, uneven paper at `paper` and faded ink at `ink`, grain, JPEG. */
async function aged(png: Buffer, paper: number, ink: number, seed: number): Promise<Buffer> {
  const g = await grey(png);
  const r = prng(seed);
  for (let i = 0; i < g.data.length; i++) {
    const x = i % g.width, y = Math.floor(i / g.width);
    const v = ink + (g.data[i]! / 255) * (paper - ink) + 8 * Math.sin(x / 90 + seed) * Math.cos(y / 130) + (r() + r() + r() - 1.5) * 18;
    g.data[i] = Math.max(0, Math.min(255, Math.round(v)));
  }
  return sharp(g.data, { raw: { width: g.width, height: g.height, channels: 1 } }).jpeg({ quality: 75 }).withMetadata({ density: 300 }).toBuffer();
}

const TITLES = ['社会保险费补缴申请表', '社会保险稽核通知书', '参保人员登记表', '失业保险金申领表', '工伤认定申请表', '职工基本养老金核定表', '社会保险参保人员基本信息登记表', '生育津贴申领审核表'];
const BODY = ['姓名：张伟　性别：男　民族：汉族', '公民身份号码：110101199003071234', '单位名称：北京市朝阳区人力资源和社会保障局', '参保日期：2024年3月15日　险种：养老保险'];

/**
 * The first orientation guess (preparePage before any recognition), against the turn that makes
 * each sheet upright: every wrong guess costs capture a second full recognition, and an upright
 * sheet guessed wrong costs it on the most common kind of page.
 */
async function orientationGuesses(engine: OcrEngine): Promise<{ right: number; total: number; uprightWrong: number; finalRight: number; rereads: number }> {
  let right = 0, total = 0, uprightWrong = 0, finalRight = 0, rereads = 0;
  const misses: string[] = [];
  const faces = Object.keys(FONTS) as FontKey[];
  for (const layout of ['short', 'table', 'full', 'plain'] as SheetLayout[]) for (const face of faces) for (const [ti, title] of TITLES.slice(0, 2).entries()) {
    const sheet = await renderSheet(layout, face, title, ti ? BODY : DOCUMENTS.contribution.slice(1));
    for (const paper of ['clean', 'aged'] as const) {
      const base = paper === 'clean' ? sheet : await aged(sheet, 190, 90, 11);
      for (const turn of [0, 90, 180, 270] as const) {
        const img = turn ? await sharp(base).rotate(turn).withMetadata({ density: 300 }).toBuffer() : base;
        for await (const page of iteratePages(img)) {
          const prepared = await preparePage(page, { verifyByRecognition: true });
          const guess = prepared.rotation;
          const want = (360 - turn) % 360;
          total++;
          if (guess === want) { right++; finalRight++; continue; }
          if (turn === 0) uprightWrong++;
          // Only the wrong guesses are recognised: what capture makes of them (a right guess is
          // read once and kept, which the sizes and aged sets already measure).
          const r = await recognizeOriented(engine, page, prepared);
          rereads += r.tries - 1;
          if (r.prepared.rotation === want) finalRight++;
          misses.push(`${layout}/${face}/${ti}/${paper}/turned ${turn}: guessed ${guess}, filed ${r.prepared.rotation} after ${r.tries} reads`);
        }
      }
    }
  }
  console.log(`orientation (${total} A4 sheets): first guess ${right} right, filed ${finalRight} right, ${rereads} more full reads${misses.length ? `; wrong first: ${misses.join(', ')}` : ''}`);
  return { right, total, uprightWrong, finalRight, rereads };
}

async function main(): Promise<void> {
  const engine = createOcrEngine({ workers: 1 });
  const orientation = await orientationGuesses(engine);
  const orientationLine = `orientation_first_right=${orientation.right}/${orientation.total} upright_turned=${orientation.uprightWrong} orientation_filed_right=${orientation.finalRight}/${orientation.total} orientation_rereads=${orientation.rereads}`;
  if (process.env.TUNING_SETS === 'orientation') {
    console.log(`RESULT ${orientationLine}`);
    await engine.close();
    return;
  }
  const docs = Object.keys(DOCUMENTS) as DocKey[];
  const faces = Object.keys(FONTS) as FontKey[];
  const cpu0 = process.cpuUsage();
  try {
    const sizes = new Map<string, number[]>();
    for (const pt of [9, 11, 13, 16]) for (const face of faces) for (const doc of docs) for (const how of ['clean', 'noise', 'blur', 'skew'] as const) {
      const text = (await read(engine, await degrade(await renderText(DOCUMENTS[doc], face, 300, pt), how)))?.text ?? '';
      const e = cer(flat(DOCUMENTS[doc].join('')), flat(text));
      for (const k of [`${pt}pt`, how, 'all']) sizes.set(k, [...(sizes.get(k) ?? []), e]);
    }
    console.log(`sizes (64 pages): ${[...sizes].map(([k, v]) => `${k} ${pct(mean(v))} %`).join(', ')}`);

    const titleCer: number[] = [], bodyCer: number[] = [];
    for (const title of TITLES) for (const face of faces) for (const pt of [11, 13]) {
      const res = await read(engine, await sharp(await renderText([title, ...BODY], face, 300, pt, 1.6)).withMetadata({ density: 300 }).toBuffer());
      const lines = res?.lines ?? [];
      titleCer.push(cer(title, flat(lines[0]?.text ?? '')));
      bodyCer.push(cer(flat(BODY.join('')), flat(lines.slice(1).map((l) => l.text).join(''))));
    }
    console.log(`titles (32 pages): titles ${pct(mean(titleCer))} %, body ${pct(mean(bodyCer))} %`);

    const agedCer: number[] = [];
    let seed = 1;
    for (const [paper, ink] of [[215, 70], [190, 90], [170, 100]] as const) for (const doc of docs) for (const face of faces) for (const pt of [11, 13]) {
      const text = (await read(engine, await aged(await renderText(DOCUMENTS[doc], face, 300, pt), paper, ink, seed++)))?.text ?? '';
      agedCer.push(cer(flat(DOCUMENTS[doc].join('')), flat(text)));
    }
    console.log(`aged paper (24 pages): ${pct(mean(agedCer))} %`);

    const fixtures: number[] = [];
    const conditions: Condition[] = ['clean', ...DEGRADED, 'lowdpi', 'border'];
    for (const doc of docs) for (const face of faces) for (const c of conditions) for (const s of c === 'noise' ? [1, 2] : [1]) {
      const f = await makePage(doc, face, c, s);
      fixtures.push(cer(flat(f.expected), flat((await read(engine, f.png))?.text ?? '')));
    }
    console.log(`fixtures (${fixtures.length} pages): ${pct(mean(fixtures))} %, worst ${pct(Math.max(...fixtures))} %`);

    const cpu = process.cpuUsage(cpu0);
    console.log(`RESULT ${orientationLine} sizes_cer=${mean(sizes.get('all')!).toFixed(4)} titles_cer=${mean(titleCer).toFixed(4)} title_body_cer=${mean(bodyCer).toFixed(4)} aged_cer=${mean(agedCer).toFixed(4)} fixtures_cer=${mean(fixtures).toFixed(4)} cpu_s=${((cpu.user + cpu.system) / 1e6).toFixed(1)}`);
  } finally {
    await engine.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
