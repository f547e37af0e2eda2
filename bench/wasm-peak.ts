/**
 * The machine's WebAssembly SIMD128 arithmetic peak (PERF-NOTES.md): 12 independent chains of
 * f32x4 fused multiply-adds (relaxed_madd; mul + add when relaxed SIMD is off) in a tiny module
 * compiled here with AssemblyScript, run on 1 thread and on `threads` worker threads at once
 * (each with its own instance). One FMA counts 2 FLOPs per lane. Median of `reps` runs.
 */
import asc from 'assemblyscript/asc';
import { Worker } from 'node:worker_threads';
import { wasmFeatures } from './machine.js';

const CHAINS = 12;

function source(relaxed: boolean): string {
  const op = relaxed ? 'f32x4.relaxed_madd(c{i}, m, a)' : 'f32x4.add(f32x4.mul(c{i}, m), a)';
  const decl = Array.from({ length: CHAINS }, (_, i) => `let c${i} = f32x4.splat(<f32>${i + 1} * 1e-3);`).join('\n  ');
  const body = Array.from({ length: CHAINS }, (_, i) => `c${i} = ${op.replace('{i}', String(i))};`).join('\n    ');
  const sum = Array.from({ length: CHAINS }, (_, i) => `c${i}`).reduce((s, c) => `f32x4.add(${s}, ${c})`);
  return `export function peak(n: i32, x: f32): f32 {
  const m = f32x4.splat(x), a = f32x4.splat(<f32>1e-7);
  ${decl}
  for (let k = 0; k < n; k++) {
    ${body}
  }
  return f32x4.extract_lane(${sum}, 0);
}
`;
}

async function compile(relaxed: boolean): Promise<Uint8Array<ArrayBuffer>> {
  let binary: Uint8Array | null = null;
  const err: string[] = [];
  const { error } = await asc.main(['peak.ts', '-O3', '--runtime', 'stub', '--enable', 'simd', ...(relaxed ? ['--enable', 'relaxed-simd'] : []), '--outFile', 'peak.wasm'], {
    readFile: (name: string) => (name === 'peak.ts' ? source(relaxed) : null),
    writeFile: (name: string, contents: Uint8Array) => {
      if (name.endsWith('.wasm')) binary = contents;
    },
    listFiles: () => [],
    stdout: { write: () => true },
    stderr: { write: (s: string) => err.push(String(s)) },
  } as never);
  if (error || binary === null) throw new Error(`wasm-peak: asc failed: ${err.join('')} ${String(error ?? '')}`);
  return new Uint8Array(binary as Uint8Array);
}

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const ex = new WebAssembly.Instance(new WebAssembly.Module(workerData.bin)).exports;
ex.peak(1000, 0.999);
parentPort.on('message', (n) => { const t0 = performance.now(); ex.peak(n, 0.999); parentPort.postMessage(performance.now() - t0); });
`;

export interface Peak {
  relaxed: boolean;
  /** 1 thread, wall time. */
  gflops1: number;
  /** 1 thread, by the process's CPU time (steadier on a shared machine). */
  gflops1Cpu: number;
  /** `threads` workers at once, wall time. */
  gflopsN: number;
  threads: number;
}

/** GFLOP/s of the chains on 1 thread and on `threads` workers at once. */
export async function measurePeak(threads: number, reps = 7, iters = 2e7): Promise<Peak> {
  const relaxed = wasmFeatures().relaxedSimd;
  const bin = await compile(relaxed);
  const ex = new WebAssembly.Instance(new WebAssembly.Module(bin)).exports as { peak(n: number, x: number): number };
  ex.peak(1000, 0.999);
  const flops = iters * CHAINS * 8;
  const med = (a: number[]): number => [...a].sort((p, q) => p - q)[a.length >> 1];
  const one: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < reps; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    ex.peak(iters, 0.999);
    one.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  const workers = Array.from({ length: threads }, () => new Worker(WORKER, { eval: true, workerData: { bin } }));
  const all: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    await Promise.all(workers.map((w) => new Promise<number>((res) => { w.once('message', res); w.postMessage(iters); })));
    all.push(performance.now() - t0);
  }
  await Promise.all(workers.map((w) => w.terminate()));
  return { relaxed, gflops1: flops / med(one) / 1e6, gflops1Cpu: flops / med(cpu) / 1e6, gflopsN: (threads * flops) / med(all) / 1e6, threads };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const p = await measurePeak(2);
  console.log(`wasm peak (${p.relaxed ? 'relaxed_madd' : 'mul+add'}, ${CHAINS} chains): 1 thread ${p.gflops1.toFixed(1)} GFLOP/s (CPU time ${p.gflops1Cpu.toFixed(1)}), ${p.threads} threads ${p.gflopsN.toFixed(1)} GFLOP/s`);
}
