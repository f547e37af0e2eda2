/**
 * Quick timing of the wasm conv kernels on the W1 workloads (WORKLOADS.md): GFLOP/s of forward,
 * dX and dW (dW includes db), median of repeated runs after a warm-up.
 *
 *   npx tsx bench/kernels-wasm.ts [--threads 1,2] [--reps 7] [--cases c1,c2]
 *   node --experimental-wasm-relaxed-simd --import tsx bench/kernels-wasm.ts   (FMA build on Node 20)
 */
import { Tensor, computeConv2DInfo, conv2dFlops, type ConvWindowOptions } from '../src/index.js';
import { ready, setThreads, wasmRuntime } from '../src/kernels/wasm/index.js';
import { conv2dWasm, conv2dBackwardInputWasm, conv2dBackwardFilterWasm } from '../src/kernels/wasm/conv2d.js';

const CASES: Record<string, { x: [number, number, number, number]; k: number; outC: number; opts: ConvWindowOptions }> = {
  c1: { x: [32, 28, 28, 1], k: 5, outC: 32, opts: { stride: 1, padding: 'same' } },
  c2: { x: [32, 14, 14, 32], k: 5, outC: 64, opts: { stride: 1, padding: 'same' } },
  c3: { x: [32, 32, 32, 64], k: 3, outC: 64, opts: { stride: 1, padding: 'same' } },
  c4: { x: [32, 56, 56, 64], k: 3, outC: 128, opts: { stride: 2, padding: 'valid' } },
};

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
}

function median(a: number[]): number {
  const s = [...a].sort((p, q) => p - q);
  return s[s.length >> 1];
}

await ready();
const rt = wasmRuntime();
if (rt === null) throw new Error('kernels-wasm: no SIMD here');
const reps = Number(arg('reps', '7'));
const threadList = arg('threads', '1,2').split(',').map(Number);
const cases = arg('cases', 'c1,c2,c3,c4').split(',');
// Time spent inside the kernels' compute (Runtime.run), apart from copying data in and out and
// allocating the output arrays (fresh memory is slow to touch in some VMs).
let inRun = 0;
const run = rt.run.bind(rt);
rt.run = (...a: Parameters<typeof rt.run>): void => {
  const t0 = performance.now();
  run(...a);
  inRun += performance.now() - t0;
};
console.log(`variant ${rt.variant}; median of ${reps}; GFLOP/s end to end (ms; single-threaded: user-CPU GFLOP/s) [GFLOP/s inside the compute only]`);
for (const threads of threadList) {
  const got = setThreads(threads);
  await ready();
  for (const name of cases) {
    const c = CASES[name];
    const x = Tensor.randn(c.x, { seed: 1 });
    const w = Tensor.randn([c.k, c.k, c.x[3], c.outC], { seed: 2, std: 0.1 });
    const b = Tensor.randn([c.outC], { seed: 3 });
    const info = computeConv2DInfo('bench', x.shape, w.shape, c.opts);
    const dy = Tensor.randn([info.batch, info.outH, info.outW, info.outC], { seed: 4 });
    const flops = conv2dFlops(info);
    // Wall time, and (single-threaded) process user CPU time, which other jobs on a shared machine disturb less.
    const time = (f: () => void): [number, number, number] => {
      f();
      f();
      const ts: number[] = [];
      const cs: number[] = [];
      const ks: number[] = [];
      for (let i = 0; i < reps; i++) {
        inRun = 0;
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        f();
        ts.push(performance.now() - t0);
        ks.push(inRun);
        const c = process.cpuUsage(c0);
        cs.push(c.user / 1000);
      }
      return [median(ts), median(cs), median(ks)];
    };
    // Outputs disposed after each call, so their memory is reused (tensor/storage.ts).
    const tf = time(() => conv2dWasm(rt, x, w, b, info).dispose());
    const tx = time(() => conv2dBackwardInputWasm(rt, dy, w, info).dispose());
    const tw = time(() => {
      const g = conv2dBackwardFilterWasm(rt, dy, x, info);
      g.dw.dispose();
      g.db.dispose();
    });
    const g = ([t, c, k]: [number, number, number]): string =>
      `${(flops / t / 1e6).toFixed(1).padStart(5)} (${t.toFixed(1)} ms${got === 1 ? `, cpu ${(flops / c / 1e6).toFixed(1)}` : ''}) [${(flops / k / 1e6).toFixed(1)}]`;
    console.log(`threads ${got} ${name}: forward ${g(tf)}  dX ${g(tx)}  dW ${g(tw)}`);
  }
}
process.exit(0);
