/**
 * Edge detection with hand-made convolution filters (seed 002, "Example of Edge detection"):
 * Sobel ("gives a little bit more weight in the middle", 1-2-1) and Scharr (3-10-3), as ordinary
 * HWIO conv2d filters run through `conv2d`.
 *
 * Orientation conventions (image rows `y` grow DOWNWARD, columns `x` grow to the RIGHT, and conv2d
 * is cross-correlation: `out[oy, ox] = Σ k[ky][kx] · img[oy + ky - pad, ox + kx - pad]`):
 *
 * - `gx` estimates ∂I/∂x. It responds to VERTICAL edges (intensity changing from left to right) and
 *   is POSITIVE where the image gets brighter to the right. Sobel gx kernel, rows ky = 0..2:
 *   ```
 *   [-1, 0, 1]
 *   [-2, 0, 2]
 *   [-1, 0, 1]
 *   ```
 * - `gy` estimates ∂I/∂y. It responds to HORIZONTAL edges and is POSITIVE where the image gets
 *   brighter going DOWN. Its kernel is the transpose of gx's: `[[-1, -2, -1], [0, 0, 0], [1, 2, 1]]`.
 * - Scharr is the same with weights 3-10-3 instead of 1-2-1.
 *
 * The course's "vertical edge detector" `[[1, 0, -1], [1, 0, -1], [1, 0, -1]]` (and its Sobel
 * version `[[1, 0, -1], [2, 0, -2], [1, 0, -1]]`) is `-gx`: positive on a bright-to-dark edge. The
 * gradient magnitude `sqrt(gx² + gy²)` does not depend on that sign choice.
 *
 * Scale: by default the kernels hold the classic integers, so a unit step edge gives |gx| = 4 (Sobel)
 * or 16 (Scharr). With `normalize: true` they are divided by 8 (Sobel) or 32 (Scharr), so a ramp of
 * slope 1 per pixel gives gx = 1 exactly: gx is then a derivative in intensity units per pixel.
 */
import { Tensor } from './tensor/tensor.js';
import type { Padding } from './kernels/conv-info.js';
import { conv2d, checkTensor } from './kernels/ops.js';

export type EdgeOperator = 'sobel' | 'scharr';

export interface EdgeOptions {
  /** Default 'sobel'. */
  operator?: EdgeOperator;
  /**
   * Passed to conv2d; default 'valid' (output 2 smaller in H and W). With 'same' the image is
   * zero-padded, so a non-black image shows artificial edges along its border.
   */
  padding?: Padding;
  /** Divide the kernels by 8 (Sobel) / 32 (Scharr) so gx, gy are per-pixel derivatives. Default false. */
  normalize?: boolean;
  /**
   * false (default): one gx/gy/magnitude channel, the gradient of the MEAN over the input channels
   * (a gray image copied into C channels gives the same result as the one-channel image).
   * true: every input channel separately; outputs have C channels.
   */
  perChannel?: boolean;
}

export interface EdgeResult {
  /** sqrt(gx² + gy²), [N, Ho, Wo, 1] (or [N, Ho, Wo, C] per channel). */
  magnitude: Tensor;
  /** Horizontal derivative ∂I/∂x (vertical edges), same shape as magnitude. */
  gx: Tensor;
  /** Vertical derivative ∂I/∂y (horizontal edges), same shape as magnitude. */
  gy: Tensor;
}

const SMOOTH: Record<EdgeOperator, [number, number, number]> = {
  sobel: [1, 2, 1],
  scharr: [3, 10, 3],
};

function checkOperator(op: string, operator: unknown): asserts operator is EdgeOperator {
  if (operator !== 'sobel' && operator !== 'scharr') {
    throw new Error(`${op}: operator must be 'sobel' or 'scharr', got ${JSON.stringify(operator)}`);
  }
}

/**
 * The 3x3 kernels as `[ky][kx]` arrays: `gx = smooth ⊗ [-1, 0, 1]` (smoothing down the rows,
 * central difference along x) and `gy` its transpose, with smooth = [1, 2, 1] (Sobel) or
 * [3, 10, 3] (Scharr).
 */
