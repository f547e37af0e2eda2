/**
 * The in-page half of browser.test.ts: bundled with esbuild (platform 'browser') next to
 * src/index.ts and loaded by a page as an ES module. It runs the library in the page and publishes
 * a plain-JSON report on `globalThis.__strideReport` (a promise); the Node side asserts on it.
 *
 * Nothing here is compared with a hard-coded number: every wasm result is checked against the
 * reference backend in the same page, and across pages (threads vs. no shared memory) by Node.
 */
import * as S from '../../src/index.js';
// Not public API: the runtime's build variant and the thread pool's per-thread chunk counters.
import { wasmRuntime } from '../../src/kernels/wasm/index.js';
import type { OpReport, PageMode, PageReport, TrainReport } from './report.js';

const mode = (new URLSearchParams(location.search).get('mode') ?? 'plain') as PageMode;
// Captured before anything else runs: importing the library selects the backend synchronously.
const backendAtImport = S.getBackend();

function maxAbs(a: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d; // NaN anywhere counts as an infinite error
  }
  return m;
}

/** Runs `fn` on the given backend; returns every output tensor by name, and the time taken. */
function onBackend(name: string, fn: () => Record<string, S.Tensor>): { out: Record<string, S.Tensor>; ms: number } {
  const prev = S.getBackend();
  S.setBackend(name);
  try {
    const t0 = performance.now();
    const out = fn();
    return { out, ms: performance.now() - t0 };
  } finally {
    S.setBackend(prev);
  }
}

/** The ops under test. Each returns named outputs; inputs are seeded, so every page sees the same. */
function opCases(): { name: string; run: () => Record<string, S.Tensor> }[] {
  const r = (shape: number[], seed: number): S.Tensor => S.Tensor.randn(shape, { seed });
  // Large enough that a conv splits into many chunks, so two threads share the work.
  const xa = r([2, 12, 12, 8], 11);
  const wa = r([3, 3, 8, 16], 12);
  const ba = r([16], 13);
  const dya = r([2, 12, 12, 16], 14);
  // Few input channels, stride 2, dilation 2, asymmetric explicit padding.
  const xb = r([3, 11, 9, 3], 21);
  const wb = r([3, 3, 3, 5], 22);
  const optsB: S.ConvWindowOptions = { stride: 2, dilation: 2, padding: [1, 2, 2, 0] };
  const infoB = S.computeConv2DInfo('page', xb.shape, wb.shape, optsB);
  const dyb = r([3, infoB.outH, infoB.outW, 5], 23);
  const xp = r([2, 9, 10, 6], 31);
  const poolA: S.PoolWindowOptions = { kernelSize: 2 };
  const poolB: S.PoolWindowOptions = { kernelSize: 3, stride: 2, padding: 'same' };
  const xd = r([16, 200], 41);
  const wd = r([200, 10], 42);
  const bd = r([10], 43);
  const dyd = r([16, 10], 44);
  return [
    { name: 'conv2d same 3x3', run: () => ({ y: S.conv2d(xa, wa, ba, { padding: 'same' }) }) },
    { name: 'conv2d stride2 dil2 asym', run: () => ({ y: S.conv2d(xb, wb, null, optsB) }) },
    { name: 'conv2dBackward same 3x3', run: () => S.conv2dBackward(dya, xa, wa, { padding: 'same' }) },
    { name: 'conv2dBackward stride2 dil2 asym', run: () => S.conv2dBackward(dyb, xb, wb, optsB) },
    { name: 'maxPool2d 2x2', run: () => ({ y: S.maxPool2d(xp, poolA) }) },
    {
      name: 'maxPool2d 3x3 s2 same + backward',
      run: () => {
        const y = S.maxPool2d(xp, poolB);
        return { y, dx: S.maxPool2dBackward(S.Tensor.randn([...y.shape], { seed: 32 }), xp, poolB) };
      },
    },
    { name: 'dense', run: () => ({ y: S.dense(xd, wd, bd) }) },
    { name: 'denseBackward', run: () => S.denseBackward(dyd, xd, wd) },
  ];
}

function runOps(backend: string, outputs: Record<string, number[]>): OpReport[] {
  return opCases().map(({ name, run }) => {
    const ref = onBackend('reference', run);
    const got = onBackend(backend, run);
    const parts = Object.keys(ref.out).map((k) => {
      const a = got.out[k];
      const b = ref.out[k];
      outputs[`${name}/${k}`] = Array.from(a.data);
      return { part: k, shape: [...a.shape], refShape: [...b.shape], maxAbsDiff: maxAbsDiff(a.data, b.data), maxAbsRef: maxAbs(b.data) };
    });
    return { name, parts, ms: got.ms, refMs: ref.ms };
  });
}

