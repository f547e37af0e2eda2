// Elementwise activations, four lanes at a time (n is padded to a multiple of 4 by the caller).
// Same rules as reference/activations.ts: relu keeps NaN (f32x4.max propagates it) and maps -0 to
// +0; reluBackward passes dy where x > 0, else 0 (NaN x included).

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
