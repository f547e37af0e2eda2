// Convolution kernels on the implicit GEMM (no im2col is ever materialised).
//
// Forward and dX share one "gather GEMM": every output row is a pixel (b, gy, gx) of a row grid,
// every reduction step is a tap t with a run of C contiguous channels read from a source tensor
// at (gy * mulY + offY[t], gx * mulX + offX[t]) (zero outside the source), and the columns are
// the output channels:
//   forward: rows = output pixels, source = x (C = inC),  offY = ky*dilationH - padTop, mul = stride.
//   dX:      one GEMM per phase class (iy % strideH, ix % strideW): rows = the input pixels of the
//            class, source = dy (C = outC), taps = only the (ky, kx) that reach the class, mul = 1,
//            offY = (py + padTop - ky*dilationH) / strideH. Each dX pixel is written exactly once.
// dW = im2col(x)^T x dy reduces over the output pixels, one block of them per chunk.
//
// Parameters arrive as an i32 block in memory (the JS glue writes it once; threads share it), and
// the work range [r0, r1) lets several threads split one call.

import { tile4x8, tile6x8, interleave6 } from './gemm';
import { fma } from './simd';
// Parameter-block indices (G_*, F_*, S_*, D_*) and prm(): generated from src/kernels/wasm/abi.ts.
import { prm, G_SRC, G_SRCH, G_SRCW, G_C, G_N, G_GH, G_GW, G_MULY, G_MULX, G_T, G_TAPS, G_B, G_NP, G_OUT, G_OUTH, G_OUTW, G_OY0, G_OSY, G_OX0, G_OSX, G_BIAS, G_SCRATCH, G_SCRATCHSTRIDE, G_ZERO, G_TPB, GM_N, GM_LIST } from './abi';
import { F_X, F_HP, F_WP, F_C, F_N, F_HO, F_WO, F_SH, F_SW, F_T, F_TAPS, F_DY, F_COUT, F_NP, F_KC, F_DW, F_DWSTRIDE, F_SCRATCH, F_SCRATCHSTRIDE, F_KGROUPS, F_UCHUNK } from './abi';
import { S_X, S_HP, S_WP, S_C, S_N, S_HO, S_WO, S_SH, S_SW, S_DH, S_DW, S_KH, S_KW, S_B, S_NP, S_OUT, S_BIAS, S_SCRATCH, S_SCRATCHSTRIDE } from './abi';
import { D_DY, D_HO, D_WO, D_COUT, D_H, D_W, D_C, D_KH, D_KW, D_SH, D_SW, D_DH, D_DW, D_PT, D_PL, D_WGT, D_DX, D_SCRATCH, D_SCRATCHSTRIDE } from './abi';


/**
 * Row tiles [tile0, tile1) of a gather GEMM (GATHER_ROWS = 6 rows per tile, for tile6x8). Output
 * rows have Np floats (Np = columns rounded up to 8). Thread `tid` uses its own scratch area.
 *
 * The reduction is split into blocks of `tapsPerBlock` taps, so the slice of the packed B that a
 * block uses (tapsPerBlock * C rows x Np columns) stays in L2 while the chunk's tiles sweep it; the
 * first block starts from the bias (or zero), later ones accumulate into C.
 */
export function convGather(p: usize, tile0: i32, tile1: i32, tid: i32): void {
  const T = prm(p, G_T), C = prm(p, G_C);
  const tpb = max(1, prm(p, G_TPB));
  for (let t0 = 0; t0 < T || t0 == 0; t0 += tpb) {
    gatherBlock(p, tile0, tile1, tid, t0, min(T, t0 + tpb), t0 * C);
    if (T == 0) break;
  }
}

/**
 * Several gather GEMMs as one job (the phase classes of a strided dX): GM_LIST holds GM_N + 1 pairs
 * (parameter block, first unit), the last (0, total units); the job's units are the classes' tiles one
 * after the other, and a chunk may span classes.
 */
