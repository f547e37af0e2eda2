import { Tensor, type Shape } from '../tensor/tensor.js';
import type { Rng } from '../tensor/random.js';
import { depthwiseConv2d, depthwiseConv2dBackward, depthwiseConv2dBackwardFilter } from '../kernels/ops.js';
import { computeDepthwiseConv2DInfo, normalizePair } from '../kernels/conv-info.js';
import { Param, positiveInt, type LayerPlan, type LayerSpec } from './layer.js';
import { WeightedLayer } from './weighted.js';
import { initWeights } from './init.js';
import { convGeometry, resolveConvLayerOptions, type ConvLayerOptions, type ResolvedConvLayerOptions } from './conv-options.js';

export interface DepthwiseConv2DOptions extends ConvLayerOptions {
  /** Filters per input channel, M (default 1): the layer outputs C * M channels. */
  depthMultiplier?: number;
}

/**
 * A depthwise convolution layer (MobileNet's): each input channel is convolved with its own
 * `depthMultiplier` filters, with no sum over channels. Input NHWC [N, H, W, C]; weight
 * [kH, kW, C, depthMultiplier]; output [N, Ho, Wo, C * depthMultiplier], channel c * M + m.
 * A thin, stateful wrapper over the stateless `depthwiseConv2d` op.
 */
export class DepthwiseConv2D extends WeightedLayer {
  readonly type = 'DepthwiseConv2D';
  readonly opts: ResolvedConvLayerOptions & { depthMultiplier: number };
  private outShape?: Shape;

  constructor(opts: DepthwiseConv2DOptions) {
    super();
    const op = 'DepthwiseConv2D';
    if (opts === null || typeof opts !== 'object') throw new Error(`${op}: options {kernelSize, depthMultiplier?, ...} are required, got ${JSON.stringify(opts)}`);
    const { kernelSize, stride, padding, dilation, bias, init } = resolveConvLayerOptions(op, opts);
    if (opts.depthMultiplier !== undefined) positiveInt(op, 'depthMultiplier', opts.depthMultiplier);
    this.opts = { kernelSize, depthMultiplier: opts.depthMultiplier ?? 1, stride, padding, dilation, bias, init };
  }

  private convOpts() {
    return convGeometry(this.opts);
  }

  /** The weight shape [kH, kW, C, M] for `inC` input channels. */
  private weightShape(inC: number): Shape {
    const [kH, kW] = normalizePair('DepthwiseConv2D', 'kernelSize', this.opts.kernelSize, 1);
    return [kH, kW, inC, this.opts.depthMultiplier];
  }

  plan(inputShape: Shape): LayerPlan {
    if (inputShape.length !== 3) throw new Error(`DepthwiseConv2D.build: input must be [H, W, C], got [${inputShape.join(', ')}]`);
    const wShape = this.weightShape(inputShape[2]);
    const info = computeDepthwiseConv2DInfo('DepthwiseConv2D', [1, ...inputShape], wShape, this.convOpts());
    const tensors = [{ name: 'weight', shape: wShape }];
    if (this.opts.bias) tensors.push({ name: 'bias', shape: [info.outC] });
    return { output: [info.outH, info.outW, info.outC], tensors };
  }

  build(inputShape: Shape, rng: Rng): Shape {
    const { output } = this.plan(inputShape);
    const wShape = this.weightShape(inputShape[2]);
    const [kH, kW, , M] = wShape;
    // Each output sums kH * kW inputs (fan-in); each input reaches kH * kW * M outputs (fan-out).
    this.weight = new Param('weight', initWeights(wShape, kH * kW, kH * kW * M, this.opts.init, rng));
    this.biasParam = this.opts.bias ? new Param('bias', Tensor.zeros([output[2]]), false) : undefined;
    this.inputShape = [...inputShape];
    this.outShape = [...output];
    return this.outShape;
  }

  protected apply(x: Tensor, w: Tensor, b: Tensor | null): Tensor {
    return depthwiseConv2d(x, w, b, this.convOpts());
  }

  protected applyBackward(dy: Tensor, x: Tensor, w: Tensor): { dx: Tensor; dw: Tensor; db: Tensor } {
    return depthwiseConv2dBackward(dy, x, w, this.convOpts());
  }

  /** A first layer: dw and db without computing dx (equations (2), (3)); the same sums as applyBackward's. */
  protected override applyBackwardParams(dy: Tensor, x: Tensor, w: Tensor): { dw: Tensor; db: Tensor } {
    return depthwiseConv2dBackwardFilter(dy, x, w.shape, this.convOpts());
  }

  toSpec(): LayerSpec {
    return { type: this.type, config: { ...this.opts } };
  }

  /** 2 · Ho · Wo · (C · M) · kH · kW: one multiply-add per tap of each output, no sum over channels. */
  flops(): number {
    const [outH, outW, outC] = this.outShape ?? [0, 0, 0];
    const [kH, kW] = this.weight ? this.weight.value.shape : [0, 0];
    return 2 * outH * outW * outC * kH * kW;
  }

  override toString(): string {
    const o = this.opts;
    let s = `DepthwiseConv2D(kernelSize=${JSON.stringify(o.kernelSize)}`;
    if (o.depthMultiplier !== 1) s += `, depthMultiplier=${o.depthMultiplier}`;
    if (JSON.stringify(o.stride) !== '1') s += `, stride=${JSON.stringify(o.stride)}`;
    if (o.padding !== 'valid') s += `, padding=${JSON.stringify(o.padding)}`;
    if (JSON.stringify(o.dilation) !== '1') s += `, dilation=${JSON.stringify(o.dilation)}`;
    if (!o.bias) s += ', bias=false';
    if (o.init !== 'he') s += `, init=${o.init}`;
    return s + ')';
  }
}
