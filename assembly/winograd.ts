// Winograd convolution F(m x m, r x r), stride 1, dilation 1: F(2x2, 3x3) (a = 4), F(4x4, 3x3) and
// F(2x2, 5x5) (a = m + r - 1 = 6; both on points 0, ±1, ±2, ∞, so they share B^T: only G, A^T differ).
// The algorithm and its matrices: src/kernels/reference/winograd.ts (equations (W1), (W2)).
//
// Work unit: a panel of 6 output tiles (TILES) (tiles numbered (b, ty, tx) over [N, tilesH, tilesW]).
// For each panel, all in the thread's scratch:
//   1. input transform V = B^T d B of each tile, 4 channels per v128, transposed into one GEMM A
//      panel per position ξ of the a x a tile (assembly/gemm.ts layout: [C][6 tiles], tile6x8);
//   2. for each 8-column panel of output channels: the a² GEMMs M_ξ [6 tiles x 8] = V_ξ x U_ξ
//      (W2), U_ξ [C x Np] the transformed filter as 8-column panels (winogradFilter below), then
//      the output transform Y = A^T M A (+ bias) of each tile, 4 channels per v128, into the output
//      pixels that lie inside the image.
// Input tile (ty, tx) starts at source pixel (ty*m + offY, tx*m + offX); source pixels outside
// [0, H) x [0, W) read zero (so padding needs no copy). The forward has off = -pad; dX (a stride-1
// r x r convolution of dy with the rotated, transposed filter) has off = pad - (r - 1).

import { interleave6x4, tile6x8 } from './gemm';

/** Output tiles per work unit: the rows of one tile6x8 GEMM (12 accumulators; docs/wasm.md). */
const TILES = 6;
import { prm, WG_SRC, WG_H, WG_W, WG_C, WG_N, WG_TILESH, WG_TILESW, WG_OFFY, WG_OFFX, WG_OUTH, WG_OUTW, WG_OUTC, WG_NP, WG_U, WG_OUT, WG_BIAS, WG_ZERO, WG_SCRATCH, WG_SCRATCHSTRIDE, WG_M, WG_R } from './abi';
import { WF_W, WF_K, WF_N, WF_NP, WF_U, WF_M, WF_TAPSTRIDE, WF_KSTRIDE, WF_NSTRIDE, WF_ROTATE, WF_SCRATCH, WF_SCRATCHSTRIDE, WF_R } from './abi';

// Scratch per thread, in bytes (the glue sizes it: winogradScratch in src/kernels/wasm/winograd.ts):
//   addr 6 x a² u32 at 0 | t a² + 8 v128 at 1536 | vt a² x 6 v128 at 2688 | Av a² x C4 x 24 | Mo a² x 6 x 32

// 1-D transforms on v128 lanes, each reading `a` values at s + i*ss and writing at d + i*ds.

/** B^T x for F(2,3): (x0 - x2, x1 + x2, x2 - x1, x1 - x3). */
@inline function bt4(s0: usize, s1: usize, s2: usize, s3: usize, d: usize, ds: usize): void {
  const x0 = v128.load(s0), x1 = v128.load(s1), x2 = v128.load(s2), x3 = v128.load(s3);
  v128.store(d, f32x4.sub(x0, x2));
  v128.store(d + ds, f32x4.add(x1, x2));
  v128.store(d + 2 * ds, f32x4.sub(x2, x1));
  v128.store(d + 3 * ds, f32x4.sub(x1, x3));
}

/** B^T x for F(4,3) and F(2,5) (rows of F4.BT), with the shared sums taken once. */
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

