/**
 * Item 4's preprocessing, without the DOM: a drawing becomes a digit as MNIST made its digits
 * (LeCun et al.): the ink's bounding box is scaled, keeping its aspect ratio, to fit a 20 x 20 box
 * (area averaging, so the strokes get MNIST's soft edges), and placed in a 28 x 28 image so that its
 * centre of mass sits at the centre. Values are bytes 0..255, white ink on black, which the trainer
 * divides by 255 exactly as it does the training digits.
 */
export const SIZE = 28;
export const BOX = 20;

/**
 * `ink` is the drawing's intensity in [0, 1], row-major `width x height`. Returns null when nothing
 * is drawn.
 */
export function toDigit(ink: Float32Array, width: number, height: number): Uint8Array | null {
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      if (ink[y * width + x] > 0.05) {
        x0 = Math.min(x0, x);
        x1 = Math.max(x1, x);
        y0 = Math.min(y0, y);
        y1 = Math.max(y1, y);
      }
  if (x1 < 0) return null;
  const bw = x1 - x0 + 1;
  const bh = y1 - y0 + 1;
  const scale = BOX / Math.max(bw, bh);
  const tw = Math.max(1, Math.round(bw * scale));
  const th = Math.max(1, Math.round(bh * scale));
  // Area average: target pixel (tx, ty) covers source [x0 + tx / scale, x0 + (tx + 1) / scale).
  const small = new Float64Array(tw * th);
  for (let ty = 0; ty < th; ty++)
    for (let tx = 0; tx < tw; tx++) {
      const sx0 = x0 + tx / scale;
      const sx1 = Math.min(x0 + bw, x0 + (tx + 1) / scale);
      const sy0 = y0 + ty / scale;
      const sy1 = Math.min(y0 + bh, y0 + (ty + 1) / scale);
      let sum = 0;
      let area = 0;
      for (let sy = Math.floor(sy0); sy < Math.ceil(sy1); sy++) {
        const wy = Math.min(sy + 1, sy1) - Math.max(sy, sy0);
        for (let sx = Math.floor(sx0); sx < Math.ceil(sx1); sx++) {
          const wx = Math.min(sx + 1, sx1) - Math.max(sx, sx0);
          sum += wx * wy * ink[sy * width + sx];
          area += wx * wy;
        }
      }
      small[ty * tw + tx] = area > 0 ? sum / area : 0;
    }
  // Centre of mass of the scaled digit, moved to the image centre.
  let m = 0;
  let my = 0;
  let mx = 0;
  for (let ty = 0; ty < th; ty++)
    for (let tx = 0; tx < tw; tx++) {
      const v = small[ty * tw + tx];
      m += v;
      my += v * (ty + 0.5);
      mx += v * (tx + 0.5);
    }
  const clamp = (v: number, hi: number) => Math.max(0, Math.min(hi, v));
  const oy = clamp(Math.round(SIZE / 2 - my / m), SIZE - th);
  const ox = clamp(Math.round(SIZE / 2 - mx / m), SIZE - tw);
  const out = new Uint8Array(SIZE * SIZE);
  for (let ty = 0; ty < th; ty++) for (let tx = 0; tx < tw; tx++) out[(ty + oy) * SIZE + tx + ox] = Math.round(255 * Math.min(1, small[ty * tw + tx]));
  return out;
}
