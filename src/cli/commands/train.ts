/**
 * `stride train`: train a preset or a model file on MNIST or an image folder, with progress, per-epoch
 * checkpoints (`--checkpoint DIR`, `--resume`), a final test evaluation and confusion matrix, and
 * the model saved to `--out`.
 *
 * Resuming: every checkpoint stores the run's configuration, metrics history, optimizer state and
 * the shuffle/augmentation Rng state (the model file inside it stores the weights and the model's
 * own Rng). `train --resume --checkpoint DIR --epochs N` restores all of that and continues, so
 * `train --epochs 2` and `train --epochs 1` + `train --resume --epochs 2` give the same bytes.
 */
import type { Command } from 'commander';
import { Rng } from '../../tensor/random.js';
import { evaluateDataset } from '../../model/evaluate.js';
import { fit, firstNonFinite, TrainingDivergedError, type EpochInfo, type EpochMetrics } from '../../model/fit.js';
import { createOptimizer, type OptimizerName } from '../../optim/registry.js';
import type { Optimizer } from '../../optim/optimizer.js';
import { createSchedule, type ScheduleKind, type ScheduleSpec } from '../../optim/schedule.js';
import { loadCheckpoint, saveCheckpoint, hasCheckpoint, readIndex } from '../../node/checkpoint.js';
import type { Json } from '../../model/checkpoint.js';
import { trainingCurvesSvg, batchEpoch, type BatchRecord } from '../../viz/plot.js';
import type { Dataset } from '../../data/dataset.js';
import type { Sequential } from '../../model/sequential.js';
import { selectBackend, type BackendName } from '../backend.js';
import { loadData, isMnist } from '../data.js';
import { infoFromMetadata, infoMetadata, readModelFile, resolveModel, writeModelFile, type ModelInfo } from '../models.js';
import { isPreset } from '../../model/presets.js';
import { Progress, formatLr } from '../progress.js';
import { writeSvgOrPng } from '../images.js';
import { checkDistinct, checkOutputDir, checkOutputFile, freePath, shellQuote } from '../outputs.js';
import { CliError, confusionTable, duration, makeOutput, pct, num, rows, usageError } from '../util.js';
import { basename, extname, relative } from 'node:path';
import { randomAffine } from '../../data/affine.js';
import { checkTrainingData, dataRecord } from '../provenance.js';

/** Everything that determines a training run; stored in checkpoints so `--resume` can continue it. */
export interface TrainConfig {
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
}

/**
 * The defaults of `stride train` (and so of `npm start`): LeNet on the standard MNIST (60,000
 * training images), 3 epochs so that the whole `npm start` takes under 6 minutes on 2 cores (4 min
 * 35 s measured; 4 epochs took 6 min 3 s): 99.25% on the 10,000 test images with seed 1 (99.43% with
 * 4 epochs; runs in docs/cli.md, Measurements). Batch 64 trains about
 * 10% more images per second than 32 and still gives 3,750 updates.
 */
