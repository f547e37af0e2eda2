// Shared SIMD helpers. `fma` is a fused multiply-add in the relaxed-SIMD build
// (`--enable relaxed-simd` sets ASC_FEATURE_RELAXED_SIMD) and mul + add otherwise; the branch
// is resolved at compile time, so each build contains only one of the two.

/** c + a * b on four f32 lanes. */
@inline export function fma(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}
