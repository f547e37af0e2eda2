/**
 * The Dense layer's kernels on the wasm backend, alone: lenet's Dense(3136 -> 256) + ReLU forward and
 * backward (dx, dW, db) as a training step runs them (inside withExternalOutputs, x and dy already in
 * wasm memory, dW recycled after use), median wall time, the process's CPU time and the time inside
 * the wasm calls ("kernel"), per call.
 *
 *   node --experimental-wasm-relaxed-simd --import tsx bench/dense.ts [--threads 2] [--batches 64,256] [--reps 15] [--shape 3136,256] [--src ../src] [--detail] [--kc 256] [--panels 8]
 *
 * `--kc`, `--panels` set denseGemm's blocking (denseTuning, this tree). `--src` imports the library from another tree (A/B against a checkout of the starting commit:
 * `--src /work/wt/base/src`); the default is this tree's src.
 */
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: '2' },
    batches: { type: 'string', default: '64,256' },
    reps: { type: 'string', default: '15' },
    shape: { type: 'string', default: '3136,256' },
    src: { type: 'string', default: new URL('../src', import.meta.url).pathname },
    detail: { type: 'boolean', default: false },
    // denseGemm's blocking (this tree only): reduction rows per block, 8-column panels per unit
    kc: { type: 'string' },
    panels: { type: 'string' },
  },
});
const src = resolve(values.src);
const lib = (await import(pathToFileURL(`${src}/index.js`).href.replace(/\.js$/, '.ts'))) as typeof import('../src/index.js');
const wasmIndex = (await import(pathToFileURL(`${src}/kernels/wasm/index.ts`).href)) as typeof import('../src/kernels/wasm/index.js');
const tensorMod = (await import(pathToFileURL(`${src}/tensor/tensor.ts`).href)) as typeof import('../src/tensor/tensor.js');
const { Tensor } = lib;
if (values.kc !== undefined || values.panels !== undefined) {
  const { denseTuning } = await import('../src/kernels/wasm/dense.js');
  if (values.kc !== undefined) denseTuning.kc = Number(values.kc);
  if (values.panels !== undefined) denseTuning.panels = Number(values.panels);
}
const { wasm, ready, setThreads, wasmRuntime } = wasmIndex;

const reps = Number(values.reps);
const [inF, outF] = values.shape.split(',').map(Number);
setThreads(Number(values.threads));
await ready();
const rt = wasmRuntime();
if (rt === null) throw new Error('dense bench: no SIMD here');

/** Time inside wasm calls (ms): Runtime.run and the single-call exports. */
let kernelMs = 0;
/** The same, by kernel (with --detail). */
const byKernel = new Map<string, number>();
const count = (k: string, ms: number): void => {
  kernelMs += ms;
  byKernel.set(k, (byKernel.get(k) ?? 0) + ms);
};
{
  const origRun = rt.run.bind(rt);
  rt.run = (...a: Parameters<typeof rt.run>): void => {
    const t = performance.now();
    origRun(...a);
    count(a[0], performance.now() - t);
  };
  const ex = rt.exports as unknown as Record<string, unknown>;
  const wrapped: Record<string, unknown> = {};
  const jobs = new Set(rt.jobFns as unknown[]);
  for (const k of Object.keys(ex)) {
    const f = ex[k];
    if (typeof f !== 'function' || jobs.has(f)) {
      wrapped[k] = f;
      continue;
    }
    wrapped[k] = (...a: unknown[]): unknown => {
      const t = performance.now();
      const r = (f as (...x: unknown[]) => unknown)(...a);
      count(k, performance.now() - t);
      return r;
    };
  }
  (rt as unknown as { exports: unknown }).exports = wrapped;
}

const median = (a: number[]): number => [...a].sort((p, q) => p - q)[a.length >> 1];
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** A copy of t kept in wasm memory, as a layer's output inside a training step is. */
const resident = (t: InstanceType<typeof Tensor>): InstanceType<typeof Tensor> => {
  const p = rt.keep(t.size);
  rt.f32.set(t.data, p >> 2);
  return rt.output(p, t.shape);
};

console.log(`wasm ${rt.variant}, ${rt.threads} thread(s), Dense(${inF} -> ${outF}) + ReLU, median of ${reps}, src ${src}`);
for (const n of values.batches.split(',').map(Number)) {
  const x0 = Tensor.randn([n, inF], { seed: 1 });
  const w = Tensor.randn([inF, outF], { seed: 2, std: 0.02 });
  const b = Tensor.randn([outF], { seed: 3, std: 0.1 });
  const dy0 = Tensor.randn([n, outF], { seed: 4 });
  const stats = { fwd: [[], [], []] as number[][], bwd: [[], [], []] as number[][] };
  tensorMod.withExternalOutputs(() => {
    const x = resident(x0);
    const dy = resident(dy0);
    for (let r = -3; r < reps; r++) {
      let t = performance.now(), c = cpuMs(), k = kernelMs;
      const y = wasm.denseRelu(x, w, b);
      const f = [performance.now() - t, cpuMs() - c, kernelMs - k];
      t = performance.now(); c = cpuMs(); k = kernelMs;
      const g = wasm.denseReluBackward(dy, y, x, w, true);
      const bw = [performance.now() - t, cpuMs() - c, kernelMs - k];
      g.dx?.dispose();
      g.dw.dispose();
      g.db.dispose();
      y.dispose();
      if (r < 0) continue;
      for (let i = 0; i < 3; i++) {
        stats.fwd[i].push(f[i]);
        stats.bwd[i].push(bw[i]);
      }
    }
  });
  const mf = 2 * n * inF * outF * 1e-6;
  const line = (name: string, s: number[][], mflop: number): string =>
    `  ${name}: ${median(s[0]).toFixed(2)} ms wall (${(mflop / median(s[0])).toFixed(1)} GFLOP/s), CPU ${median(s[1]).toFixed(2)} ms, kernel ${median(s[2]).toFixed(2)} ms`;
  console.log(`batch ${n}:`);
  console.log(line('forward       ', stats.fwd, mf));
  console.log(line('backward dx+dW', stats.bwd, 2 * mf));
  if (values.detail) {
    const calls = reps + 3;
    console.log(`  by kernel, ms per step: ${[...byKernel].map(([k, ms]) => `${k} ${(ms / calls).toFixed(2)}`).join(', ')}`);
  }
  byKernel.clear();
}
process.exit(0);
