/**
 * Worker threads over one shared WebAssembly.Memory. The public ops stay synchronous: the caller
 * publishes a job (a kernel, its parameter block, and a number of chunks) in a control block in
 * the shared memory, does chunks itself, and waits on Atomics until every chunk is done.
 *
 * Chunks are claimed with compare-and-swap on one 64-bit word that holds (generation << 16 | next
 * chunk), so a worker that wakes late, or never starts, cannot take a chunk of a later job: the
 * caller simply does more of the work. Each job carries the number of threads its scratch memory
 * was sized for, read under the same claim: a worker left over from a larger pool cannot join it.
 * The same worker script runs in Node (`worker_threads`, evaluated from a string) and in browsers
 * (a Blob URL), so there is no file path to configure; it is built from function expressions that
 * refer to no module-level name, so minifiers cannot break it.
 */
import { JOB_FUNCTIONS } from './abi.js';


/** Byte offset of the control block (inside the first 64 KiB, below the arena). */
export const CTRL_BYTES = 1024;
export type JobFunction = (p: number, u0: number, u1: number, tid: number) => void;
/** Most threads (the caller included). */
export const MAX_THREADS = 32;
/** READY of a job whose units are all ready. */
const READY_ALL = 0x7fffffff;
/** Most chunks in one job (the chunk index has 16 bits of the claim word). */
export const MAX_CHUNKS = 0xffff;

/**
 * The control block, as Int32 indices; one table used by the caller and, as the `K` argument, by
 * the worker script (which is source text and so can refer to no module-level name).
 *
 * The claim word is 64 bits (a BigInt64 at byte offset CLAIM64 * 8): job generation << 16 | next
 * chunk. With 48 bits of generation a thread that read the word and was paused cannot see the same
 * generation come round again, so its compare-and-swap can only succeed within the job it read.
 */
export const CTRL = {
  /** Job counter, low 31 bits (workers Atomics.wait on it). */
  GEN: 0,
  FN: 2,
  PARAM: 3,
  /** Chunks in the job. */
  TOTAL: 4,
  /** Units per chunk. */
  CHUNK: 5,
  UNITS: 6,
  /** Chunks finished. */
  DONE: 7,
  /** Threads the job was sized for (scratch areas): a thread with tid >= LIMIT sits the job out. */
  LIMIT: 8,
  /** 1 + tid of a thread whose chunk threw (the chunk still counts as done). */
  ERROR: 9,
  /**
   * Units whose inputs are in place: a worker runs a chunk [u0, u1) only once READY >= u1 (a gated
   * job's caller raises it as it copies the inputs in; any other job opens with it at its maximum).
   */
  READY: 10,
  /** BigInt64 index of the claim word (Int32 indices 12 and 13). */
  CLAIM64: 6,
  /** COUNT + tid: chunks each thread has run (statistics, tests). */
  COUNT: 16,
  /** ALIVE + tid: 1 once worker tid runs. */
  ALIVE: 48,
} as const;
export type CtrlIndex = typeof CTRL;
export const CTRL_INTS = 96;

/**
 * Claims and runs chunks of the current job until none are left (the caller and every worker).
 * Runs inside workers as source text too: it uses only its arguments and the engine's globals, so a
 * minifier may rename anything around it. `B16` and `MASK` are BigInt(16) and BigInt(0xffff)
 * (passed in, as BigInt literals would not survive a bundler that targets older engines).
 */
