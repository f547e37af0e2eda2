import { Tensor, type Shape } from '../tensor/tensor.js';
import type { Rng } from '../tensor/random.js';
import { conv2d, conv2dBackward, conv2dBackwardFilter, conv2dRelu, conv2dReluBackward } from '../kernels/ops.js';
import { computeConv2DInfo, normalizePair } from '../kernels/conv-info.js';
import { Param, positiveInt, type LayerPlan, type LayerSpec } from './layer.js';
import { WeightedLayer } from './weighted.js';
import { initWeights } from './init.js';
import { convGeometry, resolveConvLayerOptions, type ConvLayerOptions, type ResolvedConvLayerOptions } from './conv-options.js';

export interface Conv2DOptions extends ConvLayerOptions {
  outChannels: number;
}

/**
 * A convolution layer (seed 002, "Single Convolution Layer"): Z = W * A_prev + b.
 * Input NHWC [N, H, W, Cin]; weight HWIO [kH, kW, Cin, outChannels]; output [N, Ho, Wo, outChannels].
 * A thin, stateful wrapper over the stateless `conv2d` op.
 */
export class Conv2D extends WeightedLayer {
  readonly type = 'Conv2D';
  readonly opts: ResolvedConvLayerOptions & { outChannels: number };
  private outShape?: Shape;

  constructor(opts: Conv2DOptions) {
    super();
    positiveInt('Conv2D', 'outChannels', opts?.outChannels);
    const { kernelSize, stride, padding, dilation, bias, init } = resolveConvLayerOptions('Conv2D', opts);
    this.opts = { outChannels: opts.outChannels, kernelSize, stride, padding, dilation, bias, init };
  }

  private convOpts() {
    return convGeometry(this.opts);
  }

  plan(inputShape: Shape): LayerPlan {
    if (inputShape.length !== 3) throw new Error(`Conv2D.build: input must be [H, W, C], got [${inputShape.join(', ')}]`);
    const [kH, kW] = normalizePair('Conv2D', 'kernelSize', this.opts.kernelSize, 1);
    const inC = inputShape[2];
    const outC = this.opts.outChannels;
    const info = computeConv2DInfo('Conv2D', [1, ...inputShape], [kH, kW, inC, outC], this.convOpts());
    const tensors = [{ name: 'weight', shape: [kH, kW, inC, outC] }];
    if (this.opts.bias) tensors.push({ name: 'bias', shape: [outC] });
    return { output: [info.outH, info.outW, outC], tensors };
  }

  build(inputShape: Shape, rng: Rng): Shape {
    const { output } = this.plan(inputShape);
    const [kH, kW] = normalizePair('Conv2D', 'kernelSize', this.opts.kernelSize, 1);
    const inC = inputShape[2];
    const outC = this.opts.outChannels;
    this.weight = new Param('weight', initWeights([kH, kW, inC, outC], kH * kW * inC, kH * kW * outC, this.opts.init, rng));
    this.biasParam = this.opts.bias ? new Param('bias', Tensor.zeros([outC]), false) : undefined;
    this.inputShape = [...inputShape];
    this.outShape = [...output];
    return this.outShape;
  }

  protected apply(x: Tensor, w: Tensor, b: Tensor | null): Tensor {
    return conv2d(x, w, b, this.convOpts());
  }

  protected override applyBackwardParams(dy: Tensor, x: Tensor, w: Tensor): { dw: Tensor; db: Tensor } {
    return conv2dBackwardFilter(dy, x, w.shape, this.convOpts());
  }

  protected applyBackward(dy: Tensor, x: Tensor, w: Tensor): { dx: Tensor; dw: Tensor; db: Tensor } {
    return conv2dBackward(dy, x, w, this.convOpts());
  }

  protected override applyRelu(x: Tensor, w: Tensor, b: Tensor | null): Tensor {
    return conv2dRelu(x, w, b, this.convOpts());
  }

  protected override applyReluBackward(dy: Tensor, y: Tensor, x: Tensor, w: Tensor, wantDx: boolean): { dx: Tensor | null; dw: Tensor; db: Tensor } {
    return conv2dReluBackward(dy, y, x, w, this.convOpts(), { dx: wantDx });
  }

  toSpec(): LayerSpec {
    return { type: this.type, config: { ...this.opts } };
  }

  flops(): number {
    const [outH, outW, outC] = this.outShape ?? [0, 0, 0];
    const [kH, kW, inC] = this.weight ? this.weight.value.shape : [0, 0, 0];
    return 2 * outH * outW * outC * kH * kW * inC;
  }

  override toString(): string {
    const o = this.opts;
    let s = `Conv2D(${o.outChannels}, kernelSize=${JSON.stringify(o.kernelSize)}`;
    if (JSON.stringify(o.stride) !== '1') s += `, stride=${JSON.stringify(o.stride)}`;
    if (o.padding !== 'valid') s += `, padding=${JSON.stringify(o.padding)}`;
    if (JSON.stringify(o.dilation) !== '1') s += `, dilation=${JSON.stringify(o.dilation)}`;
    if (!o.bias) s += ', bias=false';
    if (o.init !== 'he') s += `, init=${o.init}`;
    return s + ')';
  }
}
