/**
 * Item 5, edge detection (seed 002), without the DOM: the bundled sample picture, the filters run
 * through the library (`edges` for stride 1, `conv2d` with `edgeKernels` otherwise, since `edges`
 * has no stride), and the mapping of the result to gray levels. The browser test imports this to
 * compute in Node what the page must show.
 */
import { Rng, Tensor, conv2d, edgeKernels, edges, type EdgeOperator } from 'stride-cnn';

export interface Gray {
  width: number;
  height: number;
  /** Row-major intensities in [0, 1]. */
  data: Float32Array;
}

export const SAMPLE_WIDTH = 160;
export const SAMPLE_HEIGHT = 120;

/**
 * A small photo-like scene drawn from a fixed seed (nothing downloaded): a sky gradient, a sun,
 * two mountain ridges, a house with a roof, a door and a window, and textured ground, softened by
 * a 3x3 box blur so edges look like a camera's, not like vector art.
 */
export function sampleImage(): Gray {
  const w = SAMPLE_WIDTH;
  const hgt = SAMPLE_HEIGHT;
  const rng = new Rng(2002);
  const img = new Float32Array(w * hgt);
  const ridge1 = (x: number): number => 62 + 10 * Math.sin(x / 17) + 5 * Math.sin(x / 7 + 1);
  const ridge2 = (x: number): number => 74 + 7 * Math.sin(x / 11 + 2) + 3 * Math.sin(x / 4);
  for (let y = 0; y < hgt; y++)
    for (let x = 0; x < w; x++) {
      let v = 0.78 - 0.3 * (y / hgt); // sky, brighter at the top
      const dSun = Math.hypot(x - 122, y - 24);
      if (dSun < 12) v = 0.97;
      else if (dSun < 16) v = Math.max(v, 0.97 - (dSun - 12) * 0.06);
      if (y > ridge1(x)) v = 0.42 + 0.05 * Math.sin(x / 5 + y / 9);
      if (y > ridge2(x)) v = 0.3;
      if (y > 88) v = 0.5 + 0.12 * rng.next() + 0.04 * Math.sin(x / 3); // ground texture
      // the house: walls, a triangular roof, a door and a window
      if (x >= 34 && x < 74 && y >= 70 && y < 100) v = 0.86;
      if (y >= 52 && y < 70 && Math.abs(x - 54) <= (y - 52) * 1.25 + 2) v = 0.16;
      if (x >= 60 && x < 68 && y >= 84 && y < 100) v = 0.22;
      if (x >= 40 && x < 52 && y >= 76 && y < 86) v = (x - 40) % 6 < 1 || (y - 76) % 5 < 1 ? 0.86 : 0.12;
      img[y * w + x] = v;
    }
  const out = new Float32Array(w * hgt);
  for (let y = 0; y < hgt; y++)
    for (let x = 0; x < w; x++) {
      let s = 0;
      let n = 0;
      for (let dy = -1; dy <= 1; dy++)
        for (let dx = -1; dx <= 1; dx++) {
          const yy = y + dy;
          const xx = x + dx;
          if (yy >= 0 && yy < hgt && xx >= 0 && xx < w) {
            s += img[yy * w + xx];
            n++;
          }
        }
      out[y * w + x] = Math.round((s / n) * 255) / 255; // an 8-bit picture, as a PNG would hold
    }
  return { width: w, height: hgt, data: out };
}

export type EdgeFilter = EdgeOperator | 'custom';
export type EdgePart = 'x' | 'y' | 'magnitude';

export interface EdgeSettings {
  filter: EdgeFilter;
  part: EdgePart;
  padding: number;
  stride: number;
  /** The user's 3x3 kernel (rows ky, columns kx), for filter 'custom'. */
  kernel: number[][];
}

export interface EdgeOutput {
  width: number;
  height: number;
  /** The values shown, row-major. */
  values: Float32Array;
  /** True when the values can be negative (x, y, most custom kernels): shown around mid-gray. */
  signed: boolean;
  /** The kernel applied, for the page to print. */
  kernels: { name: string; k: number[][] }[];
}