function work(c: Int32Array, c64: BigInt64Array, fns: JobFunction[], tid: number, K: CtrlIndex, B16: bigint, MASK: bigint): void {
  let v = Atomics.load(c64, K.CLAIM64);
  const gen = v >> B16;
  // Every field below was written before this job's claim word was opened, and the next job closes
  // the claim word before it writes its own; so, read after `v` and validated by a successful
  // compare-and-swap on `v`'s generation, they are this job's.
  if (tid >= Atomics.load(c, K.LIMIT)) return;
  const fn = fns[Atomics.load(c, K.FN)];
  const p = Atomics.load(c, K.PARAM);
  const total = Atomics.load(c, K.TOTAL);
  const chunk = Atomics.load(c, K.CHUNK);
  const units = Atomics.load(c, K.UNITS);
  for (;;) {
    if (v >> B16 !== gen) return; // a newer job: its parameters are not the ones read above
    const idx = Number(v & MASK);
    if (idx >= total) return;
    const w = Atomics.compareExchange(c64, K.CLAIM64, v, v + BigInt(1));
    if (w !== v) {
      v = w;
      continue;
    }
    const u0 = idx * chunk;
    const u1 = Math.min(units, u0 + chunk);
    // A gated job: wait until the caller has copied this chunk's inputs in. The caller itself never
    // waits here: it takes chunks only after its copies are done (and READY is then at its maximum).
    for (let r = Atomics.load(c, K.READY); r < u1; r = Atomics.load(c, K.READY)) Atomics.wait(c, K.READY, r, 20);
    try {
      fn(p, u0, u1, tid);
    } catch {
      Atomics.store(c, K.ERROR, 1 + tid); // reported by the caller; never leave a chunk unfinished
    }
    Atomics.add(c, K.COUNT + tid, 1);
    if (Atomics.add(c, K.DONE, 1) + 1 === total) Atomics.notify(c, K.DONE);
    v = Atomics.load(c64, K.CLAIM64);
  }
}

/** A worker's life: instantiate the kernels on the shared memory, then wait for jobs and run them. */
function workerMain(
  d: { module: WebAssembly.Module; memory: WebAssembly.Memory; tid: number; ctl: number; names: string[]; K: CtrlIndex },
  run: typeof work,
): void {
  const ex = new WebAssembly.Instance(d.module, { env: { memory: d.memory } }).exports as Record<string, JobFunction>;
  const fns = d.names.map((n) => ex[n]);
  const K = d.K;
  const c = new Int32Array(d.memory.buffer, d.ctl, 96);
  const c64 = new BigInt64Array(d.memory.buffer, d.ctl, 48);
  const B16 = BigInt(16);
  const MASK = BigInt(0xffff);
  Atomics.store(c, K.ALIVE + d.tid, 1);
  let seen = Atomics.load(c, K.GEN);
  for (;;) {
    Atomics.wait(c, K.GEN, seen);
    seen = Atomics.load(c, K.GEN);
    run(c, c64, fns, d.tid, K, B16, MASK);
  }
}

/**
 * The worker script. The two functions are embedded as expressions and joined by arguments, not
 * by name: minifiers rename functions (and may turn `function work` into `const a = function`),
 * which broke a worker that called `workerMain` by name.
 */
const WORKER_SOURCE = `'use strict';
var strideWork = (${work.toString()});
var strideMain = (${workerMain.toString()});
if (typeof require === 'function' && typeof self === 'undefined') {
  strideMain(require('node:worker_threads').workerData, strideWork);
} else {
  self.onmessage = function (e) { strideMain(e.data, strideWork); };
}
`;

/** The worker script's text (tests check that it does not depend on the names around it). */
export function workerSource(): string {
  return WORKER_SOURCE;
}

interface WorkerHandle {
  terminate(): void;
}
/** Starts one worker; `onError` is called (at most once) if it fails to start or dies. */
type Spawner = (data: object, onError: (message: string) => void) => WorkerHandle;

let spawner: Spawner | null = null;
let spawnerPromise: Promise<Spawner | null> | null = null;
/** Why there is no spawner here (null while unknown or when there is one). */
let noSpawnerReason: string | null = null;

let nodeCores: number | null = null;

/**
 * The cores this process may use: os.availableParallelism() in Node (known once the spawner is
 * found), navigator.hardwareConcurrency in browsers, else 2.
 */
export function hostCores(): number {
  spawnerNow(); // in Node, counts the cores
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  return Math.max(1, nodeCores ?? nav?.hardwareConcurrency ?? 2);
}

/** Why workers cannot be started here at all (no Worker API), once `loadSpawner` has resolved. */
export function spawnerUnavailableReason(): string | null {
  return noSpawnerReason;
}

/** The spawner, once `loadSpawner` has resolved (null before, or where there is none). */
export function loadedSpawner(): Spawner | null {
  return spawnerNow();
}

/** An error (or a worker's error event) as `Name: message`. */
export function errorText(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  const m = (e as { message?: unknown } | null)?.message;
  return typeof m === 'string' && m !== '' ? m : String(e);
}

