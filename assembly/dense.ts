// The dense layer's GEMMs (issue 11), on the 6x8 micro-kernel of gemm.ts:
//
//   forward  y[M, N]  = x[M, K] · w[K, N] + b          (M = batch, K = inF, N = outF)
//   dX       dx[M, N] = dy[M, K] · wᵀ                  (K = outF, N = inF: B[k, n] = w[n, k])
//   dW       dW[I, O] = xᵀ · dy, a reduction over the batch's M rows (I = inF, O = outF)
//
// Forward and dX: `densePackA` packs A once per call into 6-row panels (k-major, rows interleaved:
// A[(tile * K + k) * 6 + r] = a[6 tile + r, k]); `denseGemm`'s unit is a group of G 8-column panels of
// C for a group of row tiles. Per reduction block of KC rows it packs its panels' slice of B straight
// from w (read in place, transposed for dX by 4x4 register transposes) into its own scratch, which
// stays in L2 while its tiles sweep it: B is read from memory once per call, packed by every thread in
// parallel, and no unit depends on another (each C element is summed by one unit, in k order, so the
// result does not depend on the thread count).
// dW: A's panel for dW rows i..i+5 at reduction step m is x[m, i..i+5], six consecutive floats of x's
// row m: the "transposed A" packing is a 24-byte copy per batch row, no transpose. `denseDw`'s unit is
// one such tile of 6 dW rows, reduced over the whole batch (in blocks of MB rows, in order) against
// dy packed into 8-column panels: again one unit per output element, the same bits on any thread count.

import { tile6x8, interleave6 } from './gemm';
import { prm, DN_A, DN_M, DN_K, DN_W, DN_TRANSB, DN_N, DN_NP, DN_OUT, DN_BIAS, DN_KC, DN_G, DN_COLGROUPS, DN_ROWTILES, DN_SRC, DN_SCRATCH, DN_SCRATCHSTRIDE } from './abi';
import { DW_X, DW_M, DW_I, DW_B, DW_NP, DW_OUT, DW_MB, DW_SCRATCH, DW_SCRATCHSTRIDE } from './abi';

/** Tiles [t0, t1) of A's 6-row panels from the [M, K] source (rows past M repeat row M - 1; their results go to a dummy row). */
export function densePackA(p: usize, t0: i32, t1: i32, tid: i32): void {
  const A = <usize>prm(p, DN_A), M = prm(p, DN_M), K = prm(p, DN_K), src = <usize>prm(p, DN_SRC);
  const rowBytes = <usize>K << 2;
  for (let t = t0; t < t1; t++) {
    const m = t * 6;
    const s0 = src + <usize>m * rowBytes;
    const last = src + <usize>(M - 1) * rowBytes;
    interleave6(A + <usize>t * rowBytes * 6, s0,
      m + 1 < M ? s0 + rowBytes : last, m + 2 < M ? s0 + 2 * rowBytes : last,
      m + 3 < M ? s0 + 3 * rowBytes : last, m + 4 < M ? s0 + 4 * rowBytes : last, m + 5 < M ? s0 + 5 * rowBytes : last, K);
  }
}

/** Packs rows [k0, k0 + kl) of panel j of B = w ([K, N] row-major) into dst (kl x 8 floats; zeros past N). */
function packW(dst: usize, w: usize, N: i32, j: i32, k0: i32, kl: i32): void {
  const n0 = j << 3;
  const nn = min(8, N - n0);
  let s = w + (<usize>(k0 * N + n0) << 2);
  const rowBytes = <usize>N << 2;
  for (let k = 0; k < kl; k++) {
    if (nn == 8) {
      v128.store(dst, v128.load(s));
      v128.store(dst, v128.load(s, 16), 16);
    } else {
      for (let n = 0; n < 8; n++) store<f32>(dst + (<usize>n << 2), n < nn ? load<f32>(s + (<usize>n << 2)) : 0);
    }
    dst += 32; s += rowBytes;
  }
}

