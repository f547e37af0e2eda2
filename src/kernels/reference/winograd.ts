/**
 * Winograd minimal filtering F(m x m, 3 x 3) (Lavin & Gray, "Fast Algorithms for Convolutional
 * Neural Networks", 2015): the matrices, and a float64 reference of the whole algorithm that the
 * tests check against the direct convolution (which proves the matrices) and that documents what
 * the wasm kernel (assembly/winograd.ts) computes.
 *
 * An output tile Y (m x m) of one output channel, from the input tile d (a = m + 2 square, rows
 * and columns starting at the tile's first output pixel minus the padding) and the 3 x 3 filter g
 * of each input channel:
 *
 *   Y = A^T [ Σ_ic (G g_ic G^T) ⊙ (B^T d_ic B) ] A                                   (W1)
 *
 * U = G g G^T (a x a) is the transformed filter, V = B^T d B the transformed input tile, ⊙ the
 * elementwise product. For each of the a² positions ξ of the tile the sum over ic is a matrix
 * product  M_ξ[tile, oc] = Σ_ic V_ξ[tile, ic] U_ξ[ic, oc]  (W2): a² GEMMs with the convolution's
 * channel sizes, instead of one GEMM with 9x the reduction. Multiplications per output pixel and
 * channel pair: a² / m² instead of 9 (F(2x2,3x3): 4, F(4x4,3x3): 2.25).
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
  /** Input tile size a = m + 2. */
  a: number;
  /** B^T, a x a (row-major). */
  BT: readonly number[][];
  /** G, a x 3. */
  G: readonly number[][];
  /** A^T, m x a. */
  AT: readonly number[][];
}

/** F(2x2, 3x3). */
export const F2: WinogradMatrices = {
  m: 2,
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

/** U = G g G^T (a x a, row-major) of one 3 x 3 filter g (row-major), in float64. */
export function filterTransform(f: WinogradMatrices, g: ArrayLike<number>): Float64Array {
  const { a, G } = f;
  const t = new Float64Array(a * 3); // G g
  for (let i = 0; i < a; i++) for (let j = 0; j < 3; j++) t[i * 3 + j] = G[i][0] * g[j] + G[i][1] * g[3 + j] + G[i][2] * g[6 + j];
  const u = new Float64Array(a * a); // (G g) G^T
  for (let i = 0; i < a; i++) for (let j = 0; j < a; j++) u[i * a + j] = t[i * 3] * G[j][0] + t[i * 3 + 1] * G[j][1] + t[i * 3 + 2] * G[j][2];
  return u;
}

/**
 * y = conv2d(x, w) + bias by (W1), all in float64, for a 3 x 3 filter, stride 1 and dilation 1
 * (any padding). Tiles of m x m output pixels; input pixels outside the image read zero, and
 * output pixels of a tile past the image's edge are dropped.
 */
export function conv2dWinogradReference(x: Tensor, w: Tensor, bias: Tensor | null, info: Conv2DInfo, f: WinogradMatrices = F2): Tensor {
  const { batch, inH, inW, inC, outH, outW, outC, kH, kW, strideH, strideW, dilationH, dilationW, padTop, padLeft } = info;
  if (kH !== 3 || kW !== 3 || strideH !== 1 || strideW !== 1 || dilationH !== 1 || dilationW !== 1) {
    throw new Error(`conv2dWinogradReference: needs a 3x3 filter, stride 1, dilation 1; got ${kH}x${kW}, stride ${strideH}x${strideW}, dilation ${dilationH}x${dilationW}`);
  }
  const { m, a, BT, AT } = f;
  const aa = a * a;
  // U[ic][oc] (a x a each)
  const U: Float64Array[] = [];
  const g = new Float64Array(9);
  for (let ic = 0; ic < inC; ic++) {
    for (let oc = 0; oc < outC; oc++) {
      for (let t = 0; t < 9; t++) g[t] = w.data[t * inC * outC + ic * outC + oc];
      U.push(filterTransform(f, g));
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
          matMul(BT, d, a, a, a, tmp); // B^T d
          for (let i = 0; i < a; i++) for (let j = 0; j < a; j++) {
            let s = 0;
            for (let k = 0; k < a; k++) s += tmp[i * a + k] * BT[j][k];
            V[ic * aa + i * a + j] = s;
          }
        }
        for (let oc = 0; oc < outC; oc++) {
          // M = Σ_ic U ⊙ V  (W2)
          M.fill(0);
          for (let ic = 0; ic < inC; ic++) {
            const u = U[ic * outC + oc];
            for (let e = 0; e < aa; e++) M[e] += u[e] * V[ic * aa + e];
          }
          // Y = A^T M A
          for (let i = 0; i < m; i++) {
            for (let j = 0; j < m; j++) {
              const oy = ty + i;
              const ox = tx + j;
              if (oy >= outH || ox >= outW) continue;
              let s = 0;
              for (let k = 0; k < a; k++) for (let l = 0; l < a; l++) s += AT[i][k] * M[k * a + l] * AT[j][l];
              y[((b * outH + oy) * outW + ox) * outC + oc] = s + (bias === null ? 0 : bias.data[oc]);
            }
          }
        }
      }
    }
  }
  return new Tensor(y, [batch, outH, outW, outC]);
}

/** out (r x c) = L (r x k, nested rows) x R (k x c, row-major). */
function matMul(L: readonly number[][], R: Float64Array, r: number, k: number, c: number, out: Float64Array): void {
  for (let i = 0; i < r; i++) {
    for (let j = 0; j < c; j++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += L[i][t] * R[t * c + j];
      out[i * c + j] = s;
    }
  }
}
