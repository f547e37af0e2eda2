/**
 * `stride train`'s configuration: what determines a run (`TrainConfig`, stored in checkpoints so
 * `--resume` can continue it), its defaults, how it is read from commander's options, and the
 * optimizer and learning-rate schedule it builds.
 */
import { createOptimizer, type OptimizerName } from '../../optim/registry.js';
import type { Optimizer } from '../../optim/optimizer.js';
import type { ScheduleKind, ScheduleSpec } from '../../optim/schedule.js';
import type { BackendName } from '../backend.js';
import { usageError } from '../util.js';

/**
 * Everything that determines a training run; stored in checkpoints so `--resume` can continue it.
 * A type alias, not an interface, so that it is checked as the plain JSON (`Json`) it is stored as.
 */
export type TrainConfig = {
  model: string;
  data: string;
  testData: string | null;
  imageSize: [number, number] | null;
  channels: 1 | 3 | null;
  epochs: number;
  batchSize: number;
  optimizer: OptimizerName;
  lr: number | null;
  momentum: number | null;
  weightDecay: number | null;
  schedule: ScheduleKind;
  warmup: number;
  stepSize: number | null;
  gamma: number | null;
  minLr: number | null;
  seed: number;
  valSplit: number;
  earlyStopping: number | null;
  augment: number;
  rotate: number;
  scale: number;
  limit: number | null;
  testLimit: number | null;
};

/**
 * The defaults of `stride train` (and so of `npm start`): LeNet on the standard MNIST (60,000
 * training images), 4 epochs: 99.45% on the 10,000 test images with seed 1, and the whole `npm start`
 * takes about 4 min 20 s on 2 cores with the build (training 3 min 56 s at about 1,000 images/s on
 * 2026-12-02; the budget is 6 minutes; runs in docs/cli.md, Measurements). Batch 64 trains about
 * 10% more images per second than 32 and still gives 3,750 updates per epoch.
 */
export const TRAIN_DEFAULTS = {
  model: 'lenet',
  data: 'mnist',
  epochs: 4,
  batchSize: 64,
  optimizer: 'sgd' as OptimizerName,
  schedule: 'cosine' as ScheduleKind,
  seed: 1,
  augment: 2,
  /** With the default optimizer (SGD, momentum 0.9) unless --lr / --weight-decay say otherwise. */
  sgdLr: 0.05,
  sgdWeightDecay: 5e-4,
};

/** Options that must not change when resuming: they decide what the checkpoint's numbers mean. */
export const FIXED_ON_RESUME: (keyof TrainConfig)[] = ['model', 'data', 'testData', 'imageSize', 'channels', 'seed', 'valSplit', 'limit', 'optimizer'];

export interface TrainRunOptions {
  checkpoint?: string;
  resume: boolean;
  out?: string;
  save: boolean;
  /** Replace an existing --out file, or start a new run in a --checkpoint folder that holds one. */
  force: boolean;
  plot?: string;
  /** Leave unreadable images of an image folder out (reported) instead of stopping. */
  skipBad?: boolean;
  json: boolean;
  backend?: BackendName;
  threads?: number;
}

export interface RawOptions extends TrainRunOptions {
  [key: string]: unknown;
}

