// Winograd convolution F(m x m, 3 x 3), m = 2 or 4 (a = m + 2): 3 x 3 filter, stride 1, dilation 1.
// The algorithm and its matrices: src/kernels/reference/winograd.ts (equations (W1), (W2)).
//
// Work unit: a panel of 4 output tiles (tiles numbered (b, ty, tx) over [N, tilesH, tilesW]).
// For each panel, all in the thread's scratch:
//   1. input transform  V = B^T d B of each tile, 4 channels per v128 (tmp[r][ξ][c], r = tile 0..3);
//   2. for each of the a² positions ξ: interleave the 4 tiles' V_ξ rows into a GEMM A panel
//      (assembly/gemm.ts layout) and multiply by the transformed filter U_ξ [C x Np], packed as
//      8-column panels by the glue (src/kernels/wasm/winograd.ts): M_ξ [4 tiles x Np] (W2);
//   3. output transform Y = A^T M A (+ bias) per tile, 4 output channels per v128, into the
//      output pixels that lie inside the image.
// Input tile (ty, tx) starts at source pixel (ty*m + offY, tx*m + offX); source pixels outside
// [0, H) x [0, W) read zero (so padding needs no copy). The forward has off = -pad; dX (a stride-1
// 3x3 convolution of dy with the rotated, transposed filter) has off = pad - 2.

import { tile4x8, interleave4 } from './gemm';
import { prm, WG_SRC, WG_H, WG_W, WG_C, WG_N, WG_TILESH, WG_TILESW, WG_OFFY, WG_OFFX, WG_OUTH, WG_OUTW, WG_OUTC, WG_NP, WG_U, WG_OUT, WG_BIAS, WG_ZERO, WG_SCRATCH, WG_SCRATCHSTRIDE, WG_M } from './abi';
import { WF_W, WF_K, WF_N, WF_NP, WF_U, WF_M, WF_TAPSTRIDE, WF_KSTRIDE, WF_NSTRIDE, WF_ROTATE } from './abi';

/** Bytes of scratch per thread (the glue computes the same: winogradScratch in src/kernels/wasm/winograd.ts). */
//   addr: 64 x u32 (256 B) | t: 64 x v128 (1 KiB) | tmp: 4 x a² x C4 floats | A: C x 4 floats | M: a² x 4 x Np floats

// 1-D transforms on v128 lanes, each reading `a` values at s + i*ss and writing at d + i*ds.

/** B^T x for F(2,3): (x0 - x2, x1 + x2, x2 - x1, x1 - x3). */
@inline function bt4(s0: usize, s1: usize, s2: usize, s3: usize, d: usize, ds: usize): void {
  const x0 = v128.load(s0), x1 = v128.load(s1), x2 = v128.load(s2), x3 = v128.load(s3);
  v128.store(d, f32x4.sub(x0, x2));
  v128.store(d + ds, f32x4.add(x1, x2));
  v128.store(d + 2 * ds, f32x4.sub(x2, x1));
  v128.store(d + 3 * ds, f32x4.sub(x1, x3));
}

/** B^T x for F(4,3) (rows of F4.BT), with the shared sums taken once. */
@inline function bt6(s0: usize, s1: usize, s2: usize, s3: usize, s4: usize, s5: usize, d: usize, ds: usize): void {
  const x0 = v128.load(s0), x1 = v128.load(s1), x2 = v128.load(s2), x3 = v128.load(s3), x4 = v128.load(s4), x5 = v128.load(s5);
  const four = f32x4.splat(4), five = f32x4.splat(5), two = f32x4.splat(2);
  v128.store(d, f32x4.add(f32x4.sub(f32x4.mul(four, x0), f32x4.mul(five, x2)), x4)); // 4x0 - 5x2 + x4
  v128.store(d + ds, f32x4.sub(f32x4.add(x4, x3), f32x4.mul(four, f32x4.add(x1, x2)))); // -4x1 - 4x2 + x3 + x4
  v128.store(d + 2 * ds, f32x4.add(f32x4.sub(x4, x3), f32x4.mul(four, f32x4.sub(x1, x2)))); // 4x1 - 4x2 - x3 + x4
  const p = f32x4.sub(x4, x2), q = f32x4.mul(two, f32x4.sub(x3, x1));
  v128.store(d + 3 * ds, f32x4.add(p, q)); // -2x1 - x2 + 2x3 + x4
  v128.store(d + 4 * ds, f32x4.sub(p, q)); // 2x1 - x2 - 2x3 + x4
  v128.store(d + 5 * ds, f32x4.add(f32x4.sub(f32x4.mul(four, x1), f32x4.mul(five, x3)), x5)); // 4x1 - 5x3 + x5
}