export function convGatherMulti(p: usize, u0: i32, u1: i32, tid: i32): void {
  const n = prm(p, GM_N);
  const list = <usize>prm(p, GM_LIST);
  for (let k = 0; k < n; k++) {
    const q = list + (<usize>k << 3);
    const start = load<i32>(q, 4), end = load<i32>(q, 12);
    const lo = max(u0, start), hi = min(u1, end);
    if (lo < hi) convGather(<usize>load<i32>(q), lo - start, hi - start, tid);
  }
}

function gatherBlock(p: usize, tile0: i32, tile1: i32, tid: i32, tBegin: i32, tEnd: i32, k0: i32): void {
  const src = <usize>prm(p, G_SRC), srcH = prm(p, G_SRCH), srcW = prm(p, G_SRCW), C = prm(p, G_C);
  const N = prm(p, G_N), GH = prm(p, G_GH), GW = prm(p, G_GW), mulY = prm(p, G_MULY), mulX = prm(p, G_MULX);
  const T = prm(p, G_T), taps = <usize>prm(p, G_TAPS), B = <usize>prm(p, G_B), Np = prm(p, G_NP);
  const out = <usize>prm(p, G_OUT), outH = prm(p, G_OUTH), outW = prm(p, G_OUTW);
  const oY0 = prm(p, G_OY0), oSY = prm(p, G_OSY), oX0 = prm(p, G_OX0), oSX = prm(p, G_OSX);
  const bias = <usize>prm(p, G_BIAS), zero = <usize>prm(p, G_ZERO);
  const scratch = <usize>prm(p, G_SCRATCH) + <usize>tid * <usize>prm(p, G_SCRATCHSTRIDE);
  const rows = scratch; // 6 x (b, sy0, sx0, unused) i32
  const srcs = scratch + 96; // 6 x usize: this tap's source row pointers
  const dummy = scratch + 128; // Np floats: where tail rows store
  const A = dummy + (<usize>Np << 2);
  const K = T * C;
  const kc = (tEnd - tBegin) * C;
  const plane = GH * GW;
  const M = N * plane;
  const panels = Np >> 3;
  const mode = k0 > 0 ? 2 : bias != 0 ? 1 : 0;
  const rowBytes = <usize>C << 2;
  for (let tile = tile0; tile < tile1; tile++) {
    let p0: usize = dummy, p1: usize = dummy, p2: usize = dummy, p3: usize = dummy, p4: usize = dummy, p5: usize = dummy;
    for (let r = 0; r < 6; r++) {
      const m = tile * 6 + r;
      const ri = rows + (<usize>r << 4);
      if (m < M) {
        const b = m / plane;
        const rem = m - b * plane;
        const gy = rem / GW;
        const gx = rem - gy * GW;
        store<i32>(ri, b);
        store<i32>(ri, gy * mulY, 4);
        store<i32>(ri, gx * mulX, 8);
        const o = out + ((<usize>((b * outH + oY0 + gy * oSY) * outW + oX0 + gx * oSX) * <usize>Np) << 2);
        if (r == 0) p0 = o; else if (r == 1) p1 = o; else if (r == 2) p2 = o; else if (r == 3) p3 = o; else if (r == 4) p4 = o; else p5 = o;
      } else {
        store<i32>(ri, -1);
      }
    }
    // Pack the A panel straight from the source image: for each tap, the 6 rows' channel runs
    // (a row whose source pixel lies outside the image reads the zero run).
    let a = A;
    for (let t = tBegin; t < tEnd; t++) {
      const offY = load<i32>(taps + (<usize>t << 3));
      const offX = load<i32>(taps + (<usize>t << 3), 4);
      for (let r = 0; r < 6; r++) {
        const ri = rows + (<usize>r << 4);
        const b = load<i32>(ri);
        const sy = load<i32>(ri, 4) + offY;
        const sx = load<i32>(ri, 8) + offX;
        let s = zero;
        if (b >= 0 && sy >= 0 && sy < srcH && sx >= 0 && sx < srcW) s = src + <usize>((b * srcH + sy) * srcW + sx) * rowBytes;
        store<usize>(srcs + (<usize>r << 2), s);
      }
      interleave6(a, load<usize>(srcs), load<usize>(srcs, 4), load<usize>(srcs, 8), load<usize>(srcs, 12), load<usize>(srcs, 16), load<usize>(srcs, 20), C);
      a += rowBytes * 6;
    }
    for (let j = 0; j < panels; j++) {
      const co = <usize>j << 5;
      tile6x8(A, B + (<usize>(j * K + k0) << 5), 32, kc, p0 + co, p1 + co, p2 + co, p3 + co, p4 + co, p5 + co, bias + co, mode);
    }
  }
}


