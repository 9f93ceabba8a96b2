/**
 * One grey channel (as sharp's raw output gives it) as a binary PGM (P5): how pages, lines and
 * strips go to the recogniser, whose image reader (leptonica) takes it as it is. A PNG
 * would cost an encode here (libvips) and a decode in the wasm recogniser for the same pixels.
 */
export function pgm(raw: { data: Buffer; info: { width: number; height: number } }): Buffer {
  return Buffer.concat([Buffer.from(`P5\n${raw.info.width} ${raw.info.height}\n255\n`, 'latin1'), raw.data]);
}
