import { Tensor, type Shape } from '../tensor/tensor.js';
import type { Rng } from '../tensor/random.js';
import { StatelessLayer } from './stateless.js';
import { checkInput, type LayerSpec } from './layer.js';
import { dropout } from '../kernels/ops.js';

type M = { mask: Tensor };

/**
 * Inverted dropout (Srivastava et al. 2014): in training each element is zeroed with probability
 * `rate` and the survivors are scaled by 1 / (1 - rate), so inference is the identity.
 * The mask is drawn from the Rng the layer was built with (the model's), so a seed fixes it.
 */
export class Dropout extends StatelessLayer<M> {
  readonly type = 'Dropout';
  readonly rate: number;
  private rng?: Rng;

  constructor(opts: { rate: number }) {
    super();
    const r = opts?.rate;
    if (typeof r !== 'number' || !(r >= 0 && r < 1)) throw new Error(`Dropout: rate must be in [0, 1), got ${JSON.stringify(r)}`);
    this.rate = r;
  }

  override build(inputShape: Shape, rng: Rng): Shape {
    this.rng = rng;
    return super.build(inputShape, rng);
  }

  protected outShape = (s: Shape) => s;

  override forward(x: Tensor, training: boolean): Tensor {
    if (training && this.rate > 0) return super.forward(x, true);
    // Inference (or rate 0) is the identity and draws nothing from the Rng.
    checkInput(this.type, x, this.inputShape);
    this.cache = training ? { mask: Tensor.ones(x.shape) } : undefined;
    return x;
  }

  /** The mask is drawn here, one Rng draw per element in order; the product is the `dropout` op. */
  protected compute(x: Tensor) {
    const keep = 1 - this.rate;
    const mask = new Float32Array(x.size);
    for (let i = 0; i < x.size; i++) mask[i] = this.rng!.next() < keep ? 1 / keep : 0;
    const m = new Tensor(mask, x.shape);
    return { y: dropout(x, m), cache: { mask: m } };
  }

  protected gradient(dy: Tensor, c: M): Tensor {
    return dropout(dy, c.mask);
  }

  override toSpec(): LayerSpec {
    return { type: this.type, config: { rate: this.rate } };
  }

  override toString(): string {
    return `Dropout(rate=${this.rate})`;
  }
}
