import type { Tensor } from '../tensor/tensor.js';
import type { Shape } from '../tensor/tensor.js';
import type { Conv2DInfo, DepthwiseConv2DInfo, Pool2DInfo } from './conv-info.js';

/**
 * Every compute kernel a backend provides. Kernels are pure: they never mutate their inputs and
 * always return new tensors. Arguments arrive already validated by the public ops in `ops.ts`,
 * with all geometry precomputed in `Conv2DInfo` / `Pool2DInfo`, so a backend never computes an
 * output size or a padding itself.
 *
 * A backend that implements only some kernels spreads `reference` first
 * (`{ ...reference, name: 'wasm', conv2d: ... }`), so the fallback is visible and `tsc` checks the
 * set is complete.
 */
export interface Kernels {
  readonly name: string;

  /** y[b,oy,ox,oc] = bias[oc] + Σ_{ky,kx,ic} x[b, iy, ix, ic] · w[ky, kx, ic, oc]. x NHWC, w HWIO, y NHWC. */
  conv2d(x: Tensor, w: Tensor, bias: Tensor | null, info: Conv2DInfo): Tensor;
  /** Gradients of conv2d: dx (seed dA_prev), dw (dW), db (db) from dy (dZ). */
  conv2dBackward(dy: Tensor, x: Tensor, w: Tensor, info: Conv2DInfo): { dx: Tensor; dw: Tensor; db: Tensor };
  /** dx of conv2d alone (equation (1)): what a layer passes back when its weights are frozen. */
  conv2dBackwardInput(dy: Tensor, w: Tensor, info: Conv2DInfo): Tensor;
  /** dw and db of conv2d alone (equations (2), (3)): a network's first layer, whose dx nobody uses. */
  conv2dBackwardFilter(dy: Tensor, x: Tensor, info: Conv2DInfo): { dw: Tensor; db: Tensor };

  /**
   * Depthwise: y[b,oy,ox,c*M+m] = bias[c*M+m] + Σ_{ky,kx} x[b, iy, ix, c] · w[ky, kx, c, m].
   * x NHWC [N, H, W, C], w [fh, fw, C, M], y NHWC [N, Ho, Wo, C*M].
   */
  depthwiseConv2d(x: Tensor, w: Tensor, bias: Tensor | null, info: DepthwiseConv2DInfo): Tensor;
  /** Gradients of depthwiseConv2d: dx (equation (1)), dw ((2)), db ((3)) from dy. */
  depthwiseConv2dBackward(dy: Tensor, x: Tensor, w: Tensor, info: DepthwiseConv2DInfo): { dx: Tensor; dw: Tensor; db: Tensor };
  /** dw and db of depthwiseConv2d alone (equations (2), (3)): a network's first layer, whose dx nobody uses. */
  depthwiseConv2dBackwardFilter(dy: Tensor, x: Tensor, info: DepthwiseConv2DInfo): { dw: Tensor; db: Tensor };

  maxPool2d(x: Tensor, info: Pool2DInfo): Tensor;
  maxPool2dBackward(dy: Tensor, x: Tensor, info: Pool2DInfo): Tensor;
  /** maxPool2d(relu(z)) from the pre-activation z (Conv2D -> ReLU -> MaxPool2D fused). */
  maxPool2dRelu(z: Tensor, info: Pool2DInfo): Tensor;
  /** dZ of maxPool2dRelu: reluBackward(maxPool2dBackward(dy, relu(z)), z). */
  maxPool2dReluBackward(dy: Tensor, z: Tensor, info: Pool2DInfo): Tensor;
  avgPool2d(x: Tensor, info: Pool2DInfo): Tensor;
  avgPool2dBackward(dy: Tensor, x: Tensor, info: Pool2DInfo): Tensor;
  /** y[b,c] = (1 / (H·W)) Σ_{h,w} x[b,h,w,c]. x NHWC [N, H, W, C] (H·W > 0), y [N, C]. */
  globalAvgPool2d(x: Tensor): Tensor;
  /** dx[b,h,w,c] = dy[b,c] / (H·W): dy [N, C], dx of shape xShape [N, H, W, C]. */
  globalAvgPool2dBackward(dy: Tensor, xShape: Shape): Tensor;

