/**
 * Softmax over the last axis, computed stably: p_k = e^(z_k - max z) / Σ_j e^(z_j - max z).
 */
import { Tensor } from '../tensor/tensor.js';
import { checkShapeEquals, checkTensor } from '../kernels/ops.js';

export function softmax(logits: Tensor): Tensor {
  checkTensor('softmax', 'logits', logits);
  if (logits.rank < 1) throw new Error(`softmax: logits must have rank >= 1, got a scalar`);
  const k = logits.shape[logits.rank - 1];
  const rows = logits.size / k;
  const out = new Float32Array(logits.size);
  for (let r = 0; r < rows; r++) {
    const o = r * k;
    let max = -Infinity;
    for (let j = 0; j < k; j++) max = Math.max(max, logits.data[o + j]);
    let sum = 0;
    for (let j = 0; j < k; j++) sum += Math.exp(logits.data[o + j] - max);
    for (let j = 0; j < k; j++) out[o + j] = Math.exp(logits.data[o + j] - max) / sum;
  }
  return new Tensor(out, logits.shape);
}

/**
 * Gradient of softmax given its output p: dz_k = p_k · (dp_k - Σ_j dp_j · p_j).
 * (For training, prefer softmaxCrossEntropy, whose fused gradient is exact and stable.)
 */
export function softmaxBackward(dp: Tensor, p: Tensor): Tensor {
  checkTensor('softmaxBackward', 'dp', dp);
  checkTensor('softmaxBackward', 'p', p);
  checkShapeEquals('softmaxBackward', 'dp', dp, p.shape);
  const k = p.shape[p.rank - 1];
  const out = new Float32Array(p.size);
  for (let o = 0; o < p.size; o += k) {
    let dot = 0;
    for (let j = 0; j < k; j++) dot += dp.data[o + j] * p.data[o + j];
    for (let j = 0; j < k; j++) out[o + j] = p.data[o + j] * (dp.data[o + j] - dot);
  }
  return new Tensor(out, p.shape);
}
