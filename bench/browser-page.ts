/**
 * The page of `npm run bench:browser`: drives the trainer worker (W3, through TrainerClient, as a
 * page would) and the inference worker (W4), and answers bench/browser.ts through `globalThis.bench`.
 */
import * as S from '../src/index.js';
import { TrainerClient } from '../src/worker/index.js';
import { MODEL_SEED, SHUFFLE_SEED, W3_BATCH, W3_LR } from './browser-work.js';
import type { InferRequest } from './browser-worker.js';

export type PageRequest =
  | { kind: 'init'; threads: number }
  | { kind: 'w3'; model: 'small' | 'lenet'; images: number }
  | { kind: 'w4'; reps: number }
  /** W3 through `fit` called directly in a worker (no trainer). */
  | { kind: 'fit'; model: 'small' | 'lenet'; images: number };

const trainer = new TrainerClient(new Worker('./trainer.js', { type: 'module' }));
const infer = new Worker('./infer.js', { type: 'module' });

function askInfer(req: InferRequest): Promise<unknown> {
  return new Promise((resolve, reject) => {
    infer.onmessage = (e: MessageEvent<{ ok?: unknown; error?: string }>) => (e.data.error === undefined ? resolve(e.data.ok) : reject(new Error(e.data.error)));
    infer.onerror = (e) => reject(new Error(`inference worker: ${e.message || 'error event without a message (blocked?)'}`));
    infer.postMessage(req);
  });
}

async function handle(req: PageRequest): Promise<unknown> {
  switch (req.kind) {
    case 'init': {
      const data = await trainer.loadData({ url: './digits.bin' });
      await trainer.build(S.createPreset('small').toSpec(), MODEL_SEED);
      const { backend } = await trainer.info();
      const inferInfo = ((await askInfer({ kind: 'init', threads: req.threads })) as { info: unknown }).info;
      return { data, trainer: backend, infer: inferInfo, crossOriginIsolated: globalThis.crossOriginIsolated === true };
    }
    case 'w3': {
      await trainer.build(S.createPreset(req.model).toSpec(), MODEL_SEED);
      const t0 = performance.now();
      const r = await trainer.train({ epochs: 1, batchSize: W3_BATCH, optimizer: { name: 'sgd', lr: W3_LR }, seed: SHUFFLE_SEED, limit: req.images });
      return { imagesPerSec: (req.images * 1000) / (performance.now() - t0), trainerRate: r.imagesPerSecond, batches: r.batches };
    }
    case 'w4':
    case 'fit':
      return askInfer(req);
  }
}

(globalThis as { bench?: unknown }).bench = (req: PageRequest) =>
  handle(req).then(
    (ok) => ({ ok }),
    (e: unknown) => ({ error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) }),
  );
