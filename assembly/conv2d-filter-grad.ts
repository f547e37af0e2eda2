// The filter gradient of conv2d as a kernel of its own shape (issue 11):
//
//   dW[ky, kx, ic, oc] = sum over (b, oy, ox) of x[b, oy*sH + ky*dH - pT, ox*sW + kx*dW - pL, ic] * dy[b, oy, ox, oc]
//
// a GEMM [K = kH*kW*Cin] x [Cout] whose reduction (M = N*Ho*Wo output pixels) is the long side. A
// register tile of dW stays in accumulators while the kernel streams over a block of output rows
// (about 32 KiB of dy), and its loads/stores are paid once per block, not per reduction step.
// convFilterGradStream (C % 4 == 0, C >= 8):
//   - per pixel, 8 consecutive input channels of one tap are 2 v128 loads of x;
//   - 5 consecutive output channels of dy are one v128 load broadcast lane by lane by shuffles
//     plus one load32_splat (4 splat loads in the mul + add build);
//   - so the tile is dW^T[oc0..oc0+4][k0..k0+7]: 10 v128 accumulators, 10 independent FMA chains.
//     8 chains (the forward's 4x8 tile) leave the FMA pipes idle: 4 cycles of latency at 2 FMAs a
//     cycle needs 8 in flight with no slack. 12 accumulators spill: V8 issues every load of a loop
//     body before its arithmetic, so each loaded value holds a register through the body, and
//     accumulators + loaded values must stay <= 15 (hence one dy load and shuffles, not 5 splats).
//   - no padded copy of x: the output pixels whose tap (ky, kx) lies inside x form a rectangle
//     [oyLo, oyHi) x [oxLo, oxHi), and a tile sweeps only that rectangle's part of the block. So
//     taps in the padding are skipped, not multiplied by zeros (16% of c2's FLOPs, 6% of c3's).
//   - each block's dy is repacked per 5-channel group, and each tap's 8 channels of x for the
//     block's pixels, into contiguous panels (read in place, pixels Cout*4 or C*sW*4 = 256-512 bytes
//     apart all fall in a few L1 sets and evict each other).
// Channel counts that are not multiples of the tile take a last tile that overlaps the one before
// (input channels C-8.., output channels Cout-5..); its overlapping rows are computed again and
// not stored. The glue sends shapes neither kernel takes to convFilterGrad (assembly/conv2d.ts).
//
// Threads: work unit u is the block of output rows [u*R, (u+1)*R) of the N*Ho rows. A chunk of
// units (FS_UCHUNK of them, a fixed split that does not depend on the thread count) writes its
// own slot (dW^T as [Cout][K] floats, then db [Cout]); the caller sums the slots
// in order, so the result is the same bits for any number of threads.

import { fma } from './simd';
import { prm, FS_X, FS_H, FS_W, FS_C, FS_HO, FS_WO, FS_SH, FS_SW, FS_DH, FS_DW, FS_PT, FS_PL, FS_KH, FS_KW } from './abi';
import { FS_DY, FS_COUT, FS_ROWS, FS_NROWS, FS_SLOTS, FS_SLOTSTRIDE, FS_BOUNDS, FS_SCRATCH, FS_SCRATCHSTRIDE, FS_NSLOTS, FS_DWOUT, FS_DBOUT } from './abi';


/** ceil(a / b) for b > 0 and any a. */
@inline function ceilDiv(a: i32, b: i32): i32 {
  return a >= 0 ? (a + b - 1) / b : -((-a) / b);
}

/** The output coordinates o in [0, n) whose tap o*s + off lies in [0, size): [lo, hi) (hi <= lo when none). */
@inline export function validLo(off: i32, s: i32): i32 {
  return off >= 0 ? 0 : ceilDiv(-off, s);
}
@inline export function validHi(off: i32, s: i32, size: i32, n: i32): i32 {
  const last = size - 1 - off;
  return last < 0 ? 0 : min(n, last / s + 1);
}

