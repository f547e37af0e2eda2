/**
 * The 'wasm' backend: WebAssembly SIMD kernels behind the same `Kernels` interface as the
 * reference (which fills in whatever is not fast yet: see the spread below). See docs/wasm.md.
 *
 * Importing this module starts nothing: it probes for SIMD (validating a 20-byte module) and, if
 * present, registers the backend and makes it the default. The kernels are compiled, their memory
 * reserved and the worker threads started by the first op that runs on them, by `ready()` (which
 * compiles asynchronously, as a browser's main thread prefers) or by `setThreads()`.
 *
 * Whatever runs is reported by `backendInfo()`, with the reason in words when it is less than
 * asked (no SIMD, wasm compilation forbidden by a Content-Security-Policy, no cross-origin
 * isolation, workers blocked); the first such fallback also prints one console.warn.
 */
import { Tensor } from '../../tensor/tensor.js';
import type { Kernels } from '../api.js';
import { computeConv2DInfo, computePool2DInfo } from '../conv-info.js';
import { registerBackend, setBackend, getBackend } from '../backend.js';
import { reference } from '../reference/index.js';
import { conv2dBackwardFilterOnlyWasm, conv2dBackwardInputOnlyWasm, conv2dBackwardWasm, conv2dReluBackwardWasm, conv2dReluWasm, conv2dWasm } from './conv2d.js';
import {
  leakyReluBackwardWasm, leakyReluWasm, reluBackwardWasm, reluWasm, sigmoidBackwardWasm, sigmoidWasm, tanhBackwardWasm, tanhWasm,
} from './activations.js';
import { denseBackwardWasm, denseReluBackwardWasm, denseReluWasm, denseWasm } from './dense.js';
import { depthwiseConv2dBackwardFilterWasm, depthwiseConv2dBackwardWasm, depthwiseConv2dWasm } from './depthwise-conv2d.js';
import { avgPool2dBackwardWasm, avgPool2dWasm, maxPool2dBackwardWasm, maxPool2dReluBackwardWasm, maxPool2dReluWasm, maxPool2dWasm } from './pool2d.js';
import { globalAvgPool2dBackwardWasm, globalAvgPool2dWasm } from './global-avg-pool2d.js';
import { batchNormBackwardWasm, batchNormStatsWasm, batchNormWasm } from './batch-norm.js';
import { detectFeatures, detectSimd, type Variant, type WasmFeatures } from './loader.js';
import { createRuntimeAsync, createRuntimeSync, type Runtime } from './runtime.js';
import { MAX_THREADS, errorText, hostCores, loadSpawner, loadedSpawner, spawnerUnavailableReason } from './threads.js';

/** What the ops run on, and why it is less than asked when it is: see `backendInfo()`. */
export interface BackendInfo {
  /** The backend the ops run on ('wasm' or 'reference', or a registered one). */
  backend: string;
  /** The WebAssembly build in use ('relaxedShared', 'simdShared', 'relaxed', 'simd'); null when the ops do not run on it. */
  build: Variant | null;
  /** Whether this engine has WebAssembly SIMD128. */
  simd: boolean;
  /** Whether it also has relaxed SIMD (fused multiply-add). */
  relaxedSimd: boolean;
  /** Threads actually working, the caller included (workers that are still starting or failed do not count). */
  threads: number;
  /** Threads asked for with setThreads(), or the default (the cores, at most 8). */
  requestedThreads: number;
  /** In words: why `threads` is fewer than asked, or why the reference kernels run; null when all is as asked. */
  reason: string | null;
}

const simdFeatures = detectSimd();
let rt: Runtime | null = null;
/** Why the kernels could not be started (compilation refused, ...); the reference kernels then run. */
let startError: string | null = null;
let requestedThreads: number | null = null;
let warnings = true;
const warned = new Set<string>();

/** One thread per core, at most 8 (the kernels' chunks stop paying off beyond that). */
function defaultThreads(): number {
  return Math.min(hostCores(), 8);
}

function wantedThreads(): number {
  return requestedThreads ?? defaultThreads();
}


/** The reason, for a failure to compile or instantiate the kernels. */
function compileFailure(e: unknown): string {
  const text = errorText(e);
  if (/content.security.policy|unsafe-eval|\bCSP\b/i.test(text)) {
    return (
      `the page's Content-Security-Policy forbids compiling WebAssembly (${text}), so the reference kernels run (10-100x slower): ` +
      "add 'wasm-unsafe-eval' to its script-src directive"
    );
  }
  return `the WebAssembly kernels could not be started (${text}), so the reference kernels run`;
}

