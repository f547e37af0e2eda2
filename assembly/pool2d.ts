// Max and average pooling over each channel, NHWC, four channels per v128 with a scalar tail.
// Same rules as the reference (src/kernels/reference/max-pool2d.ts, avg-pool2d.ts): padded cells
// are never candidates and never counted; max ties go to the first maximum in (ky, kx) order; a
// NaN wins its window. Geometry arrives as a parameter block (P_* indices), computed by conv-info.

// Parameter-block indices and prm(): generated from src/kernels/wasm/abi.ts.
import { prm, P_X, P_N, P_H, P_W, P_C, P_HO, P_WO, P_KH, P_KW, P_SH, P_SW, P_PT, P_PL, P_Y, P_DY, P_DX, P_MODE } from './abi';

/** The later cell v replaces best where v > best, or v is NaN and best is not. */
@inline function takeMask(v: v128, best: v128): v128 {
  return v128.or(f32x4.gt(v, best), v128.and(f32x4.ne(v, v), f32x4.eq(best, best)));
}

/**
 * Images [b0, b1) of the batch (a job: threads split the batch, so no two threads touch the same
 * image). mode 0 (P_MODE): y = max pool of x.  mode 1: dx = 0, then dx[argmax] += dy.
 * Modes 2 and 3 are the same with a ReLU before the pool (Conv2D -> ReLU -> MaxPool2D, fused):
 * mode 2: y = relu(max pool of x) = max pool of relu(x);  mode 3: dx = 0, then dx[argmax] +=
 * dy · [x[argmax] > 0], which is reluBackward(maxPool2dBackward(dy, relu(x)), x) bit for bit: where
 * the window's maximum is > 0, relu keeps it and its first position; where it is <= 0 or NaN, every
 * cell of relu(x) the window could route to has relu(x) <= 0 or NaN, so the ReLU's mask zeroes it.
 * When the windows tile x exactly (stride = window, no padding, no remainder), each window's cells
 * are written once (dy + 0 at the argmax, +0 elsewhere) instead of zeroing dx first and adding.
 */
export function maxPool(p: usize, b0: i32, b1: i32, tid: i32): void {
  const mode = prm(p, P_MODE);
  const x = <usize>prm(p, P_X), N = prm(p, P_N), H = prm(p, P_H), W = prm(p, P_W), C = prm(p, P_C);
  const Ho = prm(p, P_HO), Wo = prm(p, P_WO), kH = prm(p, P_KH), kW = prm(p, P_KW), sH = prm(p, P_SH), sW = prm(p, P_SW);
  const pT = prm(p, P_PT), pL = prm(p, P_PL), y = <usize>prm(p, P_Y), dy = <usize>prm(p, P_DY), dx = <usize>prm(p, P_DX);
  const cb = <usize>C << 2;
  const back = (mode & 1) != 0, withRelu = mode >= 2;
  // Windows that tile x exactly: every cell of dx belongs to one window, written there once.
  const tiles = sH == kH && sW == kW && pT == 0 && pL == 0 && Ho * kH == H && Wo * kW == W;
  if (back && !tiles) memory.fill(dx + <usize>b0 * <usize>(H * W) * cb, 0, <usize>(b1 - b0) * <usize>(H * W) * cb);
  const zero = f32x4.splat(0);
  let o: usize = <usize>b0 * <usize>(Ho * Wo) * cb; // output element offset in bytes (y or dy)
  for (let b = b0; b < b1; b++) {
    for (let oy = 0; oy < Ho; oy++) {
      const y0 = max(oy * sH - pT, 0), y1 = min(oy * sH - pT + kH, H);
      for (let ox = 0; ox < Wo; ox++) {
        const x0 = max(ox * sW - pL, 0), x1 = min(ox * sW - pL + kW, W);
        const first = <usize>((b * H + y0) * W + x0) * cb;
        let c = 0;
        if (!back) {
          // Forward: no argmax to track, so f32x4.max does: it returns NaN when either side is NaN
          // (a NaN wins its window), and equal values are the same value (but for the sign of a
          // zero: max(-0, +0) is +0 where "the first maximum" could be -0). The max is kept in the
          // output row and each window cell's C channels stream through it (cells outside,
          // channels inside: no per-window setup per 4 channels). With the ReLU (mode 2) the row
          // starts at max(first cell, 0): relu(max_w v) = max(0, v_1, ..., v_k), -0 and NaN included.
          const yo = y + o, cv = <usize>(C & ~3) << 2;
          for (let cc: usize = 0; cc < cv; cc += 16) {
            const v = v128.load(x + first + cc);
            v128.store(yo + cc, withRelu ? f32x4.max(v, zero) : v);
          }
          for (let iy = y0; iy < y1; iy++) {
            for (let ix = iy == y0 ? x0 + 1 : x0; ix < x1; ix++) {
              const q = x + <usize>((b * H + iy) * W + ix) * cb;
              for (let cc: usize = 0; cc < cv; cc += 16) v128.store(yo + cc, f32x4.max(v128.load(yo + cc), v128.load(q + cc)));
            }
          }
          c = C & ~3;
        }
        for (; back && c + 4 <= C; c += 4) {
          const cc = <usize>c << 2;
          let best = v128.load(x + first + cc);
          let at = i32x4.splat(<i32>(first + cc));
          for (let iy = y0; iy < y1; iy++) {
            for (let ix = x0; ix < x1; ix++) {
              const off = <usize>((b * H + iy) * W + ix) * cb + cc;
              const v = v128.load(x + off);
              const t = takeMask(v, best);
              best = v128.bitselect(v, best, t);
              at = v128.bitselect(i32x4.splat(<i32>off), at, t);
            }
          }
          let g = v128.load(dy + o + cc);
          if (withRelu) g = v128.and(g, f32x4.gt(best, zero));
          if (tiles) {
            // dx = 0 + g at the argmax (0 + -0 is +0, as the unfused sum from zero gives), +0 elsewhere.
            const g0 = f32x4.add(g, zero);
            for (let iy = y0; iy < y1; iy++) {
              for (let ix = x0; ix < x1; ix++) {
                const off = <usize>((b * H + iy) * W + ix) * cb + cc;
                v128.store(dx + off, v128.and(g0, i32x4.eq(at, i32x4.splat(<i32>off))));
              }
            }
          } else {
            const a0 = dx + <usize>i32x4.extract_lane(at, 0);
            store<f32>(a0, load<f32>(a0) + f32x4.extract_lane(g, 0));
            const a1 = dx + 4 + <usize>i32x4.extract_lane(at, 1);
            store<f32>(a1, load<f32>(a1) + f32x4.extract_lane(g, 1));
            const a2 = dx + 8 + <usize>i32x4.extract_lane(at, 2);
            store<f32>(a2, load<f32>(a2) + f32x4.extract_lane(g, 2));
            const a3 = dx + 12 + <usize>i32x4.extract_lane(at, 3);
            store<f32>(a3, load<f32>(a3) + f32x4.extract_lane(g, 3));
          }
        }
        for (; c < C; c++) {
          const cc = <usize>c << 2;
          let best = load<f32>(x + first + cc);
          let at = first + cc;
          for (let iy = y0; iy < y1; iy++) {
            for (let ix = x0; ix < x1; ix++) {
              const off = <usize>((b * H + iy) * W + ix) * cb + cc;
              const v = load<f32>(x + off);
              if (v > best || (v != v && best == best)) {
                best = v;
                at = off;
              }
            }
          }
          if (!back) {
            store<f32>(y + o + cc, withRelu && !(best > 0) && best == best ? 0 : best);
          } else {
            const g: f32 = withRelu && !(best > 0) ? 0 : load<f32>(dy + o + cc);
            if (tiles) {
              for (let iy = y0; iy < y1; iy++)
                for (let ix = x0; ix < x1; ix++) store<f32>(dx + <usize>((b * H + iy) * W + ix) * cb + cc, 0);
              store<f32>(dx + at, g + 0);
            } else {
              store<f32>(dx + at, load<f32>(dx + at) + g);
            }
          }
        }
        o += cb;
      }
    }
  }
}

