// dW of a stride-1 r x r convolution by Winograd F(r x r, t x t) (issue 11): the algorithm and its
// matrices are in src/kernels/reference/winograd-filter-grad.ts, equations (D1)-(D3).
//
//   M_ξ[ic, oc] = Σ_tiles V_ξ[tile, ic] U_ξ[tile, oc]      V = B^T d B (x patch), U = G g G^T (dy tile)
//   dW = A^T M A                                           once, in winogradDwFinish
//
// One generic routine for every (r, t): the transforms read their coefficients from small float32
// tables (BT a x a, G a x t, AT r x a), 4 channels per v128, and skip the zero coefficients.
// Work unit (winogradDw): a block of T dy tiles (numbered (b, ty, tx) over [N, tilesH, tilesW];
// tiles past the end read zeros). Per block, in the thread's scratch:
//   1. for each tile: V of each 4-channel group of x into the GEMM A panels Av[ξ][ic/4][tile][4],
//      U of each 4-channel group of dy into the B panels Bu[ξ][oc/8][tile][8], and db (+)= the tile;
//   2. the a² GEMMs M_ξ [C x Np] (+)= Av_ξᵀ Bu_ξ (K = T tiles) on tile4x8, into the chunk's slot.
// Threads: as the streaming dW kernel, a chunk of WD_UCHUNK units (a fixed split, independent of
// the thread count) owns slot u0 / uChunk, so the sum of the slots in order is the same bits for any
// number of threads. Needs C % 4 == 0 and Cout % 4 == 0 (the glue checks).

import { fma } from './simd';
import { tile4x8 } from './gemm';
import { prm, WD_X, WD_H, WD_W, WD_C, WD_DY, WD_HO, WD_WO, WD_COUT, WD_NP, WD_PT, WD_PL, WD_R, WD_T } from './abi';
import { WD_TILESH, WD_TILESW, WD_NTILES, WD_BLOCK, WD_BT, WD_G, WD_AT, WD_SLOTS, WD_NSLOTS, WD_SLOTSTRIDE, WD_UCHUNK, WD_SCRATCH, WD_SCRATCHSTRIDE, WD_ZERO, WD_DW } from './abi';

/**
 * The 1-D transform of `k` v128 values at s + j*ss into `n` values at d + i*ds:
 * y_i = Σ_j coef[i*k + j] x_j (float32 coefficients; zero ones skipped).
 */
@inline function transform(n: i32, k: i32, coef: usize, s: usize, ss: usize, d: usize, ds: usize): void {
  for (let i = 0; i < n; i++) {
    let acc = f32x4.splat(0);
    const row = coef + (<usize>(i * k) << 2);
    for (let j = 0; j < k; j++) {
      const c = load<f32>(row + (<usize>j << 2));
      if (c != 0) acc = fma(f32x4.splat(c), v128.load(s + <usize>j * ss), acc);
    }
    v128.store(d + <usize>i * ds, acc);
  }
}

/** Y = L X Lᵀ (L n x k) of the k x k v128s X (row-major at s): Y[i][j] at d + i*rs + j*ds. */
function transform2(n: i32, k: i32, coef: usize, s: usize, tmp: usize, d: usize, rs: usize, ds: usize): void {
  const kb = <usize>k << 4;
  // columns: tmp[i][c] = Σ_j L[i][j] X[j][c]
  for (let c = 0; c < k; c++) transform(n, k, coef, s + (<usize>c << 4), kb, tmp + (<usize>c << 4), kb);
  // rows: Y[i][j] = Σ_c L[j][c] tmp[i][c]
  for (let i = 0; i < n; i++) transform(n, k, coef, tmp + <usize>i * kb, 16, d + <usize>i * rs, ds);
}

/**
 * B^T x for a = 6 (points 0, ±1, ±2, ∞: the table's matrix, written out; through the generic loop
 * the transforms were most of the kernel's time): the 6 values at s0..s5 into d + i*ds.
 */
