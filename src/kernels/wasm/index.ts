/**
 * The 'wasm' backend: WebAssembly SIMD kernels behind the same `Kernels` interface as the
 * reference (which fills in whatever is not fast yet: see the spread below). See docs/wasm.md.
 *
 * Importing this module detects SIMD and, if present, instantiates the kernels synchronously,
 * registers the backend and makes it the default; without SIMD the reference backend stays.
 * `ready()` does the same asynchronously (for browsers' main thread) and starts worker threads.
 */
import { Tensor } from '../../tensor/tensor.js';
import type { Kernels } from '../api.js';
import { computeConv2DInfo, computePool2DInfo } from '../conv-info.js';
import { registerBackend, setBackend, getBackend } from '../backend.js';
import { reference } from '../reference/index.js';
import { conv2dBackwardWasm, conv2dWasm } from './conv2d.js';
import {
  leakyReluBackwardWasm, leakyReluWasm, reluBackwardWasm, reluWasm, sigmoidBackwardWasm, sigmoidWasm, tanhBackwardWasm, tanhWasm,
} from './activations.js';
import { denseBackwardWasm, denseWasm } from './dense.js';
import { avgPool2dBackwardWasm, avgPool2dWasm, maxPool2dBackwardWasm, maxPool2dWasm } from './pool2d.js';
import { detectFeatures, type WasmFeatures } from './loader.js';
import { createRuntimeAsync, createRuntimeSync, type Runtime } from './runtime.js';
import { hostCores, loadSpawner } from './threads.js';

let rt: Runtime | null = null;
let requestedThreads: number | null = null;

function runtime(): Runtime {
  if (rt === null) throw new Error("wasm backend: not initialised (SIMD unavailable?); use setBackend('reference')");
  return rt;
}

export const wasm: Kernels = {
  ...reference,
  name: 'wasm',
  conv2d: (x, w, bias, info) => conv2dWasm(runtime(), x, w, bias, info),
  conv2dBackward: (dy, x, w, info) => conv2dBackwardWasm(runtime(), dy, x, w, info),
  maxPool2d: (x, info) => maxPool2dWasm(runtime(), x, info),
  maxPool2dBackward: (dy, x, info) => maxPool2dBackwardWasm(runtime(), dy, x, info),
  avgPool2d: (x, info) => avgPool2dWasm(runtime(), x, info),
  avgPool2dBackward: (dy, x, info) => avgPool2dBackwardWasm(runtime(), dy, x, info),
  dense: (x, w, bias) => denseWasm(runtime(), x, w, bias),
  denseBackward: (dy, x, w) => denseBackwardWasm(runtime(), dy, x, w),
  relu: (x) => reluWasm(runtime(), x),
  reluBackward: (dy, x) => reluBackwardWasm(runtime(), dy, x),
  leakyRelu: (x, alpha) => leakyReluWasm(runtime(), x, alpha),
  leakyReluBackward: (dy, x, alpha) => leakyReluBackwardWasm(runtime(), dy, x, alpha),
  sigmoid: (x) => sigmoidWasm(runtime(), x),
  sigmoidBackward: (dy, y) => sigmoidBackwardWasm(runtime(), dy, y),
  tanh: (x) => tanhWasm(runtime(), x),
  tanhBackward: (dy, y) => tanhBackwardWasm(runtime(), dy, y),
};

/** The live runtime, or null without SIMD (for tests and benchmarks). */
export function wasmRuntime(): Runtime | null {
  return rt;
}

/** One thread per core, at most 8 (the kernels' chunks stop paying off beyond that). */
function defaultThreads(): number {
  return Math.min(hostCores(), 8);
}

function adopt(r: Runtime): void {
  rt = r;
  registerBackend(wasm);
  setBackend('wasm');
}

/**
 * Initialises the wasm backend synchronously and makes it the default. Returns false (leaving
 * the current backend) when SIMD is unavailable. `features` overrides detection (tests).
 */
export function initWasm(features: WasmFeatures = detectFeatures()): boolean {
  if (!features.simd) return false;
  if (rt !== null && rt.features === features) return true;
  rt?.pool?.terminate();
  adopt(createRuntimeSync(features));
  return true;
}

/**
 * Initialises the fastest available kernels and worker threads; resolves with the backend name
 * ('wasm', or 'reference' without SIMD). Safe to call more than once.
 *
 * ```ts
 * await ready(); // before the first op, in a browser
 * ```
 */
export async function ready(): Promise<string> {
  if (rt === null) {
    const f = detectFeatures();
    if (!f.simd) return getBackend();
    adopt(await createRuntimeAsync(f));
  }
  const r = rt!;
  if (r.pool !== null) {
    await loadSpawner();
    r.pool.resize(requestedThreads ?? defaultThreads());
    await r.pool.whenAlive();
  }
  if (!warmedUp) {
    warmedUp = true;
    warmUp();
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  return getBackend();
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
 * Sets how many threads the wasm kernels use (the caller included; 1 = single-threaded). Threads
 * need shared memory (Node, or a cross-origin-isolated page); without it this stays 1. In Node
 * workers start at once if `ready()` has run, else as soon as worker support has loaded.
 * Returns the number of threads now in use.
 */
export function setThreads(n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new Error(`setThreads: n must be a positive integer, got ${n}`);
  requestedThreads = n;
  return rt?.pool?.resize(n) ?? 1;
}

/** Threads the wasm kernels use now. */
export function getThreads(): number {
  return rt?.threads ?? 1;
}

// Module start-up: synchronous where possible, threads once worker support has loaded.
try {
  if (initWasm() && rt!.pool !== null) {
    void loadSpawner().then(
      () => rt?.pool?.resize(requestedThreads ?? defaultThreads()),
      () => undefined,
    );
  }
} catch {
  // Any failure leaves the reference backend selected.
}