/** A^T x for F(2,3): (x0 + x1 + x2, x1 - x2 - x3), as two v128 results. */
@inline function at4a(x0: v128, x1: v128, x2: v128): v128 {
  return f32x4.add(f32x4.add(x0, x1), x2);
}
@inline function at4b(x1: v128, x2: v128, x3: v128): v128 {
  return f32x4.sub(f32x4.sub(x1, x2), x3);
}

/** Input transform of one tile, channels [c, c+4) (byte offset co): addr holds the a² source pixel addresses. */
function inputTile(a: i32, addr: usize, co: usize, t: usize, dst: usize, ds: usize): void {
  if (a == 4) {
    // columns: t[i][j] = (B^T d)[i][j]
    for (let j = 0; j < 4; j++) {
      const s = addr + (<usize>j << 2);
      bt4(<usize>load<u32>(s) + co, <usize>load<u32>(s, 16) + co, <usize>load<u32>(s, 32) + co, <usize>load<u32>(s, 48) + co, t + (<usize>j << 4), 64);
    }
    // rows: V[i][j] = (t B)[i][j] = (B^T t[i]^T)[j]
    for (let i = 0; i < 4; i++) {
      const r = t + (<usize>i << 6);
      bt4(r, r + 16, r + 32, r + 48, dst + <usize>(i * 4) * ds, ds);
    }
  } else {
    for (let j = 0; j < 6; j++) {
      const s = addr + (<usize>j << 2);
      bt6(
        <usize>load<u32>(s) + co, <usize>load<u32>(s, 24) + co, <usize>load<u32>(s, 48) + co,
        <usize>load<u32>(s, 72) + co, <usize>load<u32>(s, 96) + co, <usize>load<u32>(s, 120) + co,
        t + (<usize>j << 4), 96,
      );
    }
    for (let i = 0; i < 6; i++) {
      const r = t + <usize>i * 96;
      bt6(r, r + 16, r + 32, r + 48, r + 64, r + 80, dst + <usize>(i * 6) * ds, ds);
    }
  }
}

/** Stores v (+ nothing else) to q: all 4 lanes, or the first n < 4 one by one. */
@inline function storeN(q: usize, v: v128, n: i32): void {
  if (n >= 4) {
    v128.store(q, v);
  } else {
    store<f32>(q, f32x4.extract_lane(v, 0));
    if (n > 1) store<f32>(q, f32x4.extract_lane(v, 1), 4);
    if (n > 2) store<f32>(q, f32x4.extract_lane(v, 2), 8);
  }
}

/**
 * Output transform of one tile, channels [o, o+n) (n <= 4): M_ξ at mBase + ξ * ms (bytes), the
 * tile's output pixel (k, l) at outP + (k * rowBytes + l * pixBytes), kept only if k < kMax, l < lMax.
 */
