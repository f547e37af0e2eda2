/** The libraries a benchmark run has loaded (null: not available, with the reason in the run's notes). */
import type { ConvNetJSEnv } from './convnetjs.js';
import type { StrideEnv } from './stride.js';
import type { TfjsEnv } from './tfjs.js';

export interface Peers {
  stride: StrideEnv | null;
  tfjs: TfjsEnv | null;
  cnn: ConvNetJSEnv | null;
}

/** Fills a Float32Array with uniform values in [-scale, scale) from a seeded generator. */
export function randomArray(n: number, rng: { next(): number }, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (2 * rng.next() - 1) * scale;
  return a;
}
