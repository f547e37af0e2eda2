// Depthwise convolution, NHWC, filter [kH, kW, C, M], output channel c * M + m. The same sums as
// the reference (src/kernels/reference/depthwise-conv2d.ts, equations (1)-(3)), in float32: at
// each output pixel the C * M outputs, and for each tap the C * M filter values, are contiguous,
// so a tap is one vector multiply-add over them (x[c] splatted over the M filters of channel c;
// for M = 1, four channels per v128). Geometry arrives as a parameter block (W_* indices).

import { fma } from './simd';
// Parameter-block indices and prm(): generated from src/kernels/wasm/abi.ts.
import { prm, W_X, W_H, W_W, W_C, W_M, W_HO, W_WO, W_KH, W_KW, W_SH, W_SW, W_DILH, W_DILW, W_PT, W_PL } from './abi';
import { W_WGT, W_BIAS, W_Y, W_DY, W_DX, W_SCRATCH, W_SCRATCHSTRIDE } from './abi';

/** acc[j] += a[j / M] * b[j] for j in [0, C * M): a has C floats, b and acc C * M. */
@inline function tapInto(acc: usize, a: usize, b: usize, C: i32, M: i32): void {
  if (M == 1) {
    let c = 0;
    for (; c + 4 <= C; c += 4) {
      const o = <usize>c << 2;
      v128.store(acc + o, fma(v128.load(a + o), v128.load(b + o), v128.load(acc + o)));
    }
    for (; c < C; c++) {
      const o = <usize>c << 2;
      store<f32>(acc + o, load<f32>(acc + o) + load<f32>(a + o) * load<f32>(b + o));
    }
    return;
  }
  for (let c = 0; c < C; c++) {
    const xs = load<f32>(a + (<usize>c << 2));
    const v = f32x4.splat(xs);
    const base = <usize>(c * M) << 2;
    let m = 0;
    for (; m + 4 <= M; m += 4) {
      const o = base + (<usize>m << 2);
      v128.store(acc + o, fma(v, v128.load(b + o), v128.load(acc + o)));
    }
    for (; m < M; m++) {
      const o = base + (<usize>m << 2);
      store<f32>(acc + o, load<f32>(acc + o) + xs * load<f32>(b + o));
    }
  }
}

/**
 * Forward over output rows [r0, r1) (row = b * Ho + oy; rows never share an output):
 *   y[b,oy,ox,c*M+m] = bias[c*M+m] + Σ_{ky,kx} x[b,iy,ix,c] · w[ky,kx,c,m]  (zero-padded taps skipped).
 */
export function depthwiseForward(p: usize, r0: i32, r1: i32, tid: i32): void {
  const x = <usize>prm(p, W_X), H = prm(p, W_H), W = prm(p, W_W), C = prm(p, W_C), M = prm(p, W_M);
  const Ho = prm(p, W_HO), Wo = prm(p, W_WO), kH = prm(p, W_KH), kW = prm(p, W_KW);
  const sH = prm(p, W_SH), sW = prm(p, W_SW), dH = prm(p, W_DILH), dW = prm(p, W_DILW), pT = prm(p, W_PT), pL = prm(p, W_PL);
  const wgt = <usize>prm(p, W_WGT), bias = <usize>prm(p, W_BIAS), y = <usize>prm(p, W_Y);
  const CM = C * M;
  const rowBytes = <usize>CM << 2;
  for (let r = r0; r < r1; r++) {
    const b = r / Ho, oy = r % Ho;
    for (let ox = 0; ox < Wo; ox++) {
      const out = y + <usize>(r * Wo + ox) * rowBytes;
      if (bias != 0) memory.copy(out, bias, rowBytes);
      else memory.fill(out, 0, rowBytes);
      for (let ky = 0; ky < kH; ky++) {
        const iy = oy * sH + ky * dH - pT;
        if (iy < 0 || iy >= H) continue;
        for (let kx = 0; kx < kW; kx++) {
          const ix = ox * sW + kx * dW - pL;
          if (ix < 0 || ix >= W) continue;
          tapInto(out, x + (<usize>((b * H + iy) * W + ix) * <usize>C << 2), wgt + <usize>(ky * kW + kx) * rowBytes, C, M);
        }
      }
    }
  }
}

