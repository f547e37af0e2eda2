import { Tensor, type Shape } from '../tensor/tensor.js';
import type { Rng } from '../tensor/random.js';
import { batchNorm, batchNormBackward, batchNormStats } from '../kernels/ops.js';
import { Param, addGrad, checkInput, noCache, type Layer, type LayerPlan, type LayerSpec } from './layer.js';

export interface BatchNormOptions {
  /** Weight of the new batch in the running statistics (PyTorch convention; default 0.1). */
  momentum?: number;
  /** Added to the variance (default 1e-5). */
  eps?: number;
}

/**
 * Batch normalisation (Ioffe & Szegedy 2015) over the last axis (channels of NHWC, or features of
 * [N, F]); statistics are taken over every other axis.
 * - Training: x̂ = (x - μ_B) / sqrt(σ²_B + eps) with the batch mean and biased variance; y = γ x̂ + β;
 *   running_mean ← (1 - m) running_mean + m μ_B, running_var ← (1 - m) running_var + m σ²_B·M/(M-1).
 * - Inference: the running statistics replace the batch ones.
 * Backward after a training forward is the full gradient through the batch statistics:
 *   dx = γ / (M sqrt(σ² + eps)) · (M dy - Σ dy - x̂ Σ(dy x̂)).
 * The arithmetic is the `batchNormStats`, `batchNorm` and `batchNormBackward` ops (a Kernels entry
 * each, reference/batch-norm.ts); the layer keeps the parameters and the running statistics.
 */
export class BatchNorm implements Layer {
  readonly type = 'BatchNorm';
  readonly momentum: number;
  readonly eps: number;
  gamma?: Param;
  beta?: Param;
  runningMean?: Tensor;
  runningVar?: Tensor;
  private inputShape?: Shape;
  private cache?: { x: Tensor; mean: Tensor; variance: Tensor };

  constructor(options: BatchNormOptions | null = {}) {
    const opts = options ?? {};
    this.momentum = opts.momentum ?? 0.1;
    this.eps = opts.eps ?? 1e-5;
    if (typeof this.momentum !== 'number' || !(this.momentum >= 0 && this.momentum <= 1)) {
      throw new Error(`BatchNorm: momentum must be a number in [0, 1], got ${JSON.stringify(opts.momentum)}`);
    }
    if (typeof this.eps !== 'number' || !(this.eps > 0) || !Number.isFinite(this.eps)) {
      throw new Error(`BatchNorm: eps must be a positive number, got ${JSON.stringify(opts.eps)}`);
    }
  }

  plan(inputShape: Shape): LayerPlan {
    if (inputShape.length < 1) throw new Error('BatchNorm.build: input must have at least one dimension');
    const c = [inputShape[inputShape.length - 1]];
    return { output: inputShape, tensors: ['gamma', 'beta', 'runningMean', 'runningVar'].map((name) => ({ name, shape: c })) };
  }

  build(inputShape: Shape, _rng: Rng): Shape {
    this.plan(inputShape);
    const c = inputShape[inputShape.length - 1];
    this.gamma = new Param('gamma', Tensor.ones([c]), false);
    this.beta = new Param('beta', Tensor.zeros([c]), false);
    this.runningMean = Tensor.zeros([c]);
    this.runningVar = Tensor.ones([c]);
    this.inputShape = [...inputShape];
    return inputShape;
  }

  forward(x: Tensor, training: boolean): Tensor {
    checkInput(this.type, x, this.inputShape);
    const c = this.gamma!.value.size;
    const m = x.size / c;
    let mean = this.runningMean!;
    let variance = this.runningVar!;
    if (training) {
      if (m < 2) throw new Error(`BatchNorm.forward: training needs more than one value per channel, got ${m}`);
      ({ mean, variance } = batchNormStats(x));
      const rm = this.runningMean!.data;
      const rv = this.runningVar!.data;
      for (let k = 0; k < c; k++) {
        rm[k] = (1 - this.momentum) * rm[k] + this.momentum * mean.data[k];
        rv[k] = (1 - this.momentum) * rv[k] + this.momentum * variance.data[k] * (m / (m - 1));
      }
    }
    const y = batchNorm(x, mean, variance, this.gamma!.value, this.beta!.value, this.eps);
    this.cache = training ? { x, mean, variance } : undefined;
    return y;
  }

  backward(dy: Tensor): Tensor {
    if (this.cache === undefined) noCache(this.type);
    const { x, mean, variance } = this.cache;
    const { dx, dgamma, dbeta } = batchNormBackward(dy, x, mean, variance, this.gamma!.value, this.eps);
    addGrad(this.gamma!, dgamma);
    addGrad(this.beta!, dbeta);
    return dx;
  }

  params(): Param[] {
    return this.gamma ? [this.gamma, this.beta!] : [];
  }

  buffers() {
    return this.runningMean ? [{ name: 'runningMean', value: this.runningMean }, { name: 'runningVar', value: this.runningVar! }] : [];
  }

  toSpec(): LayerSpec {
    return { type: this.type, config: { momentum: this.momentum, eps: this.eps } };
  }

  flops(): number {
    return this.inputShape ? 2 * this.inputShape.reduce((a, b) => a * b, 1) : 0;
  }

  toString(): string {
    const parts: string[] = [];
    if (this.momentum !== 0.1) parts.push(`momentum=${this.momentum}`);
    if (this.eps !== 1e-5) parts.push(`eps=${this.eps}`);
    return `BatchNorm(${parts.join(', ')})`;
  }
}
