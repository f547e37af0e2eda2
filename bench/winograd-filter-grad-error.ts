/**
 * The float32 error of Winograd dW (assembly/winograd-filter-grad.ts) and of the direct streaming
 * kernel against the float64 reference (reference.conv2dBackwardFilter sums in float64 and rounds
 * once): max|wasm - ref| / max|ref| on random stride-1 configs and on the W1 shapes (docs/wasm.md,
 * "Winograd dW"). The cross-checks' tolerance is 1e-5 + 1e-4 max|ref|.
 *
 *   node [--experimental-wasm-relaxed-simd] --import tsx bench/winograd-filter-grad-error.ts [--configs 40]
 */
import { Rng, Tensor, computeConv2DInfo, reference, type Conv2DInfo } from '../src/index.js';
import { ready, setThreads, wasmRuntime, wasm } from '../src/kernels/wasm/index.js';
import { setConvAlgorithm } from '../src/kernels/wasm/winograd.js';
import { conv2dBackwardFilterWinogradWasm } from '../src/kernels/wasm/winograd-filter-grad.js';

const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
await ready();
setThreads(2);
await ready();
const rt = wasmRuntime()!;

const relErr = (got: Tensor, want: Tensor): number => {
  let e = 0;
  let m = 0;
  for (let i = 0; i < want.size; i++) {
    e = Math.max(e, Math.abs(got.data[i] - want.data[i]));
    m = Math.max(m, Math.abs(want.data[i]));
  }
  return e / m;
};

/** [Winograd, direct] relative errors of dW on one shape. */
function errors(xs: [number, number, number, number], r: number, outC: number, t: number, padding: Conv2DInfo['padTop'] | 'same' | 'valid' | [number, number, number, number], seed: number): [number, number] {
  const info = computeConv2DInfo('err', xs, [r, r, xs[3], outC], { padding });
  const x = Tensor.randn(xs, { seed });
  const dy = Tensor.randn([info.batch, info.outH, info.outW, outC], { seed: seed + 1 });
  const ref = reference.conv2dBackwardFilter(dy, x, info);
  rt.reset();
  const w = conv2dBackwardFilterWinogradWasm(rt, dy, x, info, t)!;
  const ew = relErr(w.dw, ref.dw);
  setConvAlgorithm('direct');
  const d = wasm.conv2dBackwardFilter(dy, x, info);
  setConvAlgorithm('auto');
  return [ew, relErr(d.dw, ref.dw)];
}

const configs = Number(arg('configs', '40'));
const worst = new Map<string, [number, number]>();
const rng = new Rng(7);
for (let s = 0; s < configs; s++) {
  const [r, t] = ([[3, 2], [3, 4], [5, 2]] as const)[s % 3];
  const xs: [number, number, number, number] = [1 + rng.int(3), 1 + rng.int(16), 1 + rng.int(16), 8 * (1 + rng.int(8))];
  const outC = 8 * (1 + rng.int(8));
  const p = rng.int(r);
  const pads = ['same', 'valid', p, [p, rng.int(r), rng.int(r), p]] as const;
  try {
    const e = errors(xs, r, outC, t, pads[s % 4] as 'same', 1000 + s);
    const k = `F(${r}, ${t}) random`;
    const w = worst.get(k) ?? [0, 0];
    worst.set(k, [Math.max(w[0], e[0]), Math.max(w[1], e[1])]);
  } catch {
    // the filter does not fit the padded input
  }
}
for (const [k, [ew, ed]] of worst) console.log(`${rt.variant} ${k}: winograd ${ew.toExponential(2)} direct ${ed.toExponential(2)} (share of tolerance ${(ew / 1e-4 * 100).toFixed(1)}%)`);
for (const [name, xs, r, outC, t] of [
  ['W1 c3 (N=32)', [32, 32, 32, 64], 3, 64, 4],
  ['W1 c3 F(3,2) (N=32)', [32, 32, 32, 64], 3, 64, 2],
  ['W1 c2 (N=32)', [32, 14, 14, 32], 5, 64, 2],
  ['lenet conv2 (N=64)', [64, 14, 14, 32], 5, 64, 2],
] as [string, [number, number, number, number], number, number, number][]) {
  const [ew, ed] = errors(xs, r, outC, t, 'same', 1);
  console.log(`${rt.variant} ${name}: winograd ${ew.toExponential(2)} direct ${ed.toExponential(2)} (share of tolerance ${(ew / 1e-4 * 100).toFixed(1)}%)`);
}
process.exit(0);
