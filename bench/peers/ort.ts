/**
 * onnxruntime-web (devDependency) as the W4 peer: its wasm backend (SIMD on; threads asked for as
 * Stride's), running the lenet model exported by Stride's own ONNX exporter (src/onnx/export.ts)
 * with Stride's weights (the same seed as Stride's W4 model). Before anything is timed, its output
 * on the W4 batch is checked against Stride's within 1e-4.
 *
 * How many threads it really used is measured, not assumed: the OS threads this process gained
 * while the session was created (/proc/self/task; its pthread pool), and the CPU time per wall
 * time of its timed calls (process.cpuUsage; Stride's workers sleep on Atomics.wait meanwhile).
 */
import { readdirSync } from 'node:fs';
import type { RunnableSubject, Subject } from '../timing.js';

export const ORT = 'onnxruntime-web';
/** Largest |ort - stride| allowed before timing. */
export const ORT_TOLERANCE = 1e-4;

type Ort = typeof import('onnxruntime-web');

export interface OrtEnv {
  ort: Ort;
  version: string;
}

export interface OrtThreadReport {
  /** env.wasm.numThreads asked. */
  asked: number;
  /** OS threads the process gained when the session was created (null: not Linux). */
  newThreads: number | null;
  /** Sum of CPU time / sum of wall time over the timed calls (about the threads busy). */
  cpuPerWall: number;
  /** Largest |onnxruntime-web - Stride| over the batch's outputs (checked before timing). */
  maxDiff?: number;
}

const osThreads = (): number | null => {
  try {
    return readdirSync('/proc/self/task').length;
  } catch {
    return null;
  }
};

export async function loadOrt(): Promise<{ env: OrtEnv | null; error?: string }> {
  try {
    const ort = (await import('onnxruntime-web')) as Ort;
    const version = ort.env.versions.web ?? ort.env.versions.common ?? '?';
    return { env: { ort, version } };
  } catch (e) {
    return { env: null, error: `cannot load onnxruntime-web (${(e instanceof Error ? e.message : String(e)).split('\n')[0]})` };
  }
}

/** Largest absolute difference of two equally long arrays (Infinity when lengths differ or a value is NaN). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

/**
 * The W4 subject: an inference session on `onnx`, fed `images` NHWC [batch, 28, 28, 1]. `expected`
 * is Stride's output on the whole batch; `report` is filled in as the calls run.
 */
export async function ortW4Subject(
  env: OrtEnv, onnx: Uint8Array, images: Float32Array, batch: number, expected: Float32Array, threads: number, report: OrtThreadReport,
): Promise<Subject> {
  const { ort } = env;
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.simd = true;
  const before = osThreads();
  const session = await ort.InferenceSession.create(onnx, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const after = osThreads();
  report.asked = threads;
  report.newThreads = before !== null && after !== null ? after - before : null;
  const input = session.inputNames[0];
  const output = session.outputNames[0];
  const feed = (n: number) => ({ [input]: new ort.Tensor('float32', images.subarray(0, n * 784), [n, 28, 28, 1]) });
  const got = (await session.run(feed(batch)))[output].data as Float32Array;
  const diff = maxAbsDiff(got, expected);
  report.maxDiff = diff;
  if (!(diff <= ORT_TOLERANCE)) {
    return { impl: ORT, cannot: `its output differs from Stride's by ${diff.toExponential(2)} (> ${ORT_TOLERANCE}); not timed` };
  }
  let cpuMs = 0;
  let wallMs = 0;
  const s: RunnableSubject = {
    impl: ORT,
    calibrationBatch: 32, // a session.run has a fixed cost of milliseconds: one image would plan too few repetitions
    // After a batch its process keeps burning CPU for a while (measured: 0.32-0.40 of a core over the
    // next 50 ms, none after that; allow_spinning '0' did not change it), which slowed the next
    // implementation's call by a quarter to a third: let it settle, untimed.
    settleMs: 100,
    make: (n) => {
      const f = feed(n);
      return {
        run: async () => {
          const c0 = process.cpuUsage();
          const t0 = performance.now();
          const r = await session.run(f);
          void (r[output].data as Float32Array)[0]; // results are in JS memory already (like Stride's Float32Array)
          wallMs += performance.now() - t0;
          const c = process.cpuUsage(c0);
          cpuMs += (c.user + c.system) / 1000;
          report.cpuPerWall = wallMs > 0 ? cpuMs / wallMs : NaN;
        },
      };
    },
  };
  report.cpuPerWall = NaN;
  return s;
}
