import { Tensor } from '../tensor/tensor.js';
import { checkTensor } from '../kernels/ops.js';

export interface LossResult {
  /** The mean loss over the batch. */
  loss: number;
  /** d loss / d input, same shape as the input. */
  grad: Tensor;
}

/**
 * Softmax cross-entropy, fused and numerically stable, averaged over the batch.
 * logits [N, K]; labels: N class indices in [0, K).
 *   loss = (1/N) Σ_n [ logsumexp(z_n) - z_n[y_n] ],   dlogits = (softmax(z) - onehot(y)) / N.
 */
export function softmaxCrossEntropy(logits: Tensor, labels: ArrayLike<number>): LossResult {
  checkTensor('softmaxCrossEntropy', 'logits', logits);
  if (logits.rank !== 2) {
    throw new Error(`softmaxCrossEntropy: logits must be rank 2 [N, classes], got shape [${logits.shape.join(', ')}]`);
  }
  const [n, k] = logits.shape;
  if (labels === null || labels === undefined || labels.length !== n) {
    throw new Error(`softmaxCrossEntropy: labels must have one entry per row: expected ${n}, got ${labels?.length}`);
  }
  const grad = new Float32Array(n * k);
  let total = 0;
  for (let r = 0; r < n; r++) {
    const y = labels[r];
    if (!Number.isInteger(y) || y < 0 || y >= k) {
      throw new Error(`softmaxCrossEntropy: labels[${r}] must be an integer class in [0, ${k}), got ${y}`);
    }
    const o = r * k;
    let max = -Infinity;
    for (let j = 0; j < k; j++) max = Math.max(max, logits.data[o + j]);
    let sum = 0;
    for (let j = 0; j < k; j++) sum += Math.exp(logits.data[o + j] - max);
    const logSum = Math.log(sum) + max;
    total += logSum - logits.data[o + y];
    for (let j = 0; j < k; j++) {
      grad[o + j] = (Math.exp(logits.data[o + j] - logSum) - (j === y ? 1 : 0)) / n;
    }
  }
  return { loss: total / n, grad: new Tensor(grad, logits.shape) };
}
