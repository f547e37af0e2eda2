import { Tensor } from '../tensor/tensor.js';
import { checkTensor, checkShapeEquals } from '../kernels/ops.js';
import type { LossResult } from './softmax-cross-entropy.js';

/** Mean squared error over every element: loss = (1/M) Σ (pred - target)², grad = 2 (pred - target) / M. */
export function meanSquaredError(pred: Tensor, target: Tensor): LossResult {
  checkTensor('meanSquaredError', 'pred', pred);
  checkTensor('meanSquaredError', 'target', target);
  checkShapeEquals('meanSquaredError', 'target', target, pred.shape);
  const m = pred.size;
  const grad = new Float32Array(m);
  let total = 0;
  for (let i = 0; i < m; i++) {
    const d = pred.data[i] - target.data[i];
    total += d * d;
    grad[i] = (2 * d) / m;
  }
  return { loss: total / m, grad: new Tensor(grad, pred.shape) };
}
