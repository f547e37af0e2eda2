// The GEMM micro-kernels every convolution and dense kernel runs on.
//
//   C[R rows, 8 columns] (+)= A[R, K] x B[K, 8]      R = 4 (tile4x8) or 6 (tile6x8)
//
// A is a packed panel, k-major with the R rows interleaved: A[k * R + r] (4R bytes per k).
// B is 8 consecutive floats per k, `bStride` bytes apart (32 for a packed panel, or a row stride
// when B is read in place). The tile lives in 2R v128 accumulators: V8 has 16 vector registers (one
// reserved), and a 6x8 tile plus two B vectors and one broadcast A value fills the other 15.
// tile4x8 (8 accumulators) is what dW and the small-C forward use; the gather GEMM (forward, dX,
// dense) uses tile6x8, whose 12 independent FMA chains hide the FMA latency better.
// Each C row has its own pointer, so rows can be scattered (dX phase classes) or dummies (tails).

import { fma } from './simd';

/** mode: 0 = C = A x B; 1 = C = bias + A x B (bias: 8 floats); 2 = C += A x B. */
export function tile4x8(
  a: usize, b: usize, bStride: usize, K: i32,
  p0: usize, p1: usize, p2: usize, p3: usize, bias: usize, mode: i32,
): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  if (mode == 1) {
    c00 = v128.load(bias); c01 = v128.load(bias, 16);
    c10 = c00; c11 = c01; c20 = c00; c21 = c01; c30 = c00; c31 = c01;
  } else if (mode == 2) {
    c00 = v128.load(p0); c01 = v128.load(p0, 16);
    c10 = v128.load(p1); c11 = v128.load(p1, 16);
    c20 = v128.load(p2); c21 = v128.load(p2, 16);
    c30 = v128.load(p3); c31 = v128.load(p3, 16);
  }
  for (let k = 0; k < K; k++) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    let av = v128.load32_splat(a);
    c00 = fma(av, b0, c00); c01 = fma(av, b1, c01);
    av = v128.load32_splat(a, 4);
    c10 = fma(av, b0, c10); c11 = fma(av, b1, c11);
    av = v128.load32_splat(a, 8);
    c20 = fma(av, b0, c20); c21 = fma(av, b1, c21);
    av = v128.load32_splat(a, 12);
    c30 = fma(av, b0, c30); c31 = fma(av, b1, c31);
    a += 16;
    b += bStride;
  }
  v128.store(p0, c00); v128.store(p0, c01, 16);
  v128.store(p1, c10); v128.store(p1, c11, 16);
  v128.store(p2, c20); v128.store(p2, c21, 16);
  v128.store(p3, c30); v128.store(p3, c31, 16);
}

/**
 * The 6 x 8 tile: C[6 rows, 8 columns] (+)= A[6, K] x B[K, 8], A packed k-major with the 6 rows
 * interleaved (A[k * 6 + r], 24 bytes per k). 12 accumulators, two B vectors and one broadcast A
 * value are 15 v128 registers, all V8 leaves free: 12 independent FMA chains instead of 4x8's 8
 * hide the FMA latency better (measured 8-12% faster than tile4x8 on the conv GEMMs; docs/wasm.md).
 * Modes as tile4x8.
 */
export function tile6x8(
  a: usize, b: usize, bStride: usize, K: i32,
  p0: usize, p1: usize, p2: usize, p3: usize, p4: usize, p5: usize, bias: usize, mode: i32,
): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let c40 = f32x4.splat(0), c41 = f32x4.splat(0);
  let c50 = f32x4.splat(0), c51 = f32x4.splat(0);
  if (mode == 1) {
    c00 = v128.load(bias); c01 = v128.load(bias, 16);
    c10 = c00; c11 = c01; c20 = c00; c21 = c01; c30 = c00; c31 = c01; c40 = c00; c41 = c01; c50 = c00; c51 = c01;
  } else if (mode == 2) {
    c00 = v128.load(p0); c01 = v128.load(p0, 16);
    c10 = v128.load(p1); c11 = v128.load(p1, 16);
    c20 = v128.load(p2); c21 = v128.load(p2, 16);
    c30 = v128.load(p3); c31 = v128.load(p3, 16);
    c40 = v128.load(p4); c41 = v128.load(p4, 16);
    c50 = v128.load(p5); c51 = v128.load(p5, 16);
  }
  for (let k = 0; k < K; k++) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    let av = v128.load32_splat(a);
    c00 = fma(av, b0, c00); c01 = fma(av, b1, c01);
    av = v128.load32_splat(a, 4);
    c10 = fma(av, b0, c10); c11 = fma(av, b1, c11);
    av = v128.load32_splat(a, 8);
    c20 = fma(av, b0, c20); c21 = fma(av, b1, c21);
    av = v128.load32_splat(a, 12);
    c30 = fma(av, b0, c30); c31 = fma(av, b1, c31);
    av = v128.load32_splat(a, 16);
    c40 = fma(av, b0, c40); c41 = fma(av, b1, c41);
    av = v128.load32_splat(a, 20);
    c50 = fma(av, b0, c50); c51 = fma(av, b1, c51);
    a += 24;
    b += bStride;
  }
  v128.store(p0, c00); v128.store(p0, c01, 16);
  v128.store(p1, c10); v128.store(p1, c11, 16);
  v128.store(p2, c20); v128.store(p2, c21, 16);
  v128.store(p3, c30); v128.store(p3, c31, 16);
  v128.store(p4, c40); v128.store(p4, c41, 16);
  v128.store(p5, c50); v128.store(p5, c51, 16);
}

