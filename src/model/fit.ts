/**
 * The training loop (browser-safe): epochs of shuffled, optionally augmented mini-batches, a
 * learning-rate schedule, validation after every epoch, early stopping, and progress callbacks.
 *
 * ```ts
 * const rng = new Rng(1);                                   // shuffles and augmentation draw from it
 * const optimizer = createOptimizer('adam', { lr: 1e-3 });
 * const { history } = await fit(model, train, {
 *   epochs: 5, batchSize: 64, optimizer, rng, validation,
 *   schedule: createSchedule({ kind: 'cosine', lr: 1e-3, tMax: 5 }),
 *   onEpoch: (e) => console.log(e.epoch, e.loss, e.valAccuracy),
 * });
 * ```
 *
 * **Determinism and resuming.** Given the model's initial weights, the optimizer and the state of
 * `rng`, a run is bit-reproducible: the only random draws are the shuffle permutation (one
 * `rng.permutation` per epoch), the augmentation and `transform` (drawn from the same `rng` as batches are made)
 * and dropout masks (the model's own `model.rng`). Nothing else in the loop holds state, so a
 * checkpoint taken in `onEpoch` of {model weights and buffers, `optimizer.stateDict(params)`,
 * `info.rng.getState()`, `model.rng.getState()`, `info.history`} resumes bit-identically: restore
 * them and call `fit` again with `startEpoch: info.epoch` and `history: info.history`.
 * Schedules are evaluated at the 0-based epoch index (or global batch index), so they need no state.
 */
import { Rng } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import type { Dataset } from '../data/dataset.js';
import type { AugmentOptions } from '../data/augment.js';
import { checkLoss, crossEntropyLoss, type LabelLoss, type Loss, type TensorLoss } from '../losses/loss.js';
import type { Sequential, StepOptimizer } from './sequential.js';
import { checkDataFits, checkTargets, evaluateDataset, gatherRows } from './evaluate.js';

/** What `fit` needs from an optimizer: `step`/`zeroGrad`, and a settable `lr` when a schedule is given. */
export interface FitOptimizer extends StepOptimizer {
  lr?: number;
}

/** The quantities early stopping can watch. `valLoss`/`valAccuracy` need `validation`. */
export type Monitor = 'loss' | 'accuracy' | 'valLoss' | 'valAccuracy';

export interface EarlyStoppingOptions {
  /** Stop after this many epochs in a row without improvement (>= 1). */
  patience: number;
  /** Default 'valLoss' with validation data, else 'loss'. Losses must fall, accuracies rise. */
  monitor?: Monitor;
  /** The smallest change that counts as an improvement; default 0. */
  minDelta?: number;
}

/** One finished epoch. */
export interface EpochMetrics {
  /** The epoch number, 1 for the first (so it is also the number of epochs done). */
  epoch: number;
  /** The learning rate at the start of the epoch (null when the optimizer exposes none). */
  lr: number | null;
  /** Mean training loss over the epoch's samples (training mode: augmentation and dropout on). */
  loss: number;
  /** Training accuracy over the epoch's samples, from the same forward passes. */
  accuracy: number;
  valLoss?: number;
  valAccuracy?: number;
  /** Training samples seen this epoch. */
  samples: number;
  /** Wall-clock seconds of the epoch's training (validation excluded). */
  seconds: number;
}

/** Passed to `onBatch` after every optimizer step. */
export interface BatchInfo {
  /** The epoch number, 1 for the first. */
  epoch: number;
  /** The `epochs` option: the number of the last epoch. */
  epochs: number;
  /** 0-based batch number within the epoch, and the epoch's batch count. */
  batch: number;
  batches: number;
  /** This batch's size, mean loss and accuracy. */
  size: number;
  loss: number;
  accuracy: number;
  /** Running means over the epoch so far. */
  epochLoss: number;
  epochAccuracy: number;
  /** Samples trained on so far this epoch, and the epoch's total. */
  seen: number;
  total: number;
  lr: number | null;
  /** Seconds since the epoch started. */
  elapsed: number;
}