export function convFilterGradStream(p: usize, s0: i32, s1: i32, tid: i32): void {
  const x = <usize>prm(p, FS_X), H = prm(p, FS_H), W = prm(p, FS_W), C = prm(p, FS_C);
  const Ho = prm(p, FS_HO), Wo = prm(p, FS_WO), sH = prm(p, FS_SH), sW = prm(p, FS_SW);
  const dH = prm(p, FS_DH), dW = prm(p, FS_DW), pT = prm(p, FS_PT), pL = prm(p, FS_PL);
  const kH = prm(p, FS_KH), kW = prm(p, FS_KW);
  const dy = <usize>prm(p, FS_DY), Cout = prm(p, FS_COUT), R = prm(p, FS_ROWS), NR = prm(p, FS_NROWS);
  const bounds = <usize>prm(p, FS_BOUNDS);
  // Output channels per register tile: 5 with FMA (10 accumulators), 4 with mul + add (which needs a temporary register).
  const NCO = ASC_FEATURE_RELAXED_SIMD ? 5 : 4;
  const rowBytes = <usize>(kH * kW * C) << 2; // one oc row of dW^T: K floats
  const xStep = <usize>(sW * C) << 2;
  // The block's dy, repacked per group of NCO output channels ([pixel][NCO] floats, `panel` bytes
  // a group): a sweep then reads it contiguously. (Read in place, dy's pixels are Cout * 4 bytes
  // apart: with Cout = 64 or 128 a block's pixels share a few L1 sets, and x's lines evict them.)
  const dStep = <usize>NCO << 2;
  const dRow = <usize>Wo * dStep;
  const panel = <usize>R * dRow;
  const scratch = <usize>prm(p, FS_SCRATCH) + <usize>tid * <usize>prm(p, FS_SCRATCHSTRIDE);
  // And x's 8 channels of the current tap, for the block's valid pixels ([pixel][8] floats), for
  // the same reason (x's pixels are C * sW * 4 bytes apart); each tile of output channels reuses it.
  const xPanel = scratch + <usize>((Cout + NCO - 1) / NCO) * panel;
  const xRow = <usize>Wo << 5;
  for (let s = s0; s < s1; s++) {
  const slot = <usize>prm(p, FS_SLOTS) + <usize>s * <usize>prm(p, FS_SLOTSTRIDE);
  const u0 = load<i32>(bounds + (<usize>s << 2)), u1 = load<i32>(bounds + (<usize>(s + 1) << 2));
  for (let u = u0; u < u1; u++) {
    const r0 = u * R;
    const r1 = min(NR, r0 + R);
    if (r0 >= r1) break;
    const first = u == u0;
    packDy(dy, r0 * Wo, r1 * Wo, Cout, NCO, scratch, panel);
    for (let ky = 0; ky < kH; ky++) {
      const offY = ky * dH - pT;
      const oyLo = validLo(offY, sH), oyHi = validHi(offY, sH, H, Ho);
      for (let kx = 0; kx < kW; kx++) {
        const offX = kx * dW - pL;
        const oxLo = validLo(offX, sW), oxHi = validHi(offX, sW, W, Wo);
        const t = ky * kW + kx;
        for (let ci = 0; ci < C; ci += 8) {
          const c0 = min(ci, C - 8);
          const skipV = (ci - c0) >> 2;
          // x at (b, oy*sH + offY, ox*sW + offX, c0) is x + ((b*H + oy*sH) * W + ox*sW) * C * 4 + xOff.
          packX(x, ((offY * W + offX) * C + c0) * 4, xPanel, r0, r1, Ho, Wo, H, W, C, sH, sW, oyLo, oyHi, oxLo, oxHi, xStep);
          for (let co = 0; co < Cout; co += NCO) {
            const o0 = min(co, Cout - NCO);
            const acc = slot + <usize>o0 * rowBytes + (<usize>(t * C + c0) << 2);
            if (ASC_FEATURE_RELAXED_SIMD) {
              sweep5(xPanel, xRow, scratch + <usize>(co / NCO) * panel, r0, r1, Ho, Wo, H, W, C, dRow, sH, sW, oyLo, oyHi, oxLo, oxHi, 32, dStep, acc, rowBytes, first, skipV, co - o0);
            } else {
              sweep4(xPanel, xRow, scratch + <usize>(co / NCO) * panel, r0, r1, Ho, Wo, H, W, C, dRow, sH, sW, oyLo, oyHi, oxLo, oxHi, 32, dStep, acc, rowBytes, first, skipV, co - o0);
            }
          }
        }
      }
    }
    biasBlock(dy, r0 * Wo, r1 * Wo, Cout, slot + <usize>Cout * rowBytes, first);
  }
  }
}

/**
 * One 8 x 5 tile of dW^T over the rows [r0, r1) of a block: acc[j][v] (+)= sum over the valid
 * pixels of x[pixel, c0 + 4v .. +3] * dy[pixel, o0 + j]. Stores rows j >= skipJ and vectors v >= skipV.
 */
