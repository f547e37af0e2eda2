/**
 * The Chromium side of `npm run bench:browser`: a module worker that fetches the digits from its
 * own origin, starts two threads, and runs whatever bench/browser.ts asks (through the page).
 */
import * as S from '../src/index.js';
import { inferW4, trainW3, type Digits } from './browser-work.js';

export type BenchRequest =
  | { kind: 'init'; n: number; threads: number }
  | { kind: 'w3'; model: 'small' | 'lenet'; batches: number }
  | { kind: 'w4'; reps: number };

let data: Digits | null = null;

async function handle(req: BenchRequest): Promise<unknown> {
  if (req.kind === 'init') {
    const buf = await (await fetch('./digits.bin')).arrayBuffer();
    const images = new Float32Array(buf, 0, req.n * 28 * 28);
    const labels = new Int32Array(buf, req.n * 28 * 28 * 4, req.n);
    data = { images, labels, n: req.n };
    S.setThreads(req.threads);
    const info = await S.ready();
    return { info, crossOriginIsolated: globalThis.crossOriginIsolated === true };
  }
  if (data === null) throw new Error('bench worker: init first');
  if (req.kind === 'w3') return { ...trainW3(S, data, req.model, req.batches), work: S.threadWork() };
  return { ...inferW4(S, data, req.reps), work: S.threadWork() };
}

self.onmessage = (e: MessageEvent<BenchRequest>) => {
  handle(e.data).then(
    (r) => postMessage({ ok: r }),
    (err: unknown) => postMessage({ error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) }),
  );
};