  /**
   * Batch statistics over every axis but the last (C channels, M = size / C values each):
   * mean[c] = (1/M) Σ_i x[i,c], variance[c] = (1/M) Σ_i (x[i,c] − mean[c])² (biased).
   */
  batchNormStats(x: Tensor): { mean: Tensor; variance: Tensor };
  /** y[i,c] = gamma[c] · (x[i,c] − mean[c]) / sqrt(variance[c] + eps) + beta[c]; mean, variance, gamma, beta [C]. */
  batchNorm(x: Tensor, mean: Tensor, variance: Tensor, gamma: Tensor, beta: Tensor, eps: number): Tensor;
  /**
   * Gradients of a training-mode batchNorm (through its batch statistics mean, variance), x̂ the
   * normalised x: dbeta = Σ_i dy, dgamma = Σ_i dy · x̂, dx = gamma / (M sqrt(variance + eps)) · (M dy − dbeta − x̂ · dgamma).
   */
  batchNormBackward(dy: Tensor, x: Tensor, mean: Tensor, variance: Tensor, gamma: Tensor, eps: number): { dx: Tensor; dgamma: Tensor; dbeta: Tensor };
  /** Inverted dropout's arithmetic: y = x ⊙ mask (mask values 0 or 1 / (1 − rate)); its gradient is dropout(dy, mask). */
  dropout(x: Tensor, mask: Tensor): Tensor;
  /** Softmax over the last axis, stable: p_k = e^(z_k − max z) / Σ_j e^(z_j − max z). */
  softmax(logits: Tensor): Tensor;
  /** Takes the forward output p: dz_k = p_k · (dp_k − Σ_j dp_j · p_j). */
  softmaxBackward(dp: Tensor, p: Tensor): Tensor;

  /** y = x · w + bias, x [N, I], w [I, O], bias [O], y [N, O]. */
  dense(x: Tensor, w: Tensor, bias: Tensor | null): Tensor;
  denseBackward(dy: Tensor, x: Tensor, w: Tensor): { dx: Tensor; dw: Tensor; db: Tensor };

  relu(x: Tensor): Tensor;
  reluBackward(dy: Tensor, x: Tensor): Tensor;
  leakyRelu(x: Tensor, alpha: number): Tensor;
  leakyReluBackward(dy: Tensor, x: Tensor, alpha: number): Tensor;
  sigmoid(x: Tensor): Tensor;
  /** Takes the forward output y = sigmoid(x): dx = dy · y · (1 - y). */
  sigmoidBackward(dy: Tensor, y: Tensor): Tensor;
  tanh(x: Tensor): Tensor;
  /** Takes the forward output y = tanh(x): dx = dy · (1 - y²). */
  tanhBackward(dy: Tensor, y: Tensor): Tensor;

  /** relu(conv2d(x, w, bias)) in one call: a Conv2D layer followed by ReLU (reference/fused.ts). */
  conv2dRelu(x: Tensor, w: Tensor, bias: Tensor | null, info: Conv2DInfo): Tensor;
  /**
   * Gradients of conv2dRelu from dy and its output y: conv2dBackward(reluBackward(dy, y), x, w);
   * dx is null unless `wantDx` (a first layer).
   */
  conv2dReluBackward(dy: Tensor, y: Tensor, x: Tensor, w: Tensor, info: Conv2DInfo, wantDx: boolean): { dx: Tensor | null; dw: Tensor; db: Tensor };
  /** relu(dense(x, w, bias)) in one call. */
  denseRelu(x: Tensor, w: Tensor, bias: Tensor | null): Tensor;
  /** Gradients of denseRelu from dy and its output y; dx is null unless `wantDx`. */
  denseReluBackward(dy: Tensor, y: Tensor, x: Tensor, w: Tensor, wantDx: boolean): { dx: Tensor | null; dw: Tensor; db: Tensor };
}
