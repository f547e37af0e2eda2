import type { Tensor, Shape } from '../tensor/tensor.js';
import type { Rng } from '../tensor/random.js';
import { checkInput, noCache, type Layer, type LayerPlan, type LayerSpec, type Param } from './layer.js';

/**
 * Base of the layers without parameters (activations, pooling, Flatten): holds the input shape,
 * the training cache and the boilerplate, so each subclass is its forward and backward rules only.
 */
export abstract class StatelessLayer<C = { x: Tensor; y: Tensor }> implements Layer {
  abstract readonly type: string;
  protected inputShape?: Shape;
  protected outputShape?: Shape;
  protected cache?: C;

  /** The output shape for an input shape (without batch); throws on an invalid one. */
  protected abstract outShape(inputShape: Shape): Shape;
  protected abstract compute(x: Tensor): { y: Tensor; cache: C };
  protected abstract gradient(dy: Tensor, cache: C): Tensor;

  plan(inputShape: Shape): LayerPlan {
    return { output: this.outShape(inputShape), tensors: [] };
  }

  build(inputShape: Shape, _rng: Rng): Shape {
    this.outputShape = this.outShape(inputShape);
    this.inputShape = [...inputShape];
    return this.outputShape;
  }

  forward(x: Tensor, training: boolean): Tensor {
    checkInput(this.type, x, this.inputShape);
    const { y, cache } = this.compute(x);
    this.cache = training ? cache : undefined;
    return y;
  }

  backward(dy: Tensor): Tensor {
    if (this.cache === undefined) noCache(this.type);
    return this.gradient(dy, this.cache);
  }

  params(): Param[] {
    return [];
  }

  buffers() {
    return [];
  }

  toSpec(): LayerSpec {
    return { type: this.type, config: {} };
  }

  /** Elementwise layers count one operation per output element. */
  flops(): number {
    return this.outputShape ? this.outputShape.reduce((a, b) => a * b, 1) : 0;
  }

  toString(): string {
    return `${this.type}()`;
  }
}
