/**
 * Seeded test tensors and input-immutability checks.
 *
 * ```ts
 * const r = rng(7);
 * const x = randTensor([1, 4, 4, 2], r);               // uniform in [-1, 1)
 * const p = distinctTensor([1, 4, 4, 2], r, 0.05);      // no near-ties: distinct values >= 0.05 apart
 * const snap = snapshot({ x, w });  conv2d(x, w, null); assertUnchanged(snap, 'conv2d');
 * ```
 */
import { Tensor, type Shape, shapeSize } from '../../src/tensor/tensor.js';
import { Rng } from '../../src/tensor/random.js';

/** A seeded generator (the same as `new Rng(seed)`). */
export function rng(seed: number): Rng {
  return new Rng(seed);
}

/** Uniform values in [low, high), default [-1, 1). */
export function randTensor(shape: Shape, r: Rng, low = -1, high = 1): Tensor {
  return Tensor.rand(shape, { rng: r, low, high });
}

/**
 * Values that are pairwise at least `gap` apart (a shuffled arithmetic progression centred on 0,
 * plus a tiny common jitter), so max-pool argmaxes are stable under perturbations smaller than gap/2.
 * With `avoidZero`, every |value| >= gap / 2 as well (for ReLU / leaky ReLU kinks).
 */
export function distinctTensor(shape: Shape, r: Rng, gap = 0.05, avoidZero = true): Tensor {
  const n = shapeSize(shape);
  const perm = r.permutation(n);
  const t = Tensor.zeros(shape);
  // Centred progression: for even n it already sits at odd multiples of gap/2; for odd n shift by gap/2.
  const shift = avoidZero && n % 2 === 1 ? 0.5 : 0;
  for (let i = 0; i < n; i++) t.data[i] = (perm[i] - (n - 1) / 2 + shift) * gap;
  return t;
}

/** Values uniform in [-high, -low] ∪ [low, high]: away from zero (for ReLU-like kinks). */
export function awayFromZeroTensor(shape: Shape, r: Rng, low = 0.1, high = 1): Tensor {
  const t = Tensor.zeros(shape);
  for (let i = 0; i < t.size; i++) {
    const m = r.uniform(low, high);
    t.data[i] = r.int(2) === 0 ? -m : m;
  }
  return t;
}

/** Integer labels in [0, k). */
export function randLabels(n: number, k: number, r: Rng): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = r.int(k);
  return out;
}

/** A bit-exact copy of some tensors' data, to check later that nothing mutated them. */
export interface Snapshot {
  tensors: Record<string, Tensor>;
  copies: Record<string, Uint32Array>;
}

export function snapshot(tensors: Record<string, Tensor | null>): Snapshot {
  const s: Snapshot = { tensors: {}, copies: {} };
  for (const [name, t] of Object.entries(tensors)) {
    if (t === null) continue;
    s.tensors[name] = t;
    s.copies[name] = new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length).slice();
  }
  return s;
}

/** Throws (naming the tensor and first changed index) if any snapshotted tensor's bits changed. */
export function assertUnchanged(s: Snapshot, label: string): void {
  for (const [name, t] of Object.entries(s.tensors)) {
    const now = new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length);
    const before = s.copies[name];
    if (now.length !== before.length) throw new Error(`${label}: input ${name} changed length ${before.length} -> ${now.length}`);
    for (let i = 0; i < now.length; i++) {
      if (now[i] !== before[i]) {
        const was = new Float32Array(before.buffer)[i];
        throw new Error(`${label}: input ${name} was mutated at index ${i}: ${was} -> ${t.data[i]}`);
      }
    }
  }
}
