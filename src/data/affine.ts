/**
 * Random small rotations and scalings of image batches (the CLI's `--rotate` and `--scale`), as a
 * `fit` transform: every draw comes from the training loop's seeded generator, so runs stay
 * reproducible and resumable. Browser-safe code (no Node imports), kept with the CLI that uses it.
 *
 * For each sample, in this order: `angle = rng.uniform(-degrees, degrees)` (degrees, positive turns
 * the content clockwise on screen, as rows grow downward), then `s = rng.uniform(1 - scale, 1 + scale)`
 * (a draw is skipped when its range is 0). The output pixel (oy, ox) samples the input, bilinearly, at
 *
 * ```text
 * [sx, sy] = c + R(-angle) · ([ox, oy] - c) / s,    c = ((W - 1) / 2, (H - 1) / 2)
 * ```
 *
 * reading `fill` outside the image (0: black for images scaled to [0, 1]).
 */
import { Tensor } from '../tensor/tensor.js';
import type { Rng } from '../tensor/random.js';

export interface AffineOptions {
  /** Largest rotation in degrees, either way (0: none). */
  degrees: number;
  /** Largest relative change of size, e.g. 0.1 for 90%..110% (0: none). */
  scale: number;
  /** Value outside the image; default 0. */
  fill?: number;
}

/** A `fit` transform applying a random rotation and scaling to every sample of an NHWC batch. */
export function randomAffine(opts: AffineOptions): (x: Tensor, rng: Rng) => Tensor {
  const { degrees, scale } = opts;
  const fill = opts.fill ?? 0;
  if (!(degrees >= 0 && degrees <= 180)) throw new Error(`randomAffine: degrees must be in [0, 180], got ${degrees}`);
  if (!(scale >= 0 && scale < 1)) throw new Error(`randomAffine: scale must be in [0, 1), got ${scale}`);
  return (x: Tensor, rng: Rng): Tensor => {
    if (x.rank !== 4) throw new Error(`randomAffine: x must be [N, H, W, C], got [${x.shape.join(', ')}]`);
    const [n, h, w, c] = x.shape;
    const out = new Float32Array(x.size);
    const cx = (w - 1) / 2;
    const cy = (h - 1) / 2;
    const src = x.data;
    for (let b = 0; b < n; b++) {
      const angle = degrees > 0 ? (rng.uniform(-degrees, degrees) * Math.PI) / 180 : 0;
      const s = scale > 0 ? rng.uniform(1 - scale, 1 + scale) : 1;
      const cos = Math.cos(angle) / s;
      const sin = Math.sin(angle) / s;
      const base = b * h * w * c;
      for (let oy = 0; oy < h; oy++) {
        for (let ox = 0; ox < w; ox++) {
          const dx = ox - cx;
          const dy = oy - cy;
          // R(-angle) · d / s
          const sx = cx + cos * dx + sin * dy;
          const sy = cy - sin * dx + cos * dy;
          const x0 = Math.floor(sx);
          const y0 = Math.floor(sy);
          const fx = sx - x0;
          const fy = sy - y0;
          const o = base + (oy * w + ox) * c;
          for (let ch = 0; ch < c; ch++) {
            const at = (yy: number, xx: number): number => (yy >= 0 && yy < h && xx >= 0 && xx < w ? src[base + (yy * w + xx) * c + ch] : fill);
            const top = at(y0, x0) * (1 - fx) + at(y0, x0 + 1) * fx;
            const bottom = at(y0 + 1, x0) * (1 - fx) + at(y0 + 1, x0 + 1) * fx;
            out[o + ch] = top * (1 - fy) + bottom * fy;
          }
        }
      }
    }
    return new Tensor(out, x.shape);
  };
}
