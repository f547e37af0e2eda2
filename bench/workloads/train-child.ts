/**
 * One W3 measurement in its own process (so that peak RSS belongs to one library): loads the
 * MNIST train/test split, builds one library's model, and trains with plain SGD over the train
 * split in a fixed shuffled order (seeded: the same order for every library).
 *
 *   node --import tsx bench/workloads/train-child.ts '<ChildArgs as JSON>'
 *
 * Prints one line `W3RESULT <ChildResult as JSON>`. Other modules import only its types.
 *
 * Procedure: one or two probe steps on `probeBatch` images (untimed warm-up, and the estimate of
 * the time per image). Then, if a whole epoch at the workload's batch fits `epochBudgetMs`, a fresh model is
 * trained for exactly one epoch and its test accuracy measured; otherwise batches are timed until
 * `budgetMs` has passed and images/s is extrapolated from them (no accuracy). When even a batch of
 * the workload's size would take more than half the budget, a smaller batch is timed and the
 * result says so; when the probe step alone took half the budget, it is the measurement.
 */
import { readFileSync } from 'node:fs';
import { Rng } from '../../src/tensor/random.js';
import type { ModelName } from '../shapes.js';
import { gatherBatch, loadMnistArrays, PIXELS } from './mnist-data.js';
import type { Trainer, TrainerFactory } from './trainer.js';
import { startWatchdog } from '../watchdog.js';

export type TrainLib = 'stride' | 'tfjs' | 'convnetjs';

export interface ChildArgs {
  lib: TrainLib;
  backend: string;
  model: ModelName;
  batch: number;
  lr: number;
  seed: number;
  threads: number;
  budgetMs: number;
  epochBudgetMs: number;
  probeBatch: number;
  /** A step (or anything else) making no progress for this long is reported as a hang and the process killed. */
  hangMs: number;
}

export interface ChildResult {
  impl: string;
  model: ModelName;
  status: 'ok' | 'cannot';
  message?: string;
  /** Batch size actually timed. */
  batch: number;
  /** Timed steps and images. */
  steps: number;
  images: number;
  ms: number;
  imagesPerSec: number;
  /** True when a whole epoch was timed (then testAccuracy is set). */
  fullEpoch: boolean;
  testAccuracy: number | null;
  firstLoss: number | null;
  lastLoss: number | null;
  /** RSS after loading the data and building the model, before training (MiB). */
  rssBeforeMiB: number;
  /** Peak resident memory of this process at the end (MiB; VmHWM on Linux). */
  peakRssMiB: number;
  dataSource: string;
  note: string;
}

/** BENCH_DEBUG=1 logs the child's phases to stderr. */
const debug = process.env.BENCH_DEBUG ? (m: string): void => void process.stderr.write(`[train-child ${performance.now().toFixed(0)} ms] ${m}\n`) : (): void => undefined;
const mib = (bytes: number): number => Math.round((bytes / 2 ** 20) * 10) / 10;

/**
 * This process's peak resident memory in bytes. On Linux, VmHWM of /proc/self/status: the high-water
 * mark of this process's own address space. (getrusage's maxRSS would not do: Linux carries the
 * forking parent's peak across fork + exec, so every child reported the bench process's RSS.)
 */
function peakRssBytes(): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m !== null) return Number(m[1]) * 1024;
  } catch {
    // not Linux: fall back to getrusage
  }
  return process.resourceUsage().maxRSS * 1024;
}
const firstLine = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0].slice(0, 240);