/** Reads the config from commander's parsed options. */
export function configFrom(o: RawOptions): TrainConfig {
  const augment = o.augment === false ? 0 : o.augment === true ? 2 : (o.augment as number);
  return {
    model: o.model as string,
    data: o.data as string,
    testData: (o.testData as string | undefined) ?? null,
    imageSize: (o.imageSize as [number, number] | undefined) ?? null,
    channels: (o.channels as 1 | 3 | undefined) ?? null,
    epochs: o.epochs as number,
    batchSize: o.batchSize as number,
    optimizer: o.optimizer as OptimizerName,
    lr: (o.lr as number | undefined) ?? null,
    momentum: (o.momentum as number | undefined) ?? null,
    weightDecay: (o.weightDecay as number | undefined) ?? null,
    schedule: o.schedule as ScheduleKind,
    warmup: (o.warmup as number | undefined) ?? 0,
    stepSize: (o.stepSize as number | undefined) ?? null,
    gamma: (o.gamma as number | undefined) ?? null,
    minLr: (o.minLr as number | undefined) ?? null,
    seed: o.seed as number,
    valSplit: (o.valSplit as number | undefined) ?? 0,
    earlyStopping: (o.earlyStopping as number | undefined) ?? null,
    augment,
    rotate: (o.rotate as number | undefined) ?? 0,
    scale: (o.scale as number | undefined) ?? 0,
    limit: (o.limit as number | undefined) ?? null,
    testLimit: (o.testLimit as number | undefined) ?? null,
  };
}

/** commander option name (camelCase) → TrainConfig key, for "was it given on the command line". */
export const CONFIG_KEYS: (keyof TrainConfig)[] = [
  'model', 'data', 'testData', 'imageSize', 'channels', 'epochs', 'batchSize', 'optimizer', 'lr', 'momentum', 'weightDecay',
  'schedule', 'warmup', 'stepSize', 'gamma', 'minLr', 'seed', 'valSplit', 'earlyStopping', 'augment', 'rotate', 'scale', 'limit', 'testLimit',
];

/**
 * Where `train`'s optimizer settings differ from the library's defaults (SGD: TRAIN_DEFAULTS' rate and
 * weight decay, momentum 0.9). `train --help` states the defaults from these, so they cannot drift apart.
 */
export function trainOptimizerOptions(name: OptimizerName): Record<string, number> {
  return name === 'sgd' ? { lr: TRAIN_DEFAULTS.sgdLr, weightDecay: TRAIN_DEFAULTS.sgdWeightDecay, momentum: 0.9 } : {};
}

export function buildOptimizer(c: TrainConfig): Optimizer {
  const opts: Record<string, number> = trainOptimizerOptions(c.optimizer);
  if (c.lr !== null) opts.lr = c.lr;
  if (c.weightDecay !== null) opts.weightDecay = c.weightDecay;
  if (c.momentum !== null) {
    if (c.optimizer !== 'sgd' && c.optimizer !== 'rmsprop') throw usageError(`--momentum applies to --optimizer sgd or rmsprop, not ${c.optimizer}`);
    opts.momentum = c.momentum;
  }
  try {
    return createOptimizer(c.optimizer, opts);
  } catch (e) {
    throw usageError((e as Error).message);
  }
}

/**
 * The schedule of a run. Warmup over w epochs trains epoch k (1-based, k <= w) at k/(w+1) of the rate:
 * the library's warmup starts from `warmupStart` at t = 0, which is lr/(w+1) here, not 0 (an epoch at
 * lr 0 would train nothing).
 */
export function buildSchedule(c: TrainConfig, baseLr: number): ScheduleSpec {
  const warmup = c.warmup;
  const w = warmup > 0 ? { warmup, warmupStart: baseLr / (warmup + 1) } : { warmup };
  switch (c.schedule) {
    case 'constant':
      return { kind: 'constant', lr: baseLr, ...w };
    case 'step':
      return { kind: 'step', lr: baseLr, stepSize: c.stepSize ?? Math.max(1, Math.floor(c.epochs / 3)), gamma: c.gamma ?? 0.1, ...w };
    case 'exponential':
      return { kind: 'exponential', lr: baseLr, gamma: c.gamma ?? 0.9, ...w };
    case 'cosine':
      return { kind: 'cosine', lr: baseLr, tMax: Math.max(1, c.epochs - warmup), minLr: c.minLr ?? 0, ...w };
  }
}

/** A TrainConfig key as its command-line flag: `valSplit` → `val-split`. */
export function kebab(k: string): string {
  return k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