/** A tiny CNN trained a few steps; weights start from the same seed on both backends. */
function train(backend: string): TrainReport {
  const n = 16;
  const x = S.Tensor.zeros([n, 8, 8, 1]);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % 2;
    const at = (i * 3) % 8;
    for (let k = 0; k < 8; k++) x.data[i * 64 + (labels[i] === 0 ? k * 8 + at : at * 8 + k)] = 1;
  }
  const prev = S.getBackend();
  S.setBackend(backend);
  try {
    const model = new S.Sequential(
      [
        new S.Conv2D({ outChannels: 4, kernelSize: 3, padding: 'same' }),
        new S.ReLU(),
        new S.MaxPool2D({ kernelSize: 2 }),
        new S.Flatten(),
        new S.Dense({ units: 2 }),
      ],
      { inputShape: [8, 8, 1], seed: 1 },
    );
    const opt = new S.SGD({ lr: 0.1, momentum: 0.9 });
    const losses: number[] = [];
    const t0 = performance.now();
    for (let step = 0; step < 6; step++) losses.push(model.trainStep(x, labels, opt).loss);
    return { backend, losses, ms: performance.now() - t0 };
  } finally {
    S.setBackend(prev);
  }
}

/** Whether this thread may block in Atomics.wait (a browser's main thread may not; a worker may). */
function mainThreadCanWait(): boolean | null {
  if (typeof SharedArrayBuffer !== 'function') return null;
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 0);
    return true;
  } catch {
    return false;
  }
}

/** Milliseconds per call of a conv forward + backward big enough to split into many chunks. */
function timeBigConv(reps: number): number {
  const x = S.Tensor.randn([4, 32, 32, 16], { seed: 51 });
  const w = S.Tensor.randn([3, 3, 16, 32], { seed: 52 });
  const dy = S.Tensor.randn([4, 32, 32, 32], { seed: 53 });
  S.conv2d(x, w, null, { padding: 'same' });
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) {
    S.conv2d(x, w, null, { padding: 'same' });
    S.conv2dBackward(dy, x, w, { padding: 'same' });
  }
  return (performance.now() - t0) / reps;
}

async function main(): Promise<PageReport> {
  const rep: PageReport = {
    mode,
    inWorker: typeof document === 'undefined',
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    sharedArrayBuffer: typeof SharedArrayBuffer === 'function',
    mainThreadCanWait: mainThreadCanWait(),
    hardwareConcurrency: navigator.hardwareConcurrency,
    backendAtImport,
    backendAfterReady: '',
    backends: [],
    variant: wasmRuntime()?.variant ?? null,
    hasPool: (wasmRuntime()?.pool ?? null) !== null,
    setThreads2: null,
    threads: 0,
    threadsAfterSetThreads1: null,
    chunkCountsBefore: null,
    chunkCountsAfter: null,
    ops: [],
    outputs: {},
    training: [],
    readyMs: 0,
    bigConvMs: null,
    bigConvMs1: null,
  };
  // Two threads whatever the machine's core count (setThreads before ready(): ready() starts them
  // and waits until they run).
  rep.setThreads2 = S.setThreads(2);
  const t0 = performance.now();
  rep.backendAfterReady = (await S.ready()).backend;
  rep.readyMs = performance.now() - t0;
  rep.backends = S.listBackends();
  rep.threads = S.getThreads();
  rep.variant = wasmRuntime()?.variant ?? null;
  rep.hasPool = (wasmRuntime()?.pool ?? null) !== null;
  const pool = wasmRuntime()?.pool ?? null;
  rep.chunkCountsBefore = pool?.chunkCounts() ?? null;
  rep.ops = runOps(rep.backendAfterReady, rep.outputs);
  rep.training = [train(rep.backendAfterReady), train('reference')];
  rep.chunkCountsAfter = pool?.chunkCounts() ?? null;
  if (rep.backendAfterReady === 'wasm') {
    rep.bigConvMs = timeBigConv(3);
    if (rep.threads > 1) {
      rep.threadsAfterSetThreads1 = S.setThreads(1);
      rep.bigConvMs1 = timeBigConv(3);
      // Single-threaded on the shared build must give the same results as with threads.
      const single: Record<string, number[]> = {};
      runOps('wasm', single);
      rep.outputsSingleThread = single;
    }
  }
  return rep;
}

const report = main().catch((e: unknown) => ({
  error: e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : String(e),
}));
if (typeof document === 'undefined') {
  // In a dedicated worker (mode 'worker'): the page that started it publishes what we post.
  void report.then((r) => postMessage(r));
} else {
  (globalThis as { __strideReport?: Promise<PageReport | { error: string }> }).__strideReport = report;
}