export async function runChild(a: ChildArgs): Promise<ChildResult> {
  const train = await loadMnistArrays('train');
  const test = await loadMnistArrays('test');
  debug(`data loaded: ${train.n} train, ${test.n} test (${train.source})`);
  const base: ChildResult = {
    impl: a.lib === 'convnetjs' ? 'ConvNetJS' : a.lib === 'tfjs' ? `tfjs-${a.backend}` : `Stride ${a.backend}`,
    model: a.model, status: 'cannot', batch: a.batch, steps: 0, images: 0, ms: 0, imagesPerSec: NaN, fullEpoch: false,
    testAccuracy: null, firstLoss: null, lastLoss: null, rssBeforeMiB: 0, peakRssMiB: 0, dataSource: train.source, note: '',
  };
  let factory: TrainerFactory;
  try {
    const mod = (await import(`./train-${a.lib}.js`)) as { createTrainer: TrainerFactory };
    factory = mod.createTrainer;
  } catch (e) {
    return { ...base, message: `skipped: the ${a.lib} side does not load (${firstLine(e)})` };
  }
  const opts = { backend: a.backend, lr: a.lr, seed: a.seed, threads: a.threads };
  let trainer: Trainer;
  try {
    trainer = await factory(a.model, opts);
  } catch (e) {
    return { ...base, message: firstLine(e) };
  }
  base.impl = trainer.impl;
  debug(`trainer ${trainer.impl} built`);
  const hung: ChildResult = { ...base, message: 'hung: no progress for {seconds} s during {label} (process killed)' };
  const dog = startWatchdog({
    timeoutMs: a.hangMs,
    stdout: `W3RESULT ${JSON.stringify(hung)}\n`,
    stderr: `train-child: ${base.impl} ${a.model} made no progress for {seconds} s during {label}; killed\n`,
  });
  dog.beat('the probe step');
  base.rssBeforeMiB = mib(process.memoryUsage().rss);

  const order = new Rng(a.seed).permutation(train.n);
  const imgs = new Float32Array(Math.max(a.batch, a.probeBatch) * PIXELS);
  const labs = new Int32Array(Math.max(a.batch, a.probeBatch));
  let tProbe: number;
  let probeLoss: number;
  try {
    gatherBatch(train, order, 0, a.probeBatch, imgs, labs);
    let t0 = performance.now();
    probeLoss = await trainer.step(imgs, labs, a.probeBatch);
    tProbe = performance.now() - t0;
    if (tProbe < a.budgetMs / 8) {
      // The first step pays for compilation: a second one estimates the steady state.
      gatherBatch(train, order, a.probeBatch, a.probeBatch, imgs, labs);
      dog.beat('the second probe step');
      t0 = performance.now();
      await trainer.step(imgs, labs, a.probeBatch);
      tProbe = performance.now() - t0;
    }
  } catch (e) {
    return { ...base, message: firstLine(e), peakRssMiB: mib(peakRssBytes()) };
  }
  const perImage = tProbe / a.probeBatch;
  debug(`probe step: ${tProbe.toFixed(1)} ms for ${a.probeBatch} images`);
  const done = (r: Partial<ChildResult>): ChildResult => ({
    ...base, status: 'ok', ...r, imagesPerSec: (1000 * (r.images ?? 0)) / (r.ms ?? NaN), peakRssMiB: mib(peakRssBytes()),
  });
  if (tProbe >= a.budgetMs / 2) {
    return done({
      batch: a.probeBatch, steps: 1, images: a.probeBatch, ms: tProbe, firstLoss: probeLoss, lastLoss: probeLoss,
      note: `too slow for batch ${a.batch}: one step of ${a.probeBatch} images (${(tProbe / 1000).toFixed(1)} s, includes warm-up), extrapolated`,
    });
  }
  let b = a.batch;
  if (perImage * b > a.budgetMs / 2) {
    b = [32, 16, 8, 4, 2, 1].find((c) => c < a.batch && perImage * c <= a.budgetMs / 2) ?? 1;
  }
  const fullEpoch = b === a.batch && perImage * train.n <= a.epochBudgetMs;
  // From now on a step should take about perImage * b: far longer means a hang.
  dog.setTimeoutMs(Math.min(a.hangMs, Math.max(30_000, 20 * perImage * a.batch)));
  if (b === a.batch && perImage * b < a.budgetMs / 10) {
    gatherBatch(train, order, 0, b, imgs, labs);
    dog.beat('the warm-up step');
    await trainer.step(imgs, labs, b); // warm-up at the timed batch size
  }
  if (fullEpoch) {
    // A fresh model, so the accuracy is that of exactly one epoch (the code is warm already).
    trainer.dispose();
    dog.beat('building a fresh model');
    trainer = await factory(a.model, opts);
  }
  debug(`timing batches of ${b}${fullEpoch ? ', one whole epoch' : ''}`);
  let steps = 0;
  let images = 0;
  let firstLoss: number | null = null;
  let lastLoss: number | null = null;
  const t0 = performance.now();
  for (let start = 0; start < train.n; start += b) {
    const bb = Math.min(b, train.n - start);
    gatherBatch(train, order, start, bb, imgs, labs);
    if (process.env.BENCH_DEBUG === '2') debug(`step ${steps}: ${bb} images from ${start}`);
    dog.beat(`step ${steps + 1} (batch of ${bb})`);
    lastLoss = await trainer.step(imgs, labs, bb);
    firstLoss ??= lastLoss;
    steps++;
    images += bb;
    if (!fullEpoch && performance.now() - t0 >= a.budgetMs) break;
  }
  const ms = performance.now() - t0;
  debug(`${steps} steps in ${ms.toFixed(0)} ms`);
  const wholeEpoch = images === train.n;
  let testAccuracy: number | null = null;
  if (wholeEpoch) {
    const chunk = 256;
    const timg = new Float32Array(chunk * PIXELS);
    let correct = 0;
    for (let s = 0; s < test.n; s += chunk) {
      const bb = Math.min(chunk, test.n - s);
      timg.set(test.images.subarray(s * PIXELS, (s + bb) * PIXELS));
      dog.beat(`test predictions from image ${s}`);
      const pred = trainer.predict(timg, bb);
      for (let i = 0; i < bb; i++) if (pred[i] === test.labels[s + i]) correct++;
    }
    testAccuracy = correct / test.n;
  }
  dog.stop();
  const note = fullEpoch
    ? `one epoch (${train.n} images)`
    : wholeEpoch
      ? `one epoch (${train.n} images) within the ${(a.budgetMs / 1000).toFixed(0)} s budget, after the probe and warm-up steps on the same model`
      : `${steps} batch${steps === 1 ? '' : 'es'} of ${b} timed in the ${(a.budgetMs / 1000).toFixed(0)} s budget, extrapolated` +
      (b !== a.batch ? ` (batch ${a.batch} too slow)` : '');
  return done({ batch: b, steps, images, ms, fullEpoch: wholeEpoch, testAccuracy, firstLoss, lastLoss, note });
}

// Entry point (this module is only ever run as a process; others import its types only).
{
  const args = JSON.parse(process.argv[2] ?? '{}') as ChildArgs;
  let out: ChildResult;
  try {
    out = await runChild(args);
  } catch (e) {
    out = {
      impl: args.lib, model: args.model, status: 'cannot', message: firstLine(e), batch: args.batch, steps: 0, images: 0, ms: 0,
      imagesPerSec: NaN, fullEpoch: false, testAccuracy: null, firstLoss: null, lastLoss: null, rssBeforeMiB: 0,
      peakRssMiB: mib(peakRssBytes()), dataSource: '', note: '',
    };
  }
  process.stdout.write(`W3RESULT ${JSON.stringify(out)}\n`);
  process.exit(0);
}
