/**
 * Timing of the elementwise activation kernels, wasm against reference, on a [256, 28, 28, 32] tensor
 * (medians of 7; outputs disposed after each call).
 *
 *   node --import tsx bench/activations.ts
 */
import { Tensor, reference } from '../src/index.js';
import { wasm, ready } from '../src/kernels/wasm/index.js';
await ready();
const x = Tensor.randn([256, 28, 28, 32], { seed: 1 });
const dy = Tensor.randn(x.shape, { seed: 2 });
const med = (f: () => Tensor): number => { const ts: number[] = []; for (let i = 0; i < 7; i++) { const t = performance.now(); const r = f(); ts.push(performance.now() - t); r.dispose(); } ts.sort((a, b) => a - b); return ts[3]; };
for (const [name, w, r] of [
  ['relu', () => wasm.relu(x), () => reference.relu(x)],
  ['leakyRelu', () => wasm.leakyRelu(x, 0.1), () => reference.leakyRelu(x, 0.1)],
  ['sigmoid', () => wasm.sigmoid(x), () => reference.sigmoid(x)],
  ['tanh', () => wasm.tanh(x), () => reference.tanh(x)],
  ['tanhBackward', () => wasm.tanhBackward(dy, x), () => reference.tanhBackward(dy, x)],
] as const) {
  const a = med(w), b = med(r);
  console.log(`${name.padEnd(13)} wasm ${a.toFixed(1)} ms  reference ${b.toFixed(1)} ms  ${(b / a).toFixed(1)}x  (${(x.size / 1e6).toFixed(1)}M elements)`);
}
process.exit(0);
