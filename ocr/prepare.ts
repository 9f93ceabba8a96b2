import sharp from 'sharp';
import { bandingDirection, darkBorders, estimateSkew, headingEnd, inkPoints, lineAlignment, lineContinuity, median3, otsu, speckleRatio, stretchContrast, textLineHeight, turn90, type Ink, type SkewEstimate } from './analysis';
import { pgm } from './pgm';
import type { ColorMode, PageImage, Rotation } from './types';

/** Something that can say how readable a small grey image (a PGM strip) is (mean OCR confidence 0..100). */
export interface OrientationScorer {
  scoreOrientation(image: Buffer): Promise<number>;
}

export interface PrepareOptions {
  /** Resolves 0° against 180° (and 90° against 270°) by OCR confidence; without it only the line direction is fixed. */
  orientation?: OrientationScorer;
  /**
   * Only the line direction is fixed here, and the strips' source is kept: the caller verifies the
   * orientation by recognising the page (recognizeOriented), and reads strips (scoreOrientations)
   * only when that reading is poor. Most pages are scanned upright and read well at once, so this
   * saves one to four strip recognitions per page (docs/benchmarks.md, bench:ocr).
   */
  verifyByRecognition?: boolean;
  /** DA/T 31-2017 §6: at least 200 dpi. */
  minDpi?: number;
  /** Long side of the image handed to tesseract (default 4000 px): bounds worker memory. */
  maxOcrLongSide?: number;
  /**
   * Resolution the recognition image is brought to when the scan lies outside `ocrDpiRange`
   * (default 300): low-resolution scans are enlarged, high-resolution ones reduced.
   */
  ocrDpi?: number;
  /**
   * Scans within this range are read at their own resolution (default [200, 300]); others are
   * brought to ocrDpi. Enlarging a 200-250 dpi scan costs a full-page resampling (~0.1 s of CPU for
   * an A4 page) and more pixels to recognise, for nothing on our tuning pages (CER 2.47 % read as
   * scanned against 2.51 % enlarged, every ID read). The held-out forms first showed three ID
   * numbers lost to one-digit misreads; ID lines whose check character fails are now read again
   * (filing takes the number two readings agree on), and with that both sets read every ID either
   * way (docs/benchmarks.md, 2026-12-02 bench:ocr).
   */
  ocrDpiRange?: [number, number];
  /**
   * Height of a line of text (page pixels, as textLineHeight measures it) that larger type is
   * reduced to for recognition (default TEXT_PX_TARGET).
   */
  textPxTarget?: number;
  jpegQuality?: number;
  /**
   * Forces the clockwise turn that makes the text upright (0/90/180/270), skipping the estimate: the
   * caller tries another orientation after recognition read the page badly (issue #12 §1).
   */
  rotation?: Rotation;
}

export interface PreparedPage {
  n: number;
  /** Straightened, cropped page for viewing and for the searchable PDF: PNG for bilevel, JPEG otherwise. */
  image: Buffer;
  imageFormat: 'png' | 'jpeg';
  /**
   * What tesseract reads: raw 8-bit grey pixels (seals suppressed, speckle removed, resolution
   * normalised), `ocrWidth` × `ocrHeight`. Kept raw, not encoded: the engine hands it over as a
   * PGM, which costs neither an encode here nor a decode inside the recogniser.
   */
  ocrImage: Buffer;
  ocrWidth: number;
  ocrHeight: number;
  /** ocrImage pixels per image pixel. */
  ocrScale: number;
  /** Where ocrImage's top-left corner lies in image pixels (it holds only the text block). */
  ocrOffset: { x: number; y: number };
  width: number;
  height: number;
  /** Resolution of `image` (geometry: the searchable PDF's page size). */
  dpi: number;
  /** The resolution the page was scanned at, as far as the file tells (null: it does not say). */
  scanDpi: number | null;
  dpiAssumed: boolean;
  lowDpi: boolean;
  colorMode: ColorMode;
  /** Clockwise rotation applied to make the text upright. */
  rotation: Rotation;
  /** Residual skew that was removed, degrees clockwise. */
  skewDeg: number;
  /** Whether 0/180 was decided by OCR confidence (false: only line direction was checked). */
  orientationChecked: boolean;
  /**
   * The orientation strips' confidences so far, by candidate rotation (empty when none were read),
   * and what scoreOrientations needs to read more of them without preparing the page again.
   */
  orientationProbe: OrientationProbe;
  cropped: { left: number; top: number; right: number; bottom: number } | null;
  blank: boolean;
  sealRemoved: boolean;
  despeckled: boolean;
}

