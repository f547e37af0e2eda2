/**
 * A module worker of `npm run bench:browser` that calls the library directly: W4 (lenet inference)
 * and W3 through `fit` (as Node runs it), to tell the trainer's own cost from the browser's.
 * It fetches the digits from its own origin.
 */
import * as S from '../src/index.js';
import { inferW4, trainW3, W4_BATCH } from './browser-work.js';

export type InferRequest = { kind: 'init'; threads: number } | { kind: 'w4'; reps: number } | { kind: 'fit'; model: 'small' | 'lenet'; images: number };

let images: Float32Array | null = null;
let train: S.Dataset | null = null;

async function handle(req: InferRequest): Promise<unknown> {
  if (req.kind === 'init') {
    train = (await S.loadCompactDataset('./digits.bin')).train;
    images = train.take(W4_BATCH).batches(W4_BATCH).next().value!.x.data;
    S.setThreads(req.threads);
    return { info: await S.ready() };
  }
  if (images === null || train === null) throw new Error('bench infer worker: init first');
  if (req.kind === 'fit') return { imagesPerSec: await trainW3(S, train.take(req.images), req.model) };
  return { imagesPerSec: inferW4(S, images, req.reps), work: S.threadWork() };
}

self.onmessage = (e: MessageEvent<InferRequest>) => {
  handle(e.data).then(
    (r) => postMessage({ ok: r }),
    (err: unknown) => postMessage({ error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) }),
  );
};
