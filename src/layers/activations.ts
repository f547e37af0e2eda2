import type { Tensor, Shape } from '../tensor/tensor.js';
import * as ops from '../kernels/ops.js';
import { softmax, softmaxBackward } from '../losses/softmax.js';
import { StatelessLayer } from './stateless.js';
import type { LayerSpec } from './layer.js';

type XY = { x: Tensor; y: Tensor };

/** A = max(0, Z). */
export class ReLU extends StatelessLayer<XY> {
  readonly type = 'ReLU';
  protected outShape = (s: Shape) => s;
  protected compute(x: Tensor) {
    const y = ops.relu(x);
    return { y, cache: { x, y } };
  }
  protected gradient = (dy: Tensor, c: XY) => ops.reluBackward(dy, c.x);
}

/** A = Z for Z > 0, alpha · Z otherwise (default alpha 0.01). */
export class LeakyReLU extends StatelessLayer<XY> {
  readonly type = 'LeakyReLU';
  readonly alpha: number;
  constructor(opts: { alpha?: number } | null = {}) {
    super();
    this.alpha = opts?.alpha ?? 0.01;
    if (!Number.isFinite(this.alpha)) throw new Error(`LeakyReLU: alpha must be a finite number, got ${JSON.stringify(opts?.alpha)}`);
  }
  protected outShape = (s: Shape) => s;
  protected compute(x: Tensor) {
    const y = ops.leakyRelu(x, this.alpha);
    return { y, cache: { x, y } };
  }
  protected gradient = (dy: Tensor, c: XY) => ops.leakyReluBackward(dy, c.x, this.alpha);
  override toSpec(): LayerSpec {
    return { type: this.type, config: { alpha: this.alpha } };
  }
  override toString(): string {
    return this.alpha === 0.01 ? 'LeakyReLU()' : `LeakyReLU(alpha=${this.alpha})`;
  }
}

export class Sigmoid extends StatelessLayer<XY> {
  readonly type = 'Sigmoid';
  protected outShape = (s: Shape) => s;
  protected compute(x: Tensor) {
    const y = ops.sigmoid(x);
    return { y, cache: { x, y } };
  }
  protected gradient = (dy: Tensor, c: XY) => ops.sigmoidBackward(dy, c.y);
}

export class Tanh extends StatelessLayer<XY> {
  readonly type = 'Tanh';
  protected outShape = (s: Shape) => s;
  protected compute(x: Tensor) {
    const y = ops.tanh(x);
    return { y, cache: { x, y } };
  }
  protected gradient = (dy: Tensor, c: XY) => ops.tanhBackward(dy, c.y);
}

/**
 * Softmax over the last axis, for inference outputs. For training, end the model with logits and use
 * softmaxCrossEntropy, whose fused gradient is exact and stable.
 */
export class Softmax extends StatelessLayer<XY> {
  readonly type = 'Softmax';
  protected outShape = (s: Shape) => s;
  protected compute(x: Tensor) {
    const y = softmax(x);
    return { y, cache: { x, y } };
  }
  protected gradient = (dy: Tensor, c: XY) => softmaxBackward(dy, c.y);
}
