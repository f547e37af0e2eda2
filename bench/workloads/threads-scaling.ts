/**
 * Thread scaling of Stride's wasm backend: W1 c3 forward (in this process, setThreads(n) before
 * each count) and W3 lenet training (a child process per count) at 1, 2, 4 and 8 threads, whatever
 * the machine has: counts above its cores are oversubscribed and say so. For W1 the row also
 * records how many threads actually ran chunks of the timed calls (threadWork() before and after),
 * which is what shows that nothing caps the count.
 */
import type { Peers } from '../peers/index.js';
import { randomArray } from '../peers/index.js';
import { Rng } from '../../src/tensor/random.js';
import { W1_CASES, convFlopsPerImage } from '../shapes.js';
import { measureRow, type Measurement, type TimingOptions } from '../timing.js';
import { runW3, type W3Options } from './w3-train.js';

export const SCALING_THREADS: readonly number[] = Object.freeze([1, 2, 4, 8]);

export interface ScalingRow {
  workload: 'W1 c3 forward' | 'W3 lenet training';
  /** Threads asked for (setThreads). */
  threads: number;
  /** getThreads() after asking (the pool's size); null where not observed (the W3 child). */
  poolThreads: number | null;
  /** Threads that ran at least one chunk of the timed calls (W1 only; null where not observed). */
  workingThreads: number | null;
  /** GFLOP/s (W1) or images/s (W3); NaN when it could not run. */
  value: number;
  unit: 'GFLOP/s' | 'images/s';
  note: string;
}

/** Speed-up of each row over the 1-thread row of the same workload (NaN without one). */
export function speedups(rows: readonly ScalingRow[]): number[] {
  return rows.map((r) => {
    const one = rows.find((q) => q.workload === r.workload && q.threads === 1);
    return one !== undefined && one.value > 0 ? r.value / one.value : NaN;
  });
}

/** "oversubscribed" note for thread counts above the cores. */
export function oversubscription(threads: number, cores: number): string {
  return threads > cores ? `oversubscribed: ${threads} threads on ${cores} cores` : '';
}

export async function runThreadScaling(
  peers: Peers, cores: number, timing: Omit<TimingOptions, 'fullN'>, w3: Omit<W3Options, 'models' | 'participants' | 'threads'>, restoreThreads: number,
  onRow?: (r: ScalingRow) => void,
): Promise<ScalingRow[]> {
  const rows: ScalingRow[] = [];
  const env = peers.stride;
  if (env === null || !env.backends.includes('wasm')) return rows;
  const api = env.api;
  const c = W1_CASES.find((cc) => cc.name === 'c3')!;
  const rng = new Rng(1000 + c.n * 7 + c.inC);
  const x = new api.Tensor(randomArray(c.n * c.h * c.w * c.inC, rng), [c.n, c.h, c.w, c.inC]);
  const w = new api.Tensor(randomArray(c.k * c.k * c.inC * c.outC, rng, 1 / Math.sqrt(c.k * c.k * c.inC)), [c.k, c.k, c.inC, c.outC]);
  const opts = { stride: c.stride, padding: c.padding };
  for (const t of SCALING_THREADS) {
    api.setThreads(t);
    await api.ready();
    const pool = api.getThreads();
    const before = api.threadWork();
    const [m]: Measurement[] = await measureRow(
      [{ impl: 'Stride wasm', activate: () => api.setBackend('wasm'), make: (n) => {
        const xs = n === c.n ? x : new api.Tensor(x.data.subarray(0, n * c.h * c.w * c.inC), [n, c.h, c.w, c.inC]);
        return { run: () => api.conv2d(xs, w, null, opts).dispose() };
      } }],
      { ...timing, fullN: c.n, label: `threads ${t} W1 c3 forward` },
    );
    const after = api.threadWork();
    const working = after.filter((v, i) => v > (before[i] ?? 0)).length;
    const row: ScalingRow = {
      workload: 'W1 c3 forward', threads: t, poolThreads: pool, workingThreads: pool === 1 || after.length === 0 ? 1 : working, // one thread runs its chunks inline, uncounted
      value: m.status === 'ok' ? (convFlopsPerImage(c) / m.msPerImage) / 1e6 : NaN, unit: 'GFLOP/s',
      note: [m.status === 'ok' ? '' : `cannot: ${m.message ?? ''}`, oversubscription(t, cores)].filter((s) => s !== '').join('; '),
    };
    onRow?.(row);
    rows.push(row);
  }
  api.setThreads(restoreThreads);
  await api.ready();
  for (const t of SCALING_THREADS) {
    const [r] = runW3({ ...w3, models: ['lenet'], participants: [{ lib: 'stride', backend: 'wasm', impl: 'Stride wasm' }], threads: t });
    const row: ScalingRow = {
      workload: 'W3 lenet training', threads: t, poolThreads: null, workingThreads: null,
      value: r.status === 'ok' ? r.imagesPerSec : NaN, unit: 'images/s',
      note: [r.status === 'ok' ? `${r.steps}×${r.batch}${r.testAccuracy !== null ? `, test acc ${(100 * r.testAccuracy).toFixed(1)}%` : ''}` : `cannot: ${r.message ?? ''}`, oversubscription(t, cores)]
        .filter((s) => s !== '').join('; '),
    };
    onRow?.(row);
    rows.push(row);
  }
  return rows;
}