export function edgeKernels(operator: EdgeOperator = 'sobel', normalize = false): { gx: number[][]; gy: number[][] } {
  checkOperator('edgeKernels', operator);
  const s = SMOOTH[operator];
  const scale = normalize ? 2 * (s[0] + s[1] + s[2]) : 1;
  const diff = [-1, 0, 1];
  const gx = s.map((sy) => diff.map((dx) => (sy * dx) / scale));
  const gy = diff.map((dy) => s.map((sx) => (dy * sx) / scale));
  return { gx, gy };
}

/**
 * The kernels as one HWIO filter bank for `conv2d` over a C-channel image:
 * - `perChannel: false` (default): `[3, 3, C, 2]`; output channel 0 is gx and 1 is gy of the mean of
 *   the input channels (`w[ky, kx, ic, 0] = gx[ky][kx] / C`).
 * - `perChannel: true`: `[3, 3, C, 2C]`, block-diagonal; output channel `2c` is gx of input channel
 *   c and `2c + 1` its gy.
 *
 * ```ts
 * const w = edgeFilterBank('sobel', 3);            // [3, 3, 3, 2]
 * const g = conv2d(rgb, w, null, { padding: 'same' }); // g[..., 0] = gx, g[..., 1] = gy
 * ```
 */
export function edgeFilterBank(operator: EdgeOperator, channels: number, opts: { perChannel?: boolean; normalize?: boolean } = {}): Tensor {
  checkOperator('edgeFilterBank', operator);
  if (!Number.isInteger(channels) || channels < 1) {
    throw new Error(`edgeFilterBank: channels must be a positive integer, got ${JSON.stringify(channels)}`);
  }
  const { gx, gy } = edgeKernels(operator, opts.normalize ?? false);
  const perChannel = opts.perChannel ?? false;
  const outC = perChannel ? 2 * channels : 2;
  const w = Tensor.zeros([3, 3, channels, outC]);
  for (let ky = 0; ky < 3; ky++)
    for (let kx = 0; kx < 3; kx++)
      for (let ic = 0; ic < channels; ic++) {
        const base = ((ky * 3 + kx) * channels + ic) * outC;
        if (perChannel) {
          w.data[base + 2 * ic] = gx[ky][kx];
          w.data[base + 2 * ic + 1] = gy[ky][kx];
        } else {
          w.data[base] = gx[ky][kx] / channels;
          w.data[base + 1] = gy[ky][kx] / channels;
        }
      }
  return w;
}

/**
 * Edge detection: gx, gy and the gradient magnitude `sqrt(gx² + gy²)` of an NHWC image batch,
 * computed with one `conv2d` against `edgeFilterBank`.
 *
 * ```ts
 * const { magnitude, gx, gy } = edges(img, { operator: 'scharr', padding: 'same' }); // img [N, H, W, C]
 * ```
 */
export function edges(image: Tensor, opts: EdgeOptions = {}): EdgeResult {
  checkTensor('edges', 'image', image);
  if (image.rank !== 4) {
    throw new Error(`edges: image must be rank 4 [N, H, W, C], got rank ${image.rank} shape [${image.shape.join(', ')}]`);
  }
  const operator = opts.operator ?? 'sobel';
  checkOperator('edges', operator);
  const perChannel = opts.perChannel ?? false;
  const channels = image.shape[3];
  const w = edgeFilterBank(operator, channels, { perChannel, normalize: opts.normalize ?? false });
  let g: Tensor;
  try {
    g = conv2d(image, w, null, { padding: opts.padding ?? 'valid' });
  } catch (e) {
    throw new Error(`edges: ${(e as Error).message}`, { cause: e });
  }
  const [n, outH, outW] = g.shape;
  const outC = perChannel ? channels : 1;
  const shape = [n, outH, outW, outC];
  const gx = Tensor.zeros(shape);
  const gy = Tensor.zeros(shape);
  const magnitude = Tensor.zeros(shape);
  for (let p = 0; p < n * outH * outW; p++)
    for (let c = 0; c < outC; c++) {
      const vx = g.data[(p * outC + c) * 2];
      const vy = g.data[(p * outC + c) * 2 + 1];
      gx.data[p * outC + c] = vx;
      gy.data[p * outC + c] = vy;
      magnitude.data[p * outC + c] = Math.sqrt(vx * vx + vy * vy);
    }
  return { magnitude, gx, gy };
}