@inline function bt6(s0: usize, s1: usize, s2: usize, s3: usize, s4: usize, s5: usize, d: usize, ds: usize): void {
  const x0 = v128.load(s0), x1 = v128.load(s1), x2 = v128.load(s2), x3 = v128.load(s3), x4 = v128.load(s4), x5 = v128.load(s5);
  const four = f32x4.splat(4), two = f32x4.splat(2);
  const m2 = f32x4.sub(x4, x2); // x4 - x2
  const e = f32x4.sub(x4, f32x4.mul(four, x2)); // x4 - 4 x2
  const f = f32x4.sub(x3, f32x4.mul(four, x1)); // x3 - 4 x1
  const h = f32x4.mul(two, f32x4.sub(x3, x1)); // 2 (x3 - x1)
  v128.store(d, f32x4.add(f32x4.mul(four, f32x4.sub(x0, x2)), m2)); // 4x0 - 5x2 + x4
  v128.store(d + ds, f32x4.add(e, f)); // -4x1 - 4x2 + x3 + x4
  v128.store(d + 2 * ds, f32x4.sub(e, f)); // 4x1 - 4x2 - x3 + x4
  v128.store(d + 3 * ds, f32x4.add(m2, h)); // -2x1 - x2 + 2x3 + x4
  v128.store(d + 4 * ds, f32x4.sub(m2, h)); // 2x1 - x2 - 2x3 + x4
  v128.store(d + 5 * ds, f32x4.add(f32x4.mul(four, f32x4.sub(x1, x3)), f32x4.sub(x5, x3))); // 4x1 - 5x3 + x5
}

/**
 * V = B^T X B (a = 6) of the 6 x 6 pixels at the addresses in addr (4 channels at byte offset co),
 * read in place: V[i][j] at d + i*rs + j*ds.
 */
function inputTransform6(addr: usize, co: usize, tmp: usize, d: usize, rs: usize, ds: usize): void {
  for (let c = 0; c < 6; c++) {
    const q = addr + (<usize>c << 2);
    bt6(
      <usize>load<u32>(q) + co, <usize>load<u32>(q, 24) + co, <usize>load<u32>(q, 48) + co,
      <usize>load<u32>(q, 72) + co, <usize>load<u32>(q, 96) + co, <usize>load<u32>(q, 120) + co, tmp + (<usize>c << 4), 96,
    );
  }
  for (let i = 0; i < 6; i++) {
    const r = tmp + <usize>i * 96;
    bt6(r, r + 16, r + 32, r + 48, r + 64, r + 80, d + <usize>i * rs, ds);
  }
}

/**
 * G x for a = 6 and t = 2 or 4 (the table's G, written out; x2 = x3 = 0 when t = 2): the t values
 * at s + j*ss into the 6 at d + i*ds.
 */
@inline function g6(t: i32, s: usize, ss: usize, d: usize, ds: usize): void {
  const x0 = v128.load(s), x1 = v128.load(s + ss);
  const x2 = t == 4 ? v128.load(s + 2 * ss) : f32x4.splat(0), x3 = t == 4 ? v128.load(s + 3 * ss) : f32x4.splat(0);
  const sixth = f32x4.splat(<f32>(-1.0 / 6.0));
  const ev = f32x4.add(x0, x2), od = f32x4.add(x1, x3);
  const e2 = f32x4.add(f32x4.mul(x0, f32x4.splat(<f32>(1.0 / 24.0))), f32x4.mul(x2, f32x4.splat(<f32>(1.0 / 6.0))));
  const o2 = f32x4.add(f32x4.mul(x1, f32x4.splat(<f32>(1.0 / 12.0))), f32x4.mul(x3, f32x4.splat(<f32>(1.0 / 3.0))));
  v128.store(d, f32x4.mul(x0, f32x4.splat(0.25))); // x0 / 4
  v128.store(d + ds, f32x4.mul(f32x4.add(ev, od), sixth)); // -(x0 + x1 + x2 + x3) / 6
  v128.store(d + 2 * ds, f32x4.mul(f32x4.sub(ev, od), sixth)); // -(x0 - x1 + x2 - x3) / 6
  v128.store(d + 3 * ds, f32x4.add(e2, o2)); // x0/24 + x1/12 + x2/6 + x3/3
  v128.store(d + 4 * ds, f32x4.sub(e2, o2)); // x0/24 - x1/12 + x2/6 - x3/3
  v128.store(d + 5 * ds, t == 4 ? x3 : x1); // x_{t-1}
}

/** U = G X Gᵀ (a = 6) of the t x t v128s X (row-major at s): U[i][j] at d + i*rs + j*ds. */
function filterTransform6(t: i32, s: usize, tmp: usize, d: usize, rs: usize, ds: usize): void {
  const tb = <usize>t << 4;
  for (let c = 0; c < t; c++) g6(t, s + (<usize>c << 4), tb, tmp + (<usize>c << 4), tb);
  for (let i = 0; i < 6; i++) g6(t, tmp + <usize>i * tb, 16, d + <usize>i * rs, ds);
}

