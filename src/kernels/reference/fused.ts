/**
 * Fused layer pairs, as their definition: a convolution or dense layer followed by ReLU (seed 002:
 * "Z = W * A_prev + b", then "A = RELU(Z)"), forward and backward, written as the composition of
 * the reference ops. A fast backend does the same in fewer passes over memory; the two must agree.
 *
 * The backward pass takes the fused output A = relu(Z) instead of Z: A > 0 exactly where Z > 0
 * (NaN in neither), so dZ = dA · [A > 0] is reluBackward(dA, Z) bit for bit.
 */
import type { Tensor } from '../../tensor/tensor.js';
import type { Conv2DInfo, Pool2DInfo } from '../conv-info.js';
import { maxPool2d, maxPool2dBackward } from './max-pool2d.js';
import { relu, reluBackward } from './activations.js';
import { conv2d, conv2dBackward, conv2dBackwardFilter } from './conv2d.js';
import { dense, denseBackward } from './dense.js';

/** A = relu(conv2d(x, w, bias)). */
export function conv2dRelu(x: Tensor, w: Tensor, bias: Tensor | null, info: Conv2DInfo): Tensor {
  const z = conv2d(x, w, bias, info);
  const a = relu(z);
  z.dispose();
  return a;
}

/** Gradients of conv2dRelu given dA and its output A: conv2dBackward(dA · [A > 0], x, w); dx only when `wantDx`. */
export function conv2dReluBackward(dy: Tensor, y: Tensor, x: Tensor, w: Tensor, info: Conv2DInfo, wantDx: boolean): { dx: Tensor | null; dw: Tensor; db: Tensor } {
  const dz = reluBackward(dy, y);
  const g = wantDx ? conv2dBackward(dz, x, w, info) : { dx: null, ...conv2dBackwardFilter(dz, x, info) };
  dz.dispose();
  return g;
}

/** A = relu(x · w + bias). */
export function denseRelu(x: Tensor, w: Tensor, bias: Tensor | null): Tensor {
  const z = dense(x, w, bias);
  const a = relu(z);
  z.dispose();
  return a;
}

/** Gradients of denseRelu given dA and its output A: denseBackward(dA · [A > 0], x, w); dx only when `wantDx`. */
export function denseReluBackward(dy: Tensor, y: Tensor, x: Tensor, w: Tensor, wantDx: boolean): { dx: Tensor | null; dw: Tensor; db: Tensor } {
  const dz = reluBackward(dy, y);
  const g = denseBackward(dz, x, w);
  dz.dispose();
  if (!wantDx) {
    g.dx.dispose();
    return { dx: null, dw: g.dw, db: g.db };
  }
  return g;
}

/**
 * P = maxPool2d(relu(Z)): the pool after a ReLU (Conv2D -> ReLU -> MaxPool2D), from the
 * pre-activation Z. A fast backend pools Z and applies the ReLU to the pooled values.
 */
export function maxPool2dRelu(z: Tensor, info: Pool2DInfo): Tensor {
  const a = relu(z);
  const p = maxPool2d(a, info);
  a.dispose();
  return p;
}

/** dZ of maxPool2dRelu: reluBackward(maxPool2dBackward(dP, relu(Z)), Z). */
export function maxPool2dReluBackward(dy: Tensor, z: Tensor, info: Pool2DInfo): Tensor {
  const a = relu(z);
  const da = maxPool2dBackward(dy, a, info);
  const dz = reluBackward(da, z);
  a.dispose();
  da.dispose();
  return dz;
}