/**
 * Images [b0, b1) of the batch (a job, as maxPool). mode 0 (P_MODE): y = mean of each window's real
 * cells.  mode 1: dx = 0, then dx += dy / count over each window's real cells.
 */
export function avgPool(p: usize, b0: i32, b1: i32, tid: i32): void {
  const mode = prm(p, P_MODE);
  const x = <usize>prm(p, P_X), N = prm(p, P_N), H = prm(p, P_H), W = prm(p, P_W), C = prm(p, P_C);
  const Ho = prm(p, P_HO), Wo = prm(p, P_WO), kH = prm(p, P_KH), kW = prm(p, P_KW), sH = prm(p, P_SH), sW = prm(p, P_SW);
  const pT = prm(p, P_PT), pL = prm(p, P_PL), y = <usize>prm(p, P_Y), dy = <usize>prm(p, P_DY), dx = <usize>prm(p, P_DX);
  const cb = <usize>C << 2;
  if (mode == 1) memory.fill(dx + <usize>b0 * <usize>(H * W) * cb, 0, <usize>(b1 - b0) * <usize>(H * W) * cb);
  let o: usize = <usize>b0 * <usize>(Ho * Wo) * cb; // output element offset in bytes (y or dy)
  for (let b = b0; b < b1; b++) {
    for (let oy = 0; oy < Ho; oy++) {
      const y0 = max(oy * sH - pT, 0), y1 = min(oy * sH - pT + kH, H);
      for (let ox = 0; ox < Wo; ox++) {
        const x0 = max(ox * sW - pL, 0), x1 = min(ox * sW - pL + kW, W);
        const inv: f32 = 1 / <f32>((y1 - y0) * (x1 - x0));
        const vinv = f32x4.splat(inv);
        let c = 0;
        for (; c + 4 <= C; c += 4) {
          const cc = <usize>c << 2;
          if (mode == 0) {
            let s = f32x4.splat(0);
            for (let iy = y0; iy < y1; iy++)
              for (let ix = x0; ix < x1; ix++) s = f32x4.add(s, v128.load(x + <usize>((b * H + iy) * W + ix) * cb + cc));
            v128.store(y + o + cc, f32x4.mul(s, vinv));
          } else {
            const g = f32x4.mul(v128.load(dy + o + cc), vinv);
            for (let iy = y0; iy < y1; iy++)
              for (let ix = x0; ix < x1; ix++) {
                const a = dx + <usize>((b * H + iy) * W + ix) * cb + cc;
                v128.store(a, f32x4.add(v128.load(a), g));
              }
          }
        }
        for (; c < C; c++) {
          const cc = <usize>c << 2;
          if (mode == 0) {
            let s: f32 = 0;
            for (let iy = y0; iy < y1; iy++)
              for (let ix = x0; ix < x1; ix++) s += load<f32>(x + <usize>((b * H + iy) * W + ix) * cb + cc);
            store<f32>(y + o + cc, s * inv);
          } else {
            const g = load<f32>(dy + o + cc) * inv;
            for (let iy = y0; iy < y1; iy++)
              for (let ix = x0; ix < x1; ix++) {
                const a = dx + <usize>((b * H + iy) * W + ix) * cb + cc;
                store<f32>(a, load<f32>(a) + g);
              }
          }
        }
        o += cb;
      }
    }
  }
}
