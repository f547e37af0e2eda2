/**
 * Worker threads over one shared WebAssembly.Memory. The public ops stay synchronous: the caller
 * publishes a job (a kernel, its parameter block, and a number of chunks) in a control block in
 * the shared memory, does chunks itself, and waits on Atomics until every chunk is done.
 *
 * Chunks are claimed with compare-and-swap on one word that holds (generation << 16 | next chunk),
 * so a worker that wakes late, or never starts, cannot take a chunk of a later job: the caller
 * simply does more of the work. The same worker script runs in Node (`worker_threads`, evaluated
 * from a string) and in browsers (a Blob URL), so there is no file path to configure.
 */

/** Byte offset of the control block (inside the first 64 KiB, below the arena). */
export const CTRL_BYTES = 1024;
/** Kernels a job may run, by index; the worker script builds the same table. */
export const JOB_FUNCTIONS = ['convGather', 'convFilterGrad', 'convSmallC', 'convDxSmallC', 'maxPool', 'avgPool'] as const;
export type JobFunction = (p: number, u0: number, u1: number, tid: number) => void;
/** Most threads (the caller included). */
export const MAX_THREADS = 32;

// Control block, Int32 indices.
const GEN = 0; // job generation (waited on by workers)
const CLAIM = 1; // generation << 16 | next chunk
const FN = 2;
const PARAM = 3;
const TOTAL = 4; // chunks
const CHUNK = 5; // units per chunk
const UNITS = 6;
const DONE = 7; // chunks finished
const LIMIT = 8; // threads allowed: a worker with tid >= LIMIT sits the job out
const ERROR = 9; // 1 + tid of a thread whose chunk threw (the chunk still counts as done)
const COUNT = 16; // COUNT + tid: chunks each thread has run (statistics, tests)
const ALIVE = 48; // ALIVE + tid: 1 once worker tid runs
export const CTRL_INTS = 96;

// `work` and `workerMain` also run inside workers, as source text (Function.prototype.toString),
// so they use no module-level names: control-block indices are literals (see the table above).

/** Claims and runs chunks of the current job until none are left (the caller and every worker). */
function work(c: Int32Array, fns: JobFunction[], tid: number): void {
  let v = Atomics.load(c, 1); // CLAIM
  const fn = fns[Atomics.load(c, 2)]; // FN
  const p = Atomics.load(c, 3); // PARAM
  const total = Atomics.load(c, 4); // TOTAL
  const chunk = Atomics.load(c, 5); // CHUNK
  const units = Atomics.load(c, 6); // UNITS
  const gen = v >>> 16;
  for (;;) {
    // A reloaded claim word may belong to a newer job, whose parameters are not the ones read above.
    if (v >>> 16 !== gen) return;
    const idx = v & 0xffff;
    if (idx >= total) return;
    const w = Atomics.compareExchange(c, 1, v, v + 1);
    if (w !== v) {
      if (w >>> 16 !== v >>> 16) return; // a newer job: not ours
      v = w;
      continue;
    }
    const u0 = idx * chunk;
    try {
      fn(p, u0, Math.min(units, u0 + chunk), tid);
    } catch {
      Atomics.store(c, 9, 1 + tid); // ERROR: reported by the caller; never leave a chunk unfinished
    }
    Atomics.add(c, 16 + tid, 1); // COUNT
    if (Atomics.add(c, 7, 1) + 1 === total) Atomics.notify(c, 7); // DONE
    v = Atomics.load(c, 1);
  }
}

function workerMain(d: { module: WebAssembly.Module; memory: WebAssembly.Memory; tid: number; ctl: number; names: string[] }): void {
  const ex = new WebAssembly.Instance(d.module, { env: { memory: d.memory } }).exports as Record<string, JobFunction>;
  const fns = d.names.map((n) => ex[n]);
  const c = new Int32Array(d.memory.buffer, d.ctl, 96);
  Atomics.store(c, 48 + d.tid, 1); // ALIVE
  let seen = Atomics.load(c, 0); // GEN
  for (;;) {
    Atomics.wait(c, 0, seen);
    seen = Atomics.load(c, 0);
    if (d.tid < Atomics.load(c, 8)) work(c, fns, d.tid); // LIMIT
  }
}

