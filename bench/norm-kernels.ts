/**
 * A/B of the BatchNorm, Dropout and Softmax arithmetic (issue 10 item 3): the reference kernels
 * against the wasm ones where they exist, on the shapes of `bench/profile-lenet.ts --net mobile`
 * (batch 64), and, for Dropout, the layer's whole forward (mask drawing included) beside the
 * product alone. Medians of `reps` runs after warm-up, single-threaded kernels.
 *
 *   flock /tmp/stride-bench.lock node --experimental-wasm-relaxed-simd --import tsx bench/norm-kernels.ts [--reps 15]
 */
import { parseArgs } from 'node:util';
import { Dropout, Rng, Tensor, ready, reference, wasm, type Kernels } from '../src/index.js';

const { values } = parseArgs({ options: { reps: { type: 'string', default: '15' } } });
const reps = Number(values.reps);

function time(f: () => unknown): number {
  for (let i = 0; i < 3; i++) f();
  const t: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    f();
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  return t[t.length >> 1];
}

const bnStep = (k: Kernels, x: Tensor, dy: Tensor, g: Tensor, b: Tensor) => () => {
  const { mean, variance } = k.batchNormStats(x);
  k.batchNorm(x, mean, variance, g, b, 1e-5);
  k.batchNormBackward(dy, x, mean, variance, g, 1e-5);
};

async function main(): Promise<void> {
  await ready();
  console.log('kernel (shape)                                 reference ms    wasm ms   speed-up');
  const row = (what: string, ref: number, fast: number | null) =>
    console.log(`${what.padEnd(46)}${ref.toFixed(2).padStart(13)}${(fast === null ? '-' : fast.toFixed(2)).padStart(11)}${(fast === null ? '' : `${(ref / fast).toFixed(1)}x`).padStart(11)}`);
  for (const shape of [[64, 28, 28, 32], [64, 28, 28, 64], [64, 14, 14, 64]]) {
    const C = shape[3];
    const x = Tensor.randn(shape, { seed: 1 });
    const dy = Tensor.randn(shape, { seed: 2 });
    const g = Tensor.randn([C], { seed: 3 });
    const b = Tensor.randn([C], { seed: 4 });
    row(`batchNorm stats+fwd+bwd [${shape}]`, time(bnStep(reference, x, dy, g, b)), time(bnStep(wasm, x, dy, g, b)));
  }
  for (const shape of [[64, 64], [64, 14, 14, 64]]) {
    const x = Tensor.randn(shape, { seed: 5 });
    const mask = Tensor.rand(shape, { seed: 6 });
    row(`dropout product [${shape}]`, time(() => reference.dropout(x, mask)), null);
    const layer = new Dropout({ rate: 0.25 });
    layer.build(shape.slice(1), new Rng(7));
    row(`Dropout layer forward, mask drawn [${shape}]`, time(() => layer.forward(x, true)), null);
  }
  const logits = Tensor.randn([64, 10], { seed: 8 });
  const p = reference.softmax(logits);
  row('softmax forward [64,10]', time(() => reference.softmax(logits)), null);
  row('softmax backward [64,10]', time(() => reference.softmaxBackward(logits, p)), null);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
