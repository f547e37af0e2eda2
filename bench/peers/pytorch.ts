/**
 * PyTorch CPU as an optional peer: bench/peers/pytorch.py run as a child process, one job at a
 * time (W1 rows, W3 one model, W4, W5). The interpreter is `$STRIDE_BENCH_PYTHON`, else `python3`;
 * the peer is used when `<python> -c "import torch"` works there, and skipped with a note otherwise.
 *
 * PyTorch runs in its own process, so its rows are timed after Stride's (same run, not interleaved
 * call by call): the note says so.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RowResult } from '../report.js';
import type { ConvCase, ConvPass, ModelName } from '../shapes.js';
import type { ChildResult } from '../workloads/train-child.js';
import type { MnistArrays } from '../workloads/mnist-data.js';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'pytorch.py');
export const PYTORCH = 'PyTorch';

export interface PytorchEnv {
  python: string;
  version: string;
  threads: number;
  /** The CPU code path torch reports ("AVX512", ...). */
  cpuCapability: string;
  mkldnn: boolean;
}

export interface PyTiming {
  threads: number;
  budgetMs: number;
  minReps: number;
  maxReps: number;
}

/** The interpreter the bench asks: $STRIDE_BENCH_PYTHON when set (and not empty), else python3. */
export function pythonCommand(env: NodeJS.ProcessEnv = process.env): string {
  const p = env.STRIDE_BENCH_PYTHON?.trim();
  return p !== undefined && p !== '' ? p : 'python3';
}

/** The note a run without PyTorch carries. */
export function pytorchSkipNote(python: string, why: string): string {
  return `PyTorch not measured: \`${python} -c "import torch"\` failed (${why}); set STRIDE_BENCH_PYTHON to an interpreter that has torch (e.g. a venv with \`pip install torch\`) to add it`;
}

const lastLine = (s: string | null | undefined): string => (s ?? '').trim().split('\n').filter((l) => l.trim() !== '').slice(-1)[0] ?? '';

/** Runs one job; the parsed PYRESULT object, or throws with the child's last stderr line. */
function runJob(python: string, job: object, timeoutMs: number): Record<string, unknown> {
  const r = spawnSync(python, [SCRIPT, JSON.stringify(job)], { encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 2 ** 20 });
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('PYRESULT '));
  if (line !== undefined) return JSON.parse(line.slice(9)) as Record<string, unknown>;
  const why = r.signal === 'SIGKILL' ? `killed after ${(timeoutMs / 1000).toFixed(0)} s` : r.error?.message ?? `exit ${r.status}: ${lastLine(r.stderr)}`;
  throw new Error(`pytorch.py ${(job as { kind: string }).kind}: ${why}`);
}

/** Finds the interpreter and checks that torch imports; null with the note to print otherwise. */
export function loadPytorch(threads: number, env: NodeJS.ProcessEnv = process.env): { env: PytorchEnv | null; note?: string } {
  const python = pythonCommand(env);
  const probe = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8', timeout: 120_000 });
  if (probe.error !== undefined || probe.status !== 0) {
    return { env: null, note: pytorchSkipNote(python, probe.error?.message ?? lastLine(probe.stderr) ?? `exit ${probe.status}`) };
  }
  try {
    const o = runJob(python, { kind: 'probe', threads }, 120_000);
    return { env: { python, version: String(o.torch), threads: Number(o.threads), cpuCapability: String(o.cpuCapability), mkldnn: o.mkldnn === true } };
  } catch (e) {
    return { env: null, note: pytorchSkipNote(python, e instanceof Error ? e.message : String(e)) };
  }
}

interface PyRow {
  status: 'ok' | 'cannot';
  message?: string;
  n?: number;
  reps?: number;
  samples?: number[];
  medianMs?: number;
  msPerImage?: number;
  note?: string;
}

/** A Python row as a bench measurement; `note` says which memory format was used. */
export function pyMeasurement(r: PyRow, what = 'memory format'): RowResult {
  if (r.status !== 'ok') return { impl: PYTORCH, status: 'cannot', message: r.message ?? 'failed', n: 0, reps: 0, samples: [], medianMs: NaN, msPerImage: NaN };
  return {
    impl: PYTORCH, status: 'ok', n: r.n!, reps: r.reps!, samples: r.samples!, medianMs: r.medianMs!, msPerImage: r.msPerImage!,
    note: `${r.note ?? '?'} (the faster ${what}); own process, after Stride`,
  };
}

