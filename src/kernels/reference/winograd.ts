/**
 * Winograd minimal filtering F(m x m, r x r), r = 3 or 5 (Lavin & Gray, "Fast Algorithms for Convolutional
 * Neural Networks", 2015): the matrices, and a float64 reference of the whole algorithm that the
 * tests check against the direct convolution (which proves the matrices) and that documents what
 * the wasm kernel (assembly/winograd.ts) computes.
 *
 * An output tile Y (m x m) of one output channel, from the input tile d (a = m + 2 square, rows
 * and columns starting at the tile's first output pixel minus the padding) and the r x r filter g
 * of each input channel:
 *
 *   Y = A^T [ Σ_ic (G g_ic G^T) ⊙ (B^T d_ic B) ] A                                   (W1)
 *
 * U = G g G^T (a x a) is the transformed filter, V = B^T d B the transformed input tile, ⊙ the
 * elementwise product. For each of the a² positions ξ of the tile the sum over ic is a matrix
 * product  M_ξ[tile, oc] = Σ_ic V_ξ[tile, ic] U_ξ[ic, oc]  (W2): a² GEMMs with the convolution's
 * channel sizes, instead of one GEMM with 9x the reduction. Multiplications per output pixel and
 * channel pair: a² / m² instead of r² (F(2x2,3x3): 4, F(4x4,3x3): 2.25, F(2x2,5x5): 9 instead of 25).
 *
 * Interpolation points: F(2,3) uses 0, 1, -1 (and ∞); F(4,3) uses 0, ±1, ±2 (and ∞). The larger
 * points of F(4,3) make its transforms' entries larger (up to 5 and 8), so its float32 rounding
 * error is larger: see docs/wasm.md ("Winograd") for the measured error of both.
 */
import { Tensor } from '../../tensor/tensor.js';
import type { Conv2DInfo } from '../conv-info.js';

export interface WinogradMatrices {
  /** Output tile size m. */
  m: number;
  /** Filter size r. */
  r: number;
  /** Input tile size a = m + r - 1. */
  a: number;
  /** B^T, a x a (row-major). */
  BT: readonly number[][];
  /** G, a x r. */
  G: readonly number[][];
  /** A^T, m x a. */
  AT: readonly number[][];
}

/** F(2x2, 3x3). */
export const F2: WinogradMatrices = {
  m: 2,
  r: 3,
  a: 4,
  BT: [
    [1, 0, -1, 0],
    [0, 1, 1, 0],
    [0, -1, 1, 0],
    [0, 1, 0, -1],
  ],
  G: [
    [1, 0, 0],
    [1 / 2, 1 / 2, 1 / 2],
    [1 / 2, -1 / 2, 1 / 2],
    [0, 0, 1],
  ],
  AT: [
    [1, 1, 1, 0],
    [0, 1, -1, -1],
  ],
};

/** F(4x4, 3x3). */
export const F4: WinogradMatrices = {
  m: 4,
  r: 3,
  a: 6,
  BT: [
    [4, 0, -5, 0, 1, 0],
    [0, -4, -4, 1, 1, 0],
    [0, 4, -4, -1, 1, 0],
    [0, -2, -1, 2, 1, 0],
    [0, 2, -1, -2, 1, 0],
    [0, 4, 0, -5, 0, 1],
  ],
  G: [
    [1 / 4, 0, 0],
    [-1 / 6, -1 / 6, -1 / 6],
    [-1 / 6, 1 / 6, -1 / 6],
    [1 / 24, 1 / 12, 1 / 6],
    [1 / 24, -1 / 12, 1 / 6],
    [0, 0, 1],
  ],
  AT: [
    [1, 1, 1, 1, 1, 0],
    [0, 1, -1, 2, -2, 0],
    [0, 1, 1, 4, 4, 0],
    [0, 1, -1, 8, -8, 1],
  ],
};

/**
 * F(2x2, 5x5): the same points 0, ±1, ±2, ∞ and a = 6 as F(4x4, 3x3). Toom-Cook (Lavin & Gray, sec. 4):
 * B^T is the interpolation matrix of the a points, which depends on the points only, so it is F4's;
 * G's row for a point p is s_p (1, p, ..., p^(r-1)) and A^T's column is (1, p, ..., p^(m-1)) (the
 * point ∞ takes the highest power only), with the same Lagrange scale s_p = 1/4, -1/6, -1/6, 1/24,
 * 1/24, 1 as F4's G (they belong to the points, not to r). Entries up to 16/24 in G and 2 in A^T.
 */
