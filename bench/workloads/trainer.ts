/**
 * What W3 (training) and W4 (inference) need from each library: build a model of shapes.ts
 * MODELS, take an SGD step on a batch, predict classes, run a forward pass.
 */
import type { ModelName } from '../shapes.js';

export interface TrainerOptions {
  /** The library's backend: Stride 'wasm' | 'reference', tfjs 'cpu' | 'wasm'; ignored by ConvNetJS. */
  backend: string;
  /** SGD learning rate (W3: 0.01). */
  lr: number;
  /** Initialisation seed (where the library takes one). */
  seed: number;
  /** Threads for libraries that use them. */
  threads: number;
}

export interface Trainer {
  /** Display name, e.g. 'Stride wasm', 'tfjs-cpu', 'ConvNetJS'. */
  impl: string;
  /** Untimed: makes this trainer's backend current (several share one process in W4). */
  activate(): Promise<void>;
  /** One plain SGD step, softmax cross-entropy, on the first b images (NHWC [b, 28, 28, 1]) and labels; the mean loss. */
  step(images: Float32Array, labels: Int32Array, b: number): Promise<number>;
  /** Predicted classes of the first b images. */
  predict(images: Float32Array, b: number): Int32Array;
  /** A forward pass over the first b images, synchronously, results read back (W4). */
  infer(images: Float32Array, b: number): void;
  dispose(): void;
}

export type TrainerFactory = (model: ModelName, opts: TrainerOptions) => Promise<Trainer>;

/** Index of the largest of `k` values starting at `offset`. */
export function argmax(a: ArrayLike<number>, offset: number, k: number): number {
  let best = 0;
  for (let j = 1; j < k; j++) if (a[offset + j] > a[offset + best]) best = j;
  return best;
}