/**
 * Packs rows [k0, k0 + kl) of panel j of B = wᵀ (w is [N, K] row-major: B[k, n] = w[n, k]) into dst:
 * four k at a time, the panel's 8 rows of w loaded 4 floats each and transposed 4x4 (rows 0-3 and 4-7).
 */
function packWT(dst: usize, w: usize, K: i32, N: i32, j: i32, k0: i32, kl: i32): void {
  const n0 = j << 3;
  const nn = min(8, N - n0);
  const rowBytes = <usize>K << 2;
  const base = w + <usize>n0 * rowBytes + (<usize>k0 << 2);
  let k = 0;
  if (nn == 8) {
    for (; k + 4 <= kl; k += 4) {
      const s = base + (<usize>k << 2);
      const r0 = v128.load(s), r1 = v128.load(s + rowBytes), r2 = v128.load(s + 2 * rowBytes), r3 = v128.load(s + 3 * rowBytes);
      const r4 = v128.load(s + 4 * rowBytes), r5 = v128.load(s + 5 * rowBytes), r6 = v128.load(s + 6 * rowBytes), r7 = v128.load(s + 7 * rowBytes);
      const d = dst + (<usize>k << 5);
      transpose4(d, r0, r1, r2, r3);
      transpose4(d + 16, r4, r5, r6, r7);
    }
  }
  for (; k < kl; k++) {
    const d = dst + (<usize>k << 5);
    for (let n = 0; n < 8; n++) store<f32>(d + (<usize>n << 2), n < nn ? load<f32>(base + <usize>n * rowBytes + (<usize>k << 2)) : 0);
  }
}

/** Stores the 4x4 transpose of rows r0..r3 as four 16-byte rows 32 bytes apart: d[32 c + 4 r] = r_r[c]. */
@inline function transpose4(d: usize, r0: v128, r1: v128, r2: v128, r3: v128): void {
  const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5);
  const t1 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
  const t2 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
  const t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
  v128.store(d, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
  v128.store(d, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7), 32);
  v128.store(d, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5), 64);
  v128.store(d, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7), 96);
}

/**
 * Units [u0, u1) of C = A · B (+ bias): unit u is column group u % colGroups (G panels of 8 columns)
 * of row tiles [rowTiles * (u / colGroups), + rowTiles). C rows are Np floats apart; the first
 * reduction block starts from the bias (or zero), later ones accumulate.
 */
export function denseGemm(p: usize, u0: i32, u1: i32, tid: i32): void {
  const A = <usize>prm(p, DN_A), M = prm(p, DN_M), K = prm(p, DN_K), w = <usize>prm(p, DN_W), transB = prm(p, DN_TRANSB);
  const N = prm(p, DN_N), Np = prm(p, DN_NP), out = <usize>prm(p, DN_OUT), bias = <usize>prm(p, DN_BIAS);
  const KC = prm(p, DN_KC), G = prm(p, DN_G), colGroups = prm(p, DN_COLGROUPS), rowTiles = prm(p, DN_ROWTILES);
  const dummy = <usize>prm(p, DN_SCRATCH) + <usize>tid * <usize>prm(p, DN_SCRATCHSTRIDE); // Np floats: where rows past M store
  const Bs = dummy + (<usize>Np << 2); // G panels x KC rows x 8 floats
  const panels = Np >> 3;
  const tiles = (M + 5) / 6;
  const rowBytes = <usize>Np << 2;
  const panelBytes = <usize>KC << 5;
  for (let u = u0; u < u1; u++) {
    const cg = u % colGroups;
    const j0 = cg * G, j1 = min(panels, j0 + G);
    const t0 = (u / colGroups) * rowTiles, t1 = min(tiles, t0 + rowTiles);
    for (let k0 = 0; k0 < K; k0 += KC) {
      const kl = min(KC, K - k0);
      for (let j = j0; j < j1; j++) {
        const d = Bs + <usize>(j - j0) * panelBytes;
        if (transB != 0) packWT(d, w, K, N, j, k0, kl); else packW(d, w, N, j, k0, kl);
      }
      const mode = k0 > 0 ? 2 : bias != 0 ? 1 : 0;
      for (let t = t0; t < t1; t++) {
        const m = t * 6;
        const a = A + ((<usize>t * <usize>K + <usize>k0) * 24);
        const p0 = out + <usize>m * rowBytes;
        const p1 = m + 1 < M ? p0 + rowBytes : dummy, p2 = m + 2 < M ? p0 + 2 * rowBytes : dummy;
        const p3 = m + 3 < M ? p0 + 3 * rowBytes : dummy, p4 = m + 4 < M ? p0 + 4 * rowBytes : dummy;
        const p5 = m + 5 < M ? p0 + 5 * rowBytes : dummy;
        for (let j = j0; j < j1; j++) {
          const co = <usize>j << 5;
          tile6x8(a, Bs + <usize>(j - j0) * panelBytes, 32, kl, p0 + co, p1 + co, p2 + co, p3 + co, p4 + co, p5 + co, bias + co, mode);
        }
      }
    }
  }
}

