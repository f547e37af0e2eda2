/**
 * The wasm filter-gradient pass (dW + db) alone on the W1 cases, for tuning it (issue 11):
 * GFLOP/s end to end (copies in and out included) and [inside the compute only], median of `reps`.
 *
 *   node --experimental-wasm-relaxed-simd --import tsx bench/conv-filter-grad.ts [--threads 2,1] [--cases c1,c2,c3,c4] [--reps 9] [--algo auto,direct]
 *
 * --algo: setConvAlgorithm for each line ('auto' runs Winograd dW where it applies, 'direct' the streaming kernel).
 */
import { Tensor, computeConv2DInfo, conv2dFlops } from '../src/index.js';
import { ready, setThreads, wasmRuntime } from '../src/kernels/wasm/index.js';
import { W1_GEOMETRY } from './shapes.js';
import { conv2dBackwardFilterWasm } from '../src/kernels/wasm/conv2d.js';
import * as fg from '../src/kernels/wasm/conv2d-filter-grad.js';
import { setConvAlgorithm, type ConvAlgorithm } from '../src/kernels/wasm/winograd.js';
// Tuning overrides for experiments: FG_TUNING='{"tile":4,"blockBytes":65536}'
if (process.env.FG_TUNING) Object.assign((fg as unknown as { filterStreamTuning: object }).filterStreamTuning ?? {}, JSON.parse(process.env.FG_TUNING));

const CASES = W1_GEOMETRY;
const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const median = (a: number[]): number => [...a].sort((p, q) => p - q)[a.length >> 1];

await ready();
const rt = wasmRuntime();
if (rt === null) throw new Error('conv-filter-grad: no SIMD here');
const reps = Number(arg('reps', '9'));
let inRun = 0;
const run = rt.run.bind(rt);
rt.run = (...a: Parameters<typeof rt.run>): void => {
  const t0 = performance.now();
  run(...a);
  inRun += performance.now() - t0;
};
const label = arg('label', '');
for (const threads of arg('threads', '2,1').split(',').map(Number)) for (const algo of arg('algo', 'auto').split(',') as ConvAlgorithm[]) {
  setConvAlgorithm(algo);
  const got = setThreads(threads);
  await ready();
  const line: string[] = [];
  for (const name of arg('cases', 'c1,c2,c3,c4').split(',')) {
    const c = CASES[name];
    const x = Tensor.randn(c.x, { seed: 1 });
    const info = computeConv2DInfo('bench', x.shape, [c.k, c.k, c.x[3], c.outC], c.opts);
    const dy = Tensor.randn([info.batch, info.outH, info.outW, info.outC], { seed: 4 });
    const flops = conv2dFlops(info);
    const f = (): void => {
      const g = conv2dBackwardFilterWasm(rt, dy, x, info);
      g.dw.dispose();
      g.db.dispose();
    };
    for (let i = 0; i < 3; i++) f();
    const ts: number[] = [];
    const ks: number[] = [];
    const cs: number[] = [];
    for (let i = 0; i < reps; i++) {
      inRun = 0;
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      f();
      ts.push(performance.now() - t0);
      cs.push(process.cpuUsage(c0).user / 1000);
      ks.push(inRun);
    }
    const best = (a: number[]): number => Math.min(...a);
    const cpu = got === 1 ? ` cpu ${(flops / median(cs) / 1e6).toFixed(1)} best ${(flops / best(cs) / 1e6).toFixed(1)}` : ` best ${(flops / best(ts) / 1e6).toFixed(1)}`;
    line.push(`${name} ${(flops / median(ts) / 1e6).toFixed(1)} [${(flops / median(ks) / 1e6).toFixed(1)}]${cpu}`);
  }
  console.log(`${label} ${algo} ${rt.variant} threads ${got}: dW GFLOP/s end to end [compute] (1 thread: user-CPU): ${line.join('  ')}`);
}
process.exit(0);
