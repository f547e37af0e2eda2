import { Tensor, type Shape } from '../tensor/tensor.js';
import type { Rng } from '../tensor/random.js';
import { dense, denseBackward } from '../kernels/ops.js';
import { Param, accumulate, checkInput, noCache, positiveInt, type Layer, type LayerSpec } from './layer.js';
import { checkInit, initWeights, type Init } from './init.js';

export interface DenseOptions {
  units: number;
  /** Default true. */
  bias?: boolean;
  /** Default 'he'. */
  init?: Init;
}

/** Fully connected layer (seed 002, "FC"): y = x · W + b, x [N, in], W [in, units], y [N, units]. */
export class Dense implements Layer {
  readonly type = 'Dense';
  readonly opts: Required<DenseOptions>;
  weight?: Param;
  biasParam?: Param;
  private inputShape?: Shape;
  private cache?: { x: Tensor };

  constructor(opts: DenseOptions) {
    positiveInt('Dense', 'units', opts?.units);
    this.opts = { units: opts.units, bias: opts.bias ?? true, init: checkInit('Dense', opts.init ?? 'he') };
  }

  build(inputShape: Shape, rng: Rng): Shape {
    if (inputShape.length !== 1) {
      throw new Error(`Dense.build: input must be [features], got [${inputShape.join(', ')}]; put a Flatten before Dense`);
    }
    const inF = inputShape[0];
    const outF = this.opts.units;
    this.weight = new Param('weight', initWeights([inF, outF], inF, outF, this.opts.init, rng));
    this.biasParam = this.opts.bias ? new Param('bias', Tensor.zeros([outF]), false) : undefined;
    this.inputShape = [inF];
    return [outF];
  }

  forward(x: Tensor, training: boolean): Tensor {
    checkInput(this.type, x, this.inputShape);
    this.cache = training ? { x } : undefined;
    return dense(x, this.weight!.value, this.biasParam?.value ?? null);
  }

  backward(dy: Tensor): Tensor {
    if (this.cache === undefined) noCache(this.type);
    const { dx, dw, db } = denseBackward(dy, this.cache.x, this.weight!.value);
    accumulate(this.weight!.grad, dw);
    if (this.biasParam) accumulate(this.biasParam.grad, db);
    return dx;
  }

  params(): Param[] {
    return this.biasParam ? [this.weight!, this.biasParam] : this.weight ? [this.weight] : [];
  }

  buffers() {
    return [];
  }

  toSpec(): LayerSpec {
    return { type: this.type, config: { ...this.opts } };
  }

  flops(): number {
    return this.weight ? 2 * this.weight.value.size : 0;
  }

  toString(): string {
    let s = `Dense(${this.opts.units}`;
    if (!this.opts.bias) s += ', bias=false';
    if (this.opts.init !== 'he') s += `, init=${this.opts.init}`;
    return s + ')';
  }
}
