/** The JSON a test page (page.ts) hands back to browser.test.ts. */

/**
 * 'threads': cross-origin isolated; 'worker': the same, with the library in a dedicated Web Worker;
 * 'plain': no isolation (no SharedArrayBuffer); 'nosimd': SIMD hidden.
 */
export type PageMode = 'threads' | 'worker' | 'plain' | 'nosimd';

export interface OpPart {
  part: string;
  shape: number[];
  refShape: number[];
  /** max |backend - reference| (Infinity for a NaN or a length mismatch). */
  maxAbsDiff: number;
  maxAbsRef: number;
}

export interface OpReport {
  name: string;
  parts: OpPart[];
  /** Milliseconds on the page's backend, and on the reference. */
  ms: number;
  refMs: number;
}

export interface TrainReport {
  backend: string;
  losses: number[];
  ms: number;
}

export interface PageReport {
  mode: PageMode;
  /** Whether the library ran in a dedicated worker rather than the page's main thread. */
  inWorker: boolean;
  crossOriginIsolated: boolean;
  sharedArrayBuffer: boolean;
  /** Whether Atomics.wait works on the page's main thread (null: no SharedArrayBuffer to try it on). */
  mainThreadCanWait: boolean | null;
  hardwareConcurrency: number;
  backendAtImport: string;
  backendAfterReady: string;
  backends: string[];
  variant: string | null;
  hasPool: boolean;
  /** What setThreads(2) returned (called before ready()). */
  setThreads2: number | null;
  threads: number;
  threadsAfterSetThreads1: number | null;
  /** Chunks each thread had run (index = thread id, 0 = the page's main thread), around the op checks. */
  chunkCountsBefore: number[] | null;
  chunkCountsAfter: number[] | null;
  ops: OpReport[];
  /** Every op output on the page's backend, flattened, keyed 'op name/part'. */
  outputs: Record<string, number[]>;
  /** The same, computed again after setThreads(1) (thread pages only). */
  outputsSingleThread?: Record<string, number[]>;
  training: TrainReport[];
  readyMs: number;
  /** ms per conv forward + backward on [4, 32, 32, 16] * [3, 3, 16, 32], with the page's threads and with one. */
  bigConvMs: number | null;
  bigConvMs1: number | null;
}