/**
 * Tiles [t0, t1) of dW = xᵀ · dy: tile t is dW rows i = 6t .. 6t + 5 (x is [M, I]; B is dy packed
 * into 8-column panels, panel j at (j * M + m) * 8 floats). Rows of dW are Np floats apart.
 */
export function denseDw(p: usize, t0: i32, t1: i32, tid: i32): void {
  const x = <usize>prm(p, DW_X), M = prm(p, DW_M), I = prm(p, DW_I), B = <usize>prm(p, DW_B), Np = prm(p, DW_NP);
  const out = <usize>prm(p, DW_OUT), MB = prm(p, DW_MB);
  const dummy = <usize>prm(p, DW_SCRATCH) + <usize>tid * <usize>prm(p, DW_SCRATCHSTRIDE);
  const A = dummy + (<usize>Np << 2); // MB x 6 floats
  const panels = Np >> 3;
  const rowBytes = <usize>Np << 2;
  const xRow = <usize>I << 2;
  for (let t = t0; t < t1; t++) {
    const i0 = t * 6;
    const ni = min(6, I - i0);
    const p0 = out + <usize>i0 * rowBytes;
    const p1 = ni > 1 ? p0 + rowBytes : dummy, p2 = ni > 2 ? p0 + 2 * rowBytes : dummy;
    const p3 = ni > 3 ? p0 + 3 * rowBytes : dummy, p4 = ni > 4 ? p0 + 4 * rowBytes : dummy;
    const p5 = ni > 5 ? p0 + 5 * rowBytes : dummy;
    for (let m0 = 0; m0 < M; m0 += MB) {
      const ml = min(MB, M - m0);
      // A[m * 6 + r] = x[m0 + m, i0 + r]: six consecutive floats of each batch row.
      let s = x + <usize>m0 * xRow + (<usize>i0 << 2);
      let a = A;
      for (let m = 0; m < ml; m++) {
        if (ni == 6) {
          v128.store(a, v128.load(s));
          store<u64>(a, load<u64>(s, 16), 16);
        } else {
          for (let r = 0; r < 6; r++) store<f32>(a + (<usize>r << 2), r < ni ? load<f32>(s + (<usize>r << 2)) : 0);
        }
        a += 24; s += xRow;
      }
      const mode = m0 > 0 ? 2 : 0;
      for (let j = 0; j < panels; j++) {
        const co = <usize>j << 5;
        tile6x8(A, B + ((<usize>j * <usize>M + <usize>m0) << 5), 32, ml, p0 + co, p1 + co, p2 + co, p3 + co, p4 + co, p5 + co, 0, mode);
      }
    }
  }
}
