/**
 * Evaluation over a whole dataset (browser-safe): inference in batches with dropout off and no
 * augmentation, the loss averaged over the samples, and for a loss on labels the accuracy,
 * confusion matrix and predictions, counted by src/metrics.ts (the arg max once per sample).
 * `fit` runs it for its validation pass; `stride eval`, `stride train` and the worker call it directly.
 *
 * ```ts
 * const e = evaluateDataset(model, test);                 // softmax cross-entropy on the labels
 * console.log(e.loss, e.accuracy, e.confusion);
 * const r = evaluateDataset(model, test, { loss: mseLoss, targets });   // a tensor loss: the mean loss only
 * ```
 */
import { Tensor } from '../tensor/tensor.js';
import type { Dataset } from '../data/dataset.js';
import { checkLoss, computeLoss, crossEntropyLoss, type LabelLoss, type TensorLoss } from '../losses/loss.js';
import { argmax, confusionMatrix, countMatches } from '../metrics.js';
import type { Sequential } from './sequential.js';

/** Result of `evaluateDataset` with a loss on labels (the default). */
export interface Evaluation {
  /** The mean loss (softmax cross-entropy by default). */
  loss: number;
  accuracy: number;
  count: number;
  numClasses: number;
  /** Row-major [numClasses, numClasses]: `confusion[t * numClasses + p]` counts true class t predicted as p. */
  confusion: Int32Array;
  /** The predicted class (arg max of the logits, first on ties) of every sample, in dataset order. */
  predictions: Int32Array;
}

/** Result of `evaluateDataset` with a tensor loss: the mean loss only (no classes, no accuracy). */
export interface TensorEvaluation {
  loss: number;
  count: number;
}

export interface EvaluateDatasetOptions {
  /** Default 256. */
  batchSize?: number;
  /** Default `crossEntropyLoss`. */
  loss?: LabelLoss;
}

export interface TensorEvaluateDatasetOptions {
  batchSize?: number;
  loss: TensorLoss;
  /** The target of every sample, row i for the dataset's sample i: [data.length, ...model.outputShape]. */
  targets: Tensor;
}

/**
 * Inference over a whole dataset in batches (no augmentation, dropout off). With a loss on labels
 * (default softmax cross-entropy; the model must output scores [N, numClasses]): loss, accuracy,
 * confusion matrix and predictions, the arg max computed once per sample (src/metrics.ts). With a
 * tensor loss and its `targets`: the mean loss.
 */
export function evaluateDataset(model: Sequential, data: Dataset, opts?: EvaluateDatasetOptions): Evaluation;
export function evaluateDataset(model: Sequential, data: Dataset, opts: TensorEvaluateDatasetOptions): TensorEvaluation;
export function evaluateDataset(model: Sequential, data: Dataset, opts: EvaluateDatasetOptions | TensorEvaluateDatasetOptions = {}): Evaluation | TensorEvaluation {
  const op = 'evaluateDataset';
  const batchSize = opts.batchSize ?? 256;
  const loss = opts.loss ?? crossEntropyLoss;
  checkLoss(op, loss);
  if (loss.targets === 'tensor') {
    checkDataFits(op, model, data, false);
    if (data.length === 0) throw new Error(`${op}: the dataset is empty (0 images)`);
    const targets = checkTargets(op, 'targets', (opts as Partial<TensorEvaluateDatasetOptions>).targets, model, data.length);
    let lossSum = 0;
    for (const { x, indices } of data.batches(batchSize)) {
      const out = model.predict(x, batchSize);
      const k = out.size / Math.max(1, out.shape[0]);
      checkFinite(out.data, k, indices[0]);
      const t = gatherRows(targets, indices);
      lossSum += computeLoss(op, loss, out, t).loss * indices.length;
      t.dispose();
    }
    return { loss: lossSum / data.length, count: data.length };
  }
  if ((opts as Partial<TensorEvaluateDatasetOptions>).targets !== undefined) throw new Error(`${op}: targets is only for a loss whose targets are tensors; loss '${loss.name}' takes the dataset's labels`);
  const k = model.outputShape.length === 1 ? model.outputShape[0] : 0;
  if (k === 0) throw new Error(`${op}: the model must output logits [N, classes], got [N, ${model.outputShape.join(', ')}]`);
  checkDataFits(op, model, data);
  // An accuracy of 0/0 or over NaN logits is not a result (argmax of NaN is class 0).
  if (data.length === 0) throw new Error(`${op}: the dataset is empty (0 images)`);
  const confusion = new Int32Array(k * k);
  const predictions = new Int32Array(data.length);
  let lossSum = 0;
  let correct = 0;
  let at = 0;
  for (const { x, y } of data.batches(batchSize)) {
    const logits = model.predict(x, batchSize);
    checkFinite(logits.data, k, at);
    lossSum += computeLoss(op, loss, logits, y).loss * y.length;
    const predicted = argmax(logits);
    correct += countMatches(predicted, y);
    confusionMatrix(predicted, y, k, confusion);
    predictions.set(predicted, at);
    at += y.length;
  }
  const n = data.length;
  return { loss: lossSum / n, accuracy: correct / n, count: n, numClasses: k, confusion, predictions };
}

