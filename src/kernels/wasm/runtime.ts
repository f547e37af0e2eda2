/**
 * The running WebAssembly kernels: one instance, its memory, a bump arena for each call's
 * inputs, outputs and scratch, and (when shared memory is available) a thread pool.
 *
 * Memory layout: [0, 64 KiB) holds the thread control block; the arena starts at 64 KiB. The arena
 * is reset at the start of every kernel call, and grows the memory when needed; after `grow`,
 * typed-array views are re-created (the old ones are detached, or too short for shared memory).
 */
import { chooseVariant, compileAsync, compileSync, type Variant, type WasmFeatures } from './loader.js';
import { allocFloat32, takeFloat32 } from '../../tensor/storage.js';
import { ThreadPool, loadSpawner, type JobFunction } from './threads.js';
import { JOB, JOB_FUNCTIONS, paramBlock, type ParamBlockKind, type ParamValues, type ThreadedKernel } from './abi.js';

/** The exports of assembly/index.ts: the threaded kernels of abi.ts, and these. */
export type KernelExports = { readonly [K in ThreadedKernel]: JobFunction } & {
  biasGrad(dy: number, M: number, Cout: number, db: number, tmp: number): void;
  addInto(dst: number, src: number, n: number): void;
  filterGradFinish(slots: number, n: number, stride: number, K: number, Cout: number, dw: number, db: number): void;
  relu(x: number, y: number, n: number): void;
  reluBackward(dy: number, x: number, dx: number, n: number): void;
  leakyRelu(x: number, y: number, n: number, alpha: number): void;
  leakyReluBackward(dy: number, x: number, dx: number, n: number, alpha: number): void;
  sigmoid(x: number, y: number, n: number): void;
  sigmoidBackward(dy: number, y: number, dx: number, n: number): void;
  tanh(x: number, y: number, n: number): void;
  tanhBackward(dy: number, y: number, dx: number, n: number): void;
  packB(dst: number, src: number, T: number, tapBase: number, kPerTap: number, strideK: number, strideN: number, N: number): void;
};

const ARENA_BASE = 65536;
const PAGE = 65536;
/** Pages of a shared memory's maximum (the build declares 65536; 2 GiB is plenty for a batch). */
const SHARED_MAX_PAGES = 32768;


export class Runtime {
  readonly exports: KernelExports;
  readonly jobFns: JobFunction[];
  readonly pool: ThreadPool | null;
  private top = ARENA_BASE;
  private callThreads = 1;
  private f32v: Float32Array;
  private i32v: Int32Array;
  /** Testing aid: when a number, every arena allocation is filled with it (NaN finds unwritten outputs). */
  poison: number | null = null;

  constructor(
    readonly module: WebAssembly.Module,
    readonly memory: WebAssembly.Memory,
    readonly variant: Variant,
    readonly features: WasmFeatures,
  ) {
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    this.exports = instance.exports as unknown as KernelExports;
    this.jobFns = JOB_FUNCTIONS.map((n) => this.exports[n]);
    this.f32v = new Float32Array(memory.buffer);
    this.i32v = new Int32Array(memory.buffer);
    this.pool = memory.buffer instanceof ArrayBuffer ? null : new ThreadPool(memory, module);
  }

  /** A float32 view of the whole memory (valid until the next allocation). */
  get f32(): Float32Array {
    if (this.f32v.byteLength !== this.memory.buffer.byteLength) this.refresh();
    return this.f32v;
  }

  get i32(): Int32Array {
    if (this.i32v.byteLength !== this.memory.buffer.byteLength) this.refresh();
    return this.i32v;
  }

  private refresh(): void {
    this.f32v = new Float32Array(this.memory.buffer);
    this.i32v = new Int32Array(this.memory.buffer);
  }

  /**
   * Frees every allocation, and fixes the call's thread count (at the start of each kernel call):
   * the scratch a kernel sizes with `threads` and the jobs it runs then agree by construction,
   * whatever `setThreads` or a failing worker does in between.
   */
  reset(): void {
    this.top = ARENA_BASE;
    this.callThreads = this.pool?.size ?? 1;
  }

  /** Allocates `bytes` (64-byte aligned) and returns the byte offset. */
  allocBytes(bytes: number): number {
    const p = this.top;
    this.top = p + Math.ceil(bytes / 64) * 64 + 64;
    const have = this.memory.buffer.byteLength;
    if (this.top > have) {
      try {
        this.memory.grow(Math.ceil((this.top - have) / PAGE));
      } catch {
        const mb = (n: number): string => `${Math.ceil(n / 2 ** 20)} MB`;
        throw new Error(`wasm backend: out of memory: this call needs ${mb(this.top)} of WebAssembly memory, ${mb(have)} available; use a smaller batch or setBackend('reference')`);
      }
    }
    if (this.poison !== null) this.f32.fill(this.poison, p >> 2, this.top >> 2);
    return p;
  }

  /** Allocates n floats. */
  alloc(n: number): number {
    return this.allocBytes(n * 4);
  }

