/**
 * The running WebAssembly kernels: one instance, its memory, a bump arena for each call's
 * inputs, outputs and scratch, and (when shared memory is available) a thread pool.
 *
 * Memory layout: [0, 64 KiB) holds the thread control block; the heap starts at 64 KiB. A kernel
 * call's scratch (its inputs' copies, packed panels, parameter blocks) is allocated from the heap and
 * freed all at once by the next call's `reset()`; a kernel output kept in wasm memory (`keep`: a
 * tensor the next kernel reads in place, see `ArenaValues`) is a heap block that lives until its
 * tensor is disposed or read from JavaScript. The heap grows the memory when needed; after `grow`,
 * typed-array views are re-created (the old ones are detached, or too short for shared memory), and
 * blocks are offsets, so they stay valid.
 */
import { chooseVariant, compileAsync, compileSync, type Variant, type WasmFeatures } from './loader.js';
import { allocFloat32, takeFloat32 } from '../../tensor/storage.js';
import { Tensor, externalOutputsWanted, type ExternalValues, type Shape } from '../../tensor/tensor.js';
import { ThreadPool, loadSpawner, type JobFunction } from './threads.js';
import { JOB, JOB_FUNCTIONS, paramBlock, type ParamBlockKind, type ParamValues, type ThreadedKernel } from './abi.js';

/** The exports of assembly/index.ts: the threaded kernels of abi.ts, and these. */
export type KernelExports = { readonly [K in ThreadedKernel]: JobFunction } & {
  biasGrad(dy: number, M: number, Cout: number, db: number, tmp: number): void;
  addInto(dst: number, src: number, n: number): void;
  spreadColumns(src: number, rows: number, Wp: number, C: number, Wo: number, sW: number, kW: number, dW: number, dst: number): void;
  relu(x: number, y: number, n: number): void;
  reluBackward(dy: number, x: number, dx: number, n: number): void;
  leakyRelu(x: number, y: number, n: number, alpha: number): void;
  leakyReluBackward(dy: number, x: number, dx: number, n: number, alpha: number): void;
  sigmoid(x: number, y: number, n: number): void;
  sigmoidBackward(dy: number, y: number, dx: number, n: number): void;
  tanh(x: number, y: number, n: number): void;
  tanhBackward(dy: number, y: number, dx: number, n: number): void;
  globalAvgPool(x: number, y: number, N: number, HW: number, C: number): void;
  globalAvgPoolBackward(dy: number, dx: number, N: number, HW: number, C: number): void;
  bnStats(x: number, M: number, C: number, out: number): void;
  bnApply(x: number, y: number, M: number, C: number, mean: number, s: number, beta: number): void;
  bnBackwardSums(dy: number, x: number, M: number, C: number, mean: number, invStd: number, out: number): void;
  bnBackwardDx(dy: number, x: number, dx: number, M: number, C: number, mean: number, k1: number, k2: number, k3: number): void;
  packB(dst: number, src: number, T: number, tapBase: number, kPerTap: number, strideK: number, strideN: number, N: number): void;
  allFinite(p: number, n: number): number;
};

const ARENA_BASE = 65536;
const PAGE = 65536;
/** Pages of a shared memory's maximum (the build declares 65536; 2 GiB is plenty for a batch). */
const SHARED_MAX_PAGES = 32768;


/**
 * First-fit allocator over [ARENA_BASE, end) of the memory, in 64-byte units, with the free blocks
 * kept sorted by address and coalesced. Deterministic: the same sequence of calls (a training step)
 * lays its blocks out the same way every time.
 */
class Heap {
  /** Free blocks [p, p + n), sorted by p, never adjacent. */
  private readonly free: { p: number; n: number }[] = [];
  /** Live blocks: offset -> bytes. */
  readonly live = new Map<number, number>();
  /** The first byte past every block made so far. */
  end = ARENA_BASE;

  /** A block of `bytes` (a multiple of 64); `grow(needEnd)` makes the memory at least needEnd bytes. */
  alloc(bytes: number, grow: (needEnd: number) => void): number {
    const free = this.free;
    for (let i = 0; i < free.length; i++) {
      const f = free[i];
      if (f.n < bytes) continue;
      const p = f.p;
      if (f.n === bytes) free.splice(i, 1);
      else {
        f.p += bytes;
        f.n -= bytes;
      }
      this.live.set(p, bytes);
      return p;
    }
    // At the end, taking in a free block that ends there.
    const last = free[free.length - 1];
    const p = last !== undefined && last.p + last.n === this.end ? last.p : this.end;
    grow(p + bytes);
    if (p !== this.end) free.pop();
    this.end = p + bytes;
    this.live.set(p, bytes);
    return p;
  }

