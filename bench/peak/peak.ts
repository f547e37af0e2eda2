/**
 * The machine's WebAssembly SIMD128 peak, measured by the bench itself so that every kernel can be
 * read as a fraction of it (only ratios measured in one run compare; the machines change).
 *
 * bench/peak/assembly/peak.ts is compiled here, in memory, with the project's asc (nothing is
 * written to disk): independent chains of f32x4.relaxed_madd (`fma`) and of f32x4.mul + f32x4.add
 * (`muladd`). Each thread is a worker of its own with its own instance (nothing shared); the main
 * thread only starts them and waits. A run: every worker calls the loop once with `iterations`,
 * timed on the main thread from the first message sent to the last answer received. After warm-up
 * calls (V8 runs a function in its baseline compiler Liftoff until it has been hot for a while and
 * cannot switch a running call over, so short calls first), the median of `runs` runs.
 *
 * FLOPs of a run: threads x iterations x chains x 4 lanes x 2 (a fused multiply-add counts 2).
 *
 * Both loops are a = a * b + c per chain. In the mul + add form the multiply is on the chain (two
 * latencies per step), which a GEMM's acc += x * y does not have: on Zen 5 it measured about 60% of
 * the FMA figure where PERF-NOTES.md quotes 85%; the FMA figure is the one kernels are compared with.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { median } from '../timing.js';

const HERE = dirname(fileURLToPath(import.meta.url));
export const PEAK_SOURCE = join(HERE, 'assembly', 'peak.ts');

export type PeakKind = 'fma' | 'muladd';

export interface PeakResult {
  kind: PeakKind;
  threads: number;
  /** Median GFLOP/s over the runs (all threads together). */
  gflops: number;
  /** GFLOP/s of each run. */
  samples: number[];
  /** Median GFLOP per second of the process's CPU time (all threads together): on a shared machine it moves less than wall time. */
  cpuGflops: number;
  iterations: number;
  chains: number;
}

export interface PeakOptions {
  /** Thread counts to measure (default 1 and 2). */
  threads?: readonly number[];
  /** Loop iterations of one call (default 10^8). */
  iterations?: number;
  /** Timed runs per configuration (default 7). */
  runs?: number;
  /** Build with relaxed SIMD (needs an engine that validates it; default true). */
  relaxed?: boolean;
}

/** FLOPs of one call of the loop: chains x 4 lanes x 2 FLOPs per iteration. */
export function peakFlops(iterations: number, chains: number): number {
  return iterations * chains * 4 * 2;
}

/** Compiles the peak module with asc (-O3, SIMD, relaxed SIMD when asked). */
export async function compilePeak(relaxed: boolean): Promise<Uint8Array<ArrayBuffer>> {
  const asc = (await import('assemblyscript/asc')).default;
  let binary: Uint8Array | null = null;
  const stderr: string[] = [];
  const { error } = await asc.main(
    [PEAK_SOURCE, '-O3', '--noAssert', '--runtime', 'stub', '--use', 'abort=', '--enable', 'simd', ...(relaxed ? ['--enable', 'relaxed-simd'] : []), '--outFile', 'peak.wasm'],
    {
      writeFile(filename: string, contents: Uint8Array | string) {
        if (filename.endsWith('.wasm') && typeof contents !== 'string') binary = contents;
      },
      stdout: { write: () => true },
      stderr: { write: (s: string | Uint8Array) => (stderr.push(String(s)), true) },
    } as Parameters<typeof asc.main>[1],
  );
  if (error || binary === null) throw new Error(`peak: asc failed: ${stderr.join('')}${error ? String(error) : ''}`);
  return new Uint8Array(binary as Uint8Array);
}

// One worker: instantiates the module and answers { fn, n, s } with the milliseconds of the call.
const WORKER = `'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const ex = new WebAssembly.Instance(workerData.module, {}).exports;
parentPort.on('message', (m) => {
  const t0 = performance.now();
  const r = ex[m.fn](m.n, m.s);
  parentPort.postMessage({ ms: performance.now() - t0, r });
});
`;

class PeakWorkers {
  private readonly workers: Worker[];
  /** The answer each worker owes (one request at a time). */
  private readonly pending: ({ resolve: (r: number) => void; reject: (e: unknown) => void } | null)[];
  constructor(module: WebAssembly.Module, threads: number) {
    this.workers = Array.from({ length: threads }, () => new Worker(WORKER, { eval: true, workerData: { module } }));
    this.pending = this.workers.map(() => null);
    this.workers.forEach((w, i) => {
      w.on('message', (m: { r: number }) => this.settle(i, (p) => p.resolve(m.r)));
      w.on('error', (e) => this.settle(i, (p) => p.reject(e)));
    });
  }
  private settle(i: number, f: (p: { resolve: (r: number) => void; reject: (e: unknown) => void }) => void): void {
    const p = this.pending[i];
    this.pending[i] = null;
    if (p !== null) f(p);
  }
  /** Every worker calls `fn(n)` once; the wall milliseconds from the first request to the last answer. */
  async run(fn: PeakKind, n: number): Promise<number> {
    const done = this.workers.map((_, i) => new Promise<number>((resolve, reject) => (this.pending[i] = { resolve, reject })));
    const t0 = performance.now();
    for (const w of this.workers) w.postMessage({ fn, n, s: 0.999 });
    const rs = await Promise.all(done);
    const ms = performance.now() - t0;
    if (rs.some((r) => !Number.isFinite(r))) throw new Error(`peak: ${fn} returned ${rs.join(', ')}`);
    return ms;
  }
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** The compiled module of each build (plain, relaxed), compiled once per process. */
const compiled: (Promise<WebAssembly.Module> | undefined)[] = [];

/** Measures the peaks: for each kind the build has, for each thread count. */
export async function measurePeak(o: PeakOptions = {}, onResult?: (r: PeakResult) => void): Promise<PeakResult[]> {
  const threads = o.threads ?? [1, 2];
  const iterations = o.iterations ?? 1e8;
  const runs = o.runs ?? 7;
  const relaxed = o.relaxed ?? true;
  const module = await (compiled[relaxed ? 1 : 0] ??= compilePeak(relaxed).then((bin) => WebAssembly.compile(bin)));
  const chains = (new WebAssembly.Instance(module, {}).exports.CHAINS as WebAssembly.Global).value as number;
  const kinds: PeakKind[] = relaxed ? ['fma', 'muladd'] : ['muladd'];
  const out: PeakResult[] = [];
  for (const t of threads) {
    const pool = new PeakWorkers(module, t);
    try {
      for (const kind of kinds) {
        // Warm-up: short calls until V8 has tiered the loop up, then one full-size call.
        for (let i = 0; i < 30; i++) await pool.run(kind, 200_000);
        await new Promise((r) => setTimeout(r, 20));
        await pool.run(kind, iterations);
        const samples: number[] = [];
        const cpu: number[] = [];
        for (let r = 0; r < runs; r++) {
          const c0 = process.cpuUsage();
          const ms = await pool.run(kind, iterations);
          const c = process.cpuUsage(c0);
          samples.push((t * peakFlops(iterations, chains)) / ms / 1e6);
          cpu.push((t * peakFlops(iterations, chains)) / ((c.user + c.system) / 1000) / 1e6);
        }
        const res: PeakResult = { kind, threads: t, gflops: median(samples), samples, cpuGflops: median(cpu), iterations, chains };
        onResult?.(res);
        out.push(res);
      }
    } finally {
      await pool.close();
    }
  }
  return out;
}