function outputTile(
  m: i32, mBase: usize, ms: usize, t: usize, biasV: v128,
  outP: usize, rowBytes: usize, pixBytes: usize, kMax: i32, lMax: i32, n: i32,
): void {
  if (m == 2) {
    // columns: t[k][j] = (A^T M)[k][j]
    for (let j = 0; j < 4; j++) {
      const s = mBase + <usize>j * ms;
      const x0 = v128.load(s), x1 = v128.load(s + 4 * ms), x2 = v128.load(s + 8 * ms), x3 = v128.load(s + 12 * ms);
      v128.store(t + (<usize>j << 4), at4a(x0, x1, x2));
      v128.store(t + (<usize>j << 4), at4b(x1, x2, x3), 64);
    }
    for (let k = 0; k < kMax; k++) {
      const r = t + (<usize>k << 6);
      const x0 = v128.load(r), x1 = v128.load(r, 16), x2 = v128.load(r, 32), x3 = v128.load(r, 48);
      const q = outP + <usize>k * rowBytes;
      storeN(q, f32x4.add(at4a(x0, x1, x2), biasV), n);
      if (lMax > 1) storeN(q + pixBytes, f32x4.add(at4b(x1, x2, x3), biasV), n);
    }
  } else {
    const two = f32x4.splat(2), four = f32x4.splat(4), eight = f32x4.splat(8);
    for (let j = 0; j < 6; j++) {
      const s = mBase + <usize>j * ms;
      const x0 = v128.load(s), x1 = v128.load(s + 6 * ms), x2 = v128.load(s + 12 * ms);
      const x3 = v128.load(s + 18 * ms), x4 = v128.load(s + 24 * ms), x5 = v128.load(s + 30 * ms);
      const p1 = f32x4.add(x1, x2), m1 = f32x4.sub(x1, x2), p3 = f32x4.add(x3, x4), m3 = f32x4.sub(x3, x4);
      const d = t + (<usize>j << 4);
      v128.store(d, f32x4.add(f32x4.add(x0, p1), p3));
      v128.store(d, f32x4.add(m1, f32x4.mul(two, m3)), 96);
      v128.store(d, f32x4.add(p1, f32x4.mul(four, p3)), 192);
      v128.store(d, f32x4.add(f32x4.add(m1, f32x4.mul(eight, m3)), x5), 288);
    }
    for (let k = 0; k < kMax; k++) {
      const r = t + <usize>k * 96;
      const x0 = v128.load(r), x1 = v128.load(r, 16), x2 = v128.load(r, 32), x3 = v128.load(r, 48), x4 = v128.load(r, 64), x5 = v128.load(r, 80);
      const p1 = f32x4.add(x1, x2), m1 = f32x4.sub(x1, x2), p3 = f32x4.add(x3, x4), m3 = f32x4.sub(x3, x4);
      const q = outP + <usize>k * rowBytes;
      storeN(q, f32x4.add(f32x4.add(f32x4.add(x0, p1), p3), biasV), n);
      if (lMax > 1) storeN(q + pixBytes, f32x4.add(f32x4.add(m1, f32x4.mul(two, m3)), biasV), n);
      if (lMax > 2) storeN(q + 2 * pixBytes, f32x4.add(f32x4.add(p1, f32x4.mul(four, p3)), biasV), n);
      if (lMax > 3) storeN(q + 3 * pixBytes, f32x4.add(f32x4.add(f32x4.add(m1, f32x4.mul(eight, m3)), x5), biasV), n);
    }
  }
}

