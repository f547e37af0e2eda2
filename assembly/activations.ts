// Elementwise activations, four lanes at a time (n is padded to a multiple of 4 by the caller).
// Same rules as reference/activations.ts:
// - relu keeps NaN (f32x4.max propagates it) and maps -0 to +0; reluBackward passes dy where x > 0,
//   else 0 (NaN x included);
// - leakyRelu is x where x > 0, else alpha * x (NaN stays NaN, -0 stays -0); its backward dy or alpha * dy;
// - sigmoid and tanh are computed from e^(-|x|) and e^(-2|x|), which never overflow (the reference's
//   rule), with e^t from a Cody-Waite range reduction and a degree-7 polynomial (within a few ulp of
//   float32; the cross-check allows 1e-6 relative); tanh near 0 uses its odd Taylor series instead of
//   (1 - e)/(1 + e), which would lose relative precision there. NaN in, NaN out; ±Infinity saturate.

import { fma } from './simd';

export function relu(x: usize, y: usize, n: i32): void {
  const z = f32x4.splat(0);
  for (let i = 0; i < n; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, f32x4.max(v128.load(x + o), z));
  }
}

export function reluBackward(dy: usize, x: usize, dx: usize, n: i32): void {
  const z = f32x4.splat(0);
  for (let i = 0; i < n; i += 4) {
    const o = <usize>i << 2;
    v128.store(dx + o, v128.and(v128.load(dy + o), f32x4.gt(v128.load(x + o), z)));
  }
}

export function leakyRelu(x: usize, y: usize, n: i32, alpha: f32): void {
  const z = f32x4.splat(0);
  const a = f32x4.splat(alpha);
  for (let i = 0; i < n; i += 4) {
    const o = <usize>i << 2;
    const v = v128.load(x + o);
    v128.store(y + o, v128.bitselect(v, f32x4.mul(a, v), f32x4.gt(v, z)));
  }
}

export function leakyReluBackward(dy: usize, x: usize, dx: usize, n: i32, alpha: f32): void {
  const z = f32x4.splat(0);
  const a = f32x4.splat(alpha);
  for (let i = 0; i < n; i += 4) {
    const o = <usize>i << 2;
    const g = v128.load(dy + o);
    v128.store(dx + o, v128.bitselect(g, f32x4.mul(a, g), f32x4.gt(v128.load(x + o), z)));
  }
}

// ln 2 split so that n * LN2_HI is exact for |n| < 2^9 (Cody-Waite).
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;
const LOG2E: f32 = 1.44269504088896341;

/** e^t for t <= 0 (or NaN), four lanes. Below -87 the result is e^-87 ~ 1.6e-38 instead of smaller. */
@inline function expNonPositive(t0: v128): v128 {
  const t = f32x4.max(t0, f32x4.splat(-87.0)); // NaN propagates
  const n = f32x4.nearest(f32x4.mul(t, f32x4.splat(LOG2E)));
  let r = f32x4.sub(t, f32x4.mul(n, f32x4.splat(LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(LN2_LO)));
  // e^r for |r| <= ln2 / 2: Taylor series to r^7 (the next term is below 6e-9).
  let p = f32x4.splat(1.0 / 5040.0);
  p = fma(p, r, f32x4.splat(1.0 / 720.0));
  p = fma(p, r, f32x4.splat(1.0 / 120.0));
  p = fma(p, r, f32x4.splat(1.0 / 24.0));
  p = fma(p, r, f32x4.splat(1.0 / 6.0));
  p = fma(p, r, f32x4.splat(0.5));
  p = fma(p, r, f32x4.splat(1.0));
  p = fma(p, r, f32x4.splat(1.0));
  // 2^n with n in [-126, 0]: build the exponent bits (NaN lanes give n = 0 and stay NaN through p).
  const scale = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return f32x4.mul(p, scale);
}

/** sigmoid(v) = 1 / (1 + e^-v) for v >= 0, e^v / (1 + e^v) otherwise. */
export function sigmoid(x: usize, y: usize, n: i32): void {
  const z = f32x4.splat(0);
  const one = f32x4.splat(1);
  for (let i = 0; i < n; i += 4) {
    const o = <usize>i << 2;
    const v = v128.load(x + o);
    const e = expNonPositive(f32x4.neg(f32x4.abs(v)));
    const d = f32x4.add(one, e);
    v128.store(y + o, v128.bitselect(f32x4.div(one, d), f32x4.div(e, d), f32x4.ge(v, z)));
  }
}

/** dx = dy * y * (1 - y), from the forward output y. */
export function sigmoidBackward(dy: usize, y: usize, dx: usize, n: i32): void {
  const one = f32x4.splat(1);
  for (let i = 0; i < n; i += 4) {
    const o = <usize>i << 2;
    const s = v128.load(y + o);
    v128.store(dx + o, f32x4.mul(f32x4.mul(v128.load(dy + o), s), f32x4.sub(one, s)));
  }
}

// tanh(a) = a + a^3 * (C3 + a^2 * (C5 + ...)) for |a| < TANH_SERIES (Taylor; the first omitted term,
// 6404582/10854718875 * a^17, is below 3e-8 there).
const TANH_SERIES: f32 = 0.55;
const C3: f32 = -1.0 / 3.0;
const C5: f32 = 2.0 / 15.0;
const C7: f32 = -17.0 / 315.0;
const C9: f32 = 62.0 / 2835.0;
const C11: f32 = -1382.0 / 155925.0;
const C13: f32 = 21844.0 / 6081075.0;
const C15: f32 = -929569.0 / 638512875.0;

/** tanh(v) = sign(v) (1 - e^-2|v|) / (1 + e^-2|v|), or its series near 0. */
export function tanh(x: usize, y: usize, n: i32): void {
  const one = f32x4.splat(1);
  const sign = i32x4.splat(0x80000000);
  for (let i = 0; i < n; i += 4) {
    const o = <usize>i << 2;
    const v = v128.load(x + o);
    const a = f32x4.abs(v);
    const e = expNonPositive(f32x4.mul(a, f32x4.splat(-2)));
    const big = f32x4.div(f32x4.sub(one, e), f32x4.add(one, e));
    const a2 = f32x4.mul(a, a);
    let p = f32x4.splat(C15);
    p = fma(p, a2, f32x4.splat(C13));
    p = fma(p, a2, f32x4.splat(C11));
    p = fma(p, a2, f32x4.splat(C9));
    p = fma(p, a2, f32x4.splat(C7));
    p = fma(p, a2, f32x4.splat(C5));
    p = fma(p, a2, f32x4.splat(C3));
    const small = fma(f32x4.mul(a, a2), p, a);
    const t = v128.bitselect(small, big, f32x4.lt(a, f32x4.splat(TANH_SERIES)));
    v128.store(y + o, v128.or(t, v128.and(v, sign)));
  }
}

/** dx = dy * (1 - y^2), from the forward output y. */
export function tanhBackward(dy: usize, y: usize, dx: usize, n: i32): void {
  const one = f32x4.splat(1);
  for (let i = 0; i < n; i += 4) {
    const o = <usize>i << 2;
    const t = v128.load(y + o);
    v128.store(dx + o, f32x4.mul(v128.load(dy + o), f32x4.sub(one, f32x4.mul(t, t))));
  }
}