/** Prints `reason` once (per kind of fallback), unless warnings are off. */
function warnOnce(kind: string, reason: string | null): void {
  if (reason === null || !warnings || warned.has(kind)) return;
  warned.add(kind);
  console.warn(`Stride: ${reason}. (backendInfo() reports this; setFallbackWarnings(false) silences it.)`);
}

/**
 * Controls the one console.warn printed on the first fallback of each kind (reference kernels
 * instead of wasm; fewer threads than asked). On by default.
 */
export function setFallbackWarnings(on: boolean): void {
  warnings = on;
}

function fail(e: unknown): null {
  startError = compileFailure(e);
  rt = null;
  if (getBackend() === 'wasm') setBackend('reference');
  warnOnce('backend', startError);
  return null;
}

/** Starts (or resizes) the worker threads to what is asked, as far as this engine allows. */
function startThreads(r: Runtime): void {
  const pool = r.pool;
  if (pool === null) {
    if (wantedThreads() > 1) warnOnce('threads', threadReason());
    return;
  }
  if (pool.onWorkerError === null) pool.onWorkerError = () => warnOnce('threads', threadReason());
  if (loadedSpawner() !== null) {
    pool.resize(wantedThreads());
    if (pool.size < wantedThreads()) warnOnce('threads', threadReason());
  } else {
    // Node before 20.16: worker_threads loads asynchronously; the workers join when it has.
    void loadSpawner().then(
      () => {
        if (rt === r) startThreads(r);
      },
      (e: unknown) => warnOnce('threads', `worker threads are unavailable (${errorText(e)})`),
    );
  }
}

/** Makes `r` the running kernels (the backend choice stays the user's: 'wasm' is the default from import). */
function adopt(r: Runtime): Runtime {
  rt = r;
  startError = null;
  registerBackend(wasm);
  startThreads(r);
  return r;
}

/**
 * The running kernels, started on first use (synchronous compilation: fine in Node, workers, and
 * for this module's size on a browser's main thread). Null when they fail to start: the calling
 * op then runs on the reference kernels, the backend switches to 'reference', and the reason is
 * kept for backendInfo() (and printed once).
 */
function runtime(): Runtime | null {
  if (rt !== null) return rt;
  // After a failure the backend is 'reference'; only an explicit setBackend('wasm') gets here.
  if (startError !== null) throw new Error(`wasm backend: unavailable: ${startError}; use setBackend('reference')`);
  try {
    return adopt(createRuntimeSync(detectFeatures()));
  } catch (e) {
    return fail(e);
  }
}

/**
 * A kernel that runs `fast` on the started runtime, or `slow` (the reference) for the one call
 * that finds the kernels cannot start (the backend then switches to 'reference'; see runtime()).
 */
function wasmOr<A extends unknown[], R>(fast: (r: Runtime, ...args: A) => R, slow: (...args: A) => R): (...args: A) => R {
  return (...args) => {
    const r = runtime();
    return r === null ? slow(...args) : fast(r, ...args);
  };
}

export const wasm: Kernels = {
  ...reference,
  name: 'wasm',
  conv2d: wasmOr(conv2dWasm, reference.conv2d),
  conv2dBackward: wasmOr(conv2dBackwardWasm, reference.conv2dBackward),
  conv2dBackwardInput: wasmOr(conv2dBackwardInputOnlyWasm, reference.conv2dBackwardInput),
  conv2dBackwardFilter: wasmOr(conv2dBackwardFilterOnlyWasm, reference.conv2dBackwardFilter),
  depthwiseConv2d: wasmOr(depthwiseConv2dWasm, reference.depthwiseConv2d),
  depthwiseConv2dBackward: wasmOr(depthwiseConv2dBackwardWasm, reference.depthwiseConv2dBackward),
  depthwiseConv2dBackwardFilter: wasmOr(depthwiseConv2dBackwardFilterWasm, reference.depthwiseConv2dBackwardFilter),
  maxPool2d: wasmOr(maxPool2dWasm, reference.maxPool2d),
  maxPool2dBackward: wasmOr(maxPool2dBackwardWasm, reference.maxPool2dBackward),
  maxPool2dRelu: wasmOr(maxPool2dReluWasm, reference.maxPool2dRelu),
  maxPool2dReluBackward: wasmOr(maxPool2dReluBackwardWasm, reference.maxPool2dReluBackward),
  avgPool2d: wasmOr(avgPool2dWasm, reference.avgPool2d),
  avgPool2dBackward: wasmOr(avgPool2dBackwardWasm, reference.avgPool2dBackward),
  globalAvgPool2d: wasmOr(globalAvgPool2dWasm, reference.globalAvgPool2d),
  globalAvgPool2dBackward: wasmOr(globalAvgPool2dBackwardWasm, reference.globalAvgPool2dBackward),
  batchNormStats: wasmOr(batchNormStatsWasm, reference.batchNormStats),
  batchNorm: wasmOr(batchNormWasm, reference.batchNorm),
  batchNormBackward: wasmOr(batchNormBackwardWasm, reference.batchNormBackward),
  dense: wasmOr(denseWasm, reference.dense),
  denseBackward: wasmOr(denseBackwardWasm, reference.denseBackward),
  relu: wasmOr(reluWasm, reference.relu),
  reluBackward: wasmOr(reluBackwardWasm, reference.reluBackward),
  leakyRelu: wasmOr(leakyReluWasm, reference.leakyRelu),
  leakyReluBackward: wasmOr(leakyReluBackwardWasm, reference.leakyReluBackward),
  sigmoid: wasmOr(sigmoidWasm, reference.sigmoid),
  sigmoidBackward: wasmOr(sigmoidBackwardWasm, reference.sigmoidBackward),
  tanh: wasmOr(tanhWasm, reference.tanh),
  tanhBackward: wasmOr(tanhBackwardWasm, reference.tanhBackward),
  conv2dRelu: wasmOr(conv2dReluWasm, reference.conv2dRelu),
  conv2dReluBackward: wasmOr(conv2dReluBackwardWasm, reference.conv2dReluBackward),
  denseRelu: wasmOr(denseReluWasm, reference.denseRelu),
  denseReluBackward: wasmOr(denseReluBackwardWasm, reference.denseReluBackward),
};

