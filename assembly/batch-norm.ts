// Batch normalisation over the last axis: x is M rows of C channels. The same sums as
// src/kernels/reference/batch-norm.ts: the per-channel sums accumulate in float64 (each f32x4 of
// four channels is promoted to two f64x2), the elementwise passes run four channels per v128 in
// float32 on x - μ, with per-channel coefficients the glue computes in float64 (s, k1, k2, k3 below).
// Single-threaded exports; `acc` is 2 * C float64 of scratch (zeroed here).

import { fma } from './simd';

/** acc[c] += v[c], acc2[c] += (v[c] - sub[c])^2 over one row: lanes c..c+3 promoted to f64. */
@inline function addRowF64(acc: usize, row: usize, C: i32): void {
  let c = 0;
  for (; c + 4 <= C; c += 4) {
    const v = v128.load(row + (<usize>c << 2));
    const a = acc + (<usize>c << 3);
    v128.store(a, f64x2.add(v128.load(a), f64x2.promote_low_f32x4(v)));
    v128.store(a + 16, f64x2.add(v128.load(a + 16), f64x2.promote_low_f32x4(f32x4.shuffle(v, v, 2, 3, 0, 1))));
  }
  for (; c < C; c++) store<f64>(acc + (<usize>c << 3), load<f64>(acc + (<usize>c << 3)) + <f64>load<f32>(row + (<usize>c << 2)));
}

/**
 * out[0, C) = mean, out[C, 2C) = biased variance (float64), two passes:
 * mean[c] = (1/M) Σ_i x[i,c],  var[c] = (1/M) Σ_i (x[i,c] - mean[c])².
 */
export function bnStats(x: usize, M: i32, C: i32, out: usize): void {
  const mean = out, vr = out + (<usize>C << 3);
  memory.fill(out, 0, <usize>C << 4);
  const rowBytes = <usize>C << 2;
  for (let i = 0; i < M; i++) addRowF64(mean, x + <usize>i * rowBytes, C);
  const invM: f64 = 1.0 / <f64>M;
  for (let c = 0; c < C; c++) store<f64>(mean + (<usize>c << 3), load<f64>(mean + (<usize>c << 3)) * invM);
  for (let i = 0; i < M; i++) {
    const row = x + <usize>i * rowBytes;
    let c = 0;
    for (; c + 4 <= C; c += 4) {
      const v = v128.load(row + (<usize>c << 2));
      const m = mean + (<usize>c << 3), a = vr + (<usize>c << 3);
      const d0 = f64x2.sub(f64x2.promote_low_f32x4(v), v128.load(m));
      const d1 = f64x2.sub(f64x2.promote_low_f32x4(f32x4.shuffle(v, v, 2, 3, 0, 1)), v128.load(m + 16));
      v128.store(a, f64x2.add(v128.load(a), f64x2.mul(d0, d0)));
      v128.store(a + 16, f64x2.add(v128.load(a + 16), f64x2.mul(d1, d1)));
    }
    for (; c < C; c++) {
      const d = <f64>load<f32>(row + (<usize>c << 2)) - load<f64>(mean + (<usize>c << 3));
      store<f64>(vr + (<usize>c << 3), load<f64>(vr + (<usize>c << 3)) + d * d);
    }
  }
  for (let c = 0; c < C; c++) store<f64>(vr + (<usize>c << 3), load<f64>(vr + (<usize>c << 3)) * invM);
}

/** y[i,c] = (x[i,c] - μ[c]) · s[c] + β[c] (s = γ / sqrt(σ² + eps); mean, s, beta: C floats each). */
export function bnApply(x: usize, y: usize, M: i32, C: i32, mean: usize, s: usize, beta: usize): void {
  const rowBytes = <usize>C << 2;
  for (let i = 0; i < M; i++) {
    const xr = x + <usize>i * rowBytes, yr = y + <usize>i * rowBytes;
    let c = 0;
    for (; c + 4 <= C; c += 4) {
      const o = <usize>c << 2;
      v128.store(yr + o, fma(f32x4.sub(v128.load(xr + o), v128.load(mean + o)), v128.load(s + o), v128.load(beta + o)));
    }
    for (; c < C; c++) {
      const o = <usize>c << 2;
      store<f32>(yr + o, (load<f32>(xr + o) - load<f32>(mean + o)) * load<f32>(s + o) + load<f32>(beta + o));
    }
  }
}

/**
 * out[0, C) = Σ_i dy[i,c] (dβ), out[C, 2C) = Σ_i dy[i,c] · x̂[i,c] (dγ), float64, where
 * x̂ = (x - μ) · invStd in float32 (mean, invStd: C floats each).
 */
export function bnBackwardSums(dy: usize, x: usize, M: i32, C: i32, mean: usize, invStd: usize, out: usize): void {
  const sdy = out, sdx = out + (<usize>C << 3);
  memory.fill(out, 0, <usize>C << 4);
  const rowBytes = <usize>C << 2;
  for (let i = 0; i < M; i++) {
    const gr = dy + <usize>i * rowBytes, xr = x + <usize>i * rowBytes;
    addRowF64(sdy, gr, C);
    let c = 0;
    for (; c + 4 <= C; c += 4) {
      const o = <usize>c << 2;
      const xhat = f32x4.mul(f32x4.sub(v128.load(xr + o), v128.load(mean + o)), v128.load(invStd + o));
      const p = f32x4.mul(v128.load(gr + o), xhat);
      const a = sdx + (<usize>c << 3);
      v128.store(a, f64x2.add(v128.load(a), f64x2.promote_low_f32x4(p)));
      v128.store(a + 16, f64x2.add(v128.load(a + 16), f64x2.promote_low_f32x4(f32x4.shuffle(p, p, 2, 3, 0, 1))));
    }
    for (; c < C; c++) {
      const o = <usize>c << 2;
      const xhat = (load<f32>(xr + o) - load<f32>(mean + o)) * load<f32>(invStd + o);
      store<f64>(sdx + (<usize>c << 3), load<f64>(sdx + (<usize>c << 3)) + <f64>(load<f32>(gr + o) * xhat));
    }
  }
}

/**
 * dx[i,c] = k1[c] · dy[i,c] + k2[c] · (x[i,c] - μ[c]) + k3[c]: the backward's formula expanded per
 * channel by the glue (k1 = γ invStd, k2 = -γ invStd² dγ / M, k3 = -γ invStd dβ / M).
 */
export function bnBackwardDx(dy: usize, x: usize, dx: usize, M: i32, C: i32, mean: usize, k1: usize, k2: usize, k3: usize): void {
  const rowBytes = <usize>C << 2;
  for (let i = 0; i < M; i++) {
    const gr = dy + <usize>i * rowBytes, xr = x + <usize>i * rowBytes, dr = dx + <usize>i * rowBytes;
    let c = 0;
    for (; c + 4 <= C; c += 4) {
      const o = <usize>c << 2;
      const d = f32x4.sub(v128.load(xr + o), v128.load(mean + o));
      v128.store(dr + o, fma(v128.load(gr + o), v128.load(k1 + o), fma(d, v128.load(k2 + o), v128.load(k3 + o))));
    }
    for (; c < C; c++) {
      const o = <usize>c << 2;
      const d = load<f32>(xr + o) - load<f32>(mean + o);
      store<f32>(dr + o, load<f32>(gr + o) * load<f32>(k1 + o) + (d * load<f32>(k2 + o) + load<f32>(k3 + o)));
    }
  }
}