/** Passed to `onEpoch` after every epoch (and its validation). */
export interface EpochInfo extends EpochMetrics {
  epochs: number;
  /** Every epoch so far, including earlier runs given as `history`, and this one. */
  history: readonly EpochMetrics[];
  /** Seconds the validation pass took (0 without validation). */
  validationSeconds: number;
  /** True when early stopping ends training after this epoch. */
  earlyStop: boolean;
  /** The epoch with the best monitored value so far (early stopping only). */
  bestEpoch: number | null;
  /** The generator behind shuffling and augmentation; checkpoint `rng.getState()`. */
  rng: Rng;
}

export interface FitOptions {
  /** Train until this many epochs are done (counting the `startEpoch` already done). */
  epochs: number;
  /**
   * The loss (src/losses/loss.ts); default `crossEntropyLoss`. A loss whose targets are labels
   * trains on the dataset's labels and reports accuracies; for a loss whose targets are tensors,
   * see `TensorFitOptions`.
   */
  loss?: LabelLoss;
  /** Default 32. */
  batchSize?: number;
  optimizer: FitOptimizer;
  /** Learning rate as a function of the epoch (or, with `scheduleUnit: 'batch'`, of the global batch number). */
  schedule?: (t: number) => number;
  /** Default 'epoch' (t = epoch - 1). 'batch' evaluates the schedule at `t = (epoch - 1) * batchesPerEpoch + batch`. */
  scheduleUnit?: 'epoch' | 'batch';
  /** Evaluated after every epoch (inference mode). */
  validation?: Dataset;
  /** Batch size of the validation pass; default 256. */
  evalBatchSize?: number;
  earlyStopping?: EarlyStoppingOptions;
  /** The generator for shuffling and augmentation (advanced in place). Default `new Rng(shuffleSeed)`. */
  rng?: Rng;
  /** Seed of the default `rng`; default 0. */
  shuffleSeed?: number;
  /** Visit the samples in a new random order every epoch; default true. */
  shuffle?: boolean;
  /** Seeded random shifts (and flips); drawn from `rng`. Off by default. */
  augment?: Omit<AugmentOptions, 'rng'>;
  /** Skip a last batch smaller than `batchSize`; default false. */
  dropLast?: boolean;
  /**
   * A further augmentation of every training batch, after `augment`: `transform(x, rng)` returns the
   * batch to train on (same shape). It must draw its randomness from `rng` (the loop's generator),
   * so runs stay reproducible and resumable.
   */
  transform?: (x: Tensor, rng: Rng) => Tensor;
  /** Epochs already done (to resume): training runs epochs startEpoch + 1 … epochs. Default 0. */
  startEpoch?: number;
  /** Records of epochs already run (to resume), for early stopping and the returned history. */
  history?: readonly EpochMetrics[];
  onBatch?: (info: BatchInfo) => void | Promise<void>;
  /** Return 'stop' to end training after this epoch. */
  onEpoch?: (info: EpochInfo) => void | 'stop' | Promise<void | 'stop'>;
}

export interface FitResult {
  /** Every epoch record: the `history` passed in, then the epochs run now. */
  history: EpochMetrics[];
  /** Why training ended. */
  stopReason: 'completed' | 'earlyStopping' | 'callback';
  /** The number of the last epoch done (startEpoch when none ran now). */
  lastEpoch: number;
  /** The best epoch by the early-stopping monitor (null without early stopping). */
  bestEpoch: number | null;
}

type WithoutAccuracy<T> = Omit<T, 'accuracy' | 'epochAccuracy' | 'valAccuracy'>;

/** An epoch record of a run with a tensor loss: as `EpochMetrics`, without accuracies (there are no classes). */
export type TensorEpochMetrics = WithoutAccuracy<EpochMetrics>;
/** `onBatch`'s argument for a tensor loss. */
export type TensorBatchInfo = WithoutAccuracy<BatchInfo>;
/** `onEpoch`'s argument for a tensor loss. */
export interface TensorEpochInfo extends WithoutAccuracy<Omit<EpochInfo, 'history'>> {
  history: readonly TensorEpochMetrics[];
}

