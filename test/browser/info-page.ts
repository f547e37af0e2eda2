/**
 * The in-page half of backend-info.test.ts: asks for two threads, awaits ready(), runs a conv big
 * enough to be split over threads, and publishes what backendInfo() said on `globalThis.__strideInfo`.
 * `?warnings=off` turns the fallback warning off first. In a module worker it posts the report instead.
 */
import * as S from '../../src/index.js';

type BackendInfo = ReturnType<typeof S.backendInfo>;

export interface InfoReport {
  crossOriginIsolated: boolean;
  /** What ready() resolved with (null if it rejected), and its error if it did. */
  fromReady: BackendInfo | null;
  readyError: string | null;
  readyMs: number;
  info: BackendInfo;
  /** After a second ready() and more ops: a warning must still have been printed only once. */
  infoAgain: BackendInfo;
  work: number[];
  /** ms of one conv forward on [4, 32, 32, 16] * [3, 3, 16, 32] (after one untimed), for the docs. */
  convMs: number;
  /** The conv's result is finite whatever runs it. */
  convFinite: boolean;
}

async function main(): Promise<InfoReport> {
  if (new URLSearchParams(location.search).get('warnings') === 'off') S.setFallbackWarnings(false);
  S.setThreads(2);
  const t0 = performance.now();
  let fromReady: BackendInfo | null = null;
  let readyError: string | null = null;
  try {
    fromReady = await S.ready();
  } catch (e) {
    readyError = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  }
  const readyMs = performance.now() - t0;
  const x = S.Tensor.randn([4, 32, 32, 16], { seed: 1 });
  const w = S.Tensor.randn([3, 3, 16, 32], { seed: 2 });
  const y = S.conv2d(x, w, null, { padding: 'same' });
  S.conv2dBackward(y, x, w, { padding: 'same' });
  const info = S.backendInfo();
  await S.ready().catch(() => undefined);
  const t1 = performance.now();
  S.conv2d(x, w, null, { padding: 'same' });
  const convMs = performance.now() - t1;
  // On a loaded machine a worker can wake after the caller has done every chunk of one call: give it
  // a few more calls (the assertion is that it takes part, not that it wins every race).
  for (let i = 0; i < 100 && S.backendInfo().threads > 1 && (S.threadWork()[1] ?? 1) === 0; i++) {
    await new Promise((r) => setTimeout(r, 10));
    S.conv2d(x, w, null, { padding: 'same' });
  }
  return {
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    fromReady,
    readyError,
    readyMs,
    info,
    infoAgain: S.backendInfo(),
    work: S.threadWork(),
    convMs,
    convFinite: y.data.every(Number.isFinite),
  };
}

const report = main().catch((e: unknown) => ({
  error: e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : String(e),
}));
if (typeof document === 'undefined') {
  // In a module worker (the worker cases): the page that started it publishes what we post.
  void report.then((r) => postMessage(r));
} else {
  (globalThis as { __strideInfo?: Promise<InfoReport | { error: string }> }).__strideInfo = report;
}
