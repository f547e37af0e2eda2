/** `stride eval`: accuracy, per-class precision/recall/F1 and the confusion matrix of a model file. */
import { classificationMetrics, evaluateDataset } from '../../model/fit.js';
import { selectBackend, type BackendName } from '../backend.js';
import { loadEvalData } from '../data.js';
import { readModelFile } from '../models.js';
import { CliError, confusionTable, makeOutput, num, pct, rows, table } from '../util.js';

export interface EvalOptions {
  data?: string;
  split: 'test' | 'train' | 'all';
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
  const dataName = opts.data ?? info.data ?? 'mnist';
  await selectBackend(opts.backend, opts.threads);
  const data = await loadEvalData(dataName, opts.split, { height: s[0], width: s[1], channels: s[2] as 1 | 3, fit: info.fit }, info.classNames, opts.limit);
  const k = model.outputShape[0];
  if (model.outputShape.length !== 1 || k < data.numClasses) throw new CliError(`model '${path}' outputs [${model.outputShape.join(', ')}] but the data has ${data.numClasses} classes`);
  const ev = evaluateDataset(model, data, { batchSize: opts.batchSize });
  const names = Array.from({ length: k }, (_, i) => info.classNames?.[i] ?? data.classNames[i] ?? String(i));
  const m = classificationMetrics(ev.confusion, k);
  const correct = Math.round(ev.accuracy * ev.count);

  out.info(`${path} on ${dataName} (${opts.split} split): ${ev.count} images`);
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
    data: dataName,
    count: ev.count,
    accuracy: ev.accuracy,
    loss: ev.loss,
    classNames: names,
    perClass: m.perClass.map((c, i) => ({ class: names[i], ...c })),
    macro: m.macro,
    confusion: rows(ev.confusion, k),
  });
}
