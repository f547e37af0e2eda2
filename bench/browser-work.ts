/**
 * What `npm run bench:browser` times, written once for both sides, each with its own copy of the
 * library (`S`): W3 through `fit` here and through the `stride-cnn/worker` trainer in the page (the
 * same run: the trainer is `fit` one batch per task), W4 through `Sequential.predict` on both.
 */
import type * as Stride from '../src/index.js';

type S = typeof Stride;

export const PIXELS = 28 * 28;
export const W3_BATCH = 64;
export const W4_BATCH = 256;
export const W3_LR = 0.01;
export const SHUFFLE_SEED = 1;
export const MODEL_SEED = 1;

/** A fresh preset model, built the way the worker's trainer builds it (from the spec, with a seed). */
export function freshModel(s: S, model: 'small' | 'lenet'): Stride.Sequential {
  return s.Sequential.fromSpec(s.createPreset(model).toSpec(), MODEL_SEED);
}

/** W3 (WORKLOADS.md) in Node: one epoch of `train` (batch 64, plain SGD lr 0.01, seeded shuffle); images/s over the wall time. */
export async function trainW3(s: S, train: Stride.Dataset, model: 'small' | 'lenet'): Promise<number> {
  const net = freshModel(s, model);
  const t0 = performance.now();
  await s.fit(net, train, { epochs: 1, batchSize: W3_BATCH, optimizer: s.createOptimizer('sgd', { lr: W3_LR }), rng: new s.Rng(SHUFFLE_SEED) });
  return (train.length * 1000) / (performance.now() - t0);
}

/** W4: lenet inference images/s at batch 256 (`images` holds 256 images), `reps` timed calls after one untimed. */
export function inferW4(s: S, images: Float32Array, reps: number): number {
  const net = freshModel(s, 'lenet');
  const x = new s.Tensor(images.subarray(0, W4_BATCH * PIXELS), [W4_BATCH, 28, 28, 1]);
  net.predict(x, W4_BATCH).dispose();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) net.predict(x, W4_BATCH).dispose();
  return (reps * W4_BATCH * 1000) / (performance.now() - t0);
}
