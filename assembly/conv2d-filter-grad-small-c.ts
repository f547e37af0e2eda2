// The filter gradient of conv2d for few input channels (Cin < 4, lenet's first layer: issue 11):
//
//   dW[ky, kx, ic, oc] = sum over (b, oy, ox) of x[b, oy*sH + ky*dH - pT, ox*sW + kx*dW - pL, ic] * dy[b, oy, ox, oc]
//   db[oc]             = sum over (b, oy, ox) of dy[b, oy, ox, oc]
//
// With Cin < 4 the reduction's other operand is tiny (one to three floats a pixel), so the register
// tile covers the taps directly: for one kernel row ky, the L = kW*Cin values j = kx*Cin + ic are
// contiguous in x (read from a zero-padded copy, or for a dilation in width from the glue's copy
// with each output column's L values side by side), and a tile is
//   acc[j][v] (+)= x[pixel, a0 + j] * dy[pixel, oc0 + 4v .. +3],   j < TW, v < 2
// i.e. TW = 5 consecutive rows of dW ([K][Np] floats, K = kH*L) by 8 output channels: 10 accumulators,
// 10 independent chains (the 4-cycle FMA latency at 2 a cycle needs 8 in flight). Per output pixel:
// one v128 load of x (values a0 .. a0+3) broadcast lane by lane by shuffles, a load32_splat for the
// fifth, and two v128 loads of dy (V8 issues a body's loads before its arithmetic, so accumulators and
// loaded values must stay <= 15 registers: one x load and shuffles, not five splats). The mul + add
// build uses the same tile: measured, it beat a 4-row one (8 accumulators, room for mul's temporary)
// by 1.5x on lenet's 5x5, where 4 rows cover a 5-value kernel row only as two overlapping tiles.
// A kernel row whose L is not a multiple of TW takes a last tile overlapping the one before (its
// recomputed rows are not stored); L < TW reads past the row (the glue leaves slack) and stores j < L.
// Output rows whose input row iy = oy*sH + ky*dH - pT lies in the padding are skipped for that ky.
//
// Threads: work unit u is the block of output rows [u*R, (u+1)*R) of the N*Ho rows; the block's dy is
// repacked into panels of 8 channels ([pixel][8] floats, zero past Cout), read by every tile. A chunk
// of units (FC_UCHUNK of them, a fixed split that does not depend on the thread count) accumulates
// into its own zeroed slot (dW as [K][Np], then db [Np]); the glue sums the slots in slot order, so
// the result is the same bits for any number of threads.

import { fma } from './simd';
import { prm, FC_X, FC_HP, FC_ROWBYTES, FC_COLBYTES, FC_H, FC_PT, FC_SH, FC_DH, FC_KH, FC_L, FC_HO, FC_WO } from './abi';
import { FC_DY, FC_COUT, FC_NP, FC_ROWS, FC_NROWS, FC_SLOTS, FC_SLOTSTRIDE, FC_UCHUNK, FC_SCRATCH, FC_SCRATCHSTRIDE } from './abi';
import { biasBlock, validHi, validLo } from './conv2d-filter-grad';

