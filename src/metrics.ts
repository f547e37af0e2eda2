/**
 * Classification metrics (browser-safe), in one place: arg max, accuracy, the confusion matrix and
 * per-class precision/recall/F1. `trainStep`, `evaluate`, `evaluateDataset`, the worker and the CLI
 * all count through these functions, so "a prediction" means the same thing everywhere:
 * the arg max of the class scores, the first maximum on ties.
 *
 * ```ts
 * const predicted = argmax(logits);                  // Int32Array [N]
 * const acc = accuracy(predicted, labels);
 * const m = classificationMetrics(confusionMatrix(predicted, labels, 10), 10);
 * ```
 */
import { Tensor } from './tensor/tensor.js';

/**
 * The index of the largest value of each row of `scores` (rows run over the last axis, so [N, K]
 * gives N classes). Ties go to the first maximum. A comparison with NaN is false, so a NaN is
 * never chosen over an earlier value and a row starting with NaN keeps index 0: check finiteness
 * first when NaN can occur (`evaluateDataset` does).
 */
export function argmax(scores: Tensor): Int32Array {
  if (!(scores instanceof Tensor)) throw new Error(`argmax: scores must be a Tensor, got ${describe(scores)}`);
  scores.assertLive('argmax', 'scores');
  if (scores.rank < 1) throw new Error('argmax: scores must have rank >= 1 (rows over the last axis), got a scalar');
  const k = scores.shape[scores.rank - 1];
  if (k === 0) throw new Error(`argmax: scores has no columns (shape [${scores.shape.join(', ')}])`);
  const d = scores.data;
  const n = d.length / k;
  const out = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    const o = r * k;
    let best = 0;
    for (let j = 1; j < k; j++) if (d[o + j] > d[o + best]) best = j;
    out[r] = best;
  }
  return out;
}

/** How many of `predicted` equal `labels` (same length). */
export function countMatches(predicted: ArrayLike<number>, labels: ArrayLike<number>): number {
  checkSameLength('countMatches', predicted, labels);
  let n = 0;
  for (let i = 0; i < labels.length; i++) if (predicted[i] === labels[i]) n++;
  return n;
}

/** How many rows of `logits` have their arg max (first maximum on ties) at the label. */
export function countCorrect(logits: Tensor, labels: ArrayLike<number>): number {
  return countMatches(argmax(logits), labels);
}

/** The fraction of `predicted` equal to `labels`; throws for empty input (0/0 is no accuracy). */
export function accuracy(predicted: ArrayLike<number>, labels: ArrayLike<number>): number {
  checkSameLength('accuracy', predicted, labels);
  if (labels.length === 0) throw new Error('accuracy: no samples (0 labels); an accuracy of 0/0 is not a result');
  return countMatches(predicted, labels) / labels.length;
}

/**
 * The confusion matrix, row-major [numClasses, numClasses]: `m[t * numClasses + p]` counts samples
 * of true class t predicted as p. With `into`, the counts are added to it (to accumulate batches).
 */
export function confusionMatrix(predicted: ArrayLike<number>, labels: ArrayLike<number>, numClasses: number, into?: Int32Array): Int32Array {
  const op = 'confusionMatrix';
  if (!Number.isInteger(numClasses) || numClasses < 1) throw new Error(`${op}: numClasses must be an integer >= 1, got ${String(numClasses)}`);
  checkSameLength(op, predicted, labels);
  const m = into ?? new Int32Array(numClasses * numClasses);
  if (m.length !== numClasses * numClasses) throw new Error(`${op}: into has ${m.length} entries, expected numClasses^2 = ${numClasses * numClasses}`);
  for (let i = 0; i < labels.length; i++) {
    const t = labels[i];
    const p = predicted[i];
    if (!Number.isInteger(t) || t < 0 || t >= numClasses) throw new Error(`${op}: labels[${i}] must be an integer class in [0, ${numClasses}), got ${t}`);
    if (!Number.isInteger(p) || p < 0 || p >= numClasses) throw new Error(`${op}: predicted[${i}] must be an integer class in [0, ${numClasses}), got ${p}`);
    m[t * numClasses + p]++;
  }
  return m;
}

/** Per-class precision, recall and F1 from a confusion matrix (rows true, columns predicted). */
export interface ClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  /** True samples of this class. */
  support: number;
}

/**
 * Precision = TP / (TP + FP), recall = TP / (TP + FN), F1 = their harmonic mean. A ratio with a
 * zero denominator is 0 (scikit-learn's `zero_division=0`): a class never predicted has precision
 * 0, a class with no samples has recall 0. `macro` is the unweighted mean over all classes, those
 * included; `accuracy` is the trace over the total (NaN for an all-zero matrix).
 */
export function classificationMetrics(confusion: ArrayLike<number>, numClasses: number): { perClass: ClassMetrics[]; macro: Omit<ClassMetrics, 'support'>; accuracy: number } {
  if (confusion.length !== numClasses * numClasses) {
    throw new Error(`classificationMetrics: confusion has ${confusion.length} entries, expected numClasses^2 = ${numClasses * numClasses}`);
  }
  const perClass: ClassMetrics[] = [];
  let diag = 0;
  let all = 0;
  for (let c = 0; c < numClasses; c++) {
    const tp = confusion[c * numClasses + c];
    let row = 0;
    let col = 0;
    for (let j = 0; j < numClasses; j++) {
      row += confusion[c * numClasses + j];
      col += confusion[j * numClasses + c];
    }
    const precision = col > 0 ? tp / col : 0;
    const recall = row > 0 ? tp / row : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    perClass.push({ precision, recall, f1, support: row });
    diag += tp;
    all += row;
  }
  const mean = (f: (m: ClassMetrics) => number): number => perClass.reduce((s, m) => s + f(m), 0) / Math.max(1, numClasses);
  return {
    perClass,
    macro: { precision: mean((m) => m.precision), recall: mean((m) => m.recall), f1: mean((m) => m.f1) },
    accuracy: all > 0 ? diag / all : NaN,
  };
}

function checkSameLength(op: string, predicted: ArrayLike<number>, labels: ArrayLike<number>): void {
  if (typeof predicted?.length !== 'number') throw new Error(`${op}: predicted must be an array of classes, got ${describe(predicted)}`);
  if (typeof labels?.length !== 'number') throw new Error(`${op}: labels must be an array of classes, got ${describe(labels)}`);
  if (predicted.length !== labels.length) throw new Error(`${op}: predicted has ${predicted.length} entries but labels has ${labels.length}; expected one prediction per label`);
}

function describe(v: unknown): string {
  return v === null ? 'null' : v === undefined ? 'undefined' : ((v as object).constructor?.name ?? typeof v);
}