/** The ~150 dpi grey copy the orientation strips are cut from, with the skew of each line direction. */
export interface OrientationProbe {
  scores: Partial<Record<Rotation, number>>;
  /**
   * Made on first use (most pages never read a strip: recognition confirms them): null when the
   * page has no strips to read (blank, or the caller asked for no orientation check).
   */
  readable: (() => Promise<{ grey: Buffer; width: number; height: number }>) | null;
  hDeg: number;
  vDeg: number;
  /**
   * How clearly the ink runs in one direction (line-direction score against the other, ≥ 1). Above
   * LINE_DIRECTION_SURE only 0° and 180° of that direction are plausible.
   */
  directionRatio: number;
}

const ANALYSIS_LONG_SIDE = 1000;
/**
 * chi_sim reads large type worse than body type: on our tuning pages in 9-16 pt at 300 dpi
 * (`npm run bench:ocr-tuning`, "sizes"), 16 pt type read at 4.1 % CER as scanned and
 * 2.2 % reduced so that its lines are 40 px high, which is 11 pt at 300 dpi, the size the
 * tuning pages had always used and read best at; 13 pt went 2.3 → 2.1 %, 9-11 pt were not touched.
 * Reducing 11 pt type further (36 px, or everything to 200 dpi) lost the dots of full-width
 * colons on our serif face. Measured by line height rather than assumed from the resolution: a
 * 300 dpi scan may carry 9 pt or 20 pt type.
 */
export const TEXT_PX_TARGET = 40;
/**
 * Type within this factor of the target is read as scanned: the estimate is good to about a pixel
 * of the ~12 px analysis line (±9 %), and a resampling for a few per cent only blurs.
 */
const TEXT_PX_SLACK = 1.1;
/** Line height (as textLineHeight measures it) the orientation strips are read at: 11 pt at 150 dpi. */
const STRIP_TEXT_PX = 20;
const MIN_SKEW = 0.3;
/** Mean confidence at which an orientation candidate is accepted without trying the others. */
const ORIENTATION_ACCEPT = 65;
/** Dark-pixel share on the analysis copy under which a page is blank (scanner dust stays below it). */
const BLANK_INK = 0.002;
/**
 * Flush-right text means upside down (see preparePage): at least this many lines, this share of
 * them ending at the block's right edge and at most RAGGED_SHARE starting at its left. On our tuning
 * pages upright text measures 1.0 flush left and 0.17-0.67 flush right; bordered tables find one
 * line and say nothing.
 */
const FLUSH_MIN_LINES = 3;
const FLUSH_SHARE = 0.6;
const RAGGED_SHARE = 0.35;
/** Blank space above the text this many times the blank space below it: the text sits low on the sheet. */
const LOW_TEXT = 2;
/** The same with no heading to confirm it: only a sheet mostly blank above its text is turned on this alone. */
const BARE_LOW_TEXT = 4;
/** A line-direction ratio above this leaves only the two opposite orientations of that direction. */
export const LINE_DIRECTION_SURE = 1.15;

/** Lines this much more continuous along one axis than along the other settle the line direction. */
const CONTINUITY_SURE = 0.25;

/**
 * Which way the lines run (0: along the rows, 90: along the columns) and how sure that is (the
 * larger score over the smaller, compared with LINE_DIRECTION_SURE). The profile scores decide on
 * pages full of text; on a short form in square Chinese type they can favour the columns, whose
 * characters line up as neatly as the lines do, and a page read that way comes out sideways
 * (tesseract reads vertical Chinese, so the confidence does not give it away). The lines'
 * continuity (lineContinuity) settles the direction when it is clear. Dense text is continuous both
 * ways; there the bands of its ink (bandingDirection: leading is wider than tracking) settle it,
 * and only when neither says anything do the profiles decide.
 */
