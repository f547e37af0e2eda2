/**
 * The float32 error of Winograd F(2x2,3x3) and F(4x4,3x3) (--k 3), or F(2x2,5x5) (--k 5), against
 * the float64 reference, beside the direct kernel's (docs/wasm.md, "Winograd"): forward and dX on
 * random k x k stride-1 configs (every padding form, 1-64 channels, and two with 256 and 512) and on
 * the W1 c3 (c2 for k = 5) layer (N = 2 of its 32 images). For each kernel: the largest
 * |wasm - reference| / max|reference| over the configs, and the largest ratio of the error to the
 * cross-check tolerance (test/wasm/helpers.ts: 1e-5 + 1e-4 max|reference|; < 1 passes).
 * `--emulate 1` adds the forward of the float32-emulating reference (conv2dWinogradReference with
 * float32 rounding) of F(4x4,3x3) (to compare with the wasm kernel's), or of F(2x2,5x5) and
 * F(4x4,5x5), which no wasm kernel runs.
 *
 *   nice -n 15 node --experimental-wasm-relaxed-simd --import tsx bench/winograd-error.ts [--configs 200] [--k 5] [--emulate 1]
 */
import v8 from 'node:v8';
import { Rng, Tensor, computeConv2DInfo, reference, type Conv2DInfo, type Padding } from '../src/index.js';
import { initWasm, setThreads, wasmRuntime } from '../src/kernels/wasm/index.js';
import { detectFeatures } from '../src/kernels/wasm/loader.js';
import { conv2dWasm, conv2dBackwardInputWasm } from '../src/kernels/wasm/conv2d.js';
import { conv2dBackwardInputWinogradWasm, conv2dWinogradWasm, setConvAlgorithm } from '../src/kernels/wasm/winograd.js';
import { conv2dWinogradReference, F4, F45, type WinogradMatrices } from '../src/kernels/reference/winograd.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
}

interface Stat { rel: number; tolRatio: number; abs: number; at: string }
const fresh = (): Stat => ({ rel: 0, tolRatio: 0, abs: 0, at: '' });

function measure(s: Stat, got: Tensor, want: Tensor, label: string): void {
  let maxRef = 0;
  for (const v of want.data) maxRef = Math.max(maxRef, Math.abs(v));
  let err = 0;
  for (let i = 0; i < want.size; i++) err = Math.max(err, Math.abs(got.data[i] - want.data[i]));
  const rel = err / maxRef;
  if (rel > s.rel) { s.rel = rel; s.at = label; }
  s.abs = Math.max(s.abs, err);
  s.tolRatio = Math.max(s.tolRatio, err / (1e-5 + 1e-4 * maxRef));
}

const K = Number(arg('k', '3'));
const emulate = arg('emulate', '0') === '1';
const emulated: Record<string, WinogradMatrices> = emulate ? (K === 3 ? { 'F4 emu fwd': F4 } : { 'F45 emu fwd': F45 }) : {};

function randomCase(seed: number): { shape: [number, number, number, number]; outC: number; padding: Padding; info: Conv2DInfo } {
  const rng = new Rng(seed);
  for (;;) {
    const shape: [number, number, number, number] = [1 + rng.int(3), 1 + rng.int(16), 1 + rng.int(16), 1 + rng.int(64)];
    const outC = 1 + rng.int(64);
    const p = (): number => rng.int(4);
    const padding = ([() => 'valid', () => 'same', () => p(), () => [p(), p()], () => [p(), p(), p(), p()]] as (() => Padding)[])[rng.int(5)]();
    try {
      return { shape, outC, padding, info: computeConv2DInfo('error', shape, [K, K, shape[3], outC], { padding }) };
    } catch {
      // too small for the filter
    }
  }
}