export const TRAIN_DEFAULTS = {
  model: 'lenet',
  data: 'mnist',
  epochs: 3,
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
const FIXED_ON_RESUME: (keyof TrainConfig)[] = ['model', 'data', 'testData', 'imageSize', 'channels', 'seed', 'valSplit', 'limit', 'optimizer'];

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

interface RawOptions extends TrainRunOptions {
  [key: string]: unknown;
}

/** Reads the config from commander's parsed options. */
function configFrom(o: RawOptions): TrainConfig {
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
const CONFIG_KEYS: (keyof TrainConfig)[] = [
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

function buildOptimizer(c: TrainConfig): Optimizer {
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
function buildSchedule(c: TrainConfig, baseLr: number): ScheduleSpec {
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

/**
 * The optimizer as in its toString(), with the schedule's base rate as lr (a resumed optimizer holds the
 * last scheduled rate, a long float) and numbers rounded to 4 significant digits.
 */
function describeOptimizer(o: Optimizer, baseLr: number): string {
  return o
    .toString()
    .replace(/\blr=[^,)]*/, `lr=${baseLr}`)
    .replace(/\d+\.\d+(?:e[-+]?\d+)?/g, (m) => String(Number(Number(m).toPrecision(4))));
}

/**
 * What resuming with a different --epochs (or other schedule options) does to the learning rates,
 * in words; null when nothing about the schedule changed. An exact extension is impossible when the
 * schedule depends on the total (cosine anneals over --epochs, step's default size is epochs/3):
 * epochs 1..start already ran on the old plan.
 */
function resumeNote(saved: TrainConfig, now: TrainConfig, start: number, history: readonly EpochMetrics[], schedule: (t: number) => number): string | null {
  const base = saved.lr ?? 0;
  const before = JSON.stringify(buildSchedule(saved, base));
  const after = JSON.stringify(buildSchedule(now, now.lr ?? base));
  const sameTotal = saved.epochs === now.epochs;
  if (sameTotal && before === after) return null;
  const n = now.epochs;
  const head = sameTotal ? 'the schedule options changed' : `${n > saved.epochs ? 'extending' : 'shortening'} the run from ${saved.epochs} to ${n} epochs`;
  if (!sameTotal && before === after) return `${head}: the ${now.schedule} schedule does not depend on --epochs, so this is the same as a straight ${n}-epoch run`;
  const span = start + 1 === n ? `epoch ${n}` : `epochs ${start + 1}-${n}`;
  const last = history.length > 0 ? history[history.length - 1].lr : null;
  const rates = `lr ${formatLr(schedule(start))} in epoch ${start + 1}${last !== null && start > 0 ? `, after ${formatLr(last)} in epoch ${start}` : ''}`;
  const onlyTotal = JSON.stringify(buildSchedule({ ...saved, epochs: n }, base)) === after;
  if (onlyTotal) {
    return `${head}: the ${now.schedule} schedule is re-planned over ${n} epochs, so ${span} get the rates a run of ${n} epochs has there (${rates}); epochs 1-${start} were trained on the ${saved.epochs}-epoch plan, so this is not the same model as a straight ${n}-epoch run`;
  }
  return `${head}: ${span} follow the new ${now.schedule} schedule (${rates}); this is not the same model as a straight run with these options`;
}

function describeSchedule(s: ScheduleSpec): string {
  const w = s.warmup ? `, warmup ${s.warmup}` : '';
  switch (s.kind) {
    case 'constant':
      return `constant${w}`;
    case 'step':
      return `step (x${s.gamma} every ${s.stepSize} epochs${w})`;
    case 'exponential':
      return `exponential (x${s.gamma} per epoch${w})`;
    case 'cosine':
      return `cosine (to ${formatLr(s.minLr ?? 0)} over ${s.tMax} epochs${w})`;
  }
}

function describeAugment(c: TrainConfig): string {
  const parts: string[] = [];
  if (c.augment > 0) parts.push(`shift ±${c.augment}px`);
  if (c.rotate > 0) parts.push(`rotate ±${c.rotate}°`);
  if (c.scale > 0) parts.push(`scale ±${Math.round(c.scale * 100)}%`);
  return parts.length > 0 ? `augment ${parts.join(', ')}` : 'no augmentation';
}

function defaultOutPath(c: TrainConfig): string {
  const model = c.model.includes('/') || c.model.includes('.') ? basename(c.model, extname(c.model)) : c.model;
  const data = isMnist(c.data) ? 'mnist' : basename(c.data.replace(/[/\\]+$/, '')) || 'data';
  return `models/${model}-${data}.safetensors`;
}

export async function trainCommand(raw: RawOptions, cmd: Command): Promise<void> {
  const out = makeOutput(raw.json);
  const started = performance.now();
  const given = (k: string): boolean => cmd.getOptionValueSource(k) === 'cli';
  if (raw.resume && raw.checkpoint === undefined) throw usageError('--resume needs --checkpoint DIR (the directory to resume from)');

  // Every path train writes is checked before anything long happens (a run must not end unsaved).
  if (raw.plot !== undefined) {
    const ext = extname(raw.plot).toLowerCase();
    if (ext !== '.svg' && ext !== '.png') throw usageError(`--plot '${raw.plot}': the file name must end in .svg or .png`);
  }
  checkDistinct([
    ['--out', raw.save ? raw.out : undefined, 'file'],
    ['--plot', raw.plot, 'file'],
    ['--checkpoint', raw.checkpoint, 'path'],
  ]);
  if (raw.checkpoint !== undefined) {
    await checkOutputDir(raw.checkpoint, '--checkpoint');
    if (!raw.resume && !raw.force && (await hasCheckpoint(raw.checkpoint))) throw await startOverError(raw.checkpoint, given('epochs') ? (raw.epochs as number) : null);
  }
  if (raw.save && raw.out !== undefined) await checkOutputFile(raw.out, '--out', { overwrite: raw.force === true, hint: 'model.safetensors' });
  if (raw.plot !== undefined) await checkOutputFile(raw.plot, '--plot', { overwrite: true });

  let config = configFrom(raw);
  let model: Sequential;
  let optimizer: Optimizer;
  let startEpoch = 0;
  let history: EpochMetrics[] = [];
  let rngState: number[] | null = null;
  /** The configuration the checkpoint was trained with (resuming only). */
  let savedConfig: TrainConfig | null = null;
  /** What the checkpoint's model file records about its data (class names, resize mode). */
  let resumedInfo: ModelInfo = {};

  if (raw.resume) {
    if (!(await hasCheckpoint(raw.checkpoint!))) throw new CliError(`--resume: no checkpoint in '${raw.checkpoint}' (expected ${raw.checkpoint}/checkpoint.json)`);
    const ck = await loadCheckpoint(raw.checkpoint!);
    const saved = ck.config as unknown as TrainConfig;
    if (saved === null || typeof saved !== 'object' || typeof saved.model !== 'string') {
      throw new CliError(`--resume: the checkpoint in '${raw.checkpoint}' was not written by 'stride train' (no training config)`);
    }
    savedConfig = saved;
    const merged: TrainConfig = { ...saved };
    for (const k of CONFIG_KEYS) {
      if (!given(k)) continue;
      const now = config[k];
      if (FIXED_ON_RESUME.includes(k) && JSON.stringify(now) !== JSON.stringify(saved[k])) {
        throw usageError(`--resume: --${kebab(k)} cannot change when resuming (the checkpoint was trained with ${JSON.stringify(saved[k])}, got ${JSON.stringify(now)})`);
      }
      (merged as unknown as Record<string, unknown>)[k] = now;
    }
    config = merged;
    model = ck.model;
    resumedInfo = infoFromMetadata(ck.modelMetadata);
    if (ck.optimizer === null) throw new CliError(`--resume: the checkpoint in '${raw.checkpoint}' has no optimizer state`);
    optimizer = ck.optimizer;
    if (given('lr')) optimizer.lr = config.lr!;
    startEpoch = ck.epoch;
    history = (ck.metrics as unknown as EpochMetrics[]).map((r) => ({ ...r }));
    const ts = ck.trainerState as { rng?: number[] } | null;
    if (!Array.isArray(ts?.rng)) throw new CliError(`--resume: the checkpoint in '${raw.checkpoint}' has no shuffle Rng state`);
    rngState = ts.rng;
  } else {
    model = undefined as unknown as Sequential;
    optimizer = buildOptimizer(config);
    // Record the base learning rate itself: on resume the optimizer's lr is the last scheduled one.
    if (config.lr === null) config.lr = optimizer.lr;
  }

  // The default model file never replaces an existing one (e.g. `npm start`'s): it takes the next free name.
  let outPath: string | undefined;
  let outNote: string | null = null;
  if (raw.save && raw.out !== undefined) {
    outPath = raw.out;
  } else if (raw.save) {
    const wanted = defaultOutPath(config);
    outPath = await freePath(wanted);
    if (outPath !== wanted) outNote = `${wanted} exists, so the model will be saved to ${outPath} (-o FILE --force replaces a file)`;
    await checkOutputFile(outPath, '--out', { overwrite: false });
  }

  const { backend, threads } = await selectBackend(raw.backend, raw.threads, (m) => out.warn(m));

  // The model decides the image shape when it comes from a file; a preset takes --image-size/--channels.
  const rootRng = new Rng(config.seed);
  const splitRng = rootRng.fork();
  const trainRng = rootRng.fork();
  let shape: [number, number, number] = [config.imageSize?.[0] ?? 28, config.imageSize?.[1] ?? 28, config.channels ?? 1];
  let fileInfo: ModelInfo = resumedInfo;
  if (model === undefined && !isPreset(config.model.toLowerCase())) {
    const peek = await readModelFile(config.model);
    {
      const s = peek.model.inputShape;
      if (s.length !== 3 || (s[2] !== 1 && s[2] !== 3)) throw new CliError(`model '${config.model}' takes input [${s.join(', ')}], not images [H, W, 1 or 3]`);
      if (config.imageSize !== null && (config.imageSize[0] !== s[0] || config.imageSize[1] !== s[1])) {
        throw usageError(`--image-size ${config.imageSize.join('x')} does not match the model file's input ${s[0]}x${s[1]}`);
      }
      if (config.channels !== null && config.channels !== s[2]) throw usageError(`--channels ${config.channels} does not match the model file's input channels ${s[2]}`);
      shape = [s[0], s[1], s[2]];
      model = peek.model;
      fileInfo = peek.info;
    }
  } else if (model !== undefined) {
    shape = [model.inputShape[0], model.inputShape[1], model.inputShape[2]];
  }

  let data;
  try {
    data = await loadData({
      data: config.data,
      testData: config.testData ?? undefined,
      image: { height: shape[0], width: shape[1], channels: shape[2] as 1 | 3, fit: fileInfo.fit },
      classes: fileInfo.classNames,
      limit: config.limit ?? undefined,
      testLimit: config.testLimit ?? undefined,
      onWarning: (m) => out.warn(m),
      skipBad: raw.skipBad === true,
    });
  } catch (e) {
    if (raw.skipBad !== true && /cannot read image/.test((e as Error).message)) {
      throw new CliError(`${(e as Error).message} (add --skip-bad to leave unreadable images out)`);
    }
    throw e;
  }
  if (data.skipped !== undefined && data.skipped.files.length > 0) {
    const n = data.skipped.files.length;
    out.warn(`--skip-bad: skipped ${n} unreadable image${n === 1 ? '' : 's'} (of ${data.skipped.of}): ${data.skipped.files.map((f) => relative(process.cwd(), f)).join(', ')}`);
  }
  // At least 2 classes and a non-empty test set, before any training.
  for (const w of checkTrainingData(data, config)) out.warn(w);
  if (model === undefined) {
    model = (await resolveModel(config.model, { inputShape: shape, numClasses: data.classNames.length, seed: config.seed })).model;
  }
  const k = model.outputShape[model.outputShape.length - 1];
  if (model.outputShape.length !== 1 || k < data.classNames.length) {
    throw new CliError(`model '${config.model}' outputs [${model.outputShape.join(', ')}] but the data has ${data.classNames.length} classes`);
  }
  const info: ModelInfo = { ...fileInfo, classNames: [...data.classNames], data: data.name };
  if (isPreset(config.model.toLowerCase())) info.preset = config.model.toLowerCase();

  let train: Dataset = data.train;
  let validation: Dataset | undefined;
  if (config.valSplit > 0) {
    ({ train, validation } = data.train.splitValidation(config.valSplit, { rng: splitRng }));
    if (validation.length === 0) throw usageError(`--val-split ${config.valSplit} leaves no validation images out of ${data.train.length}`);
  }
  if (train.length === 0) throw usageError('no training images (check --limit and --val-split)');
  // Which images the model is trained and tested on, for `eval` (provenance.ts).
  info.dataset = dataRecord(data, config, validation?.length ?? 0);
  if (config.earlyStopping !== null && config.epochs <= startEpoch) out.warn('--early-stopping has no effect: no epochs left to run');

  if (config.warmup > 0 && config.warmup >= config.epochs) {
    throw usageError(`--warmup ${config.warmup} leaves no epoch for the schedule: it must be less than --epochs (${config.epochs})`);
  }
  const baseLr = config.lr ?? optimizer.lr;
  const scheduleSpec = buildSchedule(config, baseLr);
  let schedule;
  try {
    schedule = createSchedule(scheduleSpec);
  } catch (e) {
    throw usageError((e as Error).message);
  }
  const notes: string[] = [];
  if (savedConfig !== null && startEpoch < config.epochs) {
    const note = resumeNote(savedConfig, config, startEpoch, history, schedule);
    if (note !== null) notes.push(note);
  }
  if (rngState !== null) trainRng.setState(rngState);

  const params = model.paramCount();
  out.info(`model    ${config.model}: ${params.toLocaleString('en-US')} params, ${(model.flops() / 1e6).toFixed(1)} MFLOPs per image, input ${shape.join('x')}`);
  out.info(
    `data     ${data.name}: ${train.length.toLocaleString('en-US')} train${validation ? ` + ${validation.length.toLocaleString('en-US')} validation` : ''}, ${data.test.length.toLocaleString('en-US')} test, ${data.classNames.length} classes`,
  );
  out.info(
    `train    ${config.epochs} epoch${config.epochs === 1 ? '' : 's'}, batch ${config.batchSize}, ${describeOptimizer(optimizer, baseLr)}, lr schedule ${describeSchedule(scheduleSpec)}, ${describeAugment(config)}, seed ${config.seed}`,
  );
  out.info(`backend  ${backend}${backend === 'wasm' ? `, ${threads} thread${threads === 1 ? '' : 's'}` : ''}`);
  if (startEpoch > 0) out.info(`resume   from epoch ${startEpoch} in ${raw.checkpoint}`);
  for (const n of notes) out.info(`resume   ${n}`);
  if (outNote !== null) out.info(`out      ${outNote}`);
  out.event({
    event: 'start',
    model: config.model,
    params,
    flops: model.flops(),
    inputShape: shape,
    data: data.name,
    classNames: data.classNames,
    train: train.length,
    validation: validation?.length ?? 0,
    test: data.test.length,
    optimizer: optimizer.toSpec(),
    schedule: scheduleSpec,
    config,
    backend,
    threads,
    startEpoch,
    notes,
  });

  const progress = new Progress(out);
  const batchRecords: BatchRecord[] = [];
  // The last epoch whose checkpoint is on disk (for the message if training diverges).
  let savedEpoch: number | null = startEpoch > 0 ? startEpoch : null;
  let result;
  try {
    result = await fit(model, train, {
      epochs: config.epochs,
      batchSize: config.batchSize,
      optimizer,
      schedule,
      validation,
      earlyStopping: config.earlyStopping !== null ? { patience: config.earlyStopping } : undefined,
      rng: trainRng,
      augment: config.augment > 0 ? { shift: config.augment } : undefined,
      transform: config.rotate > 0 || config.scale > 0 ? randomAffine({ degrees: config.rotate, scale: config.scale }) : undefined,
      startEpoch,
      history,
      onBatch: (b) => {
        progress.batch(b);
        batchRecords.push({ epoch: batchEpoch(b.epoch, b.batch, b.batches), loss: b.loss, accuracy: b.accuracy });
      },
      onEpoch: async (e: EpochInfo) => {
        progress.epoch(e);
        if (raw.checkpoint !== undefined) {
          const saved = await saveCheckpoint(raw.checkpoint, {
            model,
            optimizer,
            epoch: e.epoch,
            metrics: e.history as unknown as Json[],
            config: config as unknown as Json,
            trainerState: { rng: e.rng.getState() },
            modelMetadata: infoMetadata(info),
          });
          savedEpoch = e.epoch;
          out.event({ event: 'checkpoint', epoch: e.epoch, path: saved.path });
        }
      },
    });
  } catch (e) {
    if (!(e instanceof TrainingDivergedError)) throw e;
    throw divergedError(e, raw.checkpoint !== undefined ? savedEpoch : null, raw.checkpoint, baseLr);
  } finally {
    progress.clear();
  }
  if (startEpoch >= config.epochs) out.info(`nothing to train: the checkpoint has ${startEpoch} epochs and --epochs is ${config.epochs}`);

  // Test evaluation.
  const test = evaluateDataset(model, data.test);
  const correct = Math.round(test.accuracy * test.count);
  out.info('');
  out.info(`test accuracy ${pct(test.accuracy)} (${correct}/${test.count})  loss ${num(test.loss)}  [${data.testSource}]`);
  out.info('confusion matrix (rows: true class, columns: predicted class)');
  out.info(confusionTable(test.confusion, data.classNames));
  out.event({ event: 'test', accuracy: test.accuracy, loss: test.loss, correct, count: test.count, classNames: data.classNames, confusion: rows(test.confusion, test.numClasses) });

  if (outPath !== undefined) {
    const bad = firstNonFinite(model);
    if (bad !== null) throw new CliError(`not saving the model: parameter ${bad.name} holds ${bad.value} at element ${bad.index}`);
    await writeModelFile(model, info, outPath);
    out.info(`saved model to ${outPath}`);
    out.event({ event: 'saved', path: outPath });
  }
  if (raw.plot !== undefined) {
    const records = result.history.map((r, i, all) => ({
      epoch: r.epoch,
      trainLoss: r.loss,
      trainAccuracy: r.accuracy,
      valLoss: r.valLoss,
      valAccuracy: r.valAccuracy,
      testAccuracy: i === all.length - 1 ? test.accuracy : undefined,
    }));
    if (records.length > 0) {
      await writeSvgOrPng(raw.plot, trainingCurvesSvg(records, { title: `${config.model} on ${data.name}`, batches: batchRecords }), '--plot');
      out.info(`saved training curves to ${raw.plot}`);
      out.event({ event: 'plot', path: raw.plot });
    } else {
      out.warn('--plot: no epochs to plot');
    }
  }
  const seconds = (performance.now() - started) / 1000;
  out.info(`done in ${duration(seconds)}`);
  out.event({ event: 'done', seconds, stopReason: result.stopReason, epochs: result.lastEpoch, testAccuracy: test.accuracy });
}

/** The message for a run whose loss or weights became non-finite: what, when, what was kept, what to try. */
function divergedError(e: TrainingDivergedError, savedEpoch: number | null, checkpoint: string | undefined, lr: number): CliError {
  const kept =
    checkpoint !== undefined && savedEpoch !== null
      ? `the checkpoint of epoch ${savedEpoch} in '${checkpoint}' is kept (to continue from it: stride train --resume --checkpoint ${shellQuote(checkpoint)} --lr ${formatLr(lr / 10)})`
      : 'nothing was saved';
  return new CliError(`training diverged in epoch ${e.epoch}: ${e.detail}; ${kept}; try a lower --lr (it was ${formatLr(lr)})`);
}

/** Starting over in a folder that holds a checkpoint would delete it after the first epoch: say how to resume. */
async function startOverError(dir: string, epochs: number | null): Promise<CliError> {
  let at = '';
  try {
    const index = await readIndex('train', dir);
    if (index !== null) at = ` (after epoch ${index.latest.epoch})`;
  } catch {
    // An unreadable index still blocks starting over; the epoch is only for the message.
  }
  const cmd = `stride train --resume --checkpoint ${shellQuote(dir)}${epochs !== null ? ` --epochs ${epochs}` : ''}`;
  return usageError(
    `--checkpoint '${dir}' already holds a checkpoint${at}; to continue it: ${cmd}; to start a new run there instead (its checkpoint is replaced after the first epoch), add --force`,
  );
}

function kebab(k: string): string {
  return k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