  release(p: number): void {
    const n = this.live.get(p);
    if (n === undefined) throw new Error(`wasm backend: heap block ${p} released twice (or never allocated)`);
    this.live.delete(p);
    const free = this.free;
    let lo = 0;
    let hi = free.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (free[mid].p < p) lo = mid + 1;
      else hi = mid;
    }
    const prev = free[lo - 1];
    const next = free[lo];
    if (prev !== undefined && prev.p + prev.n === p) {
      prev.n += n;
      if (next !== undefined && p + n === next.p) {
        prev.n += next.n;
        free.splice(lo, 1);
      }
    } else if (next !== undefined && p + n === next.p) {
      next.p = p;
      next.n += n;
    } else {
      free.splice(lo, 0, { p, n });
    }
  }

  /** Bytes in free blocks (tests). */
  freeBytes(): number {
    return this.free.reduce((a, f) => a + f.n, 0);
  }
}

/**
 * A kernel output left in wasm memory: the values of a `Tensor.fromExternal`, read in place by the
 * next kernel (`Runtime.input`) and copied out only when JavaScript reads the tensor's `data`.
 */
export class ArenaValues implements ExternalValues {
  #live = true;
  constructor(
    readonly rt: Runtime,
    /** Byte offset of the block. */
    readonly p: number,
    /** Floats of the tensor (the block may be larger). */
    readonly n: number,
  ) {}

  /** Whether the block still holds the values (not yet downloaded or released). */
  get live(): boolean {
    return this.#live;
  }

  download(): Float32Array {
    const out = this.rt.read(this.p, this.n);
    this.release();
    return out;
  }

  release(): void {
    if (!this.#live) return;
    this.#live = false;
    this.rt.releaseBlock(this.p);
  }
}

export class Runtime {
  readonly exports: KernelExports;
  readonly jobFns: JobFunction[];
  readonly pool: ThreadPool | null;
  private readonly heap = new Heap();
  /** The scratch blocks of the current call, freed by the next `reset()`. */
  private scratch: number[] = [];
  private callThreads = 1;
  private f32v: Float32Array;
  private i32v: Int32Array;
  /** Testing aid: when a number, every arena allocation is filled with it (NaN finds unwritten outputs). */
  poison: number | null = null;
  /** Testing aid: false makes every kernel copy its output out, as outside `withExternalOutputs`. */
  keepOutputs = true;

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
   * Frees the last call's scratch, and fixes the call's thread count (at the start of each kernel
   * call): the scratch a kernel sizes with `threads` and the jobs it runs then agree by
   * construction, whatever `setThreads` or a failing worker does in between. Blocks kept for
   * outputs (`keep`) stay.
   */
  reset(): void {
    for (const p of this.scratch) this.heap.release(p);
    this.scratch = [];
    this.callThreads = this.pool?.size ?? 1;
  }

  private grow = (needEnd: number): void => {
    const have = this.memory.buffer.byteLength;
    if (needEnd <= have) return;
    try {
      this.memory.grow(Math.ceil((needEnd - have) / PAGE));
    } catch {
      const mb = (n: number): string => `${Math.ceil(n / 2 ** 20)} MB`;
      throw new Error(`wasm backend: out of memory: this call needs ${mb(needEnd)} of WebAssembly memory, ${mb(have)} available; use a smaller batch or setBackend('reference')`);
    }
  };

  /** A heap block of at least `bytes`, 64-byte aligned, with 64 bytes to spare after it. */
  private block(bytes: number): number {
    // A size that is not a count (NaN from an empty dimension, say) is a glue bug, not a lack of memory.
    if (!Number.isSafeInteger(bytes) || bytes < 0) throw new Error(`wasm backend: internal error: a block of ${bytes} bytes was asked for`);
    const p = this.heap.alloc(Math.ceil(bytes / 64) * 64 + 64, this.grow);
    if (this.poison !== null) this.f32.fill(this.poison, p >> 2, (p + this.heap.live.get(p)!) >> 2);
    return p;
  }

  /** Allocates `bytes` of this call's scratch (64-byte aligned) and returns the byte offset. */
  allocBytes(bytes: number): number {
    const p = this.block(bytes);
    this.scratch.push(p);
    return p;
  }

  /**
   * Whether this call's outputs should stay in wasm memory (inside `withExternalOutputs`, as
   * Sequential's trainStep and predict run): see `output`.
   */
  get keepsOutputs(): boolean {
    return this.keepOutputs && externalOutputsWanted();
  }

  /** A block of n floats for an output that outlives the call (`output` makes its tensor). */
  keep(n: number): number {
    return this.block(n * 4);
  }