function lineDirection(ink: Ink, turned90: Ink, h: SkewEstimate, v: SkewEstimate, hPx: number | null, vPx: number | null): { base: Rotation; ratio: number } {
  const profile = { base: (v.score > h.score ? 90 : 0) as Rotation, ratio: Math.max(h.score, v.score) / Math.max(1e-9, Math.min(h.score, v.score)) };
  const type = Math.min(hPx ?? Infinity, vPx ?? Infinity);
  if (!Number.isFinite(type)) return profile;
  const ch = lineContinuity(ink, h.deg, type), cv = lineContinuity(turned90, v.deg, type);
  const continuous = ch === null || cv === null || Math.abs(ch - cv) < CONTINUITY_SURE ? null : ((ch > cv ? 0 : 90) as Rotation);
  // Dense running text is continuous both ways; how its ink bands tells its lines from its columns.
  const base = continuous ?? bandingDirection(ink, turned90, h.deg, v.deg, type);
  if (base === null) return profile;
  // Sure enough that recognition need not look at the other line direction. Were it wrong, one of
  // the two ways round would still read well as vertical lines, which recognizeOriented turns upright.
  const sure = 2 * LINE_DIRECTION_SURE;
  return { base, ratio: base === profile.base ? Math.max(profile.ratio, sure) : sure };
}