/**
 * dW work units [u0, u1): unit u is block u / G of the reduction (output pixels [blk*KC, (blk+1)*KC))
 * for group u % G of dW's row tiles (G = F_KGROUPS; G > 1 lets threads share a reduction with few
 * blocks, such as a dense layer's). x is a zero-padded copy ([N, Hp, Wp, C]), so a tap's value for a
 * pixel is at pixel base + tap offset, without bounds checks; taps holds each tap's offset in floats
 * ((ky*dilationH*Wp + kx*dilationW) * C). Each chunk of F_UCHUNK units accumulates into its own dW
 * buffer (K rounded up to 4 rows of Np floats), summed by the caller in chunk order.
 */
export function convFilterGrad(p: usize, u0: i32, u1: i32, tid: i32): void {
  const x = <usize>prm(p, F_X), Hp = prm(p, F_HP), Wp = prm(p, F_WP), C = prm(p, F_C), N = prm(p, F_N);
  const Ho = prm(p, F_HO), Wo = prm(p, F_WO), sH = prm(p, F_SH), sW = prm(p, F_SW);
  const T = prm(p, F_T), taps = <usize>prm(p, F_TAPS), dy = <usize>prm(p, F_DY), Cout = prm(p, F_COUT), Np = prm(p, F_NP);
  const KC = prm(p, F_KC);
  // Each chunk of units [u0, u1) accumulates into its own dW buffer (by chunk, not by thread), and
  // the caller sums the buffers in chunk order: the result does not depend on which thread ran what.
  const dw = <usize>prm(p, F_DW) + <usize>(u0 / prm(p, F_UCHUNK)) * <usize>prm(p, F_DWSTRIDE);
  const scratch = <usize>prm(p, F_SCRATCH) + <usize>tid * <usize>prm(p, F_SCRATCHSTRIDE);
  const M = N * Ho * Wo;
  const K = T * C;
  const panels = Np >> 3;
  const pix = scratch; // KC x i32: the pixel's top-left tap, in bytes from x
  const A = pix + (<usize>KC << 4); // KC x 4 floats
  const Bp = A + (<usize>KC << 4); // panels x KC x 8 floats (when dy cannot be read in place)
  const inPlace = (Cout & 7) == 0;
  const rowStride = <usize>Np << 2;
  const G = max(1, prm(p, F_KGROUPS));
  const kTiles = (K + 3) >> 2;
  for (let u = u0; u < u1; u++) {
    const blk = u / G;
    const grp = u - blk * G;
    const kBegin = <i32>((<i64>grp * kTiles) / G) << 2;
    const kEnd = min(K, <i32>((<i64>(grp + 1) * kTiles) / G) << 2);
    const m0 = blk * KC;
    const mlen = min(KC, M - m0);
    if (mlen <= 0) break;
    if (kBegin >= kEnd) continue;
    // Pixel table for this block.
    let b = m0 / (Ho * Wo);
    let rem = m0 - b * Ho * Wo;
    let oy = rem / Wo;
    let ox = rem - oy * Wo;
    for (let i = 0; i < mlen; i++) {
      store<i32>(pix + (<usize>i << 2), ((b * Hp + oy * sH) * Wp + ox * sW) * C * 4);
      if (++ox == Wo) { ox = 0; if (++oy == Ho) { oy = 0; b++; } }
    }
    // B: the block's dy rows, as 8-column panels (or in place).
    let bBase: usize, bStride: usize, bPanel: usize;
    const dy0 = dy + ((<usize>m0 * <usize>Cout) << 2);
    if (inPlace) {
      bBase = dy0; bStride = <usize>Cout << 2; bPanel = 32;
    } else {
      bBase = Bp; bStride = 32; bPanel = <usize>mlen << 5;
      for (let j = 0; j < panels; j++) {
        const n0 = j << 3;
        const nn = min(8, Cout - n0);
        let d = Bp + <usize>j * bPanel;
        for (let i = 0; i < mlen; i++) {
          const s = dy0 + ((<usize>(i * Cout + n0)) << 2);
          for (let n = 0; n < 8; n++) store<f32>(d + (<usize>n << 2), n < nn ? load<f32>(s + (<usize>n << 2)) : 0);
          d += 32;
        }
      }
    }
    // Rows of dW in tiles of 4 (k = t * C + ic).
    for (let k0 = kBegin; k0 < kEnd; k0 += 4) {
      const t0 = k0 / C;
      const ic0 = k0 - t0 * C;
      if (ic0 + 4 <= C) {
        // The 4 rows are 4 consecutive channels of one tap: one v128 per pixel.
        const base = x + (<usize>(load<i32>(taps + (<usize>t0 << 2)) + ic0) << 2);
        let a = A;
        for (let i = 0; i < mlen; i++) {
          v128.store(a, v128.load(base + <usize>load<i32>(pix + (<usize>i << 2))));
          a += 16;
        }
      } else {
        // Rows straddle taps or run past K: one float at a time.
        for (let r = 0; r < 4; r++) {
          const k = k0 + r;
          let a = A + (<usize>r << 2);
          if (k >= K) {
            for (let i = 0; i < mlen; i++) { store<f32>(a, 0); a += 16; }
            continue;
          }
          const t = k / C;
          const base = x + (<usize>(load<i32>(taps + (<usize>t << 2)) + k - t * C) << 2);
          for (let i = 0; i < mlen; i++) {
            store<f32>(a, load<f32>(base + <usize>load<i32>(pix + (<usize>i << 2))));
            a += 16;
          }
        }
      }
      const c0 = dw + <usize>k0 * rowStride;
      for (let j = 0; j < panels; j++) {
        const co = c0 + (<usize>j << 5);
        tile4x8(A, bBase + <usize>j * bPanel, bStride, mlen, co, co + rowStride, co + 2 * rowStride, co + 3 * rowStride, 0, 2);
      }
    }
  }
}

