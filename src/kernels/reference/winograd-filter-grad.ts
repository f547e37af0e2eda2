/**
 * The filter gradient of a stride-1 convolution by Winograd minimal filtering (issue 11), and
 * its matrices, derived here by Cook-Toom; a float64 reference of the algorithm that the tests
 * check against conv2dBackwardFilter and that documents what assembly/winograd-filter-grad.ts does.
 *
 * Per image, dW is a correlation of x with dy whose output is the r x r filter:
 *
 *   dW[ky, kx, ic, oc] = Σ_{y, x} x[y + ky - pT, x + kx - pL, ic] · dy[y, x, oc]
 *
 * Split dy into t x t tiles. A tile g = dy[ty·t .., tx·t ..] (t x t, the "filter") and its input
 * patch d = x[ty·t - pT .., tx·t - pL ..] (a x a, a = r + t - 1) give the r x r partial dW
 * Y[k, l] = Σ_{i, j} d[k + i, l + j] g[i, j], which is Winograd F(r x r, t x t):
 *
 *   Y = A^T [ (G g G^T) ⊙ (B^T d B) ] A                                               (D1)
 *
 * and, A being the same for every tile, the sum over tiles moves inside:
 *
 *   dW = A^T M A,   M_ξ[ic, oc] = Σ_tiles V_ξ[tile, ic] U_ξ[tile, oc]                  (D2)
 *
 * for each of the a² positions ξ, V = B^T d B, U = G g G^T: a² GEMMs whose reduction runs over
 * the tiles (N · tiles terms), then one output transform per (ic, oc). Multiplications per dy
 * pixel and channel pair: a² / t² instead of r² (F(3x3, 2x2) 4 for 9, F(3x3, 4x4) 2.25 for 9,
 * F(5x5, 2x2) 9 for 25).
 *
 * Cook-Toom: the linear convolution s = u * g (u of length r, g of length t, s of length a) is
 * s = V⁻¹ [(V_r u) ⊙ (V_t g)], V the a x a Vandermonde matrix of the points p_0 .. p_{a-2} and ∞
 * (row j: p_j^0 .. p_j^{a-1}; the row of ∞ picks the leading coefficient), V_k its first k columns
 * (the row of ∞: 1 at column k - 1). The correlation is its transpose in u
 * (Σ_n d_n s_n = Σ_k u_k Y_k), so  A^T = V_rᵀ, G = V_t, B^T = V⁻ᵀ  (D3). Row j of B^T is scaled by
 * Π_{l≠j}(p_j - p_l) and row j of G divided by it, which makes B^T's entries integers (x's transform
 * then rounds less) and moves the fractions to G.
 */
import { Tensor } from '../../tensor/tensor.js';
import type { Conv2DInfo } from '../conv-info.js';

export interface WinogradFilterGradMatrices {
  /** Filter size r (the output of the correlation). */
  r: number;
  /** dy tile size t. */
  t: number;
  /** a = r + t - 1. */
  a: number;
  /** B^T, a x a, row-major. */
  BT: Float64Array;
  /** G, a x t, row-major. */
  G: Float64Array;
  /** A^T, r x a, row-major. */
  AT: Float64Array;
}

/** The interpolation points for each a (and ∞): the smallest integers, as the forward's F(2,3) and F(4,3). */
const POINTS: Record<number, number[]> = { 4: [0, 1, -1], 6: [0, 1, -1, 2, -2] };

/** The Cook-Toom matrices of F(r x r, t x t) (D3), in float64. */
export function winogradFilterGradMatrices(r: number, t: number): WinogradFilterGradMatrices {
  const a = r + t - 1;
  const p = POINTS[a];
  if (p === undefined) throw new Error(`winogradFilterGradMatrices: no points for a = ${a} (r = ${r}, t = ${t})`);
  // V (a x a): Vandermonde rows for the finite points, then ∞.
  const V = (k: number): number[][] => {
    const rows: number[][] = [];
    for (let j = 0; j < a - 1; j++) rows.push(Array.from({ length: k }, (_, i) => p[j] ** i));
    rows.push(Array.from({ length: k }, (_, i) => (i === k - 1 ? 1 : 0)));
    return rows;
  };
  const inv = invert(V(a));
  const scale = Array.from({ length: a }, (_, j) => (j === a - 1 ? 1 : p.reduce((s, q, l) => (l === j ? s : s * (p[j] - q)), 1)));
  const BT = new Float64Array(a * a);
  for (let j = 0; j < a; j++) for (let n = 0; n < a; n++) BT[j * a + n] = snap(inv[n][j] * scale[j]);
  const Vt = V(t);
  const G = new Float64Array(a * t);
  for (let j = 0; j < a; j++) for (let k = 0; k < t; k++) G[j * t + k] = Vt[j][k] / scale[j];
  const Vr = V(r);
  const AT = new Float64Array(r * a);
  for (let i = 0; i < r; i++) for (let j = 0; j < a; j++) AT[i * a + j] = Vr[j][i];
  return { r, t, a, BT, G, AT };
}

/** The nearest integer when within float64 noise of it (the inverse's entries times the scale are integers). */
function snap(v: number): number {
  const n = Math.round(v);
  return Math.abs(v - n) < 1e-9 ? n + 0 : v;
}

