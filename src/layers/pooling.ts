import type { Tensor, Shape } from '../tensor/tensor.js';
import * as ops from '../kernels/ops.js';
import { checkPadding, computePool2DInfo, normalizePair, type Padding, type PoolWindowOptions } from '../kernels/conv-info.js';
import { StatelessLayer } from './stateless.js';
import type { LayerSpec } from './layer.js';

export interface PoolOptions {
  kernelSize: number | [number, number];
  /** Defaults to kernelSize. */
  stride?: number | [number, number];
  /** Default 'valid'. */
  padding?: Padding;
}

type X = { x: Tensor };

abstract class Pool2D extends StatelessLayer<X> {
  readonly opts: PoolWindowOptions;
  constructor(opts: PoolOptions) {
    super();
    this.opts = { kernelSize: opts?.kernelSize, stride: opts?.stride ?? opts?.kernelSize, padding: opts?.padding ?? 'valid' };
    const name = new.target.name;
    if (this.opts.kernelSize === undefined) throw new Error(`${name}: kernelSize is required (a positive integer or [h, w]), got ${opts === null ? 'null options' : 'none'}`);
    normalizePair(name, 'kernelSize', this.opts.kernelSize, 1);
    normalizePair(name, 'stride', this.opts.stride, 1);
    checkPadding(name, this.opts.padding); // its size is checked against the input in build
  }
  protected outShape(s: Shape): Shape {
    if (s.length !== 3) throw new Error(`${this.type}.build: input must be [H, W, C], got [${s.join(', ')}]`);
    const info = computePool2DInfo(this.type, [1, ...s], this.opts);
    return [info.outH, info.outW, info.channels];
  }
  override toSpec(): LayerSpec {
    return { type: this.type, config: { ...this.opts } };
  }
  override flops(): number {
    const [kH, kW] = typeof this.opts.kernelSize === 'number' ? [this.opts.kernelSize, this.opts.kernelSize] : this.opts.kernelSize;
    return super.flops() * kH * kW;
  }
  override toString(): string {
    const o = this.opts;
    let s = `${this.type}(kernelSize=${JSON.stringify(o.kernelSize)}`;
    if (JSON.stringify(o.stride) !== JSON.stringify(o.kernelSize)) s += `, stride=${JSON.stringify(o.stride)}`;
    if (o.padding !== 'valid') s += `, padding=${JSON.stringify(o.padding)}`;
    return s + ')';
  }
}

/** Max pooling (seed 002): the maximum of each window, per channel; padded cells never win. */
export class MaxPool2D extends Pool2D {
  readonly type = 'MaxPool2D';
  protected compute(x: Tensor) {
    return { y: ops.maxPool2d(x, this.opts), cache: { x } };
  }
  protected gradient = (dy: Tensor, c: X) => ops.maxPool2dBackward(dy, c.x, this.opts);
}

/** Average pooling (seed 002): the mean of each window's real cells, per channel. */
export class AvgPool2D extends Pool2D {
  readonly type = 'AvgPool2D';
  protected compute(x: Tensor) {
    return { y: ops.avgPool2d(x, this.opts), cache: { x } };
  }
  protected gradient = (dy: Tensor, c: X) => ops.avgPool2dBackward(dy, c.x, this.opts);
}

/** The mean over H and W of each channel: [N, H, W, C] → [N, C]. */
export class GlobalAvgPool2D extends StatelessLayer<X> {
  readonly type = 'GlobalAvgPool2D';
  protected outShape(s: Shape): Shape {
    if (s.length !== 3) throw new Error(`GlobalAvgPool2D.build: input must be [H, W, C], got [${s.join(', ')}]`);
    return [s[2]];
  }
  protected compute(x: Tensor) {
    return { y: ops.globalAvgPool2d(x), cache: { x } };
  }
  protected gradient = (dy: Tensor, c: X) => ops.globalAvgPool2dBackward(dy, c.x.shape);
  override flops(): number {
    return this.inputShape ? this.inputShape.reduce((a, b) => a * b, 1) : 0;
  }
}

/** [N, ...] → [N, product of the rest], in NHWC order (the same order ONNX Flatten uses on NHWC data). */
export class Flatten extends StatelessLayer<X> {
  readonly type = 'Flatten';
  protected outShape = (s: Shape): Shape => [s.reduce((a, b) => a * b, 1)];
  protected compute(x: Tensor) {
    return { y: x.reshape([x.shape[0], -1]), cache: { x } };
  }
  protected gradient = (dy: Tensor, c: X) => dy.reshape(c.x.shape);
  override flops(): number {
    return 0;
  }
}
