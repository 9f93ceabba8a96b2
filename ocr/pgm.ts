/**
 * One grey channel as a binary PGM (P5): how pages, lines and strips go to the recogniser. PNG
 * would cost an encode here (libvips) and a decode in the wasm recogniser for the same pixels.
 */
export function pgm(image: { data: Buffer; width: number; height: number }): Buffer {
  return Buffer.concat([Buffer.from(`P5\n${image.width} ${image.height}\n255\n`, 'latin1'), image.data]);
}