export async function preparePage(page: PageImage, opts: PrepareOptions = {}): Promise<PreparedPage> {
  const minDpi = opts.minDpi ?? 200;
  const { ink: inkFull, sealRemoved } = inkChannel(page);
  const W = page.width, H = page.height;

  const b = darkBorders(inkFull, W, H);
  const m = 2; // also drop the grey fringe between border and paper
  const crop = b.left + b.top + b.right + b.bottom > 0
    ? { left: b.left ? b.left + m : 0, top: b.top ? b.top + m : 0, right: b.right ? b.right + m : 0, bottom: b.bottom ? b.bottom + m : 0 }
    : null;
  const region = { left: crop?.left ?? 0, top: crop?.top ?? 0, width: W - (crop ? crop.left + crop.right : 0), height: H - (crop ? crop.top + crop.bottom : 0) };

  const scale = Math.min(1, ANALYSIS_LONG_SIDE / Math.max(region.width, region.height));
  const small = await sharp(inkFull, { raw: { width: W, height: H, channels: 1 } })
    .extract(region).resize(Math.max(1, Math.round(region.width * scale)), Math.max(1, Math.round(region.height * scale)), { kernel: 'linear' })
    .extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  const sw = small.info.width, sh = small.info.height;
  const threshold = Math.min(otsu(small.data), 160);
  const ink = inkPoints(small.data, sw, sh, threshold);
  const blank = ink.xs.length / (sw * sh) < BLANK_INK;

  let rotation: Rotation = 0;
  let skewDeg = 0;
  let orientationChecked = false;
  /** Height of the body text's lines in page pixels (null: no lines to measure). */
  let textPx: number | null = null;
  const probe: OrientationProbe = { scores: {}, readable: null, hDeg: 0, vDeg: 0, directionRatio: 1 };
  if (!blank) {
    const turned90 = turn90(ink);
    const horizontal = estimateSkew(ink);
    const vertical = estimateSkew(turned90);
    // Line heights along both axes, in page pixels: the type's size, whichever way it is turned.
    const hPx = textLineHeight(ink, horizontal.deg), vPx = textLineHeight(turned90, vertical.deg);
    const { base, ratio } = lineDirection(ink, turned90, horizontal, vertical, hPx, vPx);
    const lines = base === 90 ? { base, est: vertical } : { base, est: horizontal };
    skewDeg = lines.est.deg;
    rotation = lines.base;
    probe.hDeg = horizontal.deg;
    probe.vDeg = vertical.deg;
    probe.directionRatio = ratio;
    const along = (r: Rotation): number | null => { const h = r % 180 === 0 ? hPx : vPx; return h === null ? null : h / scale; };
    if (opts.orientation || opts.verifyByRecognition || opts.rotation !== undefined) {
      // The strips' source, so that a caller can still check other orientations cheaply
      // (scoreOrientations). Recognition needs legible glyphs, not the 1000-px analysis copy, and
      // the strip (densestWindow) is sized for two lines of STRIP_TEXT_PX: 11 pt type at 150 dpi.
      // Scaled by the measured type, not by the resolution alone: a strip of 20 pt type at 150 dpi
      // cut its glyphs in half, and read as nonsense either way up. Made once, on first use: it
      // holds the page's grey pixels until then.
      const typePx = along(lines.base);
      const os = Math.min(1, typePx === null ? 150 / page.dpi : STRIP_TEXT_PX / typePx);
      let made: Promise<{ grey: Buffer; width: number; height: number }> | undefined;
      probe.readable = () => (made ??= sharp(inkFull, { raw: { width: W, height: H, channels: 1 } })
        .extract(region).resize(Math.max(1, Math.round(region.width * os)), Math.max(1, Math.round(region.height * os)))
        .extractChannel(0).raw().toBuffer({ resolveWithObject: true })
        .then((r) => ({ grey: r.data, width: r.info.width, height: r.info.height })));
    }
    if (opts.rotation !== undefined) {
      rotation = opts.rotation;
      skewDeg = rotation % 180 === 0 ? horizontal.deg : vertical.deg;
      orientationChecked = true;
    } else if (opts.orientation) {
      // A weak line-direction signal (tables, sparse forms) leaves all four candidates open.
      const flip = (r: Rotation) => ((r + 180) % 360) as Rotation;
      const other = (lines.base === 0 ? 90 : 0) as Rotation;
      const candidates: Rotation[] = ratio > LINE_DIRECTION_SURE ? [lines.base, flip(lines.base)] : [lines.base, flip(lines.base), other, flip(other)];
      rotation = await pickOrientation(opts.orientation, probe, candidates);
      skewDeg = rotation % 180 === 0 ? horizontal.deg : vertical.deg;
      orientationChecked = true;
    } else if (opts.verifyByRecognition && ratio > LINE_DIRECTION_SURE) {
      // Which way up, from the layout alone, so that recognition starts the right way up instead
      // of paying for a reading of the page upside down first (recognition still verifies either
      // way). Two cues, each a habit of paper documents:
      // - forms and letters are set flush left; turned upside down they read flush right;
      // - the title, in larger type, heads the text, and a short document leaves the foot of the
      //   sheet blank; upside down the large line ends the text and the blank space is above it.
      //   With no title in larger type, the blank space alone decides when it is clear.
      // The second cue holds where the first says nothing (tables, centred text). When the two
      // disagree the line direction's own guess stands.
      const turned = lines.base === 0 ? ink : turned90;
      const deg = lines.base === 0 ? horizontal.deg : vertical.deg;
      const a = lineAlignment(turned, deg);
      const e = headingEnd(turned, deg);
      const flushRight = a.lines >= FLUSH_MIN_LINES && a.right >= FLUSH_SHARE && a.left <= RAGGED_SHARE;
      const flushLeft = a.lines >= FLUSH_MIN_LINES && a.left >= FLUSH_SHARE && a.right <= RAGGED_SHARE;
      const headedBelow = e.heading === 'bottom' && e.above >= LOW_TEXT * e.below;
      const headedAbove = e.heading === 'top' && e.below >= LOW_TEXT * e.above;
      // With no title to go by, where the text sits still tells: it starts at the head of the
      // sheet, so text far down a sheet blank above it is upside down.
      const bareLow = e.heading === null && e.lines >= FLUSH_MIN_LINES && e.above >= BARE_LOW_TEXT * e.below;
      if ((flushRight && !headedAbove) || ((headedBelow || bareLow) && !flushLeft)) rotation = ((lines.base + 180) % 360) as Rotation;
    }
    textPx = along(rotation);
  }

  // Under 0.3° a correction is invisible (the estimate itself wobbles by ~0.2° on pages with seals
  // or tables) and would only cost a resampling blur.
  if (Math.abs(skewDeg) < MIN_SKEW) skewDeg = 0;
  // One resampling for rotation and deskew together; an exact quarter turn stays lossless.
  const angle = skewDeg === 0 ? rotation : rotation - skewDeg;
  const geometry = (img: sharp.Sharp) => {
    let p = img.extract(region);
    if (angle !== 0) p = p.rotate(angle, { background: '#ffffff' });
    return p;
  };

  // DA/T 31-2017 §6: judged on the scan's own resolution (a PDF's embedded image), never on an
  // assumed one: a file that does not say is flagged dpi_unknown instead.
  const scanDpi = page.dpiAssumed ? null : page.scanDpi ?? page.dpi;
  const lowDpi = scanDpi !== null && scanDpi < minDpi;
  const ocrDpi = opts.ocrDpi ?? 300;
  const maxLong = opts.maxOcrLongSide ?? 4000;
  const despeckle = speckleRatio(inkFull, W, H, threshold) > 0.05;

  // A deskew resamples the whole page, the costliest step here (~0.1 s of CPU for an A4 page at
  // 300 dpi): it is done once, on the scan itself, and the recognition image's grey is taken from
  // the result. Without one, each image comes straight from its own (cheap) pipeline and the view
  // is encoded without a raw copy of a colour page.
  const resampled = angle % 90 !== 0;
  const rawPage = { raw: { width: W, height: H, channels: page.channels } };
  // (libvips may add bands while rotating onto a white background: a grey page keeps its one
  // band, a colour page its three.)
  const turned = resampled
    ? await (page.channels === 1 ? geometry(sharp(page.image, rawPage)).extractChannel(0) : geometry(sharp(page.image, rawPage)).removeAlpha())
      .raw().toBuffer({ resolveWithObject: true })
    : null;
  if (turned && turned.info.channels !== page.channels) throw new Error(`deskew gave ${turned.info.channels} bands for a ${page.channels}-band page`);
  const viewPipe = turned
    ? sharp(turned.data, { raw: { width: turned.info.width, height: turned.info.height, channels: page.channels } })
    : geometry(sharp(page.image, rawPage));
  const imageFormat = page.colorMode === 'bilevel' ? 'png' : 'jpeg';
  const viewOut = page.channels === 1 ? viewPipe.extractChannel(0) : viewPipe;
  const view = imageFormat === 'png'
    ? await viewOut.png({ palette: false, colours: 2, compressionLevel: 6 }).toBuffer({ resolveWithObject: true })
    // Standard Huffman tables, not ones optimised per image: the optimising second pass doubled the
    // encode (~90 → ~48 ms of CPU for an A4 page at 300 dpi, 16 bench:ocr pages) for files ~12 %
    // smaller. Scanning rooms of paper on small machines is bound by CPU, not by disk.
    : await viewOut.jpeg({ quality: opts.jpegQuality ?? 85, mozjpeg: false, optimiseCoding: false }).toBuffer({ resolveWithObject: true });
  const image = view.data;
  const vw = view.info.width, vh = view.info.height;

  // Tesseract reads text at 200-300 dpi well: lower-resolution scans are enlarged, 400-600 dpi
  // scans reduced (half the pixels to recognise, no loss in accuracy).
  const [fromDpi, toDpi] = opts.ocrDpiRange ?? [200, 300];
  let ocrScale = page.dpi >= fromDpi && page.dpi <= toDpi ? 1 : ocrDpi / page.dpi;
  // Large type is read reduced to a body-text size (see TEXT_PX_TARGET); a resolution already
  // chosen above stands when the type is not clearly larger than that.
  const targetText = opts.textPxTarget ?? TEXT_PX_TARGET;
  if (textPx !== null && textPx * ocrScale > targetText * TEXT_PX_SLACK) ocrScale = targetText / textPx;
  ocrScale = Math.min(ocrScale, maxLong / Math.max(vw, vh));
  const ocr = turned
    ? sharp(page.channels === 1 ? turned.data : inkOf(turned.data, vw * vh, sealRemoved), { raw: { width: vw, height: vh, channels: 1 } })
    : geometry(sharp(inkFull, { raw: { width: W, height: H, channels: 1 } }));
  const ocrRaw = await ocr.extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  // Scanner speckle: a 3×3 median, the same pixels as libvips' median(3) in about half its time.
  const ocrGrey = despeckle ? median3(ocrRaw.data, ocrRaw.info.width, ocrRaw.info.height) : ocrRaw.data;
  // Only the text block goes to tesseract: page margins are often a third of the pixels, and
  // recognition time grows with pixels even when they are white.
  const text = inkBox(ocrGrey, ocrRaw.info.width, ocrRaw.info.height, threshold, Math.round(page.dpi / 12));
  let ocrPipe = sharp(ocrGrey, { raw: { width: ocrRaw.info.width, height: ocrRaw.info.height, channels: 1 } }).extract(text);
  if (Math.abs(ocrScale - 1) > 0.01) {
    ocrPipe = sharp(await ocrPipe.extractChannel(0).raw().toBuffer(), { raw: { width: text.width, height: text.height, channels: 1 } })
      .resize(Math.max(1, Math.round(text.width * ocrScale)), Math.max(1, Math.round(text.height * ocrScale)), { kernel: 'lanczos3' });
  } else ocrScale = 1;
  const ocrOut = await ocrPipe.extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  // Grey or yellowed paper and faded ink read as black on white (stretchContrast): on our aged-
  // paper tuning pages (bench:ocr-tuning "aged": paper at 170-215, ink at 70-100, grain, JPEG)
  // CER 5.0 → 2.7 %. Only what tesseract reads: the stored image stays as scanned.
  stretchContrast(ocrOut.data);

  return {
    n: page.n, image, imageFormat, ocrImage: ocrOut.data, ocrWidth: ocrOut.info.width, ocrHeight: ocrOut.info.height, ocrScale, ocrOffset: { x: text.left, y: text.top }, width: vw, height: vh,
    dpi: page.dpi, scanDpi, dpiAssumed: page.dpiAssumed, lowDpi, colorMode: page.colorMode,
    rotation, skewDeg, orientationChecked, orientationProbe: probe, cropped: crop, blank, sealRemoved, despeckled: despeckle,
  };
}