/** The worker script: the two functions above plus a start-up that works in Node and browsers. */
const WORKER_SOURCE = `'use strict';
${work.toString()}
${workerMain.toString()}
if (typeof require === 'function' && typeof self === 'undefined') {
  workerMain(require('node:worker_threads').workerData);
} else {
  self.onmessage = function (e) { workerMain(e.data); };
}
`;

interface WorkerHandle {
  terminate(): void;
}
type Spawner = (data: object) => WorkerHandle;

let spawner: Spawner | null = null;
let spawnerPromise: Promise<Spawner | null> | null = null;

/** Finds how to start a worker here: Web Workers (browsers, Deno) or Node's worker_threads. */
let nodeCores: number | null = null;

/**
 * The cores this process may use: os.availableParallelism() in Node (known once `loadSpawner` has
 * resolved), navigator.hardwareConcurrency in browsers, else 2.
 */
export function hostCores(): number {
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  return Math.max(1, nodeCores ?? nav?.hardwareConcurrency ?? 2);
}

export function loadSpawner(): Promise<Spawner | null> {
  if (spawnerPromise !== null) return spawnerPromise;
  spawnerPromise = (async (): Promise<Spawner | null> => {
    const g = globalThis as unknown as { Worker?: new (url: string) => { postMessage(d: unknown): void; terminate(): void }; process?: { versions?: { node?: string } } };
    if (g.process?.versions?.node !== undefined) {
      // Node: worker_threads, loaded only here and only in Node (a variable specifier keeps bundlers out).
      const spec = 'node:worker_threads';
      const wt = (await import(/* @vite-ignore */ spec)) as typeof import('node:worker_threads');
      // Node 20 has no navigator.hardwareConcurrency: count the cores here.
      const osSpec = 'node:os';
      const os = (await import(/* @vite-ignore */ osSpec)) as typeof import('node:os');
      nodeCores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
      spawner = (data) => {
        const w = new wt.Worker(WORKER_SOURCE, { eval: true, workerData: data, execArgv: [] });
        w.unref();
        return { terminate: () => void w.terminate() };
      };
    } else if (typeof g.Worker === 'function' && typeof Blob === 'function' && typeof URL === 'function') {
      const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
      const W = g.Worker;
      spawner = (data) => {
        const w = new W(url);
        w.postMessage(data);
        return w;
      };
    }
    return spawner;
  })();
  return spawnerPromise;
}

/** A pool of workers sharing `memory` with the caller. Thread 0 is the caller. */
export class ThreadPool {
  private readonly ctl: Int32Array;
  private readonly workers: WorkerHandle[] = [];
  private gen = 0;
  /** Whether this thread may block in Atomics.wait (not a browser's main thread). */
  private readonly canBlock: boolean;
  private threads = 1;
  /** Set after a stall: the pool then stays single-threaded. */
  private broken = false;
  /** How long the caller waits without any chunk finishing before giving up on the workers. */
  stallMs = 60000;

  constructor(
    private readonly memory: WebAssembly.Memory,
    private readonly module: WebAssembly.Module,
  ) {
    this.ctl = new Int32Array(memory.buffer, CTRL_BYTES, CTRL_INTS);
    this.ctl.fill(0);
    Atomics.store(this.ctl, LIMIT, 1);
    const g = globalThis as { document?: unknown };
    this.canBlock = g.document === undefined;
  }

  /** Threads that take part in each job, the caller included. */
  get size(): number {
    return this.threads;
  }

  /**
   * Sets the number of threads (1 = the caller only); starts workers if a spawner is loaded.
   * Returns the new size. Surplus workers are not terminated but sit jobs out (tid >= LIMIT):
   * termination is asynchronous, and a worker killed in the middle of a chunk would leave the
   * caller waiting forever.
   */
  resize(n: number): number {
    const want = this.broken ? 1 : Math.max(1, Math.min(MAX_THREADS, Math.floor(n)));
    if (spawner !== null) {
      while (this.workers.length + 1 < want) {
        const tid = this.workers.length + 1;
        this.workers.push(spawner({ module: this.module, memory: this.memory, tid, ctl: CTRL_BYTES, names: [...JOB_FUNCTIONS] }));
      }
    }
    this.threads = Math.min(want, this.workers.length + 1);
    Atomics.store(this.ctl, LIMIT, this.threads);
    return this.threads;
  }

