// Global average pooling, NHWC: the mean of each channel over H * W (HW) cells. The same rule as
// src/kernels/reference/global-avg-pool2d.ts, in float32: a pixel's C channels are contiguous, so
// four channels are summed per v128 (a scalar tail for C % 4), and the row of means is scaled once.

/** y[b, c] = (1 / HW) Σ_p x[b, p, c] for b < N; y is N * C floats, x N * HW * C. */
export function globalAvgPool(x: usize, y: usize, N: i32, HW: i32, C: i32): void {
  const rowBytes = <usize>C << 2;
  const inv: f32 = 1.0 / <f32>HW;
  const vinv = f32x4.splat(inv);
  for (let b = 0; b < N; b++) {
    const out = y + <usize>b * rowBytes;
    const img = x + <usize>b * <usize>HW * rowBytes;
    memory.fill(out, 0, rowBytes);
    for (let p = 0; p < HW; p++) {
      const px = img + <usize>p * rowBytes;
      let c = 0;
      for (; c + 4 <= C; c += 4) {
        const o = <usize>c << 2;
        v128.store(out + o, f32x4.add(v128.load(out + o), v128.load(px + o)));
      }
      for (; c < C; c++) {
        const o = <usize>c << 2;
        store<f32>(out + o, load<f32>(out + o) + load<f32>(px + o));
      }
    }
    let c = 0;
    for (; c + 4 <= C; c += 4) {
      const o = <usize>c << 2;
      v128.store(out + o, f32x4.mul(v128.load(out + o), vinv));
    }
    for (; c < C; c++) {
      const o = <usize>c << 2;
      store<f32>(out + o, load<f32>(out + o) * inv);
    }
  }
}

/** dx[b, p, c] = dy[b, c] / HW for b < N, p < HW: every cell of a channel gets the same share. */
export function globalAvgPoolBackward(dy: usize, dx: usize, N: i32, HW: i32, C: i32): void {
  const rowBytes = <usize>C << 2;
  const inv: f32 = 1.0 / <f32>HW;
  const vinv = f32x4.splat(inv);
  for (let b = 0; b < N; b++) {
    const g = dy + <usize>b * rowBytes;
    const img = dx + <usize>b * <usize>HW * rowBytes;
    for (let p = 0; p < HW; p++) {
      const px = img + <usize>p * rowBytes;
      let c = 0;
      for (; c + 4 <= C; c += 4) {
        const o = <usize>c << 2;
        v128.store(px + o, f32x4.mul(v128.load(g + o), vinv));
      }
      for (; c < C; c++) {
        const o = <usize>c << 2;
        store<f32>(px + o, load<f32>(g + o) * inv);
      }
    }
  }
}