export const F25: WinogradMatrices = {
  m: 2,
  r: 5,
  a: 6,
  BT: F4.BT,
  G: [
    [1 / 4, 0, 0, 0, 0],
    [-1 / 6, -1 / 6, -1 / 6, -1 / 6, -1 / 6],
    [-1 / 6, 1 / 6, -1 / 6, 1 / 6, -1 / 6],
    [1 / 24, 2 / 24, 4 / 24, 8 / 24, 16 / 24],
    [1 / 24, -2 / 24, 4 / 24, -8 / 24, 16 / 24],
    [0, 0, 0, 0, 1],
  ],
  AT: [
    [1, 1, 1, 1, 1, 0],
    [0, 1, -1, 2, -2, 1],
  ],
};

/**
 * F(4x4, 5x5), a = 8, points 0, ±1, ±2, ±1/2, ∞ (the same construction; B^T as F(6x6, 3x3)'s): entries
 * up to 21/4 in B^T and 8 in A^T. Evaluated for its float32 error only (docs/wasm.md, "Winograd"); no
 * wasm kernel runs it.
 */
export const F45: WinogradMatrices = {
  m: 4,
  r: 5,
  a: 8,
  BT: [
    [1, 0, -21 / 4, 0, 21 / 4, 0, -1, 0],
    [0, 1, 1, -17 / 4, -17 / 4, 1, 1, 0],
    [0, -1, 1, 17 / 4, -17 / 4, -1, 1, 0],
    [0, 1 / 2, 1 / 4, -5 / 2, -5 / 4, 2, 1, 0],
    [0, -1 / 2, 1 / 4, 5 / 2, -5 / 4, -2, 1, 0],
    [0, 2, 4, -5 / 2, -5, 1 / 2, 1, 0],
    [0, -2, 4, 5 / 2, -5, -1 / 2, 1, 0],
    [0, -1, 0, 21 / 4, 0, -21 / 4, 0, 1],
  ],
  G: [
    [1, 0, 0, 0, 0],
    [-2 / 9, -2 / 9, -2 / 9, -2 / 9, -2 / 9],
    [-2 / 9, 2 / 9, -2 / 9, 2 / 9, -2 / 9],
    [1 / 90, 1 / 45, 2 / 45, 4 / 45, 8 / 45],
    [1 / 90, -1 / 45, 2 / 45, -4 / 45, 8 / 45],
    [32 / 45, 16 / 45, 8 / 45, 4 / 45, 2 / 45],
    [32 / 45, -16 / 45, 8 / 45, -4 / 45, 2 / 45],
    [0, 0, 0, 0, 1],
  ],
  AT: [
    [1, 1, 1, 1, 1, 1, 1, 0],
    [0, 1, -1, 2, -2, 1 / 2, -1 / 2, 0],
    [0, 1, 1, 4, 4, 1 / 4, 1 / 4, 0],
    [0, 1, -1, 8, -8, 1 / 8, -1 / 8, 1],
  ],
};

/** U = G g G^T (a x a, row-major) of one r x r filter g (row-major), in float64. */
export function filterTransform(f: WinogradMatrices, g: ArrayLike<number>): Float64Array {
  const { a, r, G } = f;
  const t = new Float64Array(a * r); // G g
  for (let i = 0; i < a; i++) for (let j = 0; j < r; j++) for (let k = 0; k < r; k++) t[i * r + j] += G[i][k] * g[k * r + j];
  const u = new Float64Array(a * a); // (G g) G^T
  for (let i = 0; i < a; i++) for (let j = 0; j < a; j++) for (let k = 0; k < r; k++) u[i * a + j] += t[i * r + k] * G[j][k];
  return u;
}

/**
 * y = conv2d(x, w) + bias by (W1), all in float64, for an r x r filter (f.r), stride 1 and dilation 1
 * (any padding). Tiles of m x m output pixels; input pixels outside the image read zero, and
 * output pixels of a tile past the image's edge are dropped. `float32`: round U once, and every
 * product and partial sum of the input transform, (W2) and the output transform to float32, as a
 * float32 kernel would (an estimate of such a kernel's error, for tiles no wasm kernel runs:
 * bench/winograd-error.ts).
 */