/**
 * `fit` with a loss whose targets are tensors (regression): `targets` holds the target of every
 * training sample, row i for the dataset's sample i ([train.length, ...model.outputShape]), and
 * each batch trains on the rows of its samples (the dataset's labels are not used). Augmentation
 * and `transform` change the images, not the targets: use them only when the targets do not move
 * with the image. Early stopping can watch 'loss' or 'valLoss' only.
 */
export interface TensorFitOptions extends Omit<FitOptions, 'loss' | 'history' | 'onBatch' | 'onEpoch' | 'earlyStopping'> {
  loss: TensorLoss;
  targets: Tensor;
  /** The targets of `validation`, row i for its sample i; required with `validation`. */
  validationTargets?: Tensor;
  earlyStopping?: Omit<EarlyStoppingOptions, 'monitor'> & { monitor?: 'loss' | 'valLoss' };
  history?: readonly TensorEpochMetrics[];
  onBatch?: (info: TensorBatchInfo) => void | Promise<void>;
  onEpoch?: (info: TensorEpochInfo) => void | 'stop' | Promise<void | 'stop'>;
}

export interface TensorFitResult extends Omit<FitResult, 'history'> {
  history: TensorEpochMetrics[];
}

/** What the implementation of `fit` takes: either options type, seen loosely. */
type AnyFitOptions = Omit<FitOptions, 'loss'> & { loss?: Loss; targets?: Tensor; validationTargets?: Tensor };

/**
 * Training went numerically wrong: the loss or the weights became NaN or infinite (typically a
 * learning rate too high). `fit` throws it before `onEpoch` would see the broken weights, so a
 * checkpoint or model written from `onEpoch` is always one from before the divergence.
 */
export class TrainingDivergedError extends Error {
  constructor(
    message: string,
    /** The epoch (1-based) in which it happened. */
    readonly epoch: number,
    /** The parameter or buffer that holds a non-finite value (`layers.<i>.<name>`), or null for the loss. */
    readonly tensor: string | null,
    /** What went wrong, without the epoch, e.g. "parameter layers.0.weight holds Infinity at element 3". */
    readonly detail: string,
  ) {
    super(message);
    this.name = 'TrainingDivergedError';
  }
}

/**
 * The first parameter or buffer of `model` holding NaN or ±Infinity, as `{ name: 'layers.<i>.<name>',
 * index, value }`, or null when every value is finite.
 */
export function firstNonFinite(model: Sequential): { name: string; index: number; value: number } | null {
  for (let i = 0; i < model.layers.length; i++) {
    const layer = model.layers[i];
    for (const t of [...layer.params(), ...layer.buffers()]) {
      const d = t.value.data;
      for (let j = 0; j < d.length; j++) if (!Number.isFinite(d[j])) return { name: `layers.${i}.${t.name}`, index: j, value: d[j] };
    }
  }
  return null;
}

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/**
 * Trains `model` on `train`, one optimizer step per mini-batch, with `opts.loss` (softmax
 * cross-entropy on the labels by default; a tensor loss takes `targets`, see `TensorFitOptions`).
 * Callbacks may be async: `fit` awaits them (a browser page can yield to the UI in `onBatch`).
 */
