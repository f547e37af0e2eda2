import { Tensor, type Shape } from '../tensor/tensor.js';
import type { Rng } from '../tensor/random.js';
import { Param, accumulate, checkInput, noCache, type Layer, type LayerPlan, type LayerSpec } from './layer.js';

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
  private cache?: { x: Tensor; xhat: Float32Array; invStd: Float64Array };

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
    const mean = new Float64Array(c);
    const variance = new Float64Array(c);
    if (training) {
      if (m < 2) throw new Error(`BatchNorm.forward: training needs more than one value per channel, got ${m}`);
      for (let i = 0; i < x.size; i++) mean[i % c] += x.data[i];
      for (let k = 0; k < c; k++) mean[k] /= m;
      for (let i = 0; i < x.size; i++) {
        const d = x.data[i] - mean[i % c];
        variance[i % c] += d * d;
      }
      for (let k = 0; k < c; k++) {
        variance[k] /= m;
        const rm = this.runningMean!.data;
        const rv = this.runningVar!.data;
        rm[k] = (1 - this.momentum) * rm[k] + this.momentum * mean[k];
        rv[k] = (1 - this.momentum) * rv[k] + this.momentum * variance[k] * (m / (m - 1));
      }
    } else {
      mean.set(this.runningMean!.data);
      variance.set(this.runningVar!.data);
    }
    const invStd = variance.map((v) => 1 / Math.sqrt(v + this.eps));
    const xhat = new Float32Array(x.size);
    const y = new Float32Array(x.size);
    const g = this.gamma!.value.data;
    const bt = this.beta!.value.data;
    for (let i = 0; i < x.size; i++) {
      const k = i % c;
      xhat[i] = (x.data[i] - mean[k]) * invStd[k];
      y[i] = g[k] * xhat[i] + bt[k];
    }
    this.cache = training ? { x, xhat, invStd } : undefined;
    return new Tensor(y, x.shape);
  }

  backward(dy: Tensor): Tensor {
    if (this.cache === undefined) noCache(this.type);
    const { x, xhat, invStd } = this.cache;
    const c = invStd.length;
    const m = x.size / c;
    const sumDy = new Float64Array(c);
    const sumDyXhat = new Float64Array(c);
    for (let i = 0; i < x.size; i++) {
      sumDy[i % c] += dy.data[i];
      sumDyXhat[i % c] += dy.data[i] * xhat[i];
    }
    const g = this.gamma!.value.data;
    const dx = new Float32Array(x.size);
    for (let i = 0; i < x.size; i++) {
      const k = i % c;
      dx[i] = ((g[k] * invStd[k]) / m) * (m * dy.data[i] - sumDy[k] - xhat[i] * sumDyXhat[k]);
    }
    accumulate(this.gamma!.grad, new Tensor(Float32Array.from(sumDyXhat), [c]));
    accumulate(this.beta!.grad, new Tensor(Float32Array.from(sumDy), [c]));
    return new Tensor(dx, x.shape);
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
