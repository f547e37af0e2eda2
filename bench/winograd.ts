/**
 * Winograd against the direct kernel (docs/wasm.md, "Winograd"): W1 c3 forward and dX, a few
 * other 3x3 stride-1 shapes, and 5x5 ones (W1 c2, the lenet and small nets' second convolutions), effective GFLOP/s (direct FLOPs, WORKLOADS.md, / time), median of
 * repeated runs after a warm-up, all in one run.
 *
 *   flock /tmp/stride-bench.lock node --experimental-wasm-relaxed-simd --import tsx bench/winograd.ts [--threads 1,2] [--reps 7] [--cases c3,...]
 */
import { Tensor, computeConv2DInfo, conv2dFlops, type ConvWindowOptions } from '../src/index.js';
import { ready, setThreads, wasmRuntime } from '../src/kernels/wasm/index.js';
import { conv2dWasm, conv2dBackwardInputWasm } from '../src/kernels/wasm/conv2d.js';
import { conv2dBackwardInputWinogradWasm, conv2dWinogradWasm, setConvAlgorithm } from '../src/kernels/wasm/winograd.js';

const CASES: Record<string, { x: [number, number, number, number]; outC: number; opts: ConvWindowOptions; k?: 5 }> = {
  c3: { x: [32, 32, 32, 64], outC: 64, opts: { padding: 'same' } },
  'c3-valid': { x: [32, 32, 32, 64], outC: 64, opts: { padding: 'valid' } },
  wide: { x: [8, 16, 16, 128], outC: 128, opts: { padding: 'same' } },
  c16: { x: [32, 32, 32, 16], outC: 16, opts: { padding: 'same' } },
  c8: { x: [32, 32, 32, 8], outC: 8, opts: { padding: 'same' } },
  small: { x: [32, 7, 7, 32], outC: 32, opts: { padding: 'same' } },
  mid: { x: [32, 14, 14, 32], outC: 64, opts: { padding: 'same' } },
  tiny: { x: [32, 4, 4, 64], outC: 64, opts: { padding: 'same' } },
  s8: { x: [32, 8, 8, 64], outC: 64, opts: { padding: 'same' } },
  s6: { x: [32, 6, 6, 64], outC: 64, opts: { padding: 'same' } },
  b1: { x: [1, 32, 32, 64], outC: 64, opts: { padding: 'same' } },
  c256: { x: [8, 16, 16, 256], outC: 256, opts: { padding: 'same' } },
  c512: { x: [8, 8, 8, 512], outC: 512, opts: { padding: 'same' } },
  // 5x5: W1 c2; W3 lenet's conv2 at batch 64; the small net's conv2
  c2: { x: [32, 14, 14, 32], outC: 64, opts: { padding: 'same' }, k: 5 },
  lenet2: { x: [64, 14, 14, 32], outC: 64, opts: { padding: 'same' }, k: 5 },
  small5: { x: [64, 14, 14, 8], outC: 16, opts: { padding: 'same' }, k: 5 },
  wide5: { x: [8, 16, 16, 128], outC: 128, opts: { padding: 'same' }, k: 5 },
};

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
}
const median = (a: number[]): number => [...a].sort((p, q) => p - q)[a.length >> 1];

await ready();
const rt = wasmRuntime();
if (rt === null) throw new Error('winograd bench: no SIMD here');
const reps = Number(arg('reps', '7'));
const threadList = arg('threads', '2').split(',').map(Number);
const cases = arg('cases', 'c3').split(',');
console.log(`variant ${rt.variant}; median of ${reps}; effective GFLOP/s (ms)`);
for (const threads of threadList) {
  setThreads(threads);
  await ready();
  for (const name of cases) {
    const c = CASES[name];
    const x = Tensor.randn(c.x, { seed: 1 });
    const k = c.k ?? 3;
    const w = Tensor.randn([k, k, c.x[3], c.outC], { seed: 2, std: 0.1 });
    const b = Tensor.randn([c.outC], { seed: 3 });
    const info = computeConv2DInfo('bench', x.shape, w.shape, c.opts);
    const dy = Tensor.randn([info.batch, info.outH, info.outW, info.outC], { seed: 4 });
    const flops = conv2dFlops(info);
    const time = (f: () => void): number => {
      for (let i = 0; i < 3; i++) f();
      const ts: number[] = [];
      for (let i = 0; i < reps; i++) {
        const t0 = performance.now();
        f();
        ts.push(performance.now() - t0);
      }
      return median(ts);
    };
    const fmt = (ms: number): string => `${(flops / ms / 1e6).toFixed(1)} (${ms.toFixed(2)})`;
    setConvAlgorithm('direct');
    const fd = time(() => conv2dWasm(rt, x, w, b, info).dispose());
    const xd = time(() => conv2dBackwardInputWasm(rt, dy, w, info).dispose());
    setConvAlgorithm('auto');
    const f2 = time(() => { rt.reset(); conv2dWinogradWasm(rt, x, w, b, info, 2)!.dispose(); });
    const x2 = time(() => { rt.reset(); conv2dBackwardInputWinogradWasm(rt, dy, w, info, 2)!.dispose(); });
    console.log(`${threads}T ${name} [${c.x}]->${c.outC} ${k}x${k} ${JSON.stringify(c.opts.padding)} ${(flops / 1e9).toFixed(2)} GFLOP`);
    const f4 = time(() => { rt.reset(); conv2dWinogradWasm(rt, x, w, b, info, 4)!.dispose(); });
    const x4 = time(() => { rt.reset(); conv2dBackwardInputWinogradWasm(rt, dy, w, info, 4)!.dispose(); });
    console.log(`  forward: direct ${fmt(fd)}  F(2x2,${k}x${k}) ${fmt(f2)}  F(4x4,${k}x${k}) ${fmt(f4)}  best/direct ${(fd / Math.min(f2, f4)).toFixed(2)}x`);
    console.log(`  dX:      direct ${fmt(xd)}  F(2x2,${k}x${k}) ${fmt(x2)}  F(4x4,${k}x${k}) ${fmt(x4)}  best/direct ${(xd / Math.min(x2, x4)).toFixed(2)}x`);
  }
}
