import { Tensor, type Shape } from '../tensor/tensor.js';
import type { Rng } from '../tensor/random.js';
import { dense, denseBackward, denseRelu, denseReluBackward } from '../kernels/ops.js';
import { Param, positiveInt, type LayerPlan, type LayerSpec } from './layer.js';
import { WeightedLayer } from './weighted.js';
import { checkInit, initWeights, type Init } from './init.js';

export interface DenseOptions {
  units: number;
  /** Default true. */
  bias?: boolean;
  /** Default 'he'. */
  init?: Init;
}

/** Fully connected layer (seed 002, "FC"): y = x · W + b, x [N, in], W [in, units], y [N, units]. */
export class Dense extends WeightedLayer {
  readonly type = 'Dense';
  readonly opts: Required<DenseOptions>;

  constructor(opts: DenseOptions) {
    super();
    positiveInt('Dense', 'units', opts?.units);
    if (opts.bias !== undefined && typeof opts.bias !== 'boolean') throw new Error(`Dense: bias must be true or false, got ${JSON.stringify(opts.bias)}`);
    this.opts = { units: opts.units, bias: opts.bias ?? true, init: checkInit('Dense', opts.init ?? 'he') };
  }

  plan(inputShape: Shape): LayerPlan {
    if (inputShape.length !== 1) {
      throw new Error(`Dense.build: input must be [features], got [${inputShape.join(', ')}]; put a Flatten before Dense`);
    }
    const units = this.opts.units;
    const tensors = [{ name: 'weight', shape: [inputShape[0], units] }];
    if (this.opts.bias) tensors.push({ name: 'bias', shape: [units] });
    return { output: [units], tensors };
  }

  build(inputShape: Shape, rng: Rng): Shape {
    this.plan(inputShape);
    const inF = inputShape[0];
    const outF = this.opts.units;
    this.weight = new Param('weight', initWeights([inF, outF], inF, outF, this.opts.init, rng));
    this.biasParam = this.opts.bias ? new Param('bias', Tensor.zeros([outF]), false) : undefined;
    this.inputShape = [inF];
    return [outF];
  }

  protected apply(x: Tensor, w: Tensor, b: Tensor | null): Tensor {
    return dense(x, w, b);
  }

  protected applyBackward(dy: Tensor, x: Tensor, w: Tensor): { dx: Tensor; dw: Tensor; db: Tensor } {
    return denseBackward(dy, x, w);
  }

  protected override applyRelu(x: Tensor, w: Tensor, b: Tensor | null): Tensor {
    return denseRelu(x, w, b);
  }

  protected override applyReluBackward(dy: Tensor, y: Tensor, x: Tensor, w: Tensor, wantDx: boolean): { dx: Tensor | null; dw: Tensor; db: Tensor } {
    return denseReluBackward(dy, y, x, w, { dx: wantDx });
  }

  toSpec(): LayerSpec {
    return { type: this.type, config: { ...this.opts } };
  }

  flops(): number {
    return this.weight ? 2 * this.weight.value.size : 0;
  }

  override toString(): string {
    let s = `Dense(${this.opts.units}`;
    if (!this.opts.bias) s += ', bias=false';
    if (this.opts.init !== 'he') s += `, init=${this.opts.init}`;
    return s + ')';
  }
}
