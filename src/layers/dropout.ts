import { Tensor, type Shape } from '../tensor/tensor.js';
import type { Rng } from '../tensor/random.js';
import { StatelessLayer } from './stateless.js';
import { checkInput, type LayerSpec } from './layer.js';

type M = { mask: Float32Array };

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
    this.cache = training ? { mask: new Float32Array(x.size).fill(1) } : undefined;
    return x;
  }

  protected compute(x: Tensor) {
    const keep = 1 - this.rate;
    const mask = new Float32Array(x.size);
    const y = new Float32Array(x.size);
    for (let i = 0; i < x.size; i++) {
      mask[i] = this.rng!.next() < keep ? 1 / keep : 0;
      y[i] = x.data[i] * mask[i];
    }
    return { y: new Tensor(y, x.shape), cache: { mask } };
  }

  protected gradient(dy: Tensor, c: M): Tensor {
    const dx = new Float32Array(dy.size);
    for (let i = 0; i < dx.length; i++) dx[i] = dy.data[i] * c.mask[i];
    return new Tensor(dx, dy.shape);
  }

  override toSpec(): LayerSpec {
    return { type: this.type, config: { rate: this.rate } };
  }

  override toString(): string {
    return `Dropout(rate=${this.rate})`;
  }
}