/** Panels [u0, u1) of 4 output tiles each (see the top of this file). */
export function winogradConv(p: usize, u0: i32, u1: i32, tid: i32): void {
  const src = <usize>prm(p, WG_SRC), H = prm(p, WG_H), W = prm(p, WG_W), C = prm(p, WG_C), N = prm(p, WG_N);
  const tilesH = prm(p, WG_TILESH), tilesW = prm(p, WG_TILESW), offY = prm(p, WG_OFFY), offX = prm(p, WG_OFFX);
  const outH = prm(p, WG_OUTH), outW = prm(p, WG_OUTW), outC = prm(p, WG_OUTC), Np = prm(p, WG_NP);
  const U = <usize>prm(p, WG_U), out = <usize>prm(p, WG_OUT), bias = <usize>prm(p, WG_BIAS), zero = <usize>prm(p, WG_ZERO);
  const m = prm(p, WG_M);
  const a = m + 2;
  const aa = a * a;
  const C4 = (C + 3) & ~3;
  const scratch = <usize>prm(p, WG_SCRATCH) + <usize>tid * <usize>prm(p, WG_SCRATCHSTRIDE);
  const addr = scratch; // a² u32: the current tile's source pixel addresses (or `zero`)
  const t = scratch + 256; // a² v128: between the two passes of a transform
  const tmp = scratch + 1280; // 4 tiles x a² x C4 floats: V
  const vTile = <usize>(aa * C4) << 2; // bytes of one tile's V
  const vs = <usize>C4 << 2; // bytes between V_ξ and V_ξ+1 of a tile
  const A = tmp + 4 * vTile; // C x 4 floats: the GEMM A panel of one ξ
  const Mo = A + (<usize>C << 4); // a² x 4 x Np floats
  const rowNp = <usize>Np << 2;
  const panels = Np >> 3;
  const plane = tilesH * tilesW;
  const tiles = N * plane;
  const pixBytes = <usize>outC << 2;
  const rowBytes = <usize>outW * pixBytes;
  const srcPix = <usize>C << 2;
  for (let u = u0; u < u1; u++) {
    // 1. input transforms
    for (let r = 0; r < 4; r++) {
      const tile = u * 4 + r;
      const vt = tmp + <usize>r * vTile;
      if (tile >= tiles) {
        memory.fill(vt, 0, vTile);
        continue;
      }
      const b = tile / plane;
      const rem = tile - b * plane;
      const ty = rem / tilesW;
      const tx = rem - ty * tilesW;
      const y0 = ty * m + offY, x0 = tx * m + offX;
      for (let i = 0; i < a; i++) {
        const iy = y0 + i;
        for (let j = 0; j < a; j++) {
          const ix = x0 + j;
          const inside = iy >= 0 && iy < H && ix >= 0 && ix < W;
          store<u32>(addr + (<usize>(i * a + j) << 2), inside ? <u32>(src + <usize>((b * H + iy) * W + ix) * srcPix) : <u32>zero);
        }
      }
      for (let c = 0; c < C; c += 4) inputTile(a, addr, <usize>c << 2, t, vt + (<usize>c << 2), vs);
    }
    // 2. a² GEMMs: M_ξ[4 tiles, Np] = V_ξ[4 tiles, C] x U_ξ[C, Np]
    for (let xi = 0; xi < aa; xi++) {
      const vx = tmp + <usize>xi * vs;
      interleave4(A, vx, vx + vTile, vx + 2 * vTile, vx + 3 * vTile, C);
      const m0 = Mo + <usize>(xi * 4) * rowNp;
      const ux = U + (<usize>(xi * panels * C) << 5);
      for (let j = 0; j < panels; j++) {
        const co = <usize>j << 5;
        tile4x8(A, ux + (<usize>(j * C) << 5), 32, C, m0 + co, m0 + rowNp + co, m0 + 2 * rowNp + co, m0 + 3 * rowNp + co, 0, 0);
      }
    }
    // 3. output transforms
    for (let r = 0; r < 4; r++) {
      const tile = u * 4 + r;
      if (tile >= tiles) break;
      const b = tile / plane;
      const rem = tile - b * plane;
      const ty = rem / tilesW;
      const tx = rem - ty * tilesW;
      const oy = ty * m, ox = tx * m;
      const kMax = min(m, outH - oy), lMax = min(m, outW - ox);
      const outP = out + <usize>((b * outH + oy) * outW + ox) * pixBytes;
      const mBase = Mo + <usize>r * rowNp;
      for (let o = 0; o < outC; o += 4) {
        const biasV = bias != 0 ? v128.load(bias + (<usize>o << 2)) : f32x4.splat(0);
        outputTile(m, mBase + (<usize>o << 2), 4 * rowNp, t, biasV, outP + (<usize>o << 2), rowBytes, pixBytes, kMax, lMax, outC - o);
      }
    }
  }
}

