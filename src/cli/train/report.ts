/**
 * What `stride train` reports: the run's plan before training (model, data, optimizer, schedule,
 * augmentation, backend; a `start` event with `--json`), and after it the test evaluation with its
 * confusion matrix, the saved model and the training curves.
 */
import type { Dataset } from '../../data/dataset.js';
import { evaluateDataset, type Evaluation } from '../../model/evaluate.js';
import { firstNonFinite, type FitResult } from '../../model/fit.js';
import type { Sequential } from '../../model/sequential.js';
import type { Optimizer } from '../../optim/optimizer.js';
import type { ScheduleSpec } from '../../optim/schedule.js';
import { trainingCurvesSvg, type BatchRecord } from '../../viz/plot.js';
import type { LoadedData } from '../data.js';
import { writeSvgOrPng } from '../images.js';
import { writeModelFile, type CliModelInfo } from '../models.js';
import { formatLr } from '../progress.js';
import { CliError, confusionTable, num, pct, rows, type Output } from '../util.js';
import type { TrainConfig } from './config.js';
import type { RunStart } from './start.js';
import type { SchedulePlan } from './schedule.js';

/** Everything the opening lines describe. */
export interface RunSummary {
  run: RunStart;
  plan: SchedulePlan;
  model: Sequential;
  shape: [number, number, number];
  data: LoadedData;
  train: Dataset;
  validation: Dataset | undefined;
  backend: { backend: string; threads: number };
  checkpoint: string | undefined;
  /** Why the model file does not go to its default name, if so. */
  outNote: string | null;
}

/** The opening lines (and the `start` event): what is about to be trained, on what, and how. */
export function reportStart(out: Output, s: RunSummary): void {
  const { config, optimizer, startEpoch } = s.run;
  const { model, shape, data, train, validation } = s;
  const { backend, threads } = s.backend;
  const params = model.paramCount();
  out.info(`model    ${config.model}: ${params.toLocaleString('en-US')} params, ${(model.flops() / 1e6).toFixed(1)} MFLOPs per image, input ${shape.join('x')}`);
  out.info(
    `data     ${data.name}: ${train.length.toLocaleString('en-US')} train${validation ? ` + ${validation.length.toLocaleString('en-US')} validation` : ''}, ${data.test.length.toLocaleString('en-US')} test, ${data.classNames.length} classes`,
  );
  out.info(
    `train    ${config.epochs} epoch${config.epochs === 1 ? '' : 's'}, batch ${config.batchSize}, ${describeOptimizer(optimizer, s.plan.baseLr)}, lr schedule ${describeSchedule(s.plan.spec)}, ${describeAugment(config)}, seed ${config.seed}`,
  );
  out.info(`backend  ${backend}${backend === 'wasm' ? `, ${threads} thread${threads === 1 ? '' : 's'}` : ''}`);
  if (startEpoch > 0) out.info(`resume   from epoch ${startEpoch} in ${s.checkpoint}`);
  for (const n of s.plan.notes) out.info(`resume   ${n}`);
  if (s.outNote !== null) out.info(`out      ${s.outNote}`);
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
    schedule: s.plan.spec,
    config,
    backend,
    threads,
    startEpoch,
    notes: s.plan.notes,
  });
}

/** Evaluates the trained model on the test set and reports accuracy, loss and the confusion matrix. */
export function reportTest(out: Output, model: Sequential, data: LoadedData): Evaluation {
  const test = evaluateDataset(model, data.test);
  const correct = Math.round(test.accuracy * test.count);
  out.info('');
  out.info(`test accuracy ${pct(test.accuracy)} (${correct}/${test.count})  loss ${num(test.loss)}  [${data.testSource}]`);
  out.info('confusion matrix (rows: true class, columns: predicted class)');
  out.info(confusionTable(test.confusion, data.classNames));
  out.event({ event: 'test', accuracy: test.accuracy, loss: test.loss, correct, count: test.count, classNames: data.classNames, confusion: rows(test.confusion, test.numClasses) });
  return test;
}

/** Writes the trained model to `path`, refusing weights that are not finite. */
export async function saveTrainedModel(out: Output, model: Sequential, info: CliModelInfo, path: string): Promise<void> {
  const bad = firstNonFinite(model);
  if (bad !== null) throw new CliError(`not saving the model: parameter ${bad.name} holds ${bad.value} at element ${bad.index}`);
  await writeModelFile(model, info, path);
  out.info(`saved model to ${path}`);
  out.event({ event: 'saved', path });
}

/** Writes the training curves (every epoch's losses and accuracies, the batches behind them, the test accuracy at the end) to `path`. */
export async function writePlot(out: Output, path: string, title: string, result: FitResult, batches: BatchRecord[], testAccuracy: number): Promise<void> {
  const records = result.history.map((r, i, all) => ({
    epoch: r.epoch,
    trainLoss: r.loss,
    trainAccuracy: r.accuracy,
    valLoss: r.valLoss,
    valAccuracy: r.valAccuracy,
    testAccuracy: i === all.length - 1 ? testAccuracy : undefined,
  }));
  if (records.length > 0) {
    await writeSvgOrPng(path, trainingCurvesSvg(records, { title, batches }), '--plot');
    out.info(`saved training curves to ${path}`);
    out.event({ event: 'plot', path });
  } else {
    out.warn('--plot: no epochs to plot');
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