function sweep5(
  x: usize, xRow: usize, dy: usize, r0: i32, r1: i32, Ho: i32, Wo: i32, H: i32, W: i32, C: i32, dRow: usize,
  sH: i32, sW: i32, oyLo: i32, oyHi: i32, oxLo: i32, oxHi: i32, xStep: usize, dStep: usize,
  acc: usize, rowBytes: usize, first: bool, skipV: i32, skipJ: i32,
): void {
  let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a10 = f32x4.splat(0), a11 = f32x4.splat(0);
  let a20 = f32x4.splat(0), a21 = f32x4.splat(0), a30 = f32x4.splat(0), a31 = f32x4.splat(0);
  let a40 = f32x4.splat(0), a41 = f32x4.splat(0);
  if (!first) {
    // Rows and vectors that are not stored start (and stay) meaningless: zero.
    let q = acc;
    if (skipJ <= 0) { if (skipV == 0) a00 = v128.load(q); a01 = v128.load(q, 16); } q += rowBytes;
    if (skipJ <= 1) { if (skipV == 0) a10 = v128.load(q); a11 = v128.load(q, 16); } q += rowBytes;
    if (skipJ <= 2) { if (skipV == 0) a20 = v128.load(q); a21 = v128.load(q, 16); } q += rowBytes;
    if (skipJ <= 3) { if (skipV == 0) a30 = v128.load(q); a31 = v128.load(q, 16); } q += rowBytes;
    if (skipJ <= 4) { if (skipV == 0) a40 = v128.load(q); a41 = v128.load(q, 16); }
  }
  const nx = oxHi - oxLo;
  if (nx > 0 && oyHi > oyLo) {
    let b = r0 / Ho;
    let oy = r0 - b * Ho;
    for (let r = r0; r < r1; r++) {
      if (oy >= oyLo && oy < oyHi) {
        let xp = x + <usize>(r - r0) * xRow + (<usize>oxLo << 5);
        let dp = dy + <usize>(r - r0) * dRow + <usize>oxLo * dStep;
        const dEnd = dp + <usize>nx * dStep;
        do {
          // V8 issues every load of the body before its arithmetic, so each loaded value holds a
          // register through the body: dy's first 4 channels are one load, broadcast by shuffles.
          const x0 = v128.load(xp), x1 = v128.load(xp, 16);
          const d = v128.load(dp);
          let s = v128.shuffle<i32>(d, d, 0, 0, 0, 0);
          a00 = fma(x0, s, a00); a01 = fma(x1, s, a01);
          s = v128.shuffle<i32>(d, d, 1, 1, 1, 1);
          a10 = fma(x0, s, a10); a11 = fma(x1, s, a11);
          s = v128.shuffle<i32>(d, d, 2, 2, 2, 2);
          a20 = fma(x0, s, a20); a21 = fma(x1, s, a21);
          s = v128.shuffle<i32>(d, d, 3, 3, 3, 3);
          a30 = fma(x0, s, a30); a31 = fma(x1, s, a31);
          s = v128.load32_splat(dp, 16);
          a40 = fma(x0, s, a40); a41 = fma(x1, s, a41);
          xp += xStep;
          dp += dStep;
        } while (dp < dEnd);
      }
      if (++oy == Ho) { oy = 0; b++; }
    }
  }
  let q = acc;
  if (skipJ <= 0) { if (skipV == 0) v128.store(q, a00); v128.store(q, a01, 16); } q += rowBytes;
  if (skipJ <= 1) { if (skipV == 0) v128.store(q, a10); v128.store(q, a11, 16); } q += rowBytes;
  if (skipJ <= 2) { if (skipV == 0) v128.store(q, a20); v128.store(q, a21, 16); } q += rowBytes;
  if (skipJ <= 3) { if (skipV == 0) v128.store(q, a30); v128.store(q, a31, 16); } q += rowBytes;
  if (skipJ <= 4) { if (skipV == 0) v128.store(q, a40); v128.store(q, a41, 16); }
}