export function convFilterGradSmallC(p: usize, u0: i32, u1: i32, tid: i32): void {
  const x = <usize>prm(p, FC_X), Hp = prm(p, FC_HP), rowBytes = <usize>prm(p, FC_ROWBYTES), colBytes = <usize>prm(p, FC_COLBYTES);
  const H = prm(p, FC_H), pT = prm(p, FC_PT), sH = prm(p, FC_SH), dH = prm(p, FC_DH), kH = prm(p, FC_KH), L = prm(p, FC_L);
  const Ho = prm(p, FC_HO), Wo = prm(p, FC_WO), dy = <usize>prm(p, FC_DY), Cout = prm(p, FC_COUT), Np = prm(p, FC_NP);
  const R = prm(p, FC_ROWS), NR = prm(p, FC_NROWS);
  const slot = <usize>prm(p, FC_SLOTS) + <usize>(u0 / prm(p, FC_UCHUNK)) * <usize>prm(p, FC_SLOTSTRIDE);
  const scratch = <usize>prm(p, FC_SCRATCH) + <usize>tid * <usize>prm(p, FC_SCRATCHSTRIDE);
  const TW = 5;
  const npBytes = <usize>Np << 2;
  const panel = <usize>(R * Wo) << 5; // one 8-channel panel of a block's dy
  const db = slot + <usize>(kH * L) * npBytes;
  for (let u = u0; u < u1; u++) {
    const r0 = u * R;
    const r1 = min(NR, r0 + R);
    if (r0 >= r1) break;
    // dy in place when its pixels are whole 8-channel panels apart, else repacked.
    const inPlace = (Cout & 7) == 0;
    const dBase = inPlace ? dy + ((<usize>(r0 * Wo) * <usize>Cout) << 2) : scratch;
    const dStep: usize = inPlace ? <usize>Cout << 2 : 32;
    const dPanel = inPlace ? 32 : panel;
    if (!inPlace) packDy8(dy, r0 * Wo, r1 * Wo, Cout, Np, scratch, panel);
    biasBlock(dy, r0 * Wo, r1 * Wo, Cout, db, false);
    for (let ky = 0; ky < kH; ky++) {
      const off = ky * dH - pT;
      const oyLo = validLo(off, sH), oyHi = validHi(off, sH, H, Ho);
      if (oyHi <= oyLo) continue;
      for (let j = 0; j < L; j += TW) {
        // The tile's first value a0 and the rows it stores, [jLo, jHi).
        const a0 = L >= TW ? min(j, L - TW) : 0;
        const xk = x + <usize>(ky * dH) * rowBytes + (<usize>a0 << 2);
        const acc = slot + <usize>(ky * L + a0) * npBytes;
        for (let c = 0; c < Np; c += 8) {
          sweep(xk, rowBytes, colBytes, Hp, sH, dBase + <usize>(c >> 3) * dPanel, dStep, r0, r1, Ho, Wo, oyLo, oyHi, acc + (<usize>c << 2), npBytes, j - a0, min(TW, L - a0));
        }
      }
    }
  }
}

/**
 * One TW x 8 tile over the output rows [r0, r1) of a block: acc[j][0..7] += sum over the pixels of
 * rows with oy in [oyLo, oyHi) of x[pixel, j] * dy[pixel, 0..7], for the stored rows j in [jLo, jHi)
 * (rows `npBytes` apart). x is the tile's first value at pixel (0, 0, 0); dy the block's 8-channel panel.
 */