type WebWorker = { postMessage(d: unknown): void; terminate(): void; addEventListener(t: string, f: (e: { message?: string }) => void): void };
/** The parts of Node's worker_threads and os used here (declared, so no type import names them). */
interface NodeWorkerThreads {
  Worker: new (src: string, o: { eval: boolean; workerData: unknown; execArgv: string[] }) => {
    on(ev: 'error', f: (e: unknown) => void): void;
    unref(): void;
    terminate(): Promise<number>;
  };
}
interface NodeOs {
  availableParallelism?: () => number;
  cpus(): unknown[];
}
type Globals = {
  Worker?: new (url: string) => WebWorker;
  process?: { versions?: { node?: string }; getBuiltinModule?: (id: string) => unknown };
};

function nodeSpawner(wt: NodeWorkerThreads, os: NodeOs): Spawner {
  // Node 20 has no navigator.hardwareConcurrency: count the cores here.
  nodeCores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return (data, onError) => {
    const w = new wt.Worker(WORKER_SOURCE, { eval: true, workerData: data, execArgv: [] });
    w.on('error', (e) => onError(errorText(e)));
    w.unref();
    return { terminate: () => void w.terminate() };
  };
}

function webSpawner(W: new (url: string) => WebWorker): Spawner | null {
  let url: string;
  try {
    url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
  } catch (e) {
    noSpawnerReason = `Blob URLs for the worker script are unavailable (${errorText(e)})`;
    return null;
  }
  return (data, onError) => {
    // A Content-Security-Policy without `worker-src blob:` makes the constructor throw (Chromium)
    // or the worker fail with an error event that has no message: both end up in onError.
    const w = new W(url);
    w.addEventListener('error', (e) => onError(e.message !== undefined && e.message !== '' ? e.message : 'the worker script failed to load (blocked?)'));
    w.postMessage(data);
    return w;
  };
}

/**
 * The spawner, found synchronously where that is possible: Web Workers (browsers, Deno), or Node's
 * worker_threads through process.getBuiltinModule (Node >= 20.16). Null if it needs `loadSpawner`.
 */
export function spawnerNow(): Spawner | null {
  if (spawner !== null || spawnerPromise !== null) return spawner;
  const g = globalThis as unknown as Globals;
  if (g.process?.versions?.node !== undefined) {
    const get = g.process.getBuiltinModule;
    if (typeof get !== 'function') return null;
    spawner = nodeSpawner(get('node:worker_threads') as NodeWorkerThreads, get('node:os') as NodeOs);
  } else if (typeof g.Worker === 'function' && typeof Blob === 'function' && typeof URL === 'function') {
    spawner = webSpawner(g.Worker);
  } else {
    noSpawnerReason = 'this engine has no Worker API';
  }
  spawnerPromise = Promise.resolve(spawner);
  return spawner;
}

/** Finds how to start a worker here (asynchronously where it must: Node before 20.16). */
export function loadSpawner(): Promise<Spawner | null> {
  if (spawnerNow() !== null || spawnerPromise !== null) return spawnerPromise ?? Promise.resolve(spawner);
  spawnerPromise = (async (): Promise<Spawner | null> => {
    const g = globalThis as unknown as Globals;
    if (g.process?.versions?.node !== undefined) {
      // Node without getBuiltinModule: a variable specifier keeps bundlers out.
      const spec = 'node:worker_threads';
      const osSpec = 'node:os';
      spawner = nodeSpawner((await import(/* @vite-ignore */ /* webpackIgnore: true */ spec)) as NodeWorkerThreads, (await import(/* @vite-ignore */ /* webpackIgnore: true */ osSpec)) as NodeOs);
    }
    return spawner;
  })();
  return spawnerPromise;
}

/** The state of one worker. */
interface Slot {
  handle: WorkerHandle | null;
  /** Why it failed to start or died; null while it is starting or running. */
  failed: string | null;
}

/** A pool of workers sharing `memory` with the caller. Thread 0 is the caller. */
export class ThreadPool {
  private readonly ctl: Int32Array;
  private readonly ctl64: BigInt64Array;
  private readonly slots: Slot[] = [];
  /** Job counter (48 bits are used in the claim word: it never wraps in practice). */
  private gen = 0;
  /** Whether this thread may block in Atomics.wait (not a browser's main thread). */
  private readonly canBlock: boolean;
  /** Threads asked for, the caller included (after MAX_THREADS). */
  private wanted = 1;
  /** Set after a stall: the pool then stays single-threaded. */
  private broken = false;
  /** How long the caller waits without any chunk finishing before giving up on the workers. */
  stallMs = 60000;
  /** Called once per worker that fails to start or dies, with the reason. */
  onWorkerError: ((tid: number, message: string) => void) | null = null;

