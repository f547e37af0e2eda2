/**
 * The loss contract: what `trainStep`, `fit`, `evaluate` and `evaluateDataset` take as `{ loss }`.
 *
 * A loss turns the model's output `pred` (a batch, [N, ...outputShape]) and the batch's targets
 * into the batch-mean loss and its gradient d loss / d pred, which must have pred's shape (the
 * model backpropagates it as is). What the targets are is part of the contract:
 *
 * - `targets: 'labels'` — one integer class per row (a Dataset's labels), and `pred` holds class
 *   scores. Only such a loss gives an accuracy: the arg max of a row is its prediction.
 * - `targets: 'tensor'` — a Tensor shaped like `pred` (regression, soft targets). No accuracy is
 *   reported for it: there is no class to compare.
 *
 * ```ts
 * // Mean absolute error, written by a user: d|p - t|/dp = sign(p - t), averaged over all M values.
 * const l1: TensorLoss = {
 *   name: 'l1',
 *   targets: 'tensor',
 *   compute(pred, target) {
 *     const g = new Float32Array(pred.size);
 *     let s = 0;
 *     for (let i = 0; i < pred.size; i++) {
 *       const d = pred.data[i] - target.data[i];
 *       s += Math.abs(d);
 *       g[i] = Math.sign(d) / pred.size;
 *     }
 *     return { loss: s / pred.size, grad: new Tensor(g, pred.shape) };
 *   },
 * };
 * model.trainStep(x, y, optimizer, { loss: l1 });
 * ```
 *
 * `compute` must not keep or modify its inputs; the gradient it returns belongs to the caller
 * (trainStep disposes it after the step).
 */
import { Tensor } from '../tensor/tensor.js';
import { softmaxCrossEntropy, type LossResult } from './softmax-cross-entropy.js';
import { meanSquaredError } from './mse.js';

export type { LossResult };

/** A loss whose targets are class labels, one integer per row; accuracy is defined for it. */
export interface LabelLoss {
  /** Named in error messages. */
  readonly name: string;
  readonly targets: 'labels';
  compute(pred: Tensor, labels: ArrayLike<number>): LossResult;
}

/** A loss whose targets are a Tensor shaped like the prediction; no accuracy is defined for it. */
export interface TensorLoss {
  readonly name: string;
  readonly targets: 'tensor';
  compute(pred: Tensor, target: Tensor): LossResult;
}

export type Loss = LabelLoss | TensorLoss;

/** Targets of either kind: labels for a `LabelLoss`, a Tensor for a `TensorLoss`. */
export type LossTargets = ArrayLike<number> | Tensor;

/** Softmax cross-entropy on logits [N, classes] with integer labels: the default everywhere. */
export const crossEntropyLoss: LabelLoss = Object.freeze({ name: 'softmaxCrossEntropy', targets: 'labels', compute: softmaxCrossEntropy });

/** Mean squared error against a target tensor shaped like the output. */
export const mseLoss: TensorLoss = Object.freeze({ name: 'meanSquaredError', targets: 'tensor', compute: meanSquaredError });

/** Throws unless `loss` keeps the contract's shape (a name, `targets` 'labels' or 'tensor', a compute function). */
export function checkLoss(op: string, loss: unknown): asserts loss is Loss {
  const l = loss as Partial<Loss> | null | undefined;
  if (l === null || typeof l !== 'object') throw new Error(`${op}: loss must be a Loss { name, targets, compute } (e.g. crossEntropyLoss, mseLoss), got ${describe(loss)}`);
  if (typeof l.name !== 'string' || l.name === '') throw new Error(`${op}: loss.name must be a non-empty string, got ${describe(l.name)}`);
  if (l.targets !== 'labels' && l.targets !== 'tensor') throw new Error(`${op}: loss '${l.name}' has targets ${JSON.stringify(l.targets)}, expected 'labels' or 'tensor'`);
  if (typeof l.compute !== 'function') throw new Error(`${op}: loss '${l.name}' has no compute(pred, targets) function`);
}

/**
 * Runs `loss` on a batch and checks what it returns: the targets must be of the loss's kind, the
 * loss a number, and the gradient a live Tensor of exactly pred's shape. (A NaN or infinite loss is
 * returned as is: `fit` reports it as divergence.)
 */
export function computeLoss(op: string, loss: Loss, pred: Tensor, targets: LossTargets): LossResult {
  let r: LossResult;
  if (loss.targets === 'tensor') {
    if (!(targets instanceof Tensor)) throw new Error(`${op}: loss '${loss.name}' takes a target Tensor shaped like the output [${pred.shape.join(', ')}], got ${describe(targets)}`);
    r = loss.compute(pred, targets);
  } else {
    if (targets instanceof Tensor || typeof (targets as ArrayLike<number>)?.length !== 'number') {
      throw new Error(`${op}: loss '${loss.name}' takes labels (one class index per row, e.g. an Int32Array), got ${describe(targets)}`);
    }
    r = loss.compute(pred, targets);
  }
  if (r === null || typeof r !== 'object') throw new Error(`${op}: loss '${loss.name}' returned ${describe(r)}, expected { loss, grad }`);
  if (typeof r.loss !== 'number') throw new Error(`${op}: loss '${loss.name}' returned a loss of type ${describe(r.loss)}, expected a number`);
  if (!(r.grad instanceof Tensor)) throw new Error(`${op}: loss '${loss.name}' returned a gradient of type ${describe(r.grad)}, expected a Tensor`);
  r.grad.assertLive(op, `the gradient of loss '${loss.name}'`);
  if (r.grad.rank !== pred.rank || r.grad.shape.some((d, i) => d !== pred.shape[i])) {
    throw new Error(`${op}: loss '${loss.name}' returned a gradient of shape [${r.grad.shape.join(', ')}], expected the prediction's shape [${pred.shape.join(', ')}]`);
  }
  return r;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (typeof v === 'function') return `function ${v.name || '(anonymous)'}`;
  if (typeof v !== 'object') return `${typeof v} ${String(v)}`;
  return (v as object).constructor?.name ?? 'object';
}
