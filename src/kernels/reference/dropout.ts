/**
 * Reference inverted-dropout arithmetic (Srivastava et al. 2014): y = x ⊙ mask, where the mask
 * holds 0 (dropped) or 1 / (1 − rate) (kept, scaled). The gradient is the same product with dy,
 * dx = dy ⊙ mask. Drawing the mask is the layer's (its Rng); the kernel only multiplies.
 */
import { Tensor } from '../../tensor/tensor.js';

export function dropout(x: Tensor, mask: Tensor): Tensor {
  const y = new Float32Array(x.size);
  for (let i = 0; i < y.length; i++) y[i] = x.data[i] * mask.data[i];
  return new Tensor(y, x.shape);
}