/** Copies the k x k pixels (4 channels at byte offset co) at the addresses in addr into buf (v128s, row-major). */
@inline function gather(k: i32, addr: usize, co: usize, buf: usize): void {
  for (let e = 0; e < k * k; e++) v128.store(buf + (<usize>e << 4), v128.load(<usize>load<u32>(addr + (<usize>e << 2)) + co));
}

export function winogradDw(p: usize, u0: i32, u1: i32, tid: i32): void {
  const x = <usize>prm(p, WD_X), H = prm(p, WD_H), W = prm(p, WD_W), C = prm(p, WD_C);
  const dy = <usize>prm(p, WD_DY), Ho = prm(p, WD_HO), Wo = prm(p, WD_WO), Cout = prm(p, WD_COUT), Np = prm(p, WD_NP);
  const pT = prm(p, WD_PT), pL = prm(p, WD_PL), r = prm(p, WD_R), t = prm(p, WD_T);
  const tilesH = prm(p, WD_TILESH), tilesW = prm(p, WD_TILESW), nTiles = prm(p, WD_NTILES), T = prm(p, WD_BLOCK);
  const BT = <usize>prm(p, WD_BT), G = <usize>prm(p, WD_G), zero = <usize>prm(p, WD_ZERO), uChunk = prm(p, WD_UCHUNK);
  const a = r + t - 1;
  const aa = a * a;
  const slot = <usize>prm(p, WD_SLOTS) + <usize>(u0 / uChunk) * <usize>prm(p, WD_SLOTSTRIDE);
  const dbSlot = slot + (<usize>(aa * C * Np) << 2);
  const scratch = <usize>prm(p, WD_SCRATCH) + <usize>tid * <usize>prm(p, WD_SCRATCHSTRIDE);
  const addrX = scratch; // a² u32: the x patch's pixel addresses (or `zero`)
  const addrD = scratch + 256; // t² u32: the dy tile's
  const buf = scratch + 512; // a² v128: one gathered patch
  const tmp = scratch + 1152; // a² v128: between a transform's two passes
  const Av = scratch + 1792;
  const groups = C >> 2, panels = Np >> 3;
  const avTile = <usize>T << 4; // bytes of one A panel (T tiles x 4 channels)
  const buTile = <usize>T << 5; // of one B panel
  // Bytes between Av_ξ and Av_ξ+1 (Bu_ξ, Bu_ξ+1): one line more than the panels, as a tile's a²
  // values written at a power-of-two stride would all fall in one L1 set and evict each other.
  const avXi = <usize>groups * avTile + 64, buXi = <usize>panels * buTile + 64;
  const Bu = Av + <usize>aa * avXi;
  const plane = tilesH * tilesW;
  const xPix = <usize>C << 2, dPix = <usize>Cout << 2;
  const mRow = <usize>Np << 2; // bytes of one row ic of M_ξ
  const mXi = <usize>C * mRow; // of one M_ξ
  for (let u = u0; u < u1; u++) {
    const first = u == u0;
    if (first) memory.fill(dbSlot, 0, <usize>Cout << 2);
    for (let e = 0; e < T; e++) {
      const tile = u * T + e;
      // the tile's pixel addresses
      if (tile < nTiles) {
        const b = tile / plane, rem = tile - b * plane;
        const ty = rem / tilesW, tx = rem - ty * tilesW;
        const y0 = ty * t, x0 = tx * t;
        for (let i = 0; i < a; i++) {
          const iy = y0 + i - pT;
          for (let j = 0; j < a; j++) {
            const ix = x0 + j - pL;
            const ok = iy >= 0 && iy < H && ix >= 0 && ix < W;
            store<u32>(addrX + (<usize>(i * a + j) << 2), ok ? <u32>(x + <usize>((b * H + iy) * W + ix) * xPix) : <u32>zero);
          }
        }
        for (let i = 0; i < t; i++) {
          for (let j = 0; j < t; j++) {
            const ok = y0 + i < Ho && x0 + j < Wo;
            store<u32>(addrD + (<usize>(i * t + j) << 2), ok ? <u32>(dy + <usize>((b * Ho + y0 + i) * Wo + x0 + j) * dPix) : <u32>zero);
          }
        }
      } else {
        for (let i = 0; i < aa; i++) store<u32>(addrX + (<usize>i << 2), <u32>zero);
        for (let i = 0; i < t * t; i++) store<u32>(addrD + (<usize>i << 2), <u32>zero);
      }
      // V_ξ of each channel group, into Av[ξ][g][e]
      for (let g = 0; g < groups; g++) {
        if (a == 6) inputTransform6(addrX, <usize>g << 4, tmp, Av + (<usize>g * avTile) + (<usize>e << 4), <usize>a * avXi, avXi);
        else {
          gather(a, addrX, <usize>g << 4, buf);
          transform2(a, a, BT, buf, tmp, Av + (<usize>g * avTile) + (<usize>e << 4), <usize>a * avXi, avXi);
        }
      }
      // U_ξ of each channel group of dy, into Bu[ξ][o/8][e][o%8], and db
      for (let o = 0; o < Cout; o += 4) {
        const co = <usize>o << 2;
        gather(t, addrD, co, buf);
        let s = f32x4.splat(0);
        for (let i = 0; i < t * t; i++) s = f32x4.add(s, v128.load(buf + (<usize>i << 4)));
        v128.store(dbSlot + co, f32x4.add(v128.load(dbSlot + co), s));
        const dst = Bu + <usize>(o >> 3) * buTile + (<usize>e << 5) + (<usize>(o & 4) << 2);
        if (a == 6) filterTransform6(t, buf, tmp, dst, <usize>a * buXi, buXi);
        else transform2(a, t, G, buf, tmp, dst, <usize>a * buXi, buXi);
      }
      if ((Cout & 7) != 0) {
        // the unused half of the last B panel: zeros (its columns of M are never read)
        for (let xi = 0; xi < aa; xi++) v128.store(Bu + <usize>xi * buXi + <usize>(panels - 1) * buTile + (<usize>e << 5), f32x4.splat(0), 16);
      }
    }
    // the a² GEMMs into the slot
    const mode = first ? 0 : 2;
    for (let xi = 0; xi < aa; xi++) {
      const m = slot + <usize>xi * mXi;
      for (let g = 0; g < groups; g++) {
        const A = Av + <usize>xi * avXi + <usize>g * avTile;
        const row = m + <usize>(g << 2) * mRow;
        for (let j = 0; j < panels; j++) {
          const q = row + (<usize>j << 5);
          tile4x8(A, Bu + <usize>xi * buXi + <usize>j * buTile, 32, T, q, q + mRow, q + 2 * mRow, q + 3 * mRow, 0, mode);
        }
      }
    }
  }
}

