import type { Tensor, Shape } from '../tensor/tensor.js';
import type { Rng } from '../tensor/random.js';
import { Param, addGrad, checkInput, noCache, type Layer, type LayerSpec } from './layer.js';
import { relu, reluBackward } from '../kernels/ops.js';

/**
 * The shared skeleton of the layers with a weight and an optional bias (Conv2D, Dense): caching,
 * the "backward returns dx and adds into param.grad" contract, and the parameter list. A subclass
 * supplies its op (`apply`) and that op's backward (`applyBackward`); seed 002's "Z = W · A + b"
 * and its three gradient rules are the same for both.
 */
export abstract class WeightedLayer implements Layer {
  abstract readonly type: string;
  weight?: Param;
  biasParam?: Param;
  protected inputShape?: Shape;
  private cache?: { x: Tensor; y?: Tensor };

  abstract build(inputShape: Shape, rng: Rng): Shape;
  protected abstract apply(x: Tensor, w: Tensor, b: Tensor | null): Tensor;
  protected abstract applyBackward(dy: Tensor, x: Tensor, w: Tensor): { dx: Tensor; dw: Tensor; db: Tensor };
  /**
   * The op's dw and db without dx (a first layer). By default the whole backward, dx dropped; a
   * subclass with a cheaper kernel (Conv2D) overrides it.
   */
  protected applyBackwardParams(dy: Tensor, x: Tensor, w: Tensor): { dw: Tensor; db: Tensor } {
    const { dx, dw, db } = this.applyBackward(dy, x, w);
    dx.dispose();
    return { dw, db };
  }
  /** relu(apply(x, w, b)), for `forwardRelu`; a subclass with a fused op (Conv2D, Dense) overrides it. */
  protected applyRelu(x: Tensor, w: Tensor, b: Tensor | null): Tensor {
    const z = this.apply(x, w, b);
    const y = relu(z);
    z.dispose();
    return y;
  }
  /** The gradients of applyRelu from dy and its output y (dx null unless wantDx). */
  protected applyReluBackward(dy: Tensor, y: Tensor, x: Tensor, w: Tensor, wantDx: boolean): { dx: Tensor | null; dw: Tensor; db: Tensor } {
    const dz = reluBackward(dy, y);
    const g = wantDx ? this.applyBackward(dz, x, w) : { dx: null, ...this.applyBackwardParams(dz, x, w) };
    dz.dispose();
    return g;
  }
  abstract toSpec(): LayerSpec;
  abstract flops(): number;

  forward(x: Tensor, training: boolean): Tensor {
    checkInput(this.type, x, this.inputShape);
    this.cache = training ? { x } : undefined;
    return this.apply(x, this.weight!.value, this.biasParam?.value ?? null);
  }

  backward(dy: Tensor): Tensor {
    if (this.cache === undefined) noCache(this.type);
    const { dx, dw, db } = this.applyBackward(dy, this.cache.x, this.weight!.value);
    this.accumulateGrads(dw, db);
    return dx;
  }

  /**
   * This layer followed by a ReLU, in one call: `relu(forward(x))` with the same numbers (Sequential
   * runs a Conv2D or Dense and the ReLU after it this way). Caches x and the output for
   * `backwardRelu`.
   */
  forwardRelu(x: Tensor, training: boolean): Tensor {
    checkInput(this.type, x, this.inputShape);
    const y = this.applyRelu(x, this.weight!.value, this.biasParam?.value ?? null);
    this.cache = training ? { x, y } : undefined;
    return y;
  }

  /** The backward pass of `forwardRelu`: that of the ReLU, then this layer's, in one call. */
  backwardRelu(dy: Tensor): Tensor {
    const c = this.reluCache();
    const { dx, dw, db } = this.applyReluBackward(dy, c.y, c.x, this.weight!.value, true);
    this.accumulateGrads(dw, db);
    return dx!;
  }

  /** `backwardRelu` without dx (a first layer): the same param.grad additions. */
  backwardReluParams(dy: Tensor): void {
    const c = this.reluCache();
    const { dw, db } = this.applyReluBackward(dy, c.y, c.x, this.weight!.value, false);
    this.accumulateGrads(dw, db);
  }

  private reluCache(): { x: Tensor; y: Tensor } {
    if (this.cache?.y === undefined) throw new Error(`${this.type}.backwardRelu: call forwardRelu(x, true) first`);
    return this.cache as { x: Tensor; y: Tensor };
  }

  backwardParams(dy: Tensor): void {
    if (this.cache === undefined) noCache(this.type);
    const { dw, db } = this.applyBackwardParams(dy, this.cache.x, this.weight!.value);
    this.accumulateGrads(dw, db);
  }

  /** Adds dw and db into the parameters' gradients, then gives their memory back (they are this call's own). */
  protected accumulateGrads(dw: Tensor, db: Tensor): void {
    addGrad(this.weight!, dw);
    if (this.biasParam) addGrad(this.biasParam, db);
    dw.dispose();
    db.dispose();
  }

  params(): Param[] {
    return this.biasParam ? [this.weight!, this.biasParam] : this.weight ? [this.weight] : [];
  }

  buffers(): { name: string; value: Tensor }[] {
    return [];
  }
}
