/**
 * W4's side in Chromium for `npm run bench:browser`: a module worker that fetches the digits from
 * its own origin and times lenet inference with two threads.
 */
import * as S from '../src/index.js';
import { inferW4, W4_BATCH } from './browser-work.js';

export type InferRequest = { kind: 'init'; threads: number } | { kind: 'w4'; reps: number };

let images: Float32Array | null = null;

async function handle(req: InferRequest): Promise<unknown> {
  if (req.kind === 'init') {
    const { train } = await S.loadCompactDataset('./digits.bin');
    images = train.take(W4_BATCH).batches(W4_BATCH).next().value!.x.data;
    S.setThreads(req.threads);
    return { info: await S.ready() };
  }
  if (images === null) throw new Error('bench infer worker: init first');
  return { imagesPerSec: inferW4(S, images, req.reps), work: S.threadWork() };
}

self.onmessage = (e: MessageEvent<InferRequest>) => {
  handle(e.data).then(
    (r) => postMessage({ ok: r }),
    (err: unknown) => postMessage({ error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) }),
  );
};