/**
 * db[oc] = sum over M rows (of Cout floats) of dy[m, oc]. Rows are summed in blocks of 256 into
 * `tmp` before joining the total, which keeps float32 rounding small for large M.
 * db and tmp hold Cout rounded up to 4 floats.
 */
export function biasGrad(dy: usize, M: i32, Cout: i32, db: usize, tmp: usize): void {
  const C4 = (Cout + 3) & ~3;
  const bytes = <usize>C4 << 2;
  memory.fill(db, 0, bytes);
  for (let m0 = 0; m0 < M; m0 += 256) {
    const m1 = min(M, m0 + 256);
    memory.fill(tmp, 0, bytes);
    for (let m = m0; m < m1; m++) {
      const s = dy + ((<usize>(m * Cout)) << 2);
      let oc = 0;
      for (; oc + 4 <= Cout; oc += 4) {
        const d = tmp + (<usize>oc << 2);
        v128.store(d, f32x4.add(v128.load(d), v128.load(s + (<usize>oc << 2))));
      }
      for (; oc < Cout; oc++) {
        const d = tmp + (<usize>oc << 2);
        store<f32>(d, load<f32>(d) + load<f32>(s + (<usize>oc << 2)));
      }
    }
    addInto(db, tmp, C4);
  }
}

/** dst[i] += src[i] for n floats (n a multiple of 4): sums the threads' dW buffers. */
export function addInto(dst: usize, src: usize, n: i32): void {
  for (let i = 0; i < n; i += 4) {
    const o = <usize>i << 2;
    v128.store(dst + o, f32x4.add(v128.load(dst + o), v128.load(src + o)));
  }
}


