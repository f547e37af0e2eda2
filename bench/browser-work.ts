/**
 * The work `npm run bench:browser` times, written once for both sides: bench/browser.ts runs it in
 * Node, bench/browser-worker.ts in a module worker of a cross-origin-isolated Chromium page, each
 * with its own copy of the library (`S`) and the same data, seeds and batches.
 */
import type * as Stride from '../src/index.js';

type S = typeof Stride;

export const PIXELS = 28 * 28;
export const W3_BATCH = 64;
export const W4_BATCH = 256;

export interface Digits {
  /** [n, 28, 28, 1] in [0, 1], already in the benchmark's (seeded) shuffled order. */
  images: Float32Array;
  labels: Int32Array;
  n: number;
}

export interface W3Result {
  imagesPerSec: number;
  ms: number;
  losses: number[];
}

export interface W4Result {
  imagesPerSec: number;
  msPerBatch: number;
}

/**
 * W3 (WORKLOADS.md): training images/s of a fresh preset model (seed 1), SGD lr 0.01, batch 64,
 * over `batches` consecutive batches of `data`, after `warmUp` untimed steps on the first batches.
 */
export function trainW3(s: S, data: Digits, model: 'small' | 'lenet', batches: number, warmUp = 2): W3Result {
  const net = s.createPreset(model, { inputShape: [28, 28, 1], numClasses: 10, seed: 1 });
  const sgd = new s.SGD({ lr: 0.01 });
  const need = (batches + warmUp) * W3_BATCH;
  if (need > data.n) throw new Error(`trainW3: ${batches} + ${warmUp} batches of ${W3_BATCH} need ${need} images, got ${data.n}`);
  const batchAt = (i: number): [Stride.Tensor, Int32Array] => [
    new s.Tensor(data.images.subarray(i * W3_BATCH * PIXELS, (i + 1) * W3_BATCH * PIXELS), [W3_BATCH, 28, 28, 1]),
    data.labels.subarray(i * W3_BATCH, (i + 1) * W3_BATCH),
  ];
  for (let i = 0; i < warmUp; i++) net.trainStep(...batchAt(i), sgd);
  const losses: number[] = [];
  const t0 = performance.now();
  for (let i = warmUp; i < warmUp + batches; i++) losses.push(net.trainStep(...batchAt(i), sgd).loss);
  const ms = performance.now() - t0;
  return { imagesPerSec: (batches * W3_BATCH * 1000) / ms, ms, losses };
}

/** W4: lenet inference images/s at batch 256 (the first 256 images), `reps` timed calls after one untimed. */
export function inferW4(s: S, data: Digits, reps: number): W4Result {
  const net = s.createPreset('lenet', { inputShape: [28, 28, 1], numClasses: 10, seed: 1 });
  const x = new s.Tensor(data.images.subarray(0, W4_BATCH * PIXELS), [W4_BATCH, 28, 28, 1]);
  net.predict(x, W4_BATCH).dispose();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) net.predict(x, W4_BATCH).dispose();
  const ms = performance.now() - t0;
  return { imagesPerSec: (reps * W4_BATCH * 1000) / ms, msPerBatch: ms / reps };
}