function sweep(
  x: usize, rowBytes: usize, colBytes: usize, Hp: i32, sH: i32, dy: usize, dStep: usize, r0: i32, r1: i32, Ho: i32, Wo: i32,
  oyLo: i32, oyHi: i32, acc: usize, npBytes: usize, jLo: i32, jHi: i32,
): void {
  let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a10 = f32x4.splat(0), a11 = f32x4.splat(0);
  let a20 = f32x4.splat(0), a21 = f32x4.splat(0), a30 = f32x4.splat(0), a31 = f32x4.splat(0);
  let a40 = f32x4.splat(0), a41 = f32x4.splat(0);
  let q = acc;
  if (jLo <= 0 && jHi > 0) { a00 = v128.load(q); a01 = v128.load(q, 16); } q += npBytes;
  if (jLo <= 1 && jHi > 1) { a10 = v128.load(q); a11 = v128.load(q, 16); } q += npBytes;
  if (jLo <= 2 && jHi > 2) { a20 = v128.load(q); a21 = v128.load(q, 16); } q += npBytes;
  if (jLo <= 3 && jHi > 3) { a30 = v128.load(q); a31 = v128.load(q, 16); } q += npBytes;
  if (jLo <= 4 && jHi > 4) { a40 = v128.load(q); a41 = v128.load(q, 16); }
  const dRow = <usize>Wo * dStep;
  let b = r0 / Ho;
  let oy = r0 - b * Ho;
  let dp = dy;
  for (let r = r0; r < r1; r++) {
    if (oy >= oyLo && oy < oyHi) {
      let xp = x + <usize>(b * Hp + oy * sH) * rowBytes;
      let d = dp;
      const dEnd = dp + dRow;
      do {
        const xv = v128.load(xp);
        const d0 = v128.load(d), d1 = v128.load(d, 16);
        let s = v128.shuffle<i32>(xv, xv, 0, 0, 0, 0);
        a00 = fma(s, d0, a00); a01 = fma(s, d1, a01);
        s = v128.shuffle<i32>(xv, xv, 1, 1, 1, 1);
        a10 = fma(s, d0, a10); a11 = fma(s, d1, a11);
        s = v128.shuffle<i32>(xv, xv, 2, 2, 2, 2);
        a20 = fma(s, d0, a20); a21 = fma(s, d1, a21);
        s = v128.shuffle<i32>(xv, xv, 3, 3, 3, 3);
        a30 = fma(s, d0, a30); a31 = fma(s, d1, a31);
        s = v128.load32_splat(xp, 16);
        a40 = fma(s, d0, a40); a41 = fma(s, d1, a41);
        xp += colBytes;
        d += dStep;
      } while (d < dEnd);
    }
    dp += dRow;
    if (++oy == Ho) { oy = 0; b++; }
  }
  q = acc;
  if (jLo <= 0 && jHi > 0) { v128.store(q, a00); v128.store(q, a01, 16); } q += npBytes;
  if (jLo <= 1 && jHi > 1) { v128.store(q, a10); v128.store(q, a11, 16); } q += npBytes;
  if (jLo <= 2 && jHi > 2) { v128.store(q, a20); v128.store(q, a21, 16); } q += npBytes;
  if (jLo <= 3 && jHi > 3) { v128.store(q, a30); v128.store(q, a31, 16); } q += npBytes;
  if (jLo <= 4 && jHi > 4) { v128.store(q, a40); v128.store(q, a41, 16); }
}

/** Copies dy's pixels [m0, m1) into panels of 8 channels (`panel` bytes apart, [pixel][8] floats; zeros past Cout). */
function packDy8(dy: usize, m0: i32, m1: i32, Cout: i32, Np: i32, dst: usize, panel: usize): void {
  const step = <usize>Cout << 2;
  for (let c = 0; c < Np; c += 8) {
    let s = dy + ((<usize>m0 * <usize>Cout + <usize>c) << 2);
    let d = dst + <usize>(c >> 3) * panel;
    const n = min(8, Cout - c);
    if (n == 8) {
      for (let m = m0; m < m1; m++) {
        v128.store(d, v128.load(s));
        v128.store(d, v128.load(s, 16), 16);
        s += step; d += 32;
      }
    } else {
      for (let m = m0; m < m1; m++) {
        for (let i = 0; i < 8; i++) store<f32>(d + (<usize>i << 2), i < n ? load<f32>(s + (<usize>i << 2)) : 0);
        s += step; d += 32;
      }
    }
  }
}

/**
 * The copy the kernel reads for a dilation in width (`kW` taps `dW` pixels apart): for each of `rows`
 * rows of the zero-padded x ([rows][Wp][C] floats at src), dst[row][ox][kx*C + ic] = src[row][ox*sW + kx*dW][ic],
 * so a kernel row's values are again contiguous for each output column ox < Wo.
 */
export function spreadColumns(src: usize, rows: i32, Wp: i32, C: i32, Wo: i32, sW: i32, kW: i32, dW: i32, dst: usize): void {
  const colStep = <usize>(sW * C) << 2;
  const tapStep = <usize>(dW * C) << 2;
  let d = dst;
  for (let r = 0; r < rows; r++) {
    let s = src + ((<usize>r * <usize>Wp * <usize>C) << 2);
    for (let ox = 0; ox < Wo; ox++) {
      let t = s;
      for (let kx = 0; kx < kW; kx++) {
        for (let c = 0; c < C; c++) store<f32>(d + (<usize>c << 2), load<f32>(t + (<usize>c << 2)));
        d += <usize>C << 2;
        t += tapStep;
      }
      s += colStep;
    }
  }
}
