// The wasm SIMD128 peak microbenchmark (compiled by bench/peak/peak.ts with the project's asc; no
// file is written). 12 independent chains of f32x4 operations, so that the loop is bound by
// throughput, not latency: each iteration does 12 x 4 lanes x 2 FLOPs. 12 chains plus the
// two operands fill 14 of V8's 15 usable vector registers (PERF-NOTES.md: 13 or more spill).
// `b` and `c` come from the caller so the optimiser cannot fold the chains; with b = s and
// c = 1 - s every chain converges to 1 (no overflow, no denormals).

/** `n` iterations of a[i] = a[i] * b + c fused (f32x4.relaxed_madd); 0 when built without relaxed SIMD. */
export function fma(n: i32, s: f32): f32 {
  if (!ASC_FEATURE_RELAXED_SIMD) return 0;
  const b = f32x4.splat(s);
  const c = f32x4.splat(<f32>1 - s);
  let a0 = f32x4.splat(<f32>(0 * 0.01));
  let a1 = f32x4.splat(<f32>(1 * 0.01));
  let a2 = f32x4.splat(<f32>(2 * 0.01));
  let a3 = f32x4.splat(<f32>(3 * 0.01));
  let a4 = f32x4.splat(<f32>(4 * 0.01));
  let a5 = f32x4.splat(<f32>(5 * 0.01));
  let a6 = f32x4.splat(<f32>(6 * 0.01));
  let a7 = f32x4.splat(<f32>(7 * 0.01));
  let a8 = f32x4.splat(<f32>(8 * 0.01));
  let a9 = f32x4.splat(<f32>(9 * 0.01));
  let a10 = f32x4.splat(<f32>(10 * 0.01));
  let a11 = f32x4.splat(<f32>(11 * 0.01));
  for (let k = 0; k < n; k++) {
    a0 = f32x4.relaxed_madd(a0, b, c);
    a1 = f32x4.relaxed_madd(a1, b, c);
    a2 = f32x4.relaxed_madd(a2, b, c);
    a3 = f32x4.relaxed_madd(a3, b, c);
    a4 = f32x4.relaxed_madd(a4, b, c);
    a5 = f32x4.relaxed_madd(a5, b, c);
    a6 = f32x4.relaxed_madd(a6, b, c);
    a7 = f32x4.relaxed_madd(a7, b, c);
    a8 = f32x4.relaxed_madd(a8, b, c);
    a9 = f32x4.relaxed_madd(a9, b, c);
    a10 = f32x4.relaxed_madd(a10, b, c);
    a11 = f32x4.relaxed_madd(a11, b, c);
  }
  return f32x4.extract_lane(a0, 0) + f32x4.extract_lane(a1, 0) + f32x4.extract_lane(a2, 0) + f32x4.extract_lane(a3, 0) + f32x4.extract_lane(a4, 0) + f32x4.extract_lane(a5, 0) + f32x4.extract_lane(a6, 0) + f32x4.extract_lane(a7, 0) + f32x4.extract_lane(a8, 0) + f32x4.extract_lane(a9, 0) + f32x4.extract_lane(a10, 0) + f32x4.extract_lane(a11, 0);
}

/** `n` iterations of a[i] = a[i] * b + c as f32x4.mul then f32x4.add (any SIMD128 engine). */
export function muladd(n: i32, s: f32): f32 {
  const b = f32x4.splat(s);
  const c = f32x4.splat(<f32>1 - s);
  let a0 = f32x4.splat(<f32>(0 * 0.01));
  let a1 = f32x4.splat(<f32>(1 * 0.01));
  let a2 = f32x4.splat(<f32>(2 * 0.01));
  let a3 = f32x4.splat(<f32>(3 * 0.01));
  let a4 = f32x4.splat(<f32>(4 * 0.01));
  let a5 = f32x4.splat(<f32>(5 * 0.01));
  let a6 = f32x4.splat(<f32>(6 * 0.01));
  let a7 = f32x4.splat(<f32>(7 * 0.01));
  let a8 = f32x4.splat(<f32>(8 * 0.01));
  let a9 = f32x4.splat(<f32>(9 * 0.01));
  let a10 = f32x4.splat(<f32>(10 * 0.01));
  let a11 = f32x4.splat(<f32>(11 * 0.01));
  for (let k = 0; k < n; k++) {
    a0 = f32x4.add(f32x4.mul(a0, b), c);
    a1 = f32x4.add(f32x4.mul(a1, b), c);
    a2 = f32x4.add(f32x4.mul(a2, b), c);
    a3 = f32x4.add(f32x4.mul(a3, b), c);
    a4 = f32x4.add(f32x4.mul(a4, b), c);
    a5 = f32x4.add(f32x4.mul(a5, b), c);
    a6 = f32x4.add(f32x4.mul(a6, b), c);
    a7 = f32x4.add(f32x4.mul(a7, b), c);
    a8 = f32x4.add(f32x4.mul(a8, b), c);
    a9 = f32x4.add(f32x4.mul(a9, b), c);
    a10 = f32x4.add(f32x4.mul(a10, b), c);
    a11 = f32x4.add(f32x4.mul(a11, b), c);
  }
  return f32x4.extract_lane(a0, 0) + f32x4.extract_lane(a1, 0) + f32x4.extract_lane(a2, 0) + f32x4.extract_lane(a3, 0) + f32x4.extract_lane(a4, 0) + f32x4.extract_lane(a5, 0) + f32x4.extract_lane(a6, 0) + f32x4.extract_lane(a7, 0) + f32x4.extract_lane(a8, 0) + f32x4.extract_lane(a9, 0) + f32x4.extract_lane(a10, 0) + f32x4.extract_lane(a11, 0);
}

/** Independent chains per iteration (the runner's FLOP count reads it). */
export const CHAINS: i32 = 12;