/**
 * Units [i0, i1) are input channels ic: the slots' rows M_ξ[ic] summed in slot order into slot 0,
 * then dW[ky, kx, ic, :] = (A^T M A)[ky, kx] for each 4 output channels.
 */
export function winogradDwFinish(p: usize, i0: i32, i1: i32, tid: i32): void {
  const C = prm(p, WD_C), Cout = prm(p, WD_COUT), Np = prm(p, WD_NP), r = prm(p, WD_R), t = prm(p, WD_T);
  const AT = <usize>prm(p, WD_AT), slots = <usize>prm(p, WD_SLOTS), n = prm(p, WD_NSLOTS), stride = <usize>prm(p, WD_SLOTSTRIDE);
  const dw = <usize>prm(p, WD_DW);
  const a = r + t - 1;
  const aa = a * a;
  const scratch = <usize>prm(p, WD_SCRATCH) + <usize>tid * <usize>prm(p, WD_SCRATCHSTRIDE);
  const mRow = <usize>Np << 2;
  const mXi = <usize>C * mRow;
  const dwTap = <usize>(C * Cout) << 2;
  for (let ic = i0; ic < i1; ic++) {
    const row = slots + <usize>ic * mRow;
    for (let xi = 0; xi < aa; xi++) {
      const d = row + <usize>xi * mXi;
      for (let s = 1; s < n; s++) {
        const q = d + <usize>s * stride;
        for (let o = 0; o < Np; o += 4) v128.store(d + (<usize>o << 2), f32x4.add(v128.load(d + (<usize>o << 2)), v128.load(q + (<usize>o << 2))));
      }
    }
    for (let o = 0; o < Cout; o += 4) {
      const co = <usize>o << 2;
      for (let xi = 0; xi < aa; xi++) v128.store(scratch + (<usize>xi << 4), v128.load(row + <usize>xi * mXi + co));
      transform2(r, a, AT, scratch, scratch + 1024, dw + ((<usize>ic * <usize>Cout) << 2) + co, <usize>r * dwTap, dwTap);
    }
  }
}