export function fit(model: Sequential, train: Dataset, opts: FitOptions): Promise<FitResult>;
export function fit(model: Sequential, train: Dataset, opts: TensorFitOptions): Promise<TensorFitResult>;
export async function fit(model: Sequential, train: Dataset, fitOpts: FitOptions | TensorFitOptions): Promise<FitResult | TensorFitResult> {
  const op = 'fit';
  const opts = fitOpts as unknown as AnyFitOptions;
  const o = resolveFitOptions(op, model, train, opts);
  const loss = o.loss;
  // Accuracy exists only for a loss on labels (no fake accuracy for a regression).
  const labelled = loss.targets === 'labels';
  // Nothing to learn from would otherwise "complete" with NaN metrics.
  if (train.length === 0) throw new Error(`${op}: the training set is empty (0 images)`);
  if (opts.validation !== undefined && opts.validation.length === 0) throw new Error(`${op}: the validation set is empty (0 images); leave validation out or give it images`);
  if (o.dropLast && train.length < o.batchSize) throw new Error(`${op}: dropLast with batchSize ${o.batchSize} leaves no batch of the ${train.length} training images`);
  const history: EpochMetrics[] = [...(opts.history ?? [])];
  const rng = opts.rng ?? new Rng(opts.shuffleSeed ?? 0);
  const batches = train.numBatches(o.batchSize, o.dropLast);
  const total = o.dropLast ? batches * o.batchSize : train.length;
  let stopReason: FitResult['stopReason'] = 'completed';
  let lastEpoch = o.startEpoch;
  let bestEpoch: number | null = null;
  const optimizer = opts.optimizer;
  const lrOf = (): number | null => (typeof optimizer.lr === 'number' ? optimizer.lr : null);

  // e is the 0-based epoch index (the schedule's t); records and callbacks number epochs from 1.
  for (let e = o.startEpoch; e < opts.epochs; e++) {
    const epoch = e + 1;
    if (opts.schedule && o.scheduleUnit === 'epoch') optimizer.lr = checkLr(opts.schedule(e), e);
    const lr = o.scheduleUnit === 'batch' && opts.schedule ? checkLr(opts.schedule(e * batches), e * batches) : lrOf();
    const started = now();
    let lossSum = 0;
    let correct = 0;
    let seen = 0;
    let k = 0;
    const augment = o.augment ? { ...o.augment, rng } : undefined;
    for (const batch of train.batches(o.batchSize, { shuffle: o.shuffle, rng, augment, dropLast: o.dropLast })) {
      const y = batch.y;
      const x = opts.transform ? opts.transform(batch.x, rng) : batch.x;
      if (x !== batch.x && (x?.shape?.length !== batch.x.rank || x.shape.some((d, i) => d !== batch.x.shape[i]))) {
        throw new Error(`fit: transform returned shape [${x?.shape?.join(', ')}], expected the batch's shape [${batch.x.shape.join(', ')}]`);
      }
      if (opts.schedule && o.scheduleUnit === 'batch') optimizer.lr = checkLr(opts.schedule(e * batches + k), e * batches + k);
      const target = o.targets === null ? null : gatherRows(o.targets, batch.indices);
      const step = model.trainStep(x, target ?? y, optimizer, { loss });
      target?.dispose();
      if (!Number.isFinite(step.loss)) {
        const detail = `the training loss became ${step.loss} in batch ${k + 1}`;
        throw new TrainingDivergedError(`fit: ${detail} of epoch ${epoch}; try a lower learning rate`, epoch, null, detail);
      }
      lossSum += step.loss * y.length;
      correct += step.correct ?? 0;
      seen += y.length;
      if (opts.onBatch) {
        const info: TensorBatchInfo = {
          epoch,
          epochs: opts.epochs,
          batch: k,
          batches,
          size: y.length,
          loss: step.loss,
          epochLoss: lossSum / seen,
          seen,
          total,
          lr: lrOf(),
          elapsed: (now() - started) / 1000,
        };
        await opts.onBatch((labelled ? { ...info, accuracy: (step.correct ?? 0) / y.length, epochAccuracy: correct / seen } : info) as BatchInfo);
      }
      k++;
    }
    // The loss of a batch is computed before its update, so the epoch's last update can overflow
    // unseen: check the weights themselves before anyone (onEpoch, a checkpoint) gets them.
    const bad = firstNonFinite(model);
    if (bad !== null) {
      const detail = `parameter ${bad.name} holds ${bad.value} at element ${bad.index}`;
      throw new TrainingDivergedError(`fit: the weights became non-finite in epoch ${epoch} (${detail}); try a lower learning rate`, epoch, bad.name, detail);
    }
    const record = { epoch, lr, loss: seen > 0 ? lossSum / seen : NaN } as EpochMetrics;
    if (labelled) record.accuracy = seen > 0 ? correct / seen : NaN;
    record.samples = seen;
    record.seconds = (now() - started) / 1000;
    let validationSeconds = 0;
    if (opts.validation) {
      const t0 = now();
      if (labelled) {
        const v = evaluateDataset(model, opts.validation, { batchSize: o.evalBatchSize, loss: loss as LabelLoss });
        record.valLoss = v.loss;
        record.valAccuracy = v.accuracy;
      } else {
        record.valLoss = evaluateDataset(model, opts.validation, { batchSize: o.evalBatchSize, loss: loss as TensorLoss, targets: o.validationTargets as Tensor }).loss;
      }
      validationSeconds = (now() - t0) / 1000;
    }
    history.push(record);
    lastEpoch = epoch;
    let earlyStop = false;
    if (o.earlyStopping) {
      const s = earlyStoppingState(history, o.earlyStopping.monitor, o.earlyStopping.minDelta);
      bestEpoch = s.bestEpoch;
      earlyStop = s.wait >= o.earlyStopping.patience;
    }
    const verdict = opts.onEpoch
      ? await opts.onEpoch({ ...record, epochs: opts.epochs, history: [...history], validationSeconds, earlyStop, bestEpoch, rng })
      : undefined;
    if (earlyStop) {
      stopReason = 'earlyStopping';
      break;
    }
    if (verdict === 'stop') {
      stopReason = 'callback';
      break;
    }
  }
  return { history, stopReason, lastEpoch, bestEpoch };
}