  /** Allocates n floats set to zero. */
  zeros(n: number): number {
    const p = this.alloc(n);
    this.f32.fill(0, p >> 2, (p >> 2) + n);
    return p;
  }

  /** Copies `data` in; returns its byte offset. */
  put(data: Float32Array): number {
    const p = this.alloc(data.length);
    this.f32.set(data, p >> 2);
    return p;
  }

  /** Writes a kernel's parameter block (abi.ts: every field by name, each an int32); returns its byte offset. */
  putParams<K extends ParamBlockKind>(kind: K, values: ParamValues<K>): number {
    return this.putI32(paramBlock(kind, values));
  }

  /** Copies 32-bit integers in (tap tables). */
  putI32(data: ArrayLike<number>): number {
    const p = this.allocBytes(data.length * 4);
    this.i32.set(data, p >> 2);
    return p;
  }

  /** A copy of n floats at byte offset p. */
  read(p: number, n: number): Float32Array {
    const out = allocFloat32(n);
    out.set(this.f32.subarray(p >> 2, (p >> 2) + n));
    return out;
  }

  /** Threads that take part in this call's jobs (1 without a pool), as of the last `reset()`. */
  get threads(): number {
    return this.callThreads;
  }

  /**
   * Runs a job function over work units [0, units), split into chunks (so a long call can move to
   * V8's optimised code between chunks, and threads can share it).
   */
  run(kernel: ThreadedKernel, p: number, units: number, minChunk: number, during?: () => void): void {
    const fnId = JOB[kernel];
    const threads = this.threads;
    const chunk = Math.max(minChunk, Math.ceil(units / (threads * 8)));
    if (this.pool !== null && threads > 1 && units > chunk) {
      this.pool.run(this.jobFns, fnId, p, units, chunk, threads, during);
      return;
    }
    during?.();
    const fn = this.jobFns[fnId];
    for (let u = 0; u < units; u += chunk) fn(p, u, Math.min(units, u + chunk), 0);
  }

  /**
   * `run`, returning a new Float32Array of `outFloats` for the job's result, allocated and touched
   * (one write per 4 KiB page) on the calling thread while the workers compute. A large fresh array
   * costs page faults (~3 ms per MB on the development VM), paid here in parallel with the job
   * instead of afterwards in the copy out.
   */
  runWithOutput(kernel: ThreadedKernel, p: number, units: number, minChunk: number, outFloats: number): Float32Array {
    const o = new PendingOutput(outFloats);
    this.run(kernel, p, units, minChunk, o.alloc);
    return o.get();
  }

  /** Copies n floats at byte offset p into `out` (from index 0); returns out. */
  readInto(out: Float32Array, p: number, n: number): Float32Array {
    out.set(this.f32.subarray(p >> 2, (p >> 2) + n));
    return out;
  }
}

/** An output array allocated (touched) by a job's `during` callback, or on first `get` otherwise. */
export class PendingOutput {
  private a: Float32Array | null = null;
  constructor(readonly n: number) {}
  readonly alloc = (): void => {
    if (this.a === null) this.a = touched(this.n);
  };
  get(): Float32Array {
    this.alloc();
    return this.a!;
  }
}

/**
 * An output array: a recycled one (tensor/storage.ts), or a new one with one element per 4 KiB page
 * written (faulting its pages in now, while the workers compute).
 */
export function touched(n: number): Float32Array {
  const recycled = takeFloat32(n);
  if (recycled !== null) return recycled;
  const a = new Float32Array(n);
  for (let i = 0; i < n; i += 1024) a[i] = 0;
  return a;
}

function newMemory(shared: boolean): WebAssembly.Memory {
  return shared
    ? new WebAssembly.Memory({ initial: 64, maximum: SHARED_MAX_PAGES, shared: true })
    : new WebAssembly.Memory({ initial: 64 });
}

/** Creates the runtime synchronously (Node, workers, or small modules on a browser's main thread). */
export function createRuntimeSync(features: WasmFeatures): Runtime {
  const { memory, f } = memoryFor(features);
  const v = chooseVariant(f, f.threads);
  return new Runtime(compileSync(v), memory, v, f);
}

/**
 * The shared memory when threads are possible, else (or when the engine cannot reserve the shared
 * maximum, as memory-limited mobile browsers do) a private one and a single-threaded runtime.
 */
function memoryFor(features: WasmFeatures): { memory: WebAssembly.Memory; f: WasmFeatures } {
  if (features.threads) {
    try {
      return { memory: newMemory(true), f: features };
    } catch {
      // fall through: run single-threaded on the non-shared build
    }
  }
  return { memory: newMemory(false), f: { ...features, threads: false } };
}

/** Creates the runtime with asynchronous compilation, and loads the worker spawner. */
export async function createRuntimeAsync(features: WasmFeatures): Promise<Runtime> {
  const { memory, f } = memoryFor(features);
  const v = chooseVariant(f, f.threads);
  const module = await compileAsync(v);
  if (f.threads) await loadSpawner();
  return new Runtime(module, memory, v, f);
}