  constructor(
    private readonly memory: WebAssembly.Memory,
    private readonly module: WebAssembly.Module,
  ) {
    this.ctl = new Int32Array(memory.buffer, CTRL_BYTES, CTRL_INTS);
    this.ctl64 = new BigInt64Array(memory.buffer, CTRL_BYTES, CTRL_INTS / 2);
    this.ctl.fill(0);
    Atomics.store(this.ctl, CTRL.LIMIT, 1);
    // Claim word of "job 0": closed.
    Atomics.store(this.ctl64, CTRL.CLAIM64, BigInt(MAX_CHUNKS));
    const g = globalThis as { document?: unknown };
    this.canBlock = g.document === undefined;
  }

  /**
   * Threads that take part in each job, the caller included: those asked for, less workers that
   * failed. A worker that is still starting counts (it joins jobs once it runs; until then the
   * other threads do its share).
   */
  get size(): number {
    if (this.broken) return 1;
    let n = 1;
    while (n < this.wanted && n - 1 < this.slots.length && this.slots[n - 1].failed === null) n++;
    return n;
  }

  /** Threads running now (the caller and every started worker within `size`). */
  get working(): number {
    const size = this.size;
    let n = 1;
    for (let t = 1; t < size; t++) if (Atomics.load(this.ctl, CTRL.ALIVE + t) === 1) n++;
    return n;
  }

  /** Whether the stall watchdog has made this pool single-threaded. */
  get isBroken(): boolean {
    return this.broken;
  }

  /** The first failure among the workers within what was asked for, if any. */
  failure(): string | null {
    for (let i = 0; i + 1 < this.wanted && i < this.slots.length; i++) if (this.slots[i].failed !== null) return this.slots[i].failed;
    return null;
  }

  /**
   * Sets the number of threads (1 = the caller only); starts workers if a spawner is loaded.
   * Returns the new size. Surplus workers are not terminated but sit jobs out (tid >= LIMIT, read
   * per job): termination is asynchronous, and a worker killed in the middle of a chunk would leave
   * the caller waiting forever.
   */
  resize(n: number): number {
    this.wanted = Math.max(1, Math.min(MAX_THREADS, Math.floor(n)));
    const sp = loadedSpawner();
    if (sp !== null && !this.broken) {
      while (this.slots.length + 1 < this.wanted) {
        const tid = this.slots.length + 1;
        const slot: Slot = { handle: null, failed: null };
        this.slots.push(slot);
        const fail = (message: string): void => {
          if (slot.failed !== null) return;
          slot.failed = message;
          this.onWorkerError?.(tid, message);
        };
        try {
          slot.handle = sp({ module: this.module, memory: this.memory, tid, ctl: CTRL_BYTES, names: [...JOB_FUNCTIONS], K: CTRL }, fail);
        } catch (e) {
          fail(errorText(e));
        }
        // A worker that failed to start is not retried: the same cause would fail it again.
        if (slot.failed !== null) break;
      }
    }
    return this.size;
  }