/**
 * Where early stopping stands after `history`: the best epoch by `monitor` (the first one on ties;
 * an improvement must beat the best by more than `minDelta`) and how many epochs have passed since.
 */
export function earlyStoppingState(history: readonly EpochMetrics[], monitor: Monitor, minDelta = 0): { bestEpoch: number | null; best: number; wait: number } {
  const higherIsBetter = monitor === 'accuracy' || monitor === 'valAccuracy';
  let best = higherIsBetter ? -Infinity : Infinity;
  let bestEpoch: number | null = null;
  let wait = 0;
  for (const r of history) {
    const v = r[monitor];
    const improved = typeof v === 'number' && Number.isFinite(v) && (higherIsBetter ? v > best + minDelta : v < best - minDelta);
    if (improved || bestEpoch === null) {
      if (typeof v === 'number' && Number.isFinite(v)) best = v;
      bestEpoch = r.epoch;
      wait = 0;
    } else {
      wait++;
    }
  }
  return { bestEpoch, best, wait };
}

interface ResolvedFit {
  loss: Loss;
  /** The training targets of a tensor loss (null for a loss on labels). */
  targets: Tensor | null;
  validationTargets: Tensor | null;
  batchSize: number;
  evalBatchSize: number;
  startEpoch: number;
  shuffle: boolean;
  dropLast: boolean;
  scheduleUnit: 'epoch' | 'batch';
  augment: Omit<AugmentOptions, 'rng'> | null;
  earlyStopping: { patience: number; monitor: Monitor; minDelta: number } | null;
}