  /** Frees a block from `keep` (ArenaValues does, when its tensor is disposed or downloaded). */
  releaseBlock(p: number): void {
    this.heap.release(p);
  }

  /** The tensor of the n floats in the kept block p: its values stay in wasm memory until read. */
  output(p: number, shape: Shape): Tensor {
    let n = 1;
    for (const d of shape) n *= d;
    return Tensor.fromExternal(new ArenaValues(this, p, n), shape);
  }

  /**
   * Where a call's output of n floats goes: a kept block when outputs stay in wasm memory
   * (`keepsOutputs`), else scratch that `result` copies out.
   */
  outputBlock(n: number): OutputBlock {
    const keep = this.keepsOutputs;
    return { p: keep ? this.keep(n) : this.alloc(n), keep };
  }

  /** The tensor of an output block once its kernel has written it: kept in place, or copied out (into `dst`'s array if given). */
  result(o: OutputBlock, shape: Shape, dst?: PendingOutput): Tensor {
    if (o.keep) return this.output(o.p, shape);
    let n = 1;
    for (const d of shape) n *= d;
    return new Tensor(dst === undefined ? this.read(o.p, n) : this.readInto(dst.get(), o.p, n), shape);
  }

  /** `run`, then `result`: while the job runs, the calling thread touches the JavaScript output array when there is one. */
  runTo(kernel: ThreadedKernel, p: number, units: number, minChunk: number, o: OutputBlock, shape: Shape): Tensor {
    if (o.keep) {
      this.run(kernel, p, units, minChunk);
      return this.output(o.p, shape);
    }
    let n = 1;
    for (const d of shape) n *= d;
    const dst = new PendingOutput(n);
    this.run(kernel, p, units, minChunk, dst.alloc);
    return this.result(o, shape, dst);
  }

  /** The byte offset of t's values in this memory: in place when t is a kept output, else copied in as scratch. */
  input(t: Tensor): number {
    const ext = t.external;
    if (ext instanceof ArenaValues && ext.rt === this && ext.live) return ext.p;
    return this.put(t.data);
  }

  /** Copies t's values to byte offset p (within wasm memory when t is a kept output). */
  copyTo(p: number, t: Tensor): void {
    const ext = t.external;
    if (ext instanceof ArenaValues && ext.rt === this && ext.live) this.f32.copyWithin(p >> 2, ext.p >> 2, (ext.p >> 2) + t.size);
    else this.f32.set(t.data, p >> 2);
  }

  /** Whether t's values are in this memory already (a kept output). */
  holds(t: Tensor): boolean {
    const ext = t.external;
    return ext instanceof ArenaValues && ext.rt === this && ext.live;
  }

  /** Bytes of the heap in live blocks, in free blocks, and its end (tests). */
  heapStats(): { liveBytes: number; liveBlocks: number; freeBytes: number; end: number } {
    let liveBytes = 0;
    for (const n of this.heap.live.values()) liveBytes += n;
    return { liveBytes, liveBlocks: this.heap.live.size, freeBytes: this.heap.freeBytes(), end: this.heap.end };
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
   * V8's optimised code between chunks, and threads can share it). With `exact`, every chunk is
   * `minChunk` units on any thread count: for the kernels whose chunk is a reduction slot (a partial
   * dW of its own, summed in slot order), whose bits would otherwise depend on the thread count as
   * soon as a slot is shorter than units / (threads · 8).
   *
   * With `gated`, `during` copies the job's inputs in while the workers compute, calling `ready(n)`
   * each time units [0, n) have theirs: a worker starts a chunk only once its units are ready.
   */
  run(kernel: ThreadedKernel, p: number, units: number, minChunk: number, during?: () => void, exact = false, gated = false): void {
    const fnId = JOB[kernel];
    const threads = this.threads;
    const chunk = exact ? minChunk : Math.max(minChunk, Math.ceil(units / (threads * 8)));
    if (this.pool !== null && threads > 1 && units > chunk) {
      this.pool.run(this.jobFns, fnId, p, units, chunk, threads, during, gated);
      return;
    }
    during?.();
    const fn = this.jobFns[fnId];
    for (let u = 0; u < units; u += chunk) fn(p, u, Math.min(units, u + chunk), 0);
  }

  /** In a gated job's `during` (see `run`): units [0, n) have their inputs in place. */
  ready(n: number): void {
    this.pool?.ready(n);
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

/** An output of a kernel call: its byte offset, and whether it is a kept block (see Runtime.outputBlock). */
export interface OutputBlock {
  readonly p: number;
  readonly keep: boolean;
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