/**
 * Forward for few input channels (Cin < 4, e.g. a first layer on grey or RGB images), from a
 * zero-padded copy of x ([N, Hp, Wp, C]), so packing needs no bounds checks. A tile is 6
 * neighbouring output pixels of one row (tile6x8): for Cin = 1 and stride 1 each tap's A-panel
 * column is one 16-byte and one 8-byte unaligned load. Tiles [tile0, tile1) of N * Ho * ceil(Wo / 6).
 */
export function convSmallC(p: usize, tile0: i32, tile1: i32, tid: i32): void {
  const x = <usize>prm(p, S_X), Hp = prm(p, S_HP), Wp = prm(p, S_WP), C = prm(p, S_C);
  const Ho = prm(p, S_HO), Wo = prm(p, S_WO), sH = prm(p, S_SH), sW = prm(p, S_SW);
  const dH = prm(p, S_DH), dW = prm(p, S_DW), kH = prm(p, S_KH), kW = prm(p, S_KW);
  const B = <usize>prm(p, S_B), Np = prm(p, S_NP), out = <usize>prm(p, S_OUT), bias = <usize>prm(p, S_BIAS);
  const scratch = <usize>prm(p, S_SCRATCH) + <usize>tid * <usize>prm(p, S_SCRATCHSTRIDE);
  const dummy = scratch;
  const A = scratch + (<usize>Np << 2);
  const K = kH * kW * C;
  const tilesPerRow = (Wo + 5) / 6;
  const panels = Np >> 3;
  const mode = bias != 0 ? 1 : 0;
  const step = <usize>(sW * C) << 2; // bytes between neighbouring output pixels' taps
  const rowBytes = <usize>Np << 2;
  for (let tile = tile0; tile < tile1; tile++) {
    const row = tile / tilesPerRow; // b * Ho + oy
    const ox0 = (tile - row * tilesPerRow) * 6;
    const b = row / Ho;
    const oy = row - b * Ho;
    const o = out + <usize>(row * Wo + ox0) * rowBytes;
    const valid = Wo - ox0;
    const p0 = o;
    const p1 = valid > 1 ? o + rowBytes : dummy;
    const p2 = valid > 2 ? o + 2 * rowBytes : dummy;
    const p3 = valid > 3 ? o + 3 * rowBytes : dummy;
    const p4 = valid > 4 ? o + 4 * rowBytes : dummy;
    const p5 = valid > 5 ? o + 5 * rowBytes : dummy;
    let a = A;
    for (let ky = 0; ky < kH; ky++) {
      const rowBase = x + ((<usize>((b * Hp + oy * sH + ky * dH) * Wp + ox0 * sW) * <usize>C) << 2);
      for (let kx = 0; kx < kW; kx++) {
        let s = rowBase + ((<usize>(kx * dW * C)) << 2);
        if (step == 4) {
          for (let ic = 0; ic < C; ic++) {
            v128.store(a, v128.load(s));
            store<u64>(a, load<u64>(s, 16), 16);
            a += 24; s += 4;
          }
        } else {
          for (let ic = 0; ic < C; ic++) {
            store<f32>(a, load<f32>(s));
            store<f32>(a, load<f32>(s + step), 4);
            store<f32>(a, load<f32>(s + 2 * step), 8);
            store<f32>(a, load<f32>(s + 3 * step), 12);
            store<f32>(a, load<f32>(s + 4 * step), 16);
            store<f32>(a, load<f32>(s + 5 * step), 20);
            a += 24; s += 4;
          }
        }
      }
    }
    for (let j = 0; j < panels; j++) {
      const co = <usize>j << 5;
      tile6x8(A, B + <usize>(j * K) * 32, 32, K, p0 + co, p1 + co, p2 + co, p3 + co, p4 + co, p5 + co, bias + co, mode);
    }
  }
}