function resolveFitOptions(op: string, model: Sequential, train: Dataset, opts: AnyFitOptions): ResolvedFit {
  if (opts === null || typeof opts !== 'object') throw new Error(`${op}: options must be an object, got ${String(opts)}`);
  if (typeof model?.trainStep !== 'function') throw new Error(`${op}: model must be a Sequential`);
  if (typeof train?.batches !== 'function') throw new Error(`${op}: train must be a Dataset`);
  const int = (name: string, v: unknown, min: number): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new Error(`${op}: ${name} must be an integer >= ${min}, got ${String(v)}`);
    return v;
  };
  int('epochs', opts.epochs, 0);
  const batchSize = int('batchSize', opts.batchSize ?? 32, 1);
  const evalBatchSize = int('evalBatchSize', opts.evalBatchSize ?? 256, 1);
  const startEpoch = int('startEpoch', opts.startEpoch ?? 0, 0);
  const opt = opts.optimizer as FitOptimizer | undefined;
  if (typeof opt?.step !== 'function' || typeof opt.zeroGrad !== 'function') throw new Error(`${op}: optimizer must have step and zeroGrad (e.g. createOptimizer('adam'))`);
  if (opts.schedule !== undefined) {
    if (typeof opts.schedule !== 'function') throw new Error(`${op}: schedule must be a function of the epoch, got ${typeof opts.schedule}`);
    if (typeof opt.lr !== 'number') throw new Error(`${op}: a schedule needs an optimizer with a settable lr`);
  }
  const scheduleUnit = opts.scheduleUnit ?? 'epoch';
  if (scheduleUnit !== 'epoch' && scheduleUnit !== 'batch') throw new Error(`${op}: scheduleUnit must be 'epoch' or 'batch', got ${String(scheduleUnit)}`);
  if (opts.rng !== undefined && typeof opts.rng?.permutation !== 'function') throw new Error(`${op}: rng must be an Rng`);
  if (opts.transform !== undefined && typeof opts.transform !== 'function') throw new Error(`${op}: transform must be a function (x, rng) => x, got ${typeof opts.transform}`);
  const loss = opts.loss ?? crossEntropyLoss;
  checkLoss(op, loss);
  const labelled = loss.targets === 'labels';
  checkDataFits(op, model, train, labelled);
  if (opts.validation !== undefined) checkDataFits(`${op}: validation`, model, opts.validation, labelled);
  let targets: Tensor | null = null;
  let validationTargets: Tensor | null = null;
  if (labelled) {
    for (const name of ['targets', 'validationTargets'] as const) {
      if (opts[name] !== undefined) throw new Error(`${op}: ${name} is only for a loss whose targets are tensors; loss '${loss.name}' trains on the dataset's labels`);
    }
  } else {
    targets = checkTargets(op, 'targets', opts.targets, model, train.length);
    if (opts.validation !== undefined) validationTargets = checkTargets(op, 'validationTargets', opts.validationTargets, model, opts.validation.length);
    else if (opts.validationTargets !== undefined) throw new Error(`${op}: validationTargets needs validation data`);
  }
  let earlyStopping: ResolvedFit['earlyStopping'] = null;
  if (opts.earlyStopping !== undefined) {
    const es = opts.earlyStopping;
    const patience = int('earlyStopping.patience', es?.patience, 1);
    const monitor = es.monitor ?? (opts.validation ? 'valLoss' : 'loss');
    if (!['loss', 'accuracy', 'valLoss', 'valAccuracy'].includes(monitor)) {
      throw new Error(`${op}: earlyStopping.monitor must be one of loss, accuracy, valLoss, valAccuracy, got ${String(monitor)}`);
    }
    if ((monitor === 'valLoss' || monitor === 'valAccuracy') && !opts.validation) throw new Error(`${op}: earlyStopping.monitor '${monitor}' needs validation data`);
    if ((monitor === 'accuracy' || monitor === 'valAccuracy') && !labelled) throw new Error(`${op}: earlyStopping.monitor '${monitor}' needs a loss on labels; loss '${loss.name}' has no accuracy (watch 'loss' or 'valLoss')`);
    const minDelta = es.minDelta ?? 0;
    if (typeof minDelta !== 'number' || !(minDelta >= 0)) throw new Error(`${op}: earlyStopping.minDelta must be a number >= 0, got ${String(minDelta)}`);
    earlyStopping = { patience, monitor, minDelta };
  }
  if (opts.history !== undefined && !Array.isArray(opts.history)) throw new Error(`${op}: history must be an array of epoch records`);
  return {
    loss,
    targets,
    validationTargets,
    batchSize,
    evalBatchSize,
    startEpoch,
    shuffle: opts.shuffle ?? true,
    dropLast: opts.dropLast ?? false,
    scheduleUnit,
    augment: opts.augment ?? null,
    earlyStopping,
  };
}

function checkLr(lr: number, t: number): number {
  if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0) throw new Error(`fit: schedule(${t}) returned ${String(lr)}, expected a finite learning rate >= 0`);
  return lr;
}