/**
 * Backward over images [b0, b1): dx of each image (equation (1), images never share a dx), and
 * this thread's share of dw and db (equations (2), (3)) added into its own scratch area, which the
 * caller zeroes first and sums over the threads afterwards: dw at scratch[0, kH*kW*C*M), db after it.
 * A dx pointer of 0 skips equation (1) (a first layer: dw and db alone, the same sums).
 */
export function depthwiseBackward(p: usize, b0: i32, b1: i32, tid: i32): void {
  const x = <usize>prm(p, W_X), H = prm(p, W_H), W = prm(p, W_W), C = prm(p, W_C), M = prm(p, W_M);
  const Ho = prm(p, W_HO), Wo = prm(p, W_WO), kH = prm(p, W_KH), kW = prm(p, W_KW);
  const sH = prm(p, W_SH), sW = prm(p, W_SW), dH = prm(p, W_DILH), dW = prm(p, W_DILW), pT = prm(p, W_PT), pL = prm(p, W_PL);
  const wgt = <usize>prm(p, W_WGT), dy = <usize>prm(p, W_DY), dx = <usize>prm(p, W_DX);
  const gw = <usize>prm(p, W_SCRATCH) + <usize>tid * <usize>prm(p, W_SCRATCHSTRIDE);
  const CM = C * M;
  const rowBytes = <usize>CM << 2;
  const pixBytes = <usize>C << 2;
  const gb = gw + <usize>(kH * kW) * rowBytes;
  const withDx = dx != 0;
  if (withDx) memory.fill(dx + <usize>b0 * <usize>(H * W) * pixBytes, 0, <usize>(b1 - b0) * <usize>(H * W) * pixBytes);
  for (let b = b0; b < b1; b++) {
    for (let oy = 0; oy < Ho; oy++) {
      for (let ox = 0; ox < Wo; ox++) {
        const g = dy + <usize>((b * Ho + oy) * Wo + ox) * rowBytes; // dZ[i, h, w, :]
        // (3) db += dZ
        let j = 0;
        for (; j + 4 <= CM; j += 4) {
          const o = <usize>j << 2;
          v128.store(gb + o, f32x4.add(v128.load(gb + o), v128.load(g + o)));
        }
        for (; j < CM; j++) {
          const o = <usize>j << 2;
          store<f32>(gb + o, load<f32>(gb + o) + load<f32>(g + o));
        }
        for (let ky = 0; ky < kH; ky++) {
          const iy = oy * sH + ky * dH - pT;
          if (iy < 0 || iy >= H) continue;
          for (let kx = 0; kx < kW; kx++) {
            const ix = ox * sW + kx * dW - pL;
            if (ix < 0 || ix >= W) continue;
            const xp = x + <usize>((b * H + iy) * W + ix) * pixBytes;
            const dxp = dx + <usize>((b * H + iy) * W + ix) * pixBytes;
            const tap = <usize>(ky * kW + kx) * rowBytes;
            // (2) dw[ky,kx,c,m] += x[c] · dZ[c*M+m]
            tapInto(gw + tap, xp, g, C, M);
            if (!withDx) continue;
            // (1) dx[c] += Σ_m w[ky,kx,c,m] · dZ[c*M+m]
            const wp = wgt + tap;
            if (M == 1) {
              let c = 0;
              for (; c + 4 <= C; c += 4) {
                const o = <usize>c << 2;
                v128.store(dxp + o, fma(v128.load(wp + o), v128.load(g + o), v128.load(dxp + o)));
              }
              for (; c < C; c++) {
                const o = <usize>c << 2;
                store<f32>(dxp + o, load<f32>(dxp + o) + load<f32>(wp + o) * load<f32>(g + o));
              }
            } else {
              for (let c = 0; c < C; c++) {
                const base = <usize>(c * M) << 2;
                let s: f32 = 0;
                for (let m = 0; m < M; m++) s += load<f32>(wp + base + (<usize>m << 2)) * load<f32>(g + base + (<usize>m << 2));
                const o = <usize>c << 2;
                store<f32>(dxp + o, load<f32>(dxp + o) + s);
              }
            }
          }
        }
      }
    }
  }
}
