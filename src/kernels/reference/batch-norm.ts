/**
 * Reference batch normalisation (Ioffe & Szegedy 2015) over the last axis: x is read as M rows of
 * C channels (NHWC [N, H, W, C] gives M = N·H·W, [N, F] gives M = N), and each channel is
 * normalised with statistics over its M values. Sums accumulate in float64.
 *
 *   μ[c] = (1/M) Σ_i x[i,c],   σ²[c] = (1/M) Σ_i (x[i,c] − μ[c])²   (the biased batch variance)
 *   x̂[i,c] = (x[i,c] − μ[c]) / sqrt(σ²[c] + eps),   y[i,c] = γ[c] · x̂[i,c] + β[c]
 *
 * and, through the batch statistics (the paper's backward, summed):
 *
 *   dβ[c] = Σ_i dy[i,c],   dγ[c] = Σ_i dy[i,c] · x̂[i,c]
 *   dx[i,c] = γ[c] / (M sqrt(σ²[c] + eps)) · (M dy[i,c] − dβ[c] − x̂[i,c] · dγ[c])
 */
import { Tensor } from '../../tensor/tensor.js';

/** μ and σ² (biased) of each channel over the other axes. */
export function batchNormStats(x: Tensor): { mean: Tensor; variance: Tensor } {
  const C = x.shape[x.rank - 1];
  const M = x.size / C;
  const mean = new Float64Array(C);
  const variance = new Float64Array(C);
  for (let i = 0; i < M; i++) for (let c = 0; c < C; c++) mean[c] += x.data[i * C + c];
  for (let c = 0; c < C; c++) mean[c] /= M;
  for (let i = 0; i < M; i++)
    for (let c = 0; c < C; c++) {
      const d = x.data[i * C + c] - mean[c];
      variance[c] += d * d;
    }
  for (let c = 0; c < C; c++) variance[c] /= M;
  return { mean: new Tensor(Float32Array.from(mean), [C]), variance: new Tensor(Float32Array.from(variance), [C]) };
}

/** y = γ · (x − μ) / sqrt(σ² + eps) + β, per channel, with the given μ and σ² (batch or running). */
export function batchNorm(x: Tensor, mean: Tensor, variance: Tensor, gamma: Tensor, beta: Tensor, eps: number): Tensor {
  const C = x.shape[x.rank - 1];
  const M = x.size / C;
  const y = new Float32Array(x.size);
  for (let c = 0; c < C; c++) {
    const invStd = 1 / Math.sqrt(variance.data[c] + eps);
    for (let i = 0; i < M; i++) {
      const xhat = (x.data[i * C + c] - mean.data[c]) * invStd;
      y[i * C + c] = gamma.data[c] * xhat + beta.data[c];
    }
  }
  return new Tensor(y, x.shape);
}

/** dx, dγ, dβ of a training-mode batchNorm whose batch statistics were μ and σ². */
export function batchNormBackward(dy: Tensor, x: Tensor, mean: Tensor, variance: Tensor, gamma: Tensor, eps: number): { dx: Tensor; dgamma: Tensor; dbeta: Tensor } {
  const C = x.shape[x.rank - 1];
  const M = x.size / C;
  const dbeta = new Float64Array(C);
  const dgamma = new Float64Array(C);
  const invStd = new Float64Array(C);
  for (let c = 0; c < C; c++) invStd[c] = 1 / Math.sqrt(variance.data[c] + eps);
  const xhat = (i: number, c: number): number => (x.data[i * C + c] - mean.data[c]) * invStd[c];
  for (let i = 0; i < M; i++)
    for (let c = 0; c < C; c++) {
      const g = dy.data[i * C + c];
      dbeta[c] += g;
      dgamma[c] += g * xhat(i, c);
    }
  const dx = new Float32Array(x.size);
  for (let i = 0; i < M; i++)
    for (let c = 0; c < C; c++) {
      dx[i * C + c] = ((gamma.data[c] * invStd[c]) / M) * (M * dy.data[i * C + c] - dbeta[c] - xhat(i, c) * dgamma[c]);
    }
  return { dx: new Tensor(dx, x.shape), dgamma: new Tensor(Float32Array.from(dgamma), [C]), dbeta: new Tensor(Float32Array.from(dbeta), [C]) };
}