/** sweep5 with 4 output channels (8 accumulators): for the mul + add build. */
function sweep4(
  x: usize, xRow: usize, dy: usize, r0: i32, r1: i32, Ho: i32, Wo: i32, H: i32, W: i32, C: i32, dRow: usize,
  sH: i32, sW: i32, oyLo: i32, oyHi: i32, oxLo: i32, oxHi: i32, xStep: usize, dStep: usize,
  acc: usize, rowBytes: usize, first: bool, skipV: i32, skipJ: i32,
): void {
  let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a10 = f32x4.splat(0), a11 = f32x4.splat(0);
  let a20 = f32x4.splat(0), a21 = f32x4.splat(0), a30 = f32x4.splat(0), a31 = f32x4.splat(0);
  if (!first) {
    let q = acc;
    if (skipJ <= 0) { if (skipV == 0) a00 = v128.load(q); a01 = v128.load(q, 16); } q += rowBytes;
    if (skipJ <= 1) { if (skipV == 0) a10 = v128.load(q); a11 = v128.load(q, 16); } q += rowBytes;
    if (skipJ <= 2) { if (skipV == 0) a20 = v128.load(q); a21 = v128.load(q, 16); } q += rowBytes;
    if (skipJ <= 3) { if (skipV == 0) a30 = v128.load(q); a31 = v128.load(q, 16); }
  }
  const nx = oxHi - oxLo;
  if (nx > 0 && oyHi > oyLo) {
    let b = r0 / Ho;
    let oy = r0 - b * Ho;
    for (let r = r0; r < r1; r++) {
      if (oy >= oyLo && oy < oyHi) {
        let xp = x + <usize>(r - r0) * xRow + (<usize>oxLo << 5);
        let dp = dy + <usize>(r - r0) * dRow + <usize>oxLo * dStep;
        const dEnd = dp + <usize>nx * dStep;
        do {
          const x0 = v128.load(xp), x1 = v128.load(xp, 16);
          let s = v128.load32_splat(dp);
          a00 = fma(x0, s, a00); a01 = fma(x1, s, a01);
          s = v128.load32_splat(dp, 4);
          a10 = fma(x0, s, a10); a11 = fma(x1, s, a11);
          s = v128.load32_splat(dp, 8);
          a20 = fma(x0, s, a20); a21 = fma(x1, s, a21);
          s = v128.load32_splat(dp, 12);
          a30 = fma(x0, s, a30); a31 = fma(x1, s, a31);
          xp += xStep;
          dp += dStep;
        } while (dp < dEnd);
      }
      if (++oy == Ho) { oy = 0; b++; }
    }
  }
  let q = acc;
  if (skipJ <= 0) { if (skipV == 0) v128.store(q, a00); v128.store(q, a01, 16); } q += rowBytes;
  if (skipJ <= 1) { if (skipV == 0) v128.store(q, a10); v128.store(q, a11, 16); } q += rowBytes;
  if (skipJ <= 2) { if (skipV == 0) v128.store(q, a20); v128.store(q, a21, 16); } q += rowBytes;
  if (skipJ <= 3) { if (skipV == 0) v128.store(q, a30); v128.store(q, a31, 16); }
}

/** Copies x's 8 channels at xOff of the block's valid pixels (rows [r0, r1), rectangle [oyLo, oyHi) x [oxLo, oxHi)) to dst[(r - r0) * Wo + ox]. */
function packX(
  x: usize, xOff: i32, dst: usize, r0: i32, r1: i32, Ho: i32, Wo: i32, H: i32, W: i32, C: i32, sH: i32, sW: i32,
  oyLo: i32, oyHi: i32, oxLo: i32, oxHi: i32, xStep: usize,
): void {
  const nx = oxHi - oxLo;
  if (nx <= 0) return;
  let b = r0 / Ho;
  let oy = r0 - b * Ho;
  for (let r = r0; r < r1; r++) {
    if (oy >= oyLo && oy < oyHi) {
      let s = x + <usize>((((b * H + oy * sH) * W + oxLo * sW) * C) * 4 + xOff);
      let d = dst + ((<usize>((r - r0) * Wo + oxLo)) << 5);
      const dEnd = d + (<usize>nx << 5);
      do {
        v128.store(d, v128.load(s));
        v128.store(d, v128.load(s, 16), 16);
        s += xStep;
        d += 32;
      } while (d < dEnd);
    }
    if (++oy == Ho) { oy = 0; b++; }
  }
}

