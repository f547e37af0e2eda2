/**
 * `stride eval`: accuracy, per-class precision/recall/F1 and the confusion matrix of a model file,
 * on the images the user names or the test set recorded in the model file (provenance.ts); never
 * on training images labelled as a test set.
 */
import { evaluateDataset } from '../../model/evaluate.js';
import { classificationMetrics } from '../../metrics.js';
import { selectBackend, type BackendName } from '../backend.js';
import { readModelFile } from '../models.js';
import { chooseEvalData, type EvalSplit } from '../provenance.js';
import { CliError, confusionTable, makeOutput, num, pct, personMessage, rows, table } from '../util.js';
import { nonFinite } from './predict.js';

export interface EvalOptions {
  data?: string;
  /** Undefined: the recorded test set (or all of a folder the model never saw). */
  split?: EvalSplit;
  limit?: number;
  batchSize: number;
  json?: boolean;
  backend?: BackendName;
  threads?: number;
}

export async function evalCommand(path: string, opts: EvalOptions): Promise<void> {
  const out = makeOutput(opts.json ?? false);
  const { model, info } = await readModelFile(path);
  const s = model.inputShape;
  if (s.length !== 3 || (s[2] !== 1 && s[2] !== 3)) throw new CliError(`model '${path}' takes input [${s.join(', ')}], not images [H, W, 1 or 3]`);
  await selectBackend(opts.backend, opts.threads);
  const choice = await chooseEvalData(
    { data: opts.data, split: opts.split, limit: opts.limit, model: path },
    info.dataset,
    info.data,
    { height: s[0], width: s[1], channels: s[2] as 1 | 3, fit: info.fit },
    info.classNames,
  );
  for (const w of choice.warnings) out.warn(w);
  const data = choice.dataset;
  const k = model.outputShape[0];
  if (model.outputShape.length !== 1 || k < data.numClasses) throw new CliError(`model '${path}' outputs [${model.outputShape.join(', ')}] but the data has ${data.numClasses} classes`);
  let ev;
  try {
    ev = evaluateDataset(model, data, { batchSize: opts.batchSize });
  } catch (e) {
    const m = /not finite \(([^)]*)\)/.exec((e as Error).message);
    if (m !== null) throw nonFinite(path, model, choice.label, Number(m[1]));
    throw new CliError(personMessage((e as Error).message));
  }
  const names = Array.from({ length: k }, (_, i) => info.classNames?.[i] ?? data.classNames[i] ?? String(i));
  const m = classificationMetrics(ev.confusion, k);
  const correct = Math.round(ev.accuracy * ev.count);

  out.info(`${path} on ${choice.label}: ${ev.count} images`);
  out.info(`accuracy ${pct(ev.accuracy)} (${correct}/${ev.count})  loss ${num(ev.loss)}`);
  out.info('');
  const t: string[][] = [['class', 'precision', 'recall', 'F1', 'support']];
  m.perClass.forEach((c, i) => t.push([names[i], pct(c.precision), pct(c.recall), pct(c.f1), String(c.support)]));
  t.push(['macro avg', pct(m.macro.precision), pct(m.macro.recall), pct(m.macro.f1), String(ev.count)]);
  out.info(table(t));
  out.info('');
  out.info('confusion matrix (rows: true class, columns: predicted class)');
  out.info(confusionTable(ev.confusion, names));
  out.event({
    model: path,
    data: choice.data,
    split: choice.split,
    images: choice.label,
    trainingImages: choice.training,
    count: ev.count,
    accuracy: ev.accuracy,
    loss: ev.loss,
    classNames: names,
    perClass: m.perClass.map((c, i) => ({ class: names[i], ...c })),
    macro: m.macro,
    confusion: rows(ev.confusion, k),
  });
}