/**
 * dX for few input channels (Cin < 4), where a GEMM over Cin columns would waste most of each
 * 8-wide tile: for each input pixel and channel, dot products over oc of dy[b, oy, ox, :] and
 * w[ky, kx, ic, :] (both contiguous in oc) for the taps that reach the pixel. Pixels [m0, m1) of
 * N*H*W. The reaching taps of a pixel are listed once (scratch: (ky, oy) and (kx, ox) pairs).
 */
export function convDxSmallC(p: usize, m0: i32, m1: i32, tid: i32): void {
  const dy = <usize>prm(p, D_DY), Ho = prm(p, D_HO), Wo = prm(p, D_WO), Cout = prm(p, D_COUT);
  const H = prm(p, D_H), W = prm(p, D_W), C = prm(p, D_C), kH = prm(p, D_KH), kW = prm(p, D_KW);
  const sH = prm(p, D_SH), sW = prm(p, D_SW), dH = prm(p, D_DH), dW = prm(p, D_DW), pT = prm(p, D_PT), pL = prm(p, D_PL);
  const w = <usize>prm(p, D_WGT), dx = <usize>prm(p, D_DX);
  const ys = <usize>prm(p, D_SCRATCH) + <usize>tid * <usize>prm(p, D_SCRATCHSTRIDE); // kH x (ky, oy)
  const xs = ys + (<usize>kH << 3); // kW x (kx, ox)
  const ocBytes = <usize>Cout << 2;
  for (let m = m0; m < m1; m++) {
    const b = m / (H * W);
    const rem = m - b * H * W;
    const iy = rem / W;
    const ix = rem - iy * W;
    let ny = 0, nx = 0;
    for (let ky = 0; ky < kH; ky++) {
      const ty = iy + pT - ky * dH;
      if (ty < 0) break;
      const oy = sH == 1 ? ty : ty / sH;
      if (oy * sH != ty || oy >= Ho) continue;
      store<i32>(ys + (<usize>ny << 3), ky);
      store<i32>(ys + (<usize>ny << 3), oy, 4);
      ny++;
    }
    for (let kx = 0; kx < kW; kx++) {
      const tx = ix + pL - kx * dW;
      if (tx < 0) break;
      const ox = sW == 1 ? tx : tx / sW;
      if (ox * sW != tx || ox >= Wo) continue;
      store<i32>(xs + (<usize>nx << 3), kx);
      store<i32>(xs + (<usize>nx << 3), ox, 4);
      nx++;
    }
    // Four neighbouring pixels of a row reached by the same taps (stride 1 in x, away from the
    // edges): their dy reads are neighbours too, and one w load serves 4 pixels x 2 vectors of
    // 8 independent accumulators (the single-pixel loop below is bound by its 2 FMA chains).
    if (sW == 1 && ix + 3 < W && m + 3 < m1 && nx > 0 && sameTaps(ix + 3, pL, dW, kW, Wo, nx, load<i32>(xs))) {
      quadDx(dy, w, dx, ys, xs, ny, nx, b, Ho, Wo, Cout, C, kW, m);
      m += 3;
      continue;
    }
    for (let ic = 0; ic < C; ic++) {
      let acc0 = f32x4.splat(0), acc1 = f32x4.splat(0);
      let tail: f32 = 0;
      for (let i = 0; i < ny; i++) {
        const ky = load<i32>(ys + (<usize>i << 3));
        const oy = load<i32>(ys + (<usize>i << 3), 4);
        for (let j = 0; j < nx; j++) {
          const kx = load<i32>(xs + (<usize>j << 3));
          const ox = load<i32>(xs + (<usize>j << 3), 4);
          let g = dy + <usize>((b * Ho + oy) * Wo + ox) * ocBytes;
          let f = w + <usize>((ky * kW + kx) * C + ic) * ocBytes;
          let oc = 0;
          for (; oc + 8 <= Cout; oc += 8) {
            acc0 = fma(v128.load(g), v128.load(f), acc0);
            acc1 = fma(v128.load(g, 16), v128.load(f, 16), acc1);
            g += 32; f += 32;
          }
          for (; oc < Cout; oc++) {
            tail += load<f32>(g) * load<f32>(f);
            g += 4; f += 4;
          }
        }
      }
      const s = f32x4.add(acc0, acc1);
      const sum = f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) + f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3) + tail;
      store<f32>(dx + (<usize>(m * C + ic) << 2), sum);
    }
  }
}