/** Four channels of interleave6 (dst[c * 6 + r] = s_r[c], c < 4: 24 floats), inlined where it is used (also winograd.ts). */
@inline export function interleave6x4(dst: usize, s0: usize, s1: usize, s2: usize, s3: usize, s4: usize, s5: usize): void {
  const r0 = v128.load(s0), r1 = v128.load(s1), r2 = v128.load(s2), r3 = v128.load(s3);
  const r4 = v128.load(s4), r5 = v128.load(s5);
  const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5);
  const t1 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
  const t2 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
  const t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
  const u0 = v128.shuffle<f32>(r4, r5, 0, 4, 1, 5);
  const u1 = v128.shuffle<f32>(r4, r5, 2, 6, 3, 7);
  v128.store(dst, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
  v128.store64_lane(dst, u0, 0, 16);
  v128.store(dst, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7), 24);
  v128.store64_lane(dst, u0, 1, 40);
  v128.store(dst, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5), 48);
  v128.store64_lane(dst, u1, 0, 64);
  v128.store(dst, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7), 72);
  v128.store64_lane(dst, u1, 1, 88);
}

/**
 * Interleaves `C` channels from six row pointers into a 6-row A panel: dst[c * 6 + r] = src_r[c].
 * Four channels at a time: rows 0-3 by a 4x4 register transpose (16 bytes at each channel's 24),
 * rows 4-5 as pairs (8 bytes after them); a scalar tail for C % 4.
 */
export function interleave6(dst: usize, s0: usize, s1: usize, s2: usize, s3: usize, s4: usize, s5: usize, C: i32): void {
  let c = 0;
  for (; c + 4 <= C; c += 4) {
    interleave6x4(dst, s0, s1, s2, s3, s4, s5);
    dst += 96; s0 += 16; s1 += 16; s2 += 16; s3 += 16; s4 += 16; s5 += 16;
  }
  for (; c < C; c++) {
    store<f32>(dst, load<f32>(s0));
    store<f32>(dst, load<f32>(s1), 4);
    store<f32>(dst, load<f32>(s2), 8);
    store<f32>(dst, load<f32>(s3), 12);
    store<f32>(dst, load<f32>(s4), 16);
    store<f32>(dst, load<f32>(s5), 20);
    dst += 24; s0 += 4; s1 += 4; s2 += 4; s3 += 4; s4 += 4; s5 += 4;
  }
}

/**
 * Packs B into 8-column panels: panel j holds K rows of 8 floats,
 * dst[(j * K + k) * 8 + n] = src[base(k) + (8j + n) * strideN] (zero for columns >= N).
 * Row k belongs to tap t = k / kPerTap; base(k) = tapBase[t] + (k % kPerTap) * strideK (in floats).
 */
export function packB(dst: usize, src: usize, T: i32, tapBase: usize, kPerTap: i32, strideK: i32, strideN: i32, N: i32): void {
  const K = T * kPerTap;
  const panels = (N + 7) >> 3;
  for (let j = 0; j < panels; j++) {
    const n0 = j << 3;
    const nn = min(8, N - n0);
    let d = dst + (<usize>(j * K) << 5);
    for (let t = 0; t < T; t++) {
      const tb = load<i32>(tapBase + (<usize>t << 2));
      for (let kk = 0; kk < kPerTap; kk++) {
        const s = src + (<usize>(tb + kk * strideK + n0 * strideN) << 2);
        if (nn == 8 && strideN == 1) {
          v128.store(d, v128.load(s));
          v128.store(d, v128.load(s, 16), 16);
        } else {
          for (let n = 0; n < 8; n++) {
            store<f32>(d + (<usize>n << 2), n < nn ? load<f32>(s + (<usize>(n * strideN) << 2)) : 0);
          }
        }
        d += 32;
      }
    }
  }
}
