/**
 * Losses by name, for the places that receive a loss as data rather than as an object: the worker
 * trainer's requests (src/worker). Every entry takes class labels, because that is what a dataset
 * holds: 'cross-entropy' (the default everywhere) and 'mse', the mean squared error of the model's
 * outputs against the one-hot encoding of the labels.
 */
import { Tensor } from '../tensor/tensor.js';
import { checkTensor } from '../kernels/ops.js';
import { crossEntropyLoss, type LabelLoss } from './loss.js';
import { meanSquaredError } from './mse.js';
import type { LossResult } from './softmax-cross-entropy.js';

/**
 * Mean squared error against one-hot labels: pred [N, K], t[n, k] = [k = labels[n]];
 * loss = (1 / (N·K)) Σ (pred - t)², d loss / d pred = 2 (pred - t) / (N·K).
 */
export function oneHotMeanSquaredError(pred: Tensor, labels: ArrayLike<number>): LossResult {
  const op = 'oneHotMeanSquaredError';
  checkTensor(op, 'pred', pred);
  if (pred.rank !== 2) throw new Error(`${op}: pred must be rank 2 [N, classes], got shape [${pred.shape.join(', ')}]`);
  const [n, k] = pred.shape;
  if (labels === null || labels === undefined || labels.length !== n) throw new Error(`${op}: labels must have one entry per row: expected ${n}, got ${labels?.length}`);
  const target = Tensor.zeros([n, k]);
  for (let r = 0; r < n; r++) {
    const y = labels[r];
    if (!Number.isInteger(y) || y < 0 || y >= k) throw new Error(`${op}: labels[${r}] must be an integer class in [0, ${k}), got ${y}`);
    target.data[r * k + y] = 1;
  }
  const result = meanSquaredError(pred, target);
  target.dispose();
  return result;
}

/** The one-hot MSE as a `LabelLoss` (so it reports accuracies, as cross-entropy does). */
export const oneHotMseLoss: LabelLoss = Object.freeze({ name: 'oneHotMeanSquaredError', targets: 'labels', compute: oneHotMeanSquaredError });

/** The losses a name can ask for. */
export const LABEL_LOSSES = { 'cross-entropy': crossEntropyLoss, mse: oneHotMseLoss } as const satisfies Record<string, LabelLoss>;
export type LossName = keyof typeof LABEL_LOSSES;

/** The loss named `name` (undefined: cross-entropy); throws naming `op` and the valid names otherwise. */
export function labelLossByName(op: string, name: unknown): LabelLoss {
  if (name === undefined) return crossEntropyLoss;
  if (typeof name === 'string' && Object.hasOwn(LABEL_LOSSES, name)) return LABEL_LOSSES[name as LossName];
  throw new Error(`${op}: loss must be one of ${Object.keys(LABEL_LOSSES).map((n) => `'${n}'`).join(', ')}, got ${JSON.stringify(name)}`);
}
