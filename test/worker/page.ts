/**
 * The page of browser-worker.test.ts: trains the small model in a module worker (trainer.js, the
 * bundled examples/worker/trainer.ts) on the compact digits while a PerformanceObserver records
 * every long task of the main thread, then reports to the test through `globalThis.__workerReport`.
 */
import { createPreset, type BackendInfo } from '../../src/index.js';
import { TrainerClient } from '../../src/worker/index.js';

export interface LongTask {
  start: number;
  duration: number;
}

export interface WorkerPageReport {
  crossOriginIsolated: boolean;
  backend: BackendInfo;
  losses: number[];
  imagesPerSecond: number;
  trainStepMs: number;
  batches: number;
  trainStart: number;
  trainEnd: number;
  longTasks: LongTask[];
  /** Main-thread frames seen while training (requestAnimationFrame), to show the page kept running. */
  frames: number;
  paused: { before: number; after: number };
  testAccuracy: number;
  model: number[];
}

declare global {
  var __longTasks: LongTask[];
  var __workerReport: Promise<WorkerPageReport | { error: string }> | undefined;
}

async function main(): Promise<WorkerPageReport> {
  const params = new URL(location.href).searchParams;
  const limit = Number(params.get('limit') ?? 1600);
  const batchSize = Number(params.get('batch') ?? 32);
  const trainer = new TrainerClient(new Worker(new URL('./trainer.js', import.meta.url), { type: 'module' }));
  await trainer.build(createPreset('small', { seed: 1 }).toSpec(), 1);
  // The gzipped file: the worker unpacks it with the browser's DecompressionStream.
  await trainer.loadData({ url: params.get('data') ?? './digits.bin' });
  const info = await trainer.info();

  let frames = 0;
  let training = true;
  const tick = (): void => {
    frames++;
    if (training) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  const losses: number[] = [];
  const trainStart = performance.now();
  let pausedCheck: Promise<{ before: number; after: number }> | null = null;
  const result = await trainer.train({ epochs: 1, batchSize, optimizer: { name: 'adam', lr: 0.002 }, seed: 3, limit }, (p) => {
    losses.push(p.loss);
    // Once, mid-run: pause, see that no batch arrives for 200 ms, resume.
    if (p.step === 10) {
      pausedCheck = (async () => {
        await trainer.pause();
        const before = losses.length;
        await new Promise((r) => setTimeout(r, 200));
        const after = losses.length;
        await trainer.resume();
        return { before, after };
      })();
    }
  });
  const trainEnd = performance.now();
  training = false;
  const paused = await (pausedCheck ?? Promise.resolve({ before: -1, after: -2 }));
  const test = await trainer.evaluate({ split: 'test' });
  const model = await trainer.saveModel();
  trainer.close();
  return {
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    backend: info.backend,
    losses,
    imagesPerSecond: result.imagesPerSecond,
    trainStepMs: result.trainStepMs,
    batches: result.batches,
    trainStart,
    trainEnd,
    longTasks: globalThis.__longTasks,
    frames,
    paused,
    testAccuracy: test.accuracy,
    model: Array.from(model),
  };
}

globalThis.__workerReport = main().catch((e: Error) => ({ error: `${e.name}: ${e.message}` }));
