/** The libraries a benchmark run has loaded (null: not available, with the reason in the run's notes). */
import type { ConvNetJSEnv } from './convnetjs.js';
import type { StrideEnv } from './stride.js';
import type { TfjsEnv } from './tfjs.js';
import type { OrtEnv } from './ort.js';
import type { PytorchEnv } from './pytorch.js';

export interface Peers {
  stride: StrideEnv | null;
  tfjs: TfjsEnv | null;
  cnn: ConvNetJSEnv | null;
  /** onnxruntime-web (W4 only). */
  ort: OrtEnv | null;
  /** PyTorch CPU in a Python child process (W1, W3, W4, W5). */
  torch: PytorchEnv | null;
}

/** Fills a Float32Array with uniform values in [-scale, scale) from a seeded generator. */
export function randomArray(n: number, rng: { next(): number }, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (2 * rng.next() - 1) * scale;
  return a;
}