/** Row i of G (F(2,3) for m = 2, F(4,3) for m = 4) times the column (g0, g1, g2), in float64. */
@inline function gRow(m: i32, i: i32, g0: f64, g1: f64, g2: f64): f64 {
  if (m == 2) {
    if (i == 0) return g0;
    if (i == 1) return (g0 + g1 + g2) * 0.5;
    if (i == 2) return (g0 - g1 + g2) * 0.5;
    return g2;
  }
  if (i == 0) return g0 * 0.25;
  if (i == 1) return -(g0 + g1 + g2) / 6;
  if (i == 2) return -(g0 - g1 + g2) / 6;
  if (i == 3) return g0 / 24 + g1 / 12 + g2 / 6;
  if (i == 4) return g0 / 24 - g1 / 12 + g2 / 6;
  return g2;
}

/**
 * Filter transform U = G g G^T (float64, one rounding to float32) of rows [k0, k1) of the GEMMs' B:
 * for each (k, n < N), g is the 3 x 3 filter at w + (tap * WF_TAPSTRIDE + k * WF_KSTRIDE +
 * n * WF_NSTRIDE) floats, tap = ky*3 + kx (8 - tap when WF_ROTATE: the 180-degree rotation of dX).
 * U_ξ is written as 8-column panels: U[((ξ * Np/8 + n/8) * K + k) * 8 + n % 8]; columns n >= N
 * are left as they are (the glue zeroes them).
 */
export function winogradFilter(p: usize, k0: i32, k1: i32, tid: i32): void {
  const w = <usize>prm(p, WF_W), K = prm(p, WF_K), N = prm(p, WF_N), Np = prm(p, WF_NP), U = <usize>prm(p, WF_U), m = prm(p, WF_M);
  const tapStride = prm(p, WF_TAPSTRIDE), kStride = prm(p, WF_KSTRIDE), nStride = prm(p, WF_NSTRIDE), rotate = prm(p, WF_ROTATE);
  const a = m + 2;
  const panels = Np >> 3;
  const xiStride = <usize>(panels * K) << 5; // bytes between U_ξ and U_ξ+1
  for (let k = k0; k < k1; k++) {
    for (let n = 0; n < N; n++) {
      const base = w + (<usize>(k * kStride + n * nStride) << 2);
      // g[r][c] = tap r*3 + c
      let g0: f64 = 0, g1: f64 = 0, g2: f64 = 0, g3: f64 = 0, g4: f64 = 0, g5: f64 = 0, g6: f64 = 0, g7: f64 = 0, g8: f64 = 0;
      for (let t = 0; t < 9; t++) {
        const v = <f64>load<f32>(base + (<usize>((rotate != 0 ? 8 - t : t) * tapStride) << 2));
        if (t == 0) g0 = v; else if (t == 1) g1 = v; else if (t == 2) g2 = v; else if (t == 3) g3 = v; else if (t == 4) g4 = v;
        else if (t == 5) g5 = v; else if (t == 6) g6 = v; else if (t == 7) g7 = v; else g8 = v;
      }
      const dst = U + (<usize>(((n >> 3) * K + k) * 8 + (n & 7)) << 2);
      for (let i = 0; i < a; i++) {
        // (G g)[i][c], c = 0..2
        const h0 = gRow(m, i, g0, g3, g6), h1 = gRow(m, i, g1, g4, g7), h2 = gRow(m, i, g2, g5, g8);
        for (let j = 0; j < a; j++) store<f32>(dst + <usize>(i * a + j) * xiStride, <f32>gRow(m, j, h0, h1, h2));
      }
    }
  }
}