/** Whether pixel column ix is reached by exactly `nx` x-taps starting at kx = kx0 (dX, stride 1). */
function sameTaps(ix: i32, pL: i32, dW: i32, kW: i32, Wo: i32, nx: i32, kx0: i32): bool {
  let n = 0, first = -1;
  for (let kx = 0; kx < kW; kx++) {
    const ox = ix + pL - kx * dW;
    if (ox < 0) break;
    if (ox >= Wo) continue;
    if (first < 0) first = kx;
    n++;
  }
  return n == nx && first == kx0;
}

/** convDxSmallC for pixels m .. m+3 of one row, which share their taps (see sameTaps). */
function quadDx(dy: usize, w: usize, dx: usize, ys: usize, xs: usize, ny: i32, nx: i32, b: i32, Ho: i32, Wo: i32, Cout: i32, C: i32, kW: i32, m: i32): void {
  const ocBytes = <usize>Cout << 2;
  for (let ic = 0; ic < C; ic++) {
    let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a10 = f32x4.splat(0), a11 = f32x4.splat(0);
    let a20 = f32x4.splat(0), a21 = f32x4.splat(0), a30 = f32x4.splat(0), a31 = f32x4.splat(0);
    let t0: f32 = 0, t1: f32 = 0, t2: f32 = 0, t3: f32 = 0;
    for (let i = 0; i < ny; i++) {
      const ky = load<i32>(ys + (<usize>i << 3));
      const oy = load<i32>(ys + (<usize>i << 3), 4);
      for (let j = 0; j < nx; j++) {
        const kx = load<i32>(xs + (<usize>j << 3));
        const ox = load<i32>(xs + (<usize>j << 3), 4);
        // pixel q reads dy at ox + q: ox here is pixel 0's
        let g = dy + <usize>((b * Ho + oy) * Wo + ox) * ocBytes;
        let f = w + <usize>((ky * kW + kx) * C + ic) * ocBytes;
        let oc = 0;
        for (; oc + 8 <= Cout; oc += 8) {
          const f0 = v128.load(f), f1 = v128.load(f, 16);
          a00 = fma(v128.load(g), f0, a00); a01 = fma(v128.load(g, 16), f1, a01);
          const g1 = g + ocBytes;
          a10 = fma(v128.load(g1), f0, a10); a11 = fma(v128.load(g1, 16), f1, a11);
          const g2 = g1 + ocBytes;
          a20 = fma(v128.load(g2), f0, a20); a21 = fma(v128.load(g2, 16), f1, a21);
          const g3 = g2 + ocBytes;
          a30 = fma(v128.load(g3), f0, a30); a31 = fma(v128.load(g3, 16), f1, a31);
          g += 32; f += 32;
        }
        for (; oc < Cout; oc++) {
          const fv = load<f32>(f);
          t0 += load<f32>(g) * fv;
          t1 += load<f32>(g + ocBytes) * fv;
          t2 += load<f32>(g + 2 * ocBytes) * fv;
          t3 += load<f32>(g + 3 * ocBytes) * fv;
          g += 4; f += 4;
        }
      }
    }
    const o = dx + (<usize>(m * C + ic) << 2);
    const cB = <usize>C << 2;
    store<f32>(o, hsum(f32x4.add(a00, a01)) + t0);
    store<f32>(o + cB, hsum(f32x4.add(a10, a11)) + t1);
    store<f32>(o + 2 * cB, hsum(f32x4.add(a20, a21)) + t2);
    store<f32>(o + 3 * cB, hsum(f32x4.add(a30, a31)) + t3);
  }
}

@inline function hsum(s: v128): f32 {
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) + f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3);
}