  /** Resolves once every worker is running (or after `timeoutMs`). */
  async whenAlive(timeoutMs = 10000): Promise<boolean> {
    const t0 = Date.now();
    for (;;) {
      let alive = true;
      for (let t = 1; t < this.threads; t++) if (Atomics.load(this.ctl, ALIVE + t) !== 1) alive = false;
      if (alive) return true;
      if (Date.now() - t0 > timeoutMs) return false;
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  /** Chunks each thread has run since the pool started (index = tid). */
  chunkCounts(): number[] {
    return Array.from({ length: this.threads }, (_, t) => Atomics.load(this.ctl, COUNT + t));
  }

  /**
   * Runs fns[fnId](p, u0, u1, tid) over [0, units) in chunks, on every thread; returns when all are done.
   * `during` runs on the calling thread once the workers have been woken, before the caller takes
   * chunks itself (e.g. to allocate the output array while the workers compute). If it throws, the
   * job is still waited for, and its error is raised afterwards: a caller that left early would let
   * chunks of this job count as done in the next one.
   */
  run(fns: JobFunction[], fnId: number, p: number, units: number, chunk: number, during?: () => void): void {
    const c = this.ctl;
    const total = Math.ceil(units / chunk);
    if (total > 0xffff) throw new Error(`ThreadPool.run: too many chunks (${total})`);
    this.gen = (this.gen + 1) & 0x7fff;
    // Close the claim word first: a worker that read CLAIM during the previous job and paused must not
    // see the new job's parameters while its compare-and-swap against the old CLAIM could still win.
    Atomics.store(c, CLAIM, (this.gen << 16) | 0xffff);
    Atomics.store(c, FN, fnId);
    Atomics.store(c, PARAM, p);
    Atomics.store(c, TOTAL, total);
    Atomics.store(c, CHUNK, chunk);
    Atomics.store(c, UNITS, units);
    Atomics.store(c, DONE, 0);
    Atomics.store(c, CLAIM, this.gen << 16);
    Atomics.store(c, GEN, this.gen);
    if (this.threads > 1) Atomics.notify(c, GEN);
    let duringError: { e: unknown } | null = null;
    if (during !== undefined) {
      try {
        during();
      } catch (e) {
        duringError = { e };
      }
    }
    work(c, fns, 0);
    let last = -1;
    let since = Date.now();
    for (;;) {
      const d = Atomics.load(c, DONE);
      if (d >= total) break;
      if (d !== last) {
        last = d;
        since = Date.now();
      } else if (Date.now() - since > this.stallMs) {
        // A thread claimed a chunk and never finished it (killed?). Stop using workers: a late one
        // could still count a chunk of this job as done in a later one.
        this.threads = 1;
        this.broken = true;
        Atomics.store(c, LIMIT, 1);
        throw new Error(`wasm kernels: worker threads stopped responding (${d} of ${total} chunks of '${JOB_FUNCTIONS[fnId]}' done after ${this.stallMs} ms); continuing single-threaded`);
      }
      if (this.canBlock) Atomics.wait(c, DONE, d, 50);
    }
    const failed = Atomics.exchange(c, ERROR, 0);
    if (failed !== 0) throw new Error(`wasm kernels: a chunk of '${JOB_FUNCTIONS[fnId]}' failed on thread ${failed - 1}`);
    if (duringError !== null) throw duringError.e;
  }

  /** Stops every worker (only when the pool is dropped: its memory and control block are never reused). */
  terminate(): void {
    Atomics.store(this.ctl, LIMIT, 1);
    for (const w of this.workers) w.terminate();
    this.workers.length = 0;
    this.threads = 1;
  }
}