/** The inverse of a small square matrix (Gauss-Jordan with partial pivoting, float64). */
function invert(m: number[][]): number[][] {
  const n = m.length;
  const w = m.map((row, i) => [...row, ...Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))]);
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let i = c + 1; i < n; i++) if (Math.abs(w[i][c]) > Math.abs(w[piv][c])) piv = i;
    [w[c], w[piv]] = [w[piv], w[c]];
    const d = w[c][c];
    for (let j = 0; j < 2 * n; j++) w[c][j] /= d;
    for (let i = 0; i < n; i++) {
      if (i === c || w[i][c] === 0) continue;
      const f = w[i][c];
      for (let j = 0; j < 2 * n; j++) w[i][j] -= f * w[c][j];
    }
  }
  return w.map((row) => row.slice(n));
}

/** out (p x q) = L (p x k) · R (k x q), row-major. */
function mul(L: ArrayLike<number>, R: ArrayLike<number>, p: number, k: number, q: number, out: Float64Array): Float64Array {
  for (let i = 0; i < p; i++) {
    for (let j = 0; j < q; j++) {
      let s = 0;
      for (let e = 0; e < k; e++) s += L[i * k + e] * R[e * q + j];
      out[i * q + j] = s;
    }
  }
  return out;
}

/** X · Mᵀ for X (p x k), M (q x k): the right-hand transforms of (D1), (D2). */
function mulT(X: ArrayLike<number>, M: ArrayLike<number>, p: number, k: number, q: number, out: Float64Array): Float64Array {
  for (let i = 0; i < p; i++) {
    for (let j = 0; j < q; j++) {
      let s = 0;
      for (let e = 0; e < k; e++) s += X[i * k + e] * M[j * k + e];
      out[i * q + j] = s;
    }
  }
  return out;
}

/** Whether dW of this convolution has the geometry F(r x r, t x t) computes: square r x r filter, stride 1, dilation 1. */
export function winogradFilterGradGeometry(info: Conv2DInfo): boolean {
  return info.kH === info.kW && info.strideH === 1 && info.strideW === 1 && info.dilationH === 1 && info.dilationW === 1;
}

/**
 * dw and db of conv2d by (D1)-(D2), all in float64, for a stride-1, dilation-1 r x r filter (any
 * padding), with t x t tiles of dy: the specification of the wasm kernel.
 */
export function conv2dBackwardFilterWinogradReference(dy: Tensor, x: Tensor, info: Conv2DInfo, t: number): { dw: Tensor; db: Tensor } {
  const { batch, inH, inW, inC, outH, outW, outC, kH, padTop, padLeft } = info;
  if (!winogradFilterGradGeometry(info)) {
    throw new Error(`conv2dBackwardFilterWinogradReference: needs a square filter, stride 1, dilation 1; got ${info.kH}x${info.kW}, stride ${info.strideH}x${info.strideW}, dilation ${info.dilationH}x${info.dilationW}`);
  }
  const { r, a, BT, G, AT } = winogradFilterGradMatrices(kH, t);
  const aa = a * a;
  const M = new Float64Array(aa * inC * outC); // M[ic][oc][ξ]
  const db = new Float64Array(outC);
  const d = new Float64Array(aa);
  const g = new Float64Array(t * t);
  const tmp = new Float64Array(aa);
  const V = new Float64Array(inC * aa);
  const U = new Float64Array(aa);
  for (let b = 0; b < batch; b++) {
    for (let ty = 0; ty < outH; ty += t) {
      for (let tx = 0; tx < outW; tx += t) {
        for (let ic = 0; ic < inC; ic++) {
          for (let i = 0; i < a; i++) {
            for (let j = 0; j < a; j++) {
              const iy = ty + i - padTop;
              const ix = tx + j - padLeft;
              d[i * a + j] = iy < 0 || iy >= inH || ix < 0 || ix >= inW ? 0 : x.data[((b * inH + iy) * inW + ix) * inC + ic];
            }
          }
          mulT(mul(BT, d, a, a, a, tmp), BT, a, a, a, V.subarray(ic * aa, (ic + 1) * aa)); // B^T d B
        }
        for (let oc = 0; oc < outC; oc++) {
          for (let i = 0; i < t; i++) {
            for (let j = 0; j < t; j++) {
              const oy = ty + i;
              const ox = tx + j;
              g[i * t + j] = oy >= outH || ox >= outW ? 0 : dy.data[((b * outH + oy) * outW + ox) * outC + oc];
              db[oc] += g[i * t + j];
            }
          }
          mulT(mul(G, g, a, t, t, tmp), G, a, t, a, U); // G g G^T
          for (let ic = 0; ic < inC; ic++) {
            const m = (ic * outC + oc) * aa;
            for (let e = 0; e < aa; e++) M[m + e] += U[e] * V[ic * aa + e]; // (D2)
          }
        }
      }
    }
  }
  const dw = new Float32Array(r * r * inC * outC);
  const y = new Float64Array(r * r);
  for (let ic = 0; ic < inC; ic++) {
    for (let oc = 0; oc < outC; oc++) {
      mulT(mul(AT, M.subarray((ic * outC + oc) * aa), r, a, a, tmp), AT, r, a, r, y); // A^T M A
      for (let e = 0; e < r * r; e++) dw[(e * inC + ic) * outC + oc] = y[e];
    }
  }
  return { dw: new Tensor(dw, [r, r, inC, outC]), db: new Tensor(Float32Array.from(db), [outC]) };
}
