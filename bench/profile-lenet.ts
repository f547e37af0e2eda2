/**
 * Where the time of the lenet model (W3 / W4) goes, layer by layer, on the current backend.
 *
 *   node --experimental-wasm-relaxed-simd --import tsx bench/profile-lenet.ts [--reps 7] [--threads 2] [--batches 256,64] [--net lenet|small|mobile]
 *
 * `--net mobile` profiles a small MobileNet-style network instead (conv / depthwise / 1x1 conv, each
 * followed by BatchNorm and ReLU, then GlobalAvgPool2D, Dropout, Dense and Softmax): the layers
 * that lenet does not have, for their share of a step. `--net small` is W3's small model (ConvNetJS's
 * MNIST net, bench/shapes.ts), where the first convolution (Cin = 1) is a larger share of a step.
 *
 * For each batch size: inference (forward, training = false) and one training step (forward with
 * caches, softmax cross-entropy, backward), each layer's call timed on its own; medians of `reps`
 * repetitions after two warm-up passes. "in kernel" is the time spent inside the wasm jobs
 * (Runtime.run plus the exported single-call kernels), the rest of a layer's time being copies into
 * and out of wasm memory, output allocation and JS. The machine is shared: read ratios, not digits.
 */
import { parseArgs } from 'node:util';
import {
  Sequential, Tensor, createPreset, ready, setThreads, getThreads, Conv2D, DepthwiseConv2D, BatchNorm, ReLU, MaxPool2D, GlobalAvgPool2D, Dropout, Dense, Softmax,
  type Layer,
} from '../src/index.js';
import { wasmRuntime } from '../src/kernels/wasm/index.js';
import { winogradDwTuning } from '../src/kernels/wasm/winograd-filter-grad.js';
import { JOB_FUNCTIONS } from '../src/kernels/wasm/abi.js';
import { softmaxCrossEntropy } from '../src/losses/softmax-cross-entropy.js';
import { disposeAllBut } from '../src/model/sequential.js';
import { INPUT_SHAPE, MODELS } from './shapes.js';
import { layerOf } from './workloads/train-stride.js';

const { values } = parseArgs({
  options: {
    reps: { type: 'string', default: '7' },
    threads: { type: 'string' },
    batches: { type: 'string', default: '256,64' },
    net: { type: 'string', default: 'lenet' },
    // --wdw off: dW on the direct kernels only (A/B of Winograd dW, issue 11)
    wdw: { type: 'string', default: 'on' },
  },
});
if (values.wdw === 'off') winogradDwTuning.minTiles = Infinity;
const reps = Number(values.reps);
const batches = values.batches.split(',').map(Number);

const mobile = (): Sequential =>
  new Sequential(
    [
      new Conv2D({ outChannels: 32, kernelSize: 3, padding: 'same' }), new BatchNorm(), new ReLU(),
      new DepthwiseConv2D({ kernelSize: 3, padding: 'same' }), new BatchNorm(), new ReLU(),
      new Conv2D({ outChannels: 64, kernelSize: 1 }), new BatchNorm(), new ReLU(),
      new MaxPool2D({ kernelSize: 2 }),
      new DepthwiseConv2D({ kernelSize: 3, padding: 'same' }), new BatchNorm(), new ReLU(),
      new Conv2D({ outChannels: 64, kernelSize: 1 }), new BatchNorm(), new ReLU(),
      new GlobalAvgPool2D(), new Dropout({ rate: 0.25 }), new Dense({ units: 10 }), new Softmax(),
    ],
    { inputShape: [28, 28, 1], seed: 1 },
  );
const small = (): Sequential => new Sequential(MODELS.small.map(layerOf), { inputShape: INPUT_SHAPE, seed: 1 });
const NETS: Record<string, () => Sequential> = { lenet: () => createPreset('lenet', { seed: 1 }), small, mobile };
if (!Object.hasOwn(NETS, values.net)) throw new Error(`--net must be one of ${Object.keys(NETS).join(', ')}, got ${values.net}`);
const lenet = NETS[values.net];

/** Time inside wasm calls (ms), accumulated; reset by the caller. */
let kernelMs = 0;
function instrument(): void {
  const rt = wasmRuntime();
  if (rt === null) return;
  const origRun = rt.run.bind(rt);
  rt.run = (...a: Parameters<typeof rt.run>): void => {
    const t = performance.now();
    origRun(...a);
    kernelMs += performance.now() - t;
  };
  const ex = rt.exports as unknown as Record<string, unknown>;
  const wrapped: Record<string, unknown> = {};
  for (const k of Object.keys(ex)) {
    const f = ex[k];
    if (typeof f !== 'function' || (JOB_FUNCTIONS as readonly string[]).includes(k)) {
      wrapped[k] = f;
      continue;
    }
    wrapped[k] = (...a: unknown[]): unknown => {
      const t = performance.now();
      const r = (f as (...x: unknown[]) => unknown)(...a);
      kernelMs += performance.now() - t;
      return r;
    };
  }
  (rt as unknown as { exports: unknown }).exports = wrapped;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
};

