/**
 * Reference softmax over the last axis and its gradient, computed stably (the max is subtracted
 * before exponentiating), in float64:
 *
 *   p_k = e^(z_k − max z) / Σ_j e^(z_j − max z),   dz_k = p_k · (dp_k − Σ_j dp_j · p_j).
 */
import { Tensor } from '../../tensor/tensor.js';

export function softmax(logits: Tensor): Tensor {
  const k = logits.shape[logits.rank - 1];
  const out = new Float32Array(logits.size);
  for (let o = 0; o < logits.size; o += k) {
    let max = -Infinity;
    for (let j = 0; j < k; j++) max = Math.max(max, logits.data[o + j]);
    let sum = 0;
    for (let j = 0; j < k; j++) sum += Math.exp(logits.data[o + j] - max);
    for (let j = 0; j < k; j++) out[o + j] = Math.exp(logits.data[o + j] - max) / sum;
  }
  return new Tensor(out, logits.shape);
}

/** The gradient given the forward output p. */
export function softmaxBackward(dp: Tensor, p: Tensor): Tensor {
  const k = p.shape[p.rank - 1];
  const out = new Float32Array(p.size);
  for (let o = 0; o < p.size; o += k) {
    let dot = 0;
    for (let j = 0; j < k; j++) dot += dp.data[o + j] * p.data[o + j];
    for (let j = 0; j < k; j++) out[o + j] = p.data[o + j] * (dp.data[o + j] - dot);
  }
  return new Tensor(out, p.shape);
}