const cannotAll = (e: unknown): RowResult => ({ impl: PYTORCH, status: 'cannot', message: (e instanceof Error ? e.message : String(e)).split('\n')[0], n: 0, reps: 0, samples: [], medianMs: NaN, msPerImage: NaN });

/** W1: every (case, pass) asked, in one Python process. Keyed `${case} ${pass}`. */
export function pytorchW1(py: PytorchEnv, cases: readonly ConvCase[], passes: readonly ConvPass[], t: PyTiming): Map<string, RowResult> {
  const out = new Map<string, RowResult>();
  try {
    const o = runJob(py.python, { kind: 'w1', cases, passes, ...t }, 600_000);
    for (const r of o.rows as (PyRow & { case: string; pass: string })[]) out.set(`${r.case} ${r.pass}`, pyMeasurement(r));
  } catch (e) {
    for (const c of cases) for (const p of passes) out.set(`${c.name} ${p}`, cannotAll(e));
  }
  return out;
}

/** W4: lenet inference at `batch`. */
export function pytorchW4(py: PytorchEnv, batch: number, t: PyTiming): RowResult {
  try {
    return pyMeasurement(runJob(py.python, { kind: 'w4', batch, ...t }, 300_000).row as PyRow);
  } catch (e) {
    return cannotAll(e);
  }
}

/** W5: the conv block at each [h, n]. Keyed `${h}x${n}`. */
export function pytorchW5(py: PytorchEnv, combos: readonly [number, number][], t: PyTiming): Map<string, RowResult> {
  const out = new Map<string, RowResult>();
  try {
    const o = runJob(py.python, { kind: 'w5', combos, ...t }, 600_000);
    for (const r of o.rows as (PyRow & { h: number; n: number })[]) out.set(`${r.h}x${r.n}`, pyMeasurement(r));
  } catch (e) {
    for (const [h, n] of combos) out.set(`${h}x${n}`, cannotAll(e));
  }
  return out;
}

/**
 * W3: one epoch of one model in its own Python process, on the same data and the same shuffled
 * order as Stride's W3 child (written to a temporary directory as raw little-endian arrays).
 */
export function pytorchW3(
  py: PytorchEnv, model: ModelName, data: { train: MnistArrays; test: MnistArrays; order: Int32Array }, o: { batch: number; lr: number; seed: number; threads: number; timeoutMs: number },
): ChildResult {
  const dir = mkdtempSync(join(tmpdir(), 'stride-bench-pytorch-'));
  const base: ChildResult = {
    impl: PYTORCH, model, status: 'cannot', batch: o.batch, steps: 0, images: 0, ms: 0, imagesPerSec: NaN, fullEpoch: false, testAccuracy: null,
    firstLoss: null, lastLoss: null, rssBeforeMiB: 0, peakRssMiB: 0, dataSource: data.train.source, note: '',
  };
  try {
    const bytes = (a: Float32Array | Int32Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    writeFileSync(join(dir, 'train-images.f32'), bytes(data.train.images.subarray(0, data.train.n * 784)));
    writeFileSync(join(dir, 'train-labels.i32'), bytes(data.train.labels.subarray(0, data.train.n)));
    writeFileSync(join(dir, 'train-order.i32'), bytes(data.order));
    writeFileSync(join(dir, 'test-images.f32'), bytes(data.test.images.subarray(0, data.test.n * 784)));
    writeFileSync(join(dir, 'test-labels.i32'), bytes(data.test.labels.subarray(0, data.test.n)));
    const r = runJob(py.python, { kind: 'w3', model, data: dir, batch: o.batch, lr: o.lr, seed: o.seed, threads: o.threads }, o.timeoutMs).result as Partial<ChildResult>;
    return { ...base, ...r, impl: PYTORCH, model, status: 'ok', dataSource: data.train.source };
  } catch (e) {
    return { ...base, message: (e instanceof Error ? e.message : String(e)).split('\n')[0] };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