/** The 3x3 kernel of a setting as the page shows it. */
export function kernelsOf(s: EdgeSettings): { name: string; k: number[][] }[] {
  if (s.filter === 'custom') return [{ name: 'K', k: s.kernel }];
  const { gx, gy } = edgeKernels(s.filter);
  if (s.part === 'x') return [{ name: 'Gx', k: gx }];
  if (s.part === 'y') return [{ name: 'Gy', k: gy }];
  return [{ name: 'Gx', k: gx }, { name: 'Gy', k: gy }];
}

/** Runs the filter on a gray image with Stride's kernels. */
export function runEdges(img: Gray, s: EdgeSettings): EdgeOutput {
  const x = new Tensor(img.data, [1, img.height, img.width, 1]);
  const kernels = kernelsOf(s);
  if (s.filter === 'custom') {
    if (s.kernel.length !== 3 || s.kernel.some((r) => r.length !== 3 || r.some((v) => !Number.isFinite(v)))) {
      throw new Error('edges: the custom kernel must be 3x3 finite numbers');
    }
    const w = new Tensor(Float32Array.from(s.kernel.flat()), [3, 3, 1, 1]);
    const y = conv2d(x, w, null, { padding: s.padding, stride: s.stride });
    return { width: y.shape[2], height: y.shape[1], values: y.data, signed: y.data.some((v) => v < 0), kernels };
  }
  if (s.stride === 1) {
    const r = edges(x, { operator: s.filter, padding: s.padding });
    const t = s.part === 'x' ? r.gx : s.part === 'y' ? r.gy : r.magnitude;
    return { width: t.shape[2], height: t.shape[1], values: t.data, signed: s.part !== 'magnitude', kernels };
  }
  // edges() has no stride: the same two filters through conv2d, magnitude sqrt(gx² + gy²) as edges() does.
  const { gx, gy } = edgeKernels(s.filter);
  const bank = new Float32Array(18);
  for (let i = 0; i < 9; i++) {
    bank[2 * i] = gx[Math.floor(i / 3)][i % 3];
    bank[2 * i + 1] = gy[Math.floor(i / 3)][i % 3];
  }
  const g = conv2d(x, new Tensor(bank, [3, 3, 1, 2]), null, { padding: s.padding, stride: s.stride });
  const n = g.shape[1] * g.shape[2];
  const values = new Float32Array(n);
  for (let p = 0; p < n; p++) {
    const vx = g.data[2 * p];
    const vy = g.data[2 * p + 1];
    values[p] = s.part === 'x' ? vx : s.part === 'y' ? vy : Math.sqrt(vx * vx + vy * vy);
  }
  return { width: g.shape[2], height: g.shape[1], values, signed: s.part !== 'magnitude', kernels };
}

/** Gray levels for display: magnitude scaled by its maximum; signed values around 128. */
export function toGrayBytes(out: EdgeOutput): Uint8ClampedArray {
  let max = 0;
  for (const v of out.values) max = Math.max(max, Math.abs(v));
  const bytes = new Uint8ClampedArray(out.values.length);
  const scale = max === 0 ? 0 : 1 / max;
  for (let i = 0; i < bytes.length; i++) {
    const v = out.values[i] * scale;
    bytes[i] = Math.round(out.signed ? 128 + 127 * v : 255 * v);
  }
  return bytes;
}

/** `floor((n + 2p - f) / s) + 1` with the numbers filled in, for one axis. */
export function formula(n: number, p: number, f: number, s: number): { text: string; value: number } {
  const value = Math.floor((n + 2 * p - f) / s) + 1;
  return { text: `⌊(${n} + 2·${p} − ${f}) / ${s}⌋ + 1 = ${value}`, value };
}

/** Grayscale (Rec. 601 luma) of RGBA pixels, scaled to [0, 1]. */
export function rgbaToGray(rgba: Uint8ClampedArray, width: number, height: number): Gray {
  const data = new Float32Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = Math.round(0.299 * rgba[4 * i] + 0.587 * rgba[4 * i + 1] + 0.114 * rgba[4 * i + 2]) / 255;
  return { width, height, data };
}