  /** Resolves once every worker within `size` is running or has failed (or after `timeoutMs`). */
  async whenAlive(timeoutMs = 10000): Promise<boolean> {
    const t0 = Date.now();
    for (;;) {
      const size = this.size;
      let settled = true;
      for (let t = 1; t < size; t++) if (Atomics.load(this.ctl, CTRL.ALIVE + t) !== 1) settled = false;
      if (settled) return this.size === this.wanted || this.broken;
      if (Date.now() - t0 > timeoutMs) return false;
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  /** Chunks each thread has run since the pool started (index = tid), for every thread within `size`. */
  chunkCounts(): number[] {
    return Array.from({ length: this.size }, (_, t) => Atomics.load(this.ctl, CTRL.COUNT + t));
  }

  /**
   * Runs fns[fnId](p, u0, u1, tid) over [0, units) in chunks, on `threads` threads (tid 0 = this
   * one, 1..threads-1 = workers); returns when all are done. `threads` must be the count the job's
   * scratch memory was sized for: only threads with tid < threads can join this job, whatever
   * resize() did before or does later (the limit is part of the job, validated with its claim).
   *
   * `during` runs on the calling thread once the workers have been woken, before the caller takes
   * chunks itself (e.g. to allocate the output array while the workers compute). If it throws, the
   * job is still waited for, and its error is raised afterwards: a caller that left early would let
   * chunks of this job count as done in the next one.
   *
   * `gated`: a worker takes a chunk [u0, u1) only once `ready(n)` has been called with n >= u1, which
   * `during` does as it copies the job's inputs in (so the workers start on the first units while
   * the caller copies the rest). After `during`, all units count as ready, whether it called
   * `ready` or threw.
   */
  run(fns: JobFunction[], fnId: number, p: number, units: number, chunk: number, threads: number, during?: () => void, gated = false): void {
    const c = this.ctl;
    const c64 = this.ctl64;
    const total = Math.ceil(units / chunk);
    if (total > MAX_CHUNKS) throw new Error(`ThreadPool.run: too many chunks (${total}; at most ${MAX_CHUNKS})`);
    const limit = Math.max(1, Math.min(threads, MAX_THREADS));
    this.gen++;
    const g = BigInt(this.gen) << BigInt(16);
    // Close the claim word first: a worker that read it during the previous job and paused must not
    // see the new job's parameters while its compare-and-swap against the old word could still win.
    Atomics.store(c64, CTRL.CLAIM64, g | BigInt(MAX_CHUNKS));
    Atomics.store(c, CTRL.FN, fnId);
    Atomics.store(c, CTRL.PARAM, p);
    Atomics.store(c, CTRL.TOTAL, total);
    Atomics.store(c, CTRL.CHUNK, chunk);
    Atomics.store(c, CTRL.UNITS, units);
    Atomics.store(c, CTRL.LIMIT, limit);
    Atomics.store(c, CTRL.DONE, 0);
    Atomics.store(c, CTRL.READY, gated && during !== undefined ? 0 : READY_ALL);
    Atomics.store(c64, CTRL.CLAIM64, g);
    Atomics.store(c, CTRL.GEN, this.gen & 0x7fffffff);
    if (limit > 1) Atomics.notify(c, CTRL.GEN);
    let duringError: { e: unknown } | null = null;
    if (during !== undefined) {
      try {
        during();
      } catch (e) {
        duringError = { e };
      } finally {
        if (gated) this.ready(READY_ALL);
      }
    }
    work(c, c64, fns, 0, CTRL, BigInt(16), BigInt(0xffff));
    let last = -1;
    let since = Date.now();
    for (;;) {
      const d = Atomics.load(c, CTRL.DONE);
      if (d >= total) break;
      if (d !== last) {
        last = d;
        since = Date.now();
      } else if (Date.now() - since > this.stallMs) {
        // A thread claimed a chunk and never finished it (killed?). Stop using workers: a late one
        // could still count a chunk of this job as done in a later one.
        this.broken = true;
        Atomics.store(c, CTRL.LIMIT, 1);
        throw new Error(`wasm kernels: worker threads stopped responding (${d} of ${total} chunks of '${JOB_FUNCTIONS[fnId]}' done after ${this.stallMs} ms); continuing single-threaded`);
      }
      if (this.canBlock) Atomics.wait(c, CTRL.DONE, d, 50);
    }
    const failed = Atomics.exchange(c, CTRL.ERROR, 0);
    if (failed !== 0) throw new Error(`wasm kernels: a chunk of '${JOB_FUNCTIONS[fnId]}' failed on thread ${failed - 1}`);
    if (duringError !== null) throw duringError.e;
  }

  /** In a gated job's `during`: units [0, n) have their inputs in place (workers waiting for them go on). */
  ready(n: number): void {
    Atomics.store(this.ctl, CTRL.READY, Math.min(n, READY_ALL));
    Atomics.notify(this.ctl, CTRL.READY);
  }

  /** Stops every worker (only when the pool is dropped: its memory and control block are never reused). */
  terminate(): void {
    Atomics.store(this.ctl, CTRL.LIMIT, 1);
    for (const s of this.slots) s.handle?.terminate();
    this.slots.length = 0;
    this.wanted = 1;
  }
}

/** The chunk-claiming loop every thread runs (exported for the tests of its invariants). */
export const claimChunks = work;