/** B^T x for F(4,5) (rows of F45.BT: points 0, ±1, ±2, ±1/2, ∞), even and odd parts taken once. */
function bt8(s: usize, ss: usize, d: usize, ds: usize): void {
  const x0 = v128.load(s), x1 = v128.load(s + ss), x2 = v128.load(s + 2 * ss), x3 = v128.load(s + 3 * ss);
  const x4 = v128.load(s + 4 * ss), x5 = v128.load(s + 5 * ss), x6 = v128.load(s + 6 * ss), x7 = v128.load(s + 7 * ss);
  const k525 = f32x4.splat(5.25), k425 = f32x4.splat(4.25), k125 = f32x4.splat(1.25), k25 = f32x4.splat(2.5);
  const half = f32x4.splat(0.5), quarter = f32x4.splat(0.25), two = f32x4.splat(2), four = f32x4.splat(4), five = f32x4.splat(5);
  v128.store(d, f32x4.add(f32x4.sub(x0, x6), f32x4.mul(k525, f32x4.sub(x4, x2))));
  let e = f32x4.sub(f32x4.add(x2, x6), f32x4.mul(k425, x4)), o = f32x4.sub(f32x4.add(x1, x5), f32x4.mul(k425, x3));
  v128.store(d + ds, f32x4.add(e, o));
  v128.store(d + 2 * ds, f32x4.sub(e, o));
  e = f32x4.add(f32x4.sub(f32x4.mul(quarter, x2), f32x4.mul(k125, x4)), x6);
  o = f32x4.add(f32x4.sub(f32x4.mul(half, x1), f32x4.mul(k25, x3)), f32x4.mul(two, x5));
  v128.store(d + 3 * ds, f32x4.add(e, o));
  v128.store(d + 4 * ds, f32x4.sub(e, o));
  e = f32x4.add(f32x4.sub(f32x4.mul(four, x2), f32x4.mul(five, x4)), x6);
  o = f32x4.add(f32x4.sub(f32x4.mul(two, x1), f32x4.mul(k25, x3)), f32x4.mul(half, x5));
  v128.store(d + 5 * ds, f32x4.add(e, o));
  v128.store(d + 6 * ds, f32x4.sub(e, o));
  v128.store(d + 7 * ds, f32x4.add(f32x4.sub(x7, x1), f32x4.mul(k525, f32x4.sub(x3, x5))));
}