/** The rows `indices` of `t` (row i = sample i), as a new tensor [indices.length, ...]. */
export function gatherRows(t: Tensor, indices: Int32Array): Tensor {
  const per = t.size / t.shape[0];
  const out = new Float32Array(indices.length * per);
  for (let r = 0; r < indices.length; r++) out.set(t.data.subarray(indices[r] * per, (indices[r] + 1) * per), r * per);
  return new Tensor(out, [indices.length, ...t.shape.slice(1)]);
}

/** Throws unless `t` is a live Tensor [n, ...model.outputShape] (one target row per sample). */
export function checkTargets(op: string, name: string, t: unknown, model: Sequential, n: number): Tensor {
  const want = [n, ...model.outputShape];
  if (!(t instanceof Tensor)) throw new Error(`${op}: ${name} must be a Tensor [${want.join(', ')}] (one target per sample) for a tensor loss, got ${t === null ? 'null' : t === undefined ? 'undefined' : ((t as object).constructor?.name ?? typeof t)}`);
  t.assertLive(op, name);
  if (t.rank !== want.length || t.shape.some((d, i) => d !== want[i])) throw new Error(`${op}: ${name} has shape [${t.shape.join(', ')}], expected [${want.join(', ')}] (one row per sample, shaped like the model's output)`);
  return t;
}

/** Throws for the first sample whose outputs (rows of `k` values, numbered from `first`) are not all finite. */
function checkFinite(out: Float32Array, k: number, first: number): void {
  for (let i = 0; i < out.length; i++) {
    if (Number.isFinite(out[i])) continue;
    const row = Math.floor(i / k);
    let rows = 0;
    for (let r = row; r < out.length / k; r++) if (out.subarray(r * k, (r + 1) * k).some((v) => !Number.isFinite(v))) rows++;
    throw new Error(
      `evaluateDataset: the model's outputs are not finite (${out[i]}) for sample ${first + row}${rows > 1 ? ` and ${rows - 1} more in its batch` : ''}; ` +
        'the weights probably hold NaN or Infinity (a diverged training run?) or an activation overflowed',
    );
  }
}

/** Throws unless the data's images fit the model (and, with `classes`, the model outputs a score for every class). */
export function checkDataFits(op: string, model: Sequential, data: Dataset, classes = true): void {
  const want = model.inputShape;
  const got = data.imageShape;
  if (want.length !== 3 || want.some((d, i) => d !== got[i])) {
    throw new Error(`${op}: the data's images are [${got.join(', ')}] but the model takes [${want.join(', ')}]`);
  }
  const k = model.outputShape[model.outputShape.length - 1];
  if (classes && data.numClasses > k) throw new Error(`${op}: the data has ${data.numClasses} classes but the model outputs ${k}`);
}