interface Sample {
  fwd: number[][];
  fwdK: number[][];
  bwd: number[][];
  bwdK: number[][];
  total: number[];
}

function timed<T>(f: () => T): { v: T; ms: number; k: number } {
  const k0 = kernelMs;
  const t = performance.now();
  const v = f();
  return { v, ms: performance.now() - t, k: kernelMs - k0 };
}

function profile(net: Sequential, x: Tensor, labels: Int32Array, training: boolean): Sample {
  const L = net.layers.length;
  const s: Sample = {
    fwd: Array.from({ length: L }, () => []),
    fwdK: Array.from({ length: L }, () => []),
    bwd: Array.from({ length: L }, () => []),
    bwdK: Array.from({ length: L }, () => []),
    total: [],
  };
  for (let r = -2; r < reps; r++) {
    const t0 = performance.now();
    let y = x;
    const f: number[] = [];
    const fk: number[] = [];
    // Intermediates are disposed as Sequential.predict and trainStep do (after use in inference,
    // after the step in training), so the kernels reuse their memory (tensor/storage.ts).
    const made: Tensor[] = [];
    net.layers.forEach((l: Layer) => {
      const prev = y;
      const o = timed(() => l.forward(y, training));
      y = o.v;
      if (!training && prev !== x && prev.data.buffer !== y.data.buffer) prev.dispose();
      else made.push(y);
      f.push(o.ms);
      fk.push(o.k);
    });
    const b: number[] = new Array<number>(L).fill(0);
    const bk: number[] = new Array<number>(L).fill(0);
    if (training) {
      let g = softmaxCrossEntropy(y, labels).grad;
      for (let i = L - 1; i >= 0; i--) {
        const o = timed(() => net.layers[i].backward(g));
        made.push(g);
        g = o.v;
        b[i] = o.ms;
        bk[i] = o.k;
      }
      made.push(g);
    }
    disposeAllBut(made, x);
    for (const p of net.params()) p.grad.data.fill(0);
    const total = performance.now() - t0;
    if (r < 0) continue;
    for (let i = 0; i < L; i++) {
      s.fwd[i].push(f[i]);
      s.fwdK[i].push(fk[i]);
      s.bwd[i].push(b[i]);
      s.bwdK[i].push(bk[i]);
    }
    s.total.push(total);
  }
  return s;
}

function print(net: Sequential, s: Sample, what: string, batch: number, training: boolean): void {
  const total = median(s.total);
  console.log(`\n${what}, batch ${batch}: ${total.toFixed(1)} ms per batch (median of ${reps}), ${((batch / total) * 1000).toFixed(0)} images/s`);
  const head = training ? ['layer', 'fwd ms', '(kernel)', 'bwd ms', '(kernel)', '% of step'] : ['layer', 'fwd ms', '(kernel)', '% of pass'];
  console.log(head.map((h, i) => (i === 0 ? h.padEnd(36) : h.padStart(10))).join(''));
  let sum = 0;
  net.layers.forEach((l, i) => {
    const f = median(s.fwd[i]);
    const b = median(s.bwd[i]);
    sum += f + b;
    const cells = [`${i} ${l.toString()}`.slice(0, 35).padEnd(36), f.toFixed(2).padStart(10), median(s.fwdK[i]).toFixed(2).padStart(10)];
    if (training) cells.push(b.toFixed(2).padStart(10), median(s.bwdK[i]).toFixed(2).padStart(10));
    cells.push(((100 * (f + b)) / total).toFixed(1).padStart(10));
    console.log(cells.join(''));
  });
  console.log(`${'sum of layers'.padEnd(36)}${sum.toFixed(1).padStart(10)}   (rest: loss, JS between layers: ${(total - sum).toFixed(1)} ms)`);
}

async function main(): Promise<void> {
  if (values.threads !== undefined) setThreads(Number(values.threads));
  const backend = await ready();
  instrument();
  console.log(`backend ${backend.backend}, ${getThreads()} thread(s), build ${wasmRuntime()?.variant ?? '-'}`);
  for (const batch of batches) {
    const net = lenet();
    const x = Tensor.rand([batch, 28, 28, 1], { seed: 4 });
    const labels = Int32Array.from({ length: batch }, (_, i) => i % 10);
    print(net, profile(net, x, labels, false), 'inference', batch, false);
    print(net, profile(net, x, labels, true), 'training step', batch, true);
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