/**
 * The grey image recognition sees. Red seals (公章) are printed over signatures and names; black ink
 * stays dark in the red channel while red ink turns as light as the paper, so on pages with seal-red
 * pixels the red channel replaces luminance.
 */
function inkChannel(page: PageImage): { ink: Buffer; sealRemoved: boolean } {
  if (page.channels === 1) return { ink: page.image, sealRemoved: false };
  const src = page.image, W = page.width, H = page.height;
  // Seal red is counted on every fourth pixel of every fourth row: a seal is a large blob, and its
  // share survives the sampling.
  let red = 0, seen = 0;
  for (let y = 0; y < H; y += 4) {
    for (let i = y * W * 3, end = i + W * 3; i < end; i += 12) {
      const r = src[i]!, g = src[i + 1]!, bl = src[i + 2]!;
      if (r > 120 && r - (g > bl ? g : bl) > 60) red++;
      seen++;
    }
  }
  const sealRed = red / Math.max(1, seen) >= 0.0005;
  return { ink: inkOf(src, W * H, sealRed), sealRemoved: sealRed };
}

/** The ink plane of RGB pixels: the red channel on a page with a seal, luminance (ITU-R 601) otherwise. */
function inkOf(src: Buffer, px: number, sealRed: boolean): Buffer {
  const out = Buffer.allocUnsafe(px);
  if (sealRed) for (let i = 0, j = 0; j < px; i += 3, j++) out[j] = src[i]!;
  else for (let i = 0, j = 0; j < px; i += 3, j++) out[j] = (src[i]! * 299 + src[i + 1]! * 587 + src[i + 2]! * 114) / 1000;
  return out;
}

