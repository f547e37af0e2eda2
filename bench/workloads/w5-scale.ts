/**
 * W5 (defined by the bench; WORKLOADS.md has W1-W4): how the cost of one conv block grows with
 * the work. The block: conv 3x3, 16 filters, stride 1, 'same' padding, with bias, then ReLU, then
 * max pooling 2x2 stride 2, on an H x H x 3 input (NHWC), forward (inference) only. Inputs 28x28,
 * 64x64 (the seeds' 64x64x3 images), 128x128 and 224x224; batches 1, 8, 64 and 256. Each
 * (size, batch) is one row; per image, and per input pixel (time / (H * W * batch)), so that
 * linear growth reads as a flat column; batch-1 latency is reported on its own.
 *
 * Skipped: 224x224 at batch 256, where the conv output alone (224·224·16 floats per image) is
 * 822 MB (W5_MAX_PIXELS below).
 */
import { Rng } from '../../src/tensor/random.js';
import { randomArray, type Peers } from '../peers/index.js';
import { pytorchW5, type PyTiming } from '../peers/pytorch.js';
import type { RowResult } from '../report.js';
import { measureRow, type Subject, type TimingOptions } from '../timing.js';

export const W5_SIZES: readonly number[] = Object.freeze([28, 64, 128, 224]);
export const W5_BATCHES: readonly number[] = Object.freeze([1, 8, 64, 256]);
export const W5_IN_C = 3;
export const W5_FILTERS = 16;
export const W5_K = 3;
export const W5_POOL = 2;
/** Largest H * W * batch run (128 x 128 x 256: a 268 MB conv output); larger combinations are skipped. */
export const W5_MAX_PIXELS = 128 * 128 * 256;

export interface W5Row {
  h: number;
  n: number;
  /** FLOPs of one image: the convolution's 2 * H * W * 16 * 3 * 3 * 3 (ReLU and pooling not counted). */
  flopsPerImage: number;
  results: RowResult[];
}

/** FLOPs of one image of the block at H x W ('same', stride 1: output H x W x 16). */
export function w5FlopsPerImage(h: number, w: number = h): number {
  return 2 * h * w * W5_FILTERS * W5_K * W5_K * W5_IN_C;
}

/** Why a combination is skipped, or null when it runs. */
export function w5SkipReason(h: number, n: number): string | null {
  if (h * h * n <= W5_MAX_PIXELS) return null;
  const mb = (h * h * W5_FILTERS * 4 * n) / 1e6;
  return `${h}x${h} at batch ${n} skipped: the conv output alone is ${mb.toFixed(0)} MB (H·W·batch above ${W5_MAX_PIXELS.toLocaleString('en-US')})`;
}

/** The combinations in order (size-major) and the skipped ones with their reasons. */
export function w5Combos(sizes: readonly number[] = W5_SIZES, batches: readonly number[] = W5_BATCHES): { run: [number, number][]; skipped: string[] } {
  const run: [number, number][] = [];
  const skipped: string[] = [];
  for (const h of sizes) {
    for (const n of batches) {
      const why = w5SkipReason(h, n);
      if (why === null) run.push([h, n]);
      else skipped.push(why);
    }
  }
  return { run, skipped };
}

/** Nanoseconds per input pixel (H * W per image) of a measurement: flat when cost is linear in pixels x batch. */
export function nsPerPixel(msPerImage: number, h: number, w: number = h): number {
  return (msPerImage * 1e6) / (h * w);
}

function strideSubject(peers: Peers, h: number, x: Float32Array): Subject {
  const env = peers.stride!;
  const api = env.api;
  const backend = env.primary;
  let net: InstanceType<typeof api.Sequential> | null = null;
  return {
    impl: `Stride ${backend}`,
    activate: () => api.setBackend(backend),
    make: (n) => {
      net ??= new api.Sequential(
        [new api.Conv2D({ outChannels: W5_FILTERS, kernelSize: W5_K, padding: 'same' }), new api.ReLU(), new api.MaxPool2D({ kernelSize: W5_POOL })],
        { inputShape: [h, h, W5_IN_C], seed: 1 },
      );
      const model = net;
      const t = new api.Tensor(x.subarray(0, n * h * h * W5_IN_C), [n, h, h, W5_IN_C]);
      return { run: () => model.predict(t, n).dispose() };
    },
  };
}

export async function runW5(
  peers: Peers, timing: Omit<TimingOptions, 'fullN'>, py: PyTiming | undefined, onRow?: (r: W5Row) => void,
): Promise<{ rows: W5Row[]; skipped: string[] }> {
  const { run, skipped } = w5Combos();
  const rows: W5Row[] = [];
  const maxN = new Map<number, number>();
  for (const [h, n] of run) maxN.set(h, Math.max(maxN.get(h) ?? 0, n));
  const inputs = new Map<number, Float32Array>();
  for (const [h, n] of maxN) inputs.set(h, randomArray(n * h * h * W5_IN_C, new Rng(5000 + h)).map((v) => (v + 1) / 2));
  for (const [h, n] of run) {
    const subjects: Subject[] = peers.stride !== null ? [strideSubject(peers, h, inputs.get(h)!)] : [];
    const results: RowResult[] = await measureRow(subjects, { ...timing, fullN: n, label: `W5 ${h}x${h} batch ${n}` });
    rows.push({ h, n, flopsPerImage: w5FlopsPerImage(h), results });
  }
  if (peers.torch !== null && py !== undefined) {
    const t = pytorchW5(peers.torch, run, py);
    for (const r of rows) {
      const m = t.get(`${r.h}x${r.n}`);
      if (m !== undefined) r.results.push(m);
    }
  }
  rows.forEach((r) => onRow?.(r));
  return { rows, skipped };
}