/** Copies dy's pixels [m0, m1) into panels of n channels each (groups at oc = 0, n, ..., the last at Cout - n). */
function packDy(dy: usize, m0: i32, m1: i32, Cout: i32, n: i32, dst: usize, panel: usize): void {
  for (let co = 0; co < Cout; co += n) {
    const o0 = min(co, Cout - n);
    let s = dy + ((<usize>m0 * <usize>Cout + <usize>o0) << 2);
    let d = dst + <usize>(co / n) * panel;
    const step = <usize>Cout << 2;
    if (n == 5) {
      for (let m = m0; m < m1; m++) {
        v128.store(d, v128.load(s));
        store<f32>(d, load<f32>(s, 16), 16);
        s += step; d += 20;
      }
    } else {
      for (let m = m0; m < m1; m++) {
        v128.store(d, v128.load(s));
        s += step; d += 16;
      }
    }
  }
}

/** db (+)= the column sums of dy's pixel rows [m0, m1) (Cout floats each), in 4-channel groups. */
export function biasBlock(dy: usize, m0: i32, m1: i32, Cout: i32, db: usize, first: bool): void {
  const stride = <usize>Cout << 2;
  let oc = 0;
  for (; oc + 4 <= Cout; oc += 4) {
    let s0 = f32x4.splat(0), s1 = f32x4.splat(0);
    let q = dy + ((<usize>m0 * <usize>Cout + <usize>oc) << 2);
    let m = m0;
    for (; m + 2 <= m1; m += 2) {
      s0 = f32x4.add(s0, v128.load(q));
      s1 = f32x4.add(s1, v128.load(q + stride));
      q += stride << 1;
    }
    if (m < m1) s0 = f32x4.add(s0, v128.load(q));
    const d = db + (<usize>oc << 2);
    const s = f32x4.add(s0, s1);
    v128.store(d, first ? s : f32x4.add(v128.load(d), s));
  }
  for (; oc < Cout; oc++) {
    let s: f32 = 0;
    for (let m = m0; m < m1; m++) s += load<f32>(dy + ((<usize>m * <usize>Cout + <usize>oc) << 2));
    const d = db + (<usize>oc << 2);
    store<f32>(d, first ? s : load<f32>(d) + s);
  }
}

/**
 * The job that ends convFilterGradStream: unit oc < Cout sums row oc of dW^T over the FS_NSLOTS
 * slots, in slot order, and writes it as column oc of dW ([K][Cout] floats at FS_DWOUT); unit Cout
 * sums db (Cout floats at FS_DBOUT). Each element's sum runs in the same order on any thread count.
 */
export function convFilterGradStreamFinish(p: usize, u0: i32, u1: i32, tid: i32): void {
  const K = prm(p, FS_KH) * prm(p, FS_KW) * prm(p, FS_C), Cout = prm(p, FS_COUT);
  const slots = <usize>prm(p, FS_SLOTS), n = prm(p, FS_NSLOTS), stride = <usize>prm(p, FS_SLOTSTRIDE);
  const dw = <usize>prm(p, FS_DWOUT), db = <usize>prm(p, FS_DBOUT);
  const colStep = <usize>Cout << 2;
  for (let oc = u0; oc < u1; oc++) {
    const row = slots + ((<usize>oc * <usize>K) << 2);
    if (oc == Cout) {
      sumSlots(row, n, stride, Cout, db);
      continue;
    }
    // K is a multiple of 4 (C % 4 == 0): 4 taps-channels at a time, stored down column oc.
    let d = dw + (<usize>oc << 2);
    for (let k = 0; k < K; k += 4) {
      const o = <usize>k << 2;
      let v = v128.load(row + o);
      for (let s = 1; s < n; s++) v = f32x4.add(v, v128.load(row + <usize>s * stride + o));
      store<f32>(d, f32x4.extract_lane(v, 0)); d += colStep;
      store<f32>(d, f32x4.extract_lane(v, 1)); d += colStep;
      store<f32>(d, f32x4.extract_lane(v, 2)); d += colStep;
      store<f32>(d, f32x4.extract_lane(v, 3)); d += colStep;
    }
  }
}

/** dst[i] = the sum over slots 0..n-1 (in order) of src[i], for i < count (src is slot 0's). */
function sumSlots(src: usize, n: i32, stride: usize, count: i32, dst: usize): void {
  let i = 0;
  for (; i + 4 <= count; i += 4) {
    const o = <usize>i << 2;
    let v = v128.load(src + o);
    for (let s = 1; s < n; s++) v = f32x4.add(v, v128.load(src + <usize>s * stride + o));
    v128.store(dst + o, v);
  }
  for (; i < count; i++) {
    const o = <usize>i << 2;
    let v = load<f32>(src + o);
    for (let s = 1; s < n; s++) v += load<f32>(src + <usize>s * stride + o);
    store<f32>(dst + o, v);
  }
}