/**
 * Quick recognition of the densest band of text at each candidate rotation; the upright one reads
 * with clearly higher confidence. Cost is measured in docs/benchmarks.md (one small strip per candidate).
 */
async function pickOrientation(scorer: OrientationScorer, probe: OrientationProbe, candidates: Rotation[]): Promise<Rotation> {
  let best: { r: Rotation; score: number } | undefined;
  for (const r of candidates) {
    const score = await stripScore(scorer, probe, r);
    if (!best || score > best.score) best = { r, score };
    // Most pages are scanned the right way up: a clearly legible first candidate ends the search.
    // Upside-down text scores far lower (see docs/benchmarks.md, "orientation").
    if (score >= ORIENTATION_ACCEPT) break;
  }
  return best?.r ?? candidates[0] ?? 0;
}

/** The strip's confidence at rotation `r` (read once per page and rotation, then remembered in the probe). */
async function stripScore(scorer: OrientationScorer, probe: OrientationProbe, r: Rotation): Promise<number> {
  const known = probe.scores[r];
  if (known !== undefined) return known;
  if (!probe.readable) return 0;
  const src = await probe.readable();
  const deg = r % 180 === 0 ? probe.hDeg : probe.vDeg;
  const rotated = await sharp(src.grey, { raw: { width: src.width, height: src.height, channels: 1 } })
    .rotate(Math.abs(deg) < MIN_SKEW ? r : r - deg, { background: '#ffffff' }).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  const band = densestWindow(rotated.data, rotated.info.width, rotated.info.height);
  const strip = await sharp(rotated.data, { raw: { width: rotated.info.width, height: rotated.info.height, channels: 1 } })
    .extract(band).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  const score = await scorer.scoreOrientation(pgm(strip));
  probe.scores[r] = score;
  return score;
}