export function conv2dWinogradReference(x: Tensor, w: Tensor, bias: Tensor | null, info: Conv2DInfo, f: WinogradMatrices = F2, float32 = false): Tensor {
  const rd = float32 ? Math.fround : (v: number): number => v;
  const { batch, inH, inW, inC, outH, outW, outC, kH, kW, strideH, strideW, dilationH, dilationW, padTop, padLeft } = info;
  if (kH !== f.r || kW !== f.r || strideH !== 1 || strideW !== 1 || dilationH !== 1 || dilationW !== 1) {
    throw new Error(`conv2dWinogradReference: needs a ${f.r}x${f.r} filter, stride 1, dilation 1; got ${kH}x${kW}, stride ${strideH}x${strideW}, dilation ${dilationH}x${dilationW}`);
  }
  const { m, a, r, BT, AT } = f;
  const aa = a * a;
  const rr = r * r;
  // U[ic][oc] (a x a each)
  const U: Float64Array[] = [];
  const g = new Float64Array(rr);
  for (let ic = 0; ic < inC; ic++) {
    for (let oc = 0; oc < outC; oc++) {
      for (let t = 0; t < rr; t++) g[t] = w.data[t * inC * outC + ic * outC + oc];
      U.push(filterTransform(f, g).map(rd));
    }
  }
  const y = new Float32Array(batch * outH * outW * outC);
  const d = new Float64Array(aa);
  const tmp = new Float64Array(aa);
  const V = new Float64Array(inC * aa);
  const M = new Float64Array(aa);
  for (let b = 0; b < batch; b++) {
    for (let ty = 0; ty < outH; ty += m) {
      for (let tx = 0; tx < outW; tx += m) {
        // V_ic = B^T d_ic B
        for (let ic = 0; ic < inC; ic++) {
          for (let i = 0; i < a; i++) {
            for (let j = 0; j < a; j++) {
              const iy = ty + i - padTop;
              const ix = tx + j - padLeft;
              d[i * a + j] = iy < 0 || iy >= inH || ix < 0 || ix >= inW ? 0 : x.data[((b * inH + iy) * inW + ix) * inC + ic];
            }
          }
          matMul(BT, d, a, a, a, tmp, rd); // B^T d
          for (let i = 0; i < a; i++) for (let j = 0; j < a; j++) {
            let s = 0;
            for (let k = 0; k < a; k++) s = rd(s + rd(tmp[i * a + k] * BT[j][k]));
            V[ic * aa + i * a + j] = s;
          }
        }
        for (let oc = 0; oc < outC; oc++) {
          // M = Σ_ic U ⊙ V  (W2)
          M.fill(0);
          for (let ic = 0; ic < inC; ic++) {
            const u = U[ic * outC + oc];
            for (let e = 0; e < aa; e++) M[e] = rd(M[e] + rd(u[e] * V[ic * aa + e]));
          }
          // Y = A^T M A: (A^T M) first, then times A
          matMul(AT, M, m, a, a, tmp, rd);
          for (let i = 0; i < m; i++) {
            for (let j = 0; j < m; j++) {
              const oy = ty + i;
              const ox = tx + j;
              if (oy >= outH || ox >= outW) continue;
              let s = 0;
              for (let l = 0; l < a; l++) s = rd(s + rd(tmp[i * a + l] * AT[j][l]));
              y[((b * outH + oy) * outW + ox) * outC + oc] = s + (bias === null ? 0 : bias.data[oc]);
            }
          }
        }
      }
    }
  }
  return new Tensor(y, [batch, outH, outW, outC]);
}

/** out (r x c) = L (r x k, nested rows) x R (k x c, row-major), each product and sum through rd. */
function matMul(L: readonly number[][], R: Float64Array, r: number, k: number, c: number, out: Float64Array, rd: (v: number) => number): void {
  for (let i = 0; i < r; i++) {
    for (let j = 0; j < c; j++) {
      let s = 0;
      for (let t = 0; t < k; t++) s = rd(s + rd(L[i][t] * R[t * c + j]));
      out[i * c + j] = s;
    }
  }
}
