/**
 * Forward and dX of the wasm conv kernels on the W1 cases, beside the machine's wasm FMA peak
 * measured in the same run (bench/peak/peak.ts), as GFLOP/s end to end (the kernels' glue: copies in
 * and out included) and % of the peak for the same thread count. Rounds interleave the cases so a
 * burst of load from other jobs hits all alike; the peak is measured before and after. On one
 * thread it also gives GFLOP/s by the process's CPU time against the peak's, which other jobs on a
 * shared machine disturb much less than wall time (use that column for A/B of kernel changes).
 *
 *   node --experimental-wasm-relaxed-simd --import tsx bench/fwd-dx.ts [--threads 2,1] [--cases c2,c3] [--passes fwd,dx,w4] [--reps 9]
 *
 * The pass w4 is W4 (WORKLOADS.md): lenet inference at batch 256 through Sequential.predict, in images/s.
 */
import { Tensor, computeConv2DInfo, conv2dFlops, createPreset, setBackend } from '../src/index.js';
import { ready, setThreads, wasmRuntime } from '../src/kernels/wasm/index.js';
import { W1_GEOMETRY } from './shapes.js';
import { conv2dWasm, conv2dBackwardInputWasm } from '../src/kernels/wasm/conv2d.js';
import { measurePeak, type PeakResult } from './peak/peak.js';

const CASES = W1_GEOMETRY;
const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const median = (a: number[]): number => [...a].sort((p, q) => p - q)[a.length >> 1];

await ready();
const rt = wasmRuntime();
if (rt === null) throw new Error('fwd-dx bench: no SIMD here');
const reps = Number(arg('reps', '9'));
const threadList = arg('threads', '2,1').split(',').map(Number);
const cases = arg('cases', 'c1,c2,c3,c4').split(',');
const passes = arg('passes', 'fwd,dx').split(',');
/** The FMA peak (mul + add without relaxed SIMD) on 1 thread and on the most threads asked for. */
async function peak(): Promise<{ one: PeakResult; many: PeakResult }> {
  const relaxed = rt!.variant.startsWith('relaxed');
  const n = Math.max(...threadList);
  const rs = (await measurePeak({ threads: n === 1 ? [1] : [1, n], iterations: 2e7, relaxed })).filter((r) => r.kind === (relaxed ? 'fma' : 'muladd'));
  return { one: rs[0], many: rs[rs.length - 1] };
}
const show = (p: { one: PeakResult; many: PeakResult }): string =>
  `1 thread ${p.one.gflops.toFixed(1)} (CPU time ${p.one.cpuGflops.toFixed(1)}), ${p.many.threads} threads ${p.many.gflops.toFixed(1)} GFLOP/s`;
const peak0 = await peak();
console.log(`variant ${rt.variant}; median of ${reps}; peak before: ${show(peak0)}`);
const results: string[] = [];
for (const threads of threadList) {
  const got = setThreads(threads);
  await ready();
  const jobs: { label: string; flops: number; f: () => void; ts: number[]; cs: number[] }[] = [];
  for (const name of cases) {
    const c = CASES[name];
    const x = Tensor.randn(c.x, { seed: 1 });
    const w = Tensor.randn([c.k, c.k, c.x[3], c.outC], { seed: 2, std: 0.1 });
    const b = Tensor.randn([c.outC], { seed: 3 });
    const info = computeConv2DInfo('bench', x.shape, w.shape, c.opts);
    const dy = Tensor.randn([info.batch, info.outH, info.outW, info.outC], { seed: 4 });
    const flops = conv2dFlops(info);
    if (passes.includes('fwd')) jobs.push({ label: `${name} fwd`, flops, f: () => conv2dWasm(rt, x, w, b, info).dispose(), ts: [], cs: [] });
    if (passes.includes('dx')) jobs.push({ label: `${name} dX `, flops, f: () => conv2dBackwardInputWasm(rt, dy, w, info).dispose(), ts: [], cs: [] });
  }
  if (passes.includes('w4')) {
    setBackend('wasm');
    const net = createPreset('lenet', { seed: 1 });
    const images = Tensor.rand([256, 28, 28, 1], { seed: 5 });
    jobs.push({ label: 'W4 lenet b256', flops: 0, f: () => net.predict(images, 256).dispose(), ts: [], cs: [] });
  }
  for (const j of jobs) { j.f(); j.f(); }
  for (let r = 0; r < reps; r++) {
    for (const j of jobs) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      j.f();
      j.ts.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      j.cs.push((c.user + c.system) / 1000);
    }
  }
  for (const j of jobs) {
    const t = median(j.ts);
    if (j.flops === 0) {
      results.push(`threads ${got} ${j.label}: ${((256 * 1000) / t).toFixed(0)} images/s (${t.toFixed(2)} ms)`);
      continue;
    }
    const g = j.flops / t / 1e6;
    const pk = got === 1 ? peak0.one.gflops : peak0.many.gflops * (got / peak0.many.threads);
    let cpu = '';
    if (got === 1) {
      const gc = j.flops / median(j.cs) / 1e6;
      cpu = `; by CPU time ${gc.toFixed(1).padStart(6)} = ${((100 * gc) / peak0.one.cpuGflops).toFixed(0)}% of the peak's`;
    }
    results.push(`threads ${got} ${j.label}: ${g.toFixed(1).padStart(6)} GFLOP/s (${t.toFixed(2)} ms) = ${((100 * g) / pk).toFixed(0)}% of peak${cpu}`);
  }
}
const peak1 = await peak();
for (const r of results) console.log(r);
console.log(`peak after: ${show(peak1)}`);
process.exit(0);