/**
 * The strip confidences at `rotations` for a prepared page (those already read are not read again):
 * the cheap evidence a caller weighs before paying for a full recognition in another orientation.
 */
export async function scoreOrientations(scorer: OrientationScorer, prepared: PreparedPage, rotations: Rotation[]): Promise<Partial<Record<Rotation, number>>> {
  for (const r of rotations) await stripScore(scorer, prepared.orientationProbe, r);
  return { ...prepared.orientationProbe.scores };
}

/**
 * A window of about two lines by twenty characters (at 150 dpi) where the ink is densest. LSTM cost
 * grows with the characters read, not the pixels (each line is rescaled to a fixed height), so the
 * window is sized in characters: enough to tell upright from upside down, no more.
 */
function densestWindow(grey: Buffer, w: number, h: number): sharp.Region {
  const bandH = Math.min(h, 90);
  const bandW = Math.min(w, 480);
  const dark = (x: number, y: number) => ((grey[y * w + x] ?? 255) < 128 ? 1 : 0);
  const rows = new Float64Array(h);
  for (let y = 0; y < h; y++) { let c = 0; for (let x = 0; x < w; x++) c += dark(x, y); rows[y] = c; }
  const top = bestRun(rows, bandH);
  const cols = new Float64Array(w);
  for (let y = top; y < top + bandH; y++) for (let x = 0; x < w; x++) cols[x] = (cols[x] ?? 0) + dark(x, y);
  return { left: bestRun(cols, bandW), top, width: bandW, height: bandH };
}

/** Start of the run of `len` consecutive values with the largest sum. */
function bestRun(v: Float64Array, len: number): number {
  let sum = 0;
  for (let i = 0; i < len; i++) sum += v[i] ?? 0;
  let best = 0, bestSum = sum;
  for (let i = 1; i + len <= v.length; i++) {
    sum += (v[i + len - 1] ?? 0) - (v[i - 1] ?? 0);
    if (sum > bestSum) { bestSum = sum; best = i; }
  }
  return best;
}

/** Bounding box of pixels darker than `threshold`, padded; the whole image when there is no ink. */
function inkBox(grey: Buffer, w: number, h: number, threshold: number, pad: number): sharp.Region {
  let x0 = w, y0 = h, x1 = -1, y1 = -1;
  for (let y = 0; y < h; y++) {
    const row = y * w;
    let first = -1, last = -1;
    for (let x = 0; x < w; x++) if ((grey[row + x] ?? 255) < threshold) { first = x; break; }
    if (first < 0) continue;
    for (let x = w - 1; x >= first; x--) if ((grey[row + x] ?? 255) < threshold) { last = x; break; }
    if (y < y0) y0 = y;
    y1 = y;
    if (first < x0) x0 = first;
    if (last > x1) x1 = last;
  }
  if (x1 < 0) return { left: 0, top: 0, width: w, height: h };
  const left = Math.max(0, x0 - pad), top = Math.max(0, y0 - pad);
  return { left, top, width: Math.min(w, x1 + pad + 1) - left, height: Math.min(h, y1 + pad + 1) - top };
}