const configs = Number(arg('configs', '200'));
const cases = Array.from({ length: configs }, (_, i) => randomCase(i + 1));
const c3 = { shape: (K === 3 ? [2, 32, 32, 64] : [2, 14, 14, 32]) as [number, number, number, number], outC: 64, padding: 'same' as Padding };
// many channels: the reduction over ic is longer
for (const [shape, outC] of [[[1, 16, 16, 256], 256], [[1, 8, 8, 512], 512]] as [[number, number, number, number], number][]) {
  cases.push({ shape, outC, padding: 'same', info: computeConv2DInfo('error', shape, [K, K, shape[3], outC], { padding: 'same' }) });
}
cases.push({ ...c3, info: computeConv2DInfo('error', c3.shape, [K, K, c3.shape[3], 64], { padding: 'same' }) });
const tiles = [2, 4] as const;

for (const relaxed of [false, true]) {
  if (relaxed) v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  const f = detectFeatures();
  if (relaxed && !f.relaxedSimd) continue;
  initWasm(relaxed ? f : { ...f, relaxedSimd: false });
  setThreads(1);
  const rt = wasmRuntime()!;
  const stats: Record<string, Stat> = {};
  for (const k of ['direct fwd', ...tiles.map((m) => `F${m} fwd`), 'direct dX', ...tiles.map((m) => `F${m} dX`), ...(relaxed ? [] : Object.keys(emulated))]) stats[k] = fresh();
  const c3stats: Record<string, Stat> = {};
  for (const k of Object.keys(stats)) c3stats[k] = fresh();
  cases.forEach((c, i) => {
    const isC3 = i === cases.length - 1;
    const st = isC3 ? c3stats : stats;
    const x = Tensor.randn(c.shape, { seed: 3 * i + 1 });
    const w = Tensor.randn([K, K, c.shape[3], c.outC], { seed: 3 * i + 2 });
    const b = Tensor.randn([c.outC], { seed: 3 * i + 3 });
    const dy = Tensor.randn([c.info.batch, c.info.outH, c.info.outW, c.outC], { seed: 3 * i + 4 });
    const label = `x=[${c.shape}] outC=${c.outC} padding=${JSON.stringify(c.padding)}`;
    const y = reference.conv2d(x, w, b, c.info);
    const dx = reference.conv2dBackwardInput(dy, w, c.info);
    setConvAlgorithm('direct');
    measure(st['direct fwd'], conv2dWasm(rt, x, w, b, c.info), y, label);
    measure(st['direct dX'], conv2dBackwardInputWasm(rt, dy, w, c.info), dx, label);
    setConvAlgorithm('auto');
    if (!relaxed) for (const [k, f] of Object.entries(emulated)) measure(st[k], conv2dWinogradReference(x, w, b, c.info, f, true), y, label);
    for (const m of tiles) {
      rt.reset();
      measure(st[`F${m} fwd`], conv2dWinogradWasm(rt, x, w, b, c.info, m)!, y, label);
      rt.reset();
      measure(st[`F${m} dX`], conv2dBackwardInputWinogradWasm(rt, dy, w, c.info, m)!, dx, label);
    }
  });
  console.log(`build ${rt.variant}: ${configs} random ${K}x${K} stride-1 configs (1-64 channels), and 16x16x256 -> 256, 8x8x512 -> 512`);
  for (const [k, s] of Object.entries(stats)) console.log(`  ${k.padEnd(11)} max err/max|ref| ${s.rel.toExponential(2)}  max err/tolerance ${s.tolRatio.toFixed(4)}  max abs err ${s.abs.toExponential(2)}  (worst: ${s.at})`);
  console.log(K === 3 ? '  W1 c3 layer (N=2, 32x32x64 -> 64, same)' : '  W1 c2 layer (N=2, 14x14x32 -> 64, 5x5, same)');
  for (const [k, s] of Object.entries(c3stats)) console.log(`  ${k.padEnd(11)} max err/max|ref| ${s.rel.toExponential(2)}  max err/tolerance ${s.tolRatio.toFixed(4)}  max abs err ${s.abs.toExponential(2)}`);
}