/** A^T x for F(4,5) (rows of F45.AT), the four results to d + k * ds. */
function at8(s: usize, ss: usize, d: usize, ds: usize): void {
  const x1 = v128.load(s + ss), x2 = v128.load(s + 2 * ss), x3 = v128.load(s + 3 * ss), x4 = v128.load(s + 4 * ss);
  const x5 = v128.load(s + 5 * ss), x6 = v128.load(s + 6 * ss);
  const p1 = f32x4.add(x1, x2), m1 = f32x4.sub(x1, x2), p2 = f32x4.add(x3, x4), m2 = f32x4.sub(x3, x4), p3 = f32x4.add(x5, x6), m3 = f32x4.sub(x5, x6);
  v128.store(d, f32x4.add(f32x4.add(v128.load(s), p1), f32x4.add(p2, p3)));
  v128.store(d + ds, f32x4.add(f32x4.add(m1, f32x4.mul(f32x4.splat(2), m2)), f32x4.mul(f32x4.splat(0.5), m3)));
  v128.store(d + 2 * ds, f32x4.add(f32x4.add(p1, f32x4.mul(f32x4.splat(4), p2)), f32x4.mul(f32x4.splat(0.25), p3)));
  v128.store(d + 3 * ds, f32x4.add(f32x4.add(f32x4.add(m1, f32x4.mul(f32x4.splat(8), m2)), f32x4.mul(f32x4.splat(0.125), m3)), v128.load(s + 7 * ss)));
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
  if (a == 8) {
    // columns from the source pixels (through an a-float column copy: bt8 reads at a stride), then rows
    for (let j = 0; j < 8; j++) {
      const s = addr + (<usize>j << 2);
      const c = t + 1024; // 8 v128 past t (a² v128)
      for (let i = 0; i < 8; i++) v128.store(c + (<usize>i << 4), v128.load(<usize>load<u32>(s + (<usize>i << 5)) + co));
      bt8(c, 16, t + (<usize>j << 4), 128);
    }
    for (let i = 0; i < 8; i++) bt8(t + (<usize>i << 7), 16, dst + <usize>(i * 8) * ds, ds);
  } else if (a == 4) {
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
 * a = 6 with m = 2 is F(2,5): A^T is F(4,3)'s first two rows, the second with the point ∞ (+ x5).
 */
function outputTile(
  m: i32, a: i32, mBase: usize, ms: usize, t: usize, biasV: v128,
  outP: usize, rowBytes: usize, pixBytes: usize, kMax: i32, lMax: i32, n: i32,
): void {
  if (a == 8) {
    // columns: t[k][j] = (A^T M)[k][j]; rows: Y[k] = A^T t[k]^T, through 4 v128 at t + 1024
    for (let j = 0; j < 8; j++) at8(mBase + <usize>j * ms, 8 * ms, t + (<usize>j << 4), 128);
    const y = t + 1024;
    for (let k = 0; k < kMax; k++) {
      at8(t + (<usize>k << 7), 16, y, 16);
      const q = outP + <usize>k * rowBytes;
      for (let l = 0; l < lMax; l++) storeN(q + <usize>l * pixBytes, f32x4.add(v128.load(y + (<usize>l << 4)), biasV), n);
    }
  } else if (a == 4) {
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
      const r1 = f32x4.add(m1, f32x4.mul(two, m3));
      v128.store(d, m == 2 ? f32x4.add(r1, x5) : r1, 96);
      if (m == 4) {
        v128.store(d, f32x4.add(p1, f32x4.mul(four, p3)), 192);
        v128.store(d, f32x4.add(f32x4.add(m1, f32x4.mul(eight, m3)), x5), 288);
      }
    }
    for (let k = 0; k < kMax; k++) {
      const r = t + <usize>k * 96;
      const x0 = v128.load(r), x1 = v128.load(r, 16), x2 = v128.load(r, 32), x3 = v128.load(r, 48), x4 = v128.load(r, 64), x5 = v128.load(r, 80);
      const p1 = f32x4.add(x1, x2), m1 = f32x4.sub(x1, x2), p3 = f32x4.add(x3, x4), m3 = f32x4.sub(x3, x4);
      const q = outP + <usize>k * rowBytes;
      storeN(q, f32x4.add(f32x4.add(f32x4.add(x0, p1), p3), biasV), n);
      const r1 = f32x4.add(m1, f32x4.mul(two, m3));
      if (lMax > 1) storeN(q + pixBytes, f32x4.add(m == 2 ? f32x4.add(r1, x5) : r1, biasV), n);
      if (lMax > 2) storeN(q + 2 * pixBytes, f32x4.add(f32x4.add(p1, f32x4.mul(four, p3)), biasV), n);
      if (lMax > 3) storeN(q + 3 * pixBytes, f32x4.add(f32x4.add(f32x4.add(m1, f32x4.mul(eight, m3)), x5), biasV), n);
    }
  }
}

/** The a² source pixel addresses of tile `tile` (or `zero` outside the image) into addr. */
@inline function tileAddresses(
  addr: usize, tile: i32, plane: i32, tilesW: i32, m: i32, a: i32, offY: i32, offX: i32,
  src: usize, H: i32, W: i32, srcPix: usize, zero: usize,
): void {
  const b = tile / plane;
  const rem = tile - b * plane;
  const ty = rem / tilesW;
  const tx = rem - ty * tilesW;
  const y0 = ty * m + offY, x0 = tx * m + offX;
  for (let i = 0; i < a; i++) {
    const iy = y0 + i;
    const rowOk = iy >= 0 && iy < H;
    for (let j = 0; j < a; j++) {
      const ix = x0 + j;
      store<u32>(addr + (<usize>(i * a + j) << 2), rowOk && ix >= 0 && ix < W ? <u32>(src + <usize>((b * H + iy) * W + ix) * srcPix) : <u32>zero);
    }
  }
}

/**
 * Panels [u0, u1) of 6 output tiles each (see the top of this file). Per panel:
 *   1. for each group of 4 channels: the 6 tiles' input transforms (vt[ξ][tile], 4 channels per
 *      v128), transposed into the GEMM A panels Av_ξ[k][tile] (K = C rows of 4 floats);
 *   2. for each 8-column panel j of the output channels: the a² GEMMs M_ξ[6 tiles x 8] =
 *      Av_ξ x U_ξ[:, 8j..8j+8), then the output transforms of those 8 channels.
 */
export function winogradConv(p: usize, u0: i32, u1: i32, tid: i32): void {
  const src = <usize>prm(p, WG_SRC), H = prm(p, WG_H), W = prm(p, WG_W), C = prm(p, WG_C), N = prm(p, WG_N);
  const tilesH = prm(p, WG_TILESH), tilesW = prm(p, WG_TILESW), offY = prm(p, WG_OFFY), offX = prm(p, WG_OFFX);
  const outH = prm(p, WG_OUTH), outW = prm(p, WG_OUTW), outC = prm(p, WG_OUTC), Np = prm(p, WG_NP);
  const U = <usize>prm(p, WG_U), out = <usize>prm(p, WG_OUT), bias = <usize>prm(p, WG_BIAS), zero = <usize>prm(p, WG_ZERO);
  const m = prm(p, WG_M);
  const a = m + prm(p, WG_R) - 1;
  const aa = a * a;
  const C4 = (C + 3) & ~3;
  const scratch = <usize>prm(p, WG_SCRATCH) + <usize>tid * <usize>prm(p, WG_SCRATCHSTRIDE);
  const addr = scratch; // TILES x a² u32: the tiles' source pixel addresses (or `zero`)
  const t = scratch + 1536; // a² v128 + 8 v128: between the two passes of a transform
  const vt = scratch + 2688; // a² x TILES v128: one channel group's transformed tiles
  const Av = vt + <usize>aa * 96; // a² x C4 x TILES floats: the GEMMs' A panels
  const avs = <usize>C4 * 24; // bytes between Av_ξ and Av_ξ+1
  const Mo = Av + <usize>aa * avs; // a² x TILES x 8 floats: one column panel's M
  const panels = Np >> 3;
  const plane = tilesH * tilesW;
  const tiles = N * plane;
  const pixBytes = <usize>outC << 2;
  const rowBytes = <usize>outW * pixBytes;
  const srcPix = <usize>C << 2;
  const uPanel = <usize>C << 5; // bytes of one 8-column panel of U_ξ
  for (let u = u0; u < u1; u++) {
    // 1. input transforms into the A panels
    const live = min(TILES, tiles - u * TILES);
    for (let r = 0; r < TILES; r++) {
      if (r < live) {
        tileAddresses(addr + (<usize>r * <usize>aa << 2), u * TILES + r, plane, tilesW, m, a, offY, offX, src, H, W, srcPix, zero);
      } else {
        for (let e = 0; e < aa; e++) store<u32>(addr + (<usize>(r * aa + e) << 2), <u32>zero);
      }
    }
    for (let c = 0; c < C; c += 4) {
      const co = <usize>c << 2;
      for (let r = 0; r < TILES; r++) inputTile(a, addr + (<usize>r * <usize>aa << 2), co, t, vt + (<usize>r << 4), 96);
      // A panel rows: channel k of the 6 tiles at Av_ξ + 24 k (gemm.ts interleave6x4, one 4-channel group)
      for (let xi = 0; xi < aa; xi++) {
        const v = vt + <usize>xi * 96;
        interleave6x4(Av + <usize>xi * avs + <usize>c * 24, v, v + 16, v + 32, v + 48, v + 64, v + 80);
      }
    }
    // 2. per column panel: a² GEMMs, then the output transforms of its 8 channels
    for (let j = 0; j < panels; j++) {
      for (let xi = 0; xi < aa; xi++) {
        const mx = Mo + <usize>xi * 192;
        tile6x8(Av + <usize>xi * avs, U + <usize>(xi * panels + j) * uPanel, 32, C, mx, mx + 32, mx + 64, mx + 96, mx + 128, mx + 160, 0, 0);
      }
      const o0 = j << 3;
      for (let r = 0; r < live; r++) {
        const tile = u * TILES + r;
        const b = tile / plane;
        const rem = tile - b * plane;
        const ty = rem / tilesW;
        const tx = rem - ty * tilesW;
        const oy = ty * m, ox = tx * m;
        const kMax = min(m, outH - oy), lMax = min(m, outW - ox);
        const outP = out + <usize>((b * outH + oy) * outW + ox) * pixBytes;
        for (let o = o0; o < min(outC, o0 + 8); o += 4) {
          const biasV = bias != 0 ? v128.load(bias + (<usize>o << 2)) : f32x4.splat(0);
          outputTile(m, a, Mo + (<usize>r << 5) + (<usize>(o - o0) << 2), 192, t, biasV, outP + (<usize>o << 2), rowBytes, pixBytes, kMax, lMax, outC - o);
        }
      }
    }
  }
}

/**
 * y = G x for one column x of a filter, x_i at s + i * ss (float64): x = (x0, x1, x2) with G of F(2,3)
 * for m = 2, of F(4,3) for m = 4, or x = (x0, ..., x4) with G of F(2,5) for r = 5; in float64; y_i
 * is stored at d + i * ds, as float64 (`wide`) or rounded to float32.
 * 1/6, 1/12, 1/24 are float64 constants (a multiply is ~10x faster than a divide; the results
 * differ from dividing by at most the last bit of a float64, far below float32's rounding).
 */
function gColumn(m: i32, r: i32, s: usize, ss: usize, d: usize, ds: usize, wide: bool): void {
  const x0 = load<f64>(s), x1 = load<f64>(s + ss), x2 = load<f64>(s + 2 * ss);
  let y0: f64, y1: f64, y2: f64, y3: f64, y4: f64 = 0, y5: f64 = 0, y6: f64 = 0, y7: f64 = 0;
  if (r == 5 && m == 4) {
    // rows of F45.G, p = 0, 1, -1, 2, -2, 1/2, -1/2, ∞
    const x3 = load<f64>(s + 3 * ss), x4 = load<f64>(s + 4 * ss);
    const s9: f64 = 2.0 / 9.0, s90: f64 = 1.0 / 90.0, s45: f64 = 1.0 / 45.0;
    const e1 = x0 + x2 + x4, o1 = x1 + x3, e2 = x0 + 4 * x2 + 16 * x4, o2 = 2 * x1 + 8 * x3, e3 = 32 * x0 + 8 * x2 + 2 * x4, o3 = 16 * x1 + 4 * x3;
    y0 = x0;
    y1 = -(e1 + o1) * s9;
    y2 = -(e1 - o1) * s9;
    y3 = (e2 + o2) * s90;
    y4 = (e2 - o2) * s90;
    y5 = (e3 + o3) * s45;
    y6 = (e3 - o3) * s45;
    y7 = x4;
  } else if (r == 5) {
    // rows s_p (1, p, p², p³, p⁴) of F25.G, p = 0, 1, -1, 2, -2, ∞
    const x3 = load<f64>(s + 3 * ss), x4 = load<f64>(s + 4 * ss);
    const s6: f64 = 1.0 / 6.0, s24: f64 = 1.0 / 24.0;
    const e1 = x0 + x2 + x4, o1 = x1 + x3, e2 = x0 + 4 * x2 + 16 * x4, o2 = 2 * x1 + 8 * x3;
    y0 = x0 * 0.25;
    y1 = -(e1 + o1) * s6;
    y2 = -(e1 - o1) * s6;
    y3 = (e2 + o2) * s24;
    y4 = (e2 - o2) * s24;
    y5 = x4;
  } else if (m == 2) {
    y0 = x0;
    y1 = (x0 + x1 + x2) * 0.5;
    y2 = (x0 - x1 + x2) * 0.5;
    y3 = x2;
  } else {
    const s6: f64 = 1.0 / 6.0, s12: f64 = 1.0 / 12.0, s24: f64 = 1.0 / 24.0;
    const p = x0 + x2, q = x0 * s24 + x2 * s6, r = x1 * s12;
    y0 = x0 * 0.25;
    y1 = -(p + x1) * s6;
    y2 = -(p - x1) * s6;
    y3 = q + r;
    y4 = q - r;
    y5 = x2;
  }
  const a = m + r - 1;
  put(d, y0, wide); put(d + ds, y1, wide); put(d + 2 * ds, y2, wide); put(d + 3 * ds, y3, wide);
  if (a > 4) { put(d + 4 * ds, y4, wide); put(d + 5 * ds, y5, wide); }
  if (a > 6) { put(d + 6 * ds, y6, wide); put(d + 7 * ds, y7, wide); }
}

@inline function put(d: usize, v: f64, wide: bool): void {
  if (wide) store<f64>(d, v);
  else store<f32>(d, <f32>v);
}

/**
 * Filter transform U = G g G^T (float64, one rounding to float32) of rows [k0, k1) of the GEMMs' B:
 * for each (k, n < N), g is the r x r filter at w + (tap * WF_TAPSTRIDE + k * WF_KSTRIDE +
 * n * WF_NSTRIDE) floats, tap = ky*r + kx (r² - 1 - tap when WF_ROTATE: the 180-degree rotation of dX).
 * U_ξ is written as 8-column panels: U[((ξ * Np/8 + n/8) * K + k) * 8 + n % 8], zero for n >= N.
 */
export function winogradFilter(p: usize, k0: i32, k1: i32, tid: i32): void {
  const w = <usize>prm(p, WF_W), K = prm(p, WF_K), N = prm(p, WF_N), Np = prm(p, WF_NP), U = <usize>prm(p, WF_U), m = prm(p, WF_M);
  const tapStride = prm(p, WF_TAPSTRIDE), kStride = prm(p, WF_KSTRIDE), nStride = prm(p, WF_NSTRIDE), rotate = prm(p, WF_ROTATE);
  const r = prm(p, WF_R);
  const a = m + r - 1;
  const aa = a * a;
  const rr1 = r * r - 1;
  // g as float64 (r² at gg), then (G g): a x r float64 (at gg + 200, up to 320 bytes)
  const gg = <usize>prm(p, WF_SCRATCH) + <usize>tid * <usize>prm(p, WF_SCRATCHSTRIDE);
  const gt = gg + 200;
  // One row k of every U_ξ, [ξ][Np] floats, then copied out panel by panel: writing each (k, n)'s
  // a² values straight into U would store at a stride of a power of two (the size of U_ξ), where
  // the a² cache lines share one L1 set and evict each other (F(4,3) ran 7x slower than F(2,3)).
  const row = gg + 576;
  const rowStride = <usize>Np << 2;
  const panels = Np >> 3;
  const xiStride = <usize>(panels * K) << 5; // bytes between U_ξ and U_ξ+1
  for (let k = k0; k < k1; k++) {
    for (let n = 0; n < N; n++) {
      const g = w + (<usize>(k * kStride + n * nStride) << 2);
      for (let t = 0; t <= rr1; t++) store<f64>(gg + (<usize>t << 3), <f64>load<f32>(g + (<usize>((rotate != 0 ? rr1 - t : t) * tapStride) << 2)));
      // (G g)[i][c] for each column c of g (rows are ky)
      const rs = <usize>r << 3;
      for (let c = 0; c < r; c++) gColumn(m, r, gg + (<usize>c << 3), rs, gt + (<usize>c << 3), rs, true);
      // U[i][j] = (G (G g)[i]^T)[j]
      const dst = row + (<usize>n << 2);
      for (let i = 0; i < a; i++) gColumn(m, r, gt + <usize>i * rs, 8, dst + <usize>(i * a) * rowStride, rowStride, false);
    }
    for (let xi = 0; xi < aa; xi++) {
      const s = row + <usize>xi * rowStride;
      const d = U + <usize>xi * xiStride + (<usize>k << 5);
      for (let j = 0; j < panels; j++) {
        const sj = s + (<usize>j << 5), dj = d + <usize>(j * K) * 32;
        if ((j << 3) + 8 <= N) {
          v128.store(dj, v128.load(sj));
          v128.store(dj, v128.load(sj, 16), 16);
        } else {
          for (let n = j << 3; n < (j << 3) + 8; n++) store<f32>(dj + (<usize>(n & 7) << 2), n < N ? load<f32>(sj + (<usize>(n & 7) << 2)) : 0);
        }
      }
    }
  }
}

/**
 * 1 if the n floats at p are all finite, else 0 (an exponent of all ones is ±Infinity or NaN).
 * Winograd's transforms subtract neighbouring pixels, so an Infinity would turn outputs that do not
 * read it into NaN (Inf - Inf); the glue runs the direct kernel instead when an input is not finite.
 */
export function allFinite(p: usize, n: i32): i32 {
  const mask = i32x4.splat(0x7f800000);
  let bad = i32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) bad = v128.or(bad, i32x4.eq(v128.and(v128.load(p + (<usize>i << 2)), mask), mask));
  let tail = 0;
  for (; i < n; i++) if ((load<i32>(p + (<usize>i << 2)) & 0x7f800000) == 0x7f800000) tail = 1;
  return v128.any_true(bad) || tail != 0 ? 0 : 1;
}