/** The runtime, started if it was not (tests and benchmarks); null where the kernels cannot run. */
export function wasmRuntime(): Runtime | null {
  return rt ?? (startError === null && simdFeatures.simd ? runtime() : null);
}

/** Whether the kernels have been started (nothing starts at import). */
export function wasmStarted(): boolean {
  return rt !== null;
}

/**
 * Starts the wasm backend synchronously and makes it the default. Returns false (leaving the
 * current backend) when SIMD is unavailable or the kernels cannot start. `features` overrides
 * detection (tests).
 */
export function initWasm(features: WasmFeatures = detectFeatures()): boolean {
  if (!features.simd) return false;
  if (rt !== null && rt.features === features) return true;
  rt?.pool?.terminate();
  try {
    adopt(createRuntimeSync(features));
  } catch (e) {
    fail(e);
    return false;
  }
  setBackend('wasm');
  return true;
}

/** Why fewer threads than asked work (null if as many do, or the kernels do not run on wasm). */
function threadReason(): string | null {
  const want = wantedThreads();
  if (rt === null || want <= 1) return null;
  const pool = rt.pool;
  if (pool === null) {
    const g = globalThis as { crossOriginIsolated?: boolean; document?: unknown; SharedArrayBuffer?: unknown };
    if (g.crossOriginIsolated === false || (g.document !== undefined && typeof g.SharedArrayBuffer !== 'function')) {
      return (
        'the page is not cross-origin isolated, so there is no SharedArrayBuffer and the kernels run on 1 thread: serve the page ' +
        '(and any worker script that loads Stride) with the headers Cross-Origin-Opener-Policy: same-origin and ' +
        'Cross-Origin-Embedder-Policy: require-corp (or credentialless)'
      );
    }
    if (typeof g.SharedArrayBuffer !== 'function') return 'this engine has no SharedArrayBuffer, so the kernels run on 1 thread';
    return 'shared WebAssembly memory could not be reserved (a memory-limited device?), so the kernels run on 1 thread';
  }
  if (pool.isBroken) return 'the worker threads stopped responding during a call, so the kernels run on 1 thread';
  const failure = pool.failure();
  if (failure !== null) {
    const blocked = /content.security.policy|blocked|denied|SecurityError/i.test(failure);
    return (
      `worker threads could not start (${failure}), so the kernels run on ${pool.size} thread${pool.size === 1 ? '' : 's'}` +
      (blocked ? ": the page's Content-Security-Policy must allow blob: workers (worker-src blob:, or child-src blob:)" : '')
    );
  }
  const none = spawnerUnavailableReason();
  if (none !== null) return `${none}, so the kernels run on 1 thread`;
  if (want > MAX_THREADS && pool.size === MAX_THREADS) return `at most ${MAX_THREADS} threads are supported`;
  const working = pool.working;
  if (working < pool.size) return `${pool.size - working} of ${pool.size - 1} worker threads are still starting (await ready() to wait for them)`;
  return null;
}

/**
 * What the ops run on now: the backend, the wasm build, the engine's SIMD support, the threads
 * actually working against those asked for, and in words why it is less than asked.
 *
 * ```ts
 * const info = await ready();
 * if (info.reason !== null) console.log(info.reason); // e.g. the page is not cross-origin isolated...
 * ```
 */
export function backendInfo(): BackendInfo {
  const backend = getBackend();
  const onWasm = backend === 'wasm';
  let reason: string | null;
  if (!simdFeatures.simd) {
    reason = 'this engine has no WebAssembly SIMD, so the reference kernels run (10-100x slower): use a current browser or Node.js';
  } else if (startError !== null) {
    reason = startError;
  } else if (!onWasm) {
    reason = backend === 'reference' ? "the reference kernels were chosen with setBackend('reference')" : null;
  } else if (rt === null) {
    reason = 'the wasm kernels start with the first op (or await ready() to start them now)';
  } else {
    reason = threadReason();
  }
  return {
    backend,
    build: onWasm && rt !== null ? rt.variant : null,
    simd: simdFeatures.simd,
    relaxedSimd: simdFeatures.relaxedSimd,
    threads: onWasm && rt !== null ? (rt.pool?.working ?? 1) : 1,
    requestedThreads: wantedThreads(),
    reason,
  };
}

/**
 * Starts the fastest available kernels and worker threads, and resolves with `backendInfo()` once
 * they run (or have failed: it never rejects for a fallback, it reports it). Safe to call more than
 * once; optional in Node (the first op starts everything), recommended once in a browser, where it
 * compiles asynchronously and waits for the workers.
 *
 * ```ts
 * const info = await ready(); // { backend: 'wasm', build: 'relaxedShared', threads: 2, reason: null, ... }
 * ```
 */
export async function ready(): Promise<BackendInfo> {
  if (!simdFeatures.simd) {
    warnOnce('backend', backendInfo().reason);
    return backendInfo();
  }
  if (rt === null && startError === null) {
    try {
      adopt(await createRuntimeAsync(detectFeatures()));
    } catch (e) {
      fail(e);
    }
  }
  const r = rt;
  if (r !== null && r.pool !== null) {
    await loadSpawner().catch(() => null);
    startThreads(r);
    await r.pool.whenAlive();
  }
  if (r !== null && !warmedUp) {
    warmedUp = true;
    const backend = getBackend();
    setBackend('wasm');
    try {
      warmUp();
    } finally {
      setBackend(backend);
    }
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  const info = backendInfo();
  if (info.backend === 'wasm' && info.threads < info.requestedThreads) warnOnce('threads', info.reason);
  return info;
}

let warmedUp = false;

/**
 * Runs every kernel a few times on tiny inputs. V8 first runs wasm in its baseline compiler and
 * tiers a function up only after it has run for a while; a first large call would otherwise run
 * mostly unoptimised.
 */
function warmUp(): void {
  const x = Tensor.randn([1, 6, 6, 8], { seed: 1 });
  const w = Tensor.randn([3, 3, 8, 8], { seed: 2 });
  const x1 = Tensor.randn([1, 6, 6, 1], { seed: 3 });
  const w1 = Tensor.randn([3, 3, 1, 8], { seed: 4 });
  const info = computeConv2DInfo('warmUp', x.shape, w.shape, { padding: 'same' });
  const info1 = computeConv2DInfo('warmUp', x1.shape, w1.shape, { padding: 'same' });
  const pinfo = computePool2DInfo('warmUp', x.shape, { kernelSize: 2 });
  for (let i = 0; i < 20; i++) {
    const y = wasm.conv2d(x, w, null, info);
    wasm.conv2dBackward(y, x, w, info);
    wasm.conv2d(x1, w1, null, info1);
    wasm.maxPool2dBackward(wasm.maxPool2d(y, pinfo), y, pinfo);
  }
}

/**
 * Sets how many threads the wasm kernels use (the caller included; 1 = single-threaded), and
 * starts the kernels and workers if they have not started. Threads need shared memory (Node, or a
 * cross-origin-isolated page); without it this stays 1 and `backendInfo().reason` says why.
 * Returns the number of threads the next call will use (workers still starting join when they run).
 */
export function setThreads(n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new Error(`setThreads: n must be a positive integer, got ${String(n)}`);
  requestedThreads = n;
  if (getBackend() !== 'wasm') return 1;
  const r = runtime();
  if (r === null) return 1;
  startThreads(r);
  return r.pool?.size ?? 1;
}

/** Threads the next wasm call will use (the caller included): those asked for, less workers that failed. */
export function getThreads(): number {
  return rt?.pool?.size ?? 1;
}

/**
 * Chunks of work each thread has run since the kernels started (index 0 = the calling thread);
 * empty without worker threads. Proof that the workers take part: after a large conv, entry 1 > 0.
 */
export function threadWork(): number[] {
  return rt?.pool?.chunkCounts() ?? [];
}

// Module start-up: only the SIMD probe (above). The backend is registered, and made the default,
// when the kernels can run; they start on first use.
if (simdFeatures.simd) {
  registerBackend(wasm);
  setBackend('wasm');
}
