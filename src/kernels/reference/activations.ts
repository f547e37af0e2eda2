/**
 * Reference elementwise activations (seed 002: "We apply activation like RELU to the final output Z
 * to get A"). Each backward takes what its derivative is cheapest in: the input x for ReLU and leaky
 * ReLU, the output y for sigmoid and tanh.
 */
import { Tensor } from '../../tensor/tensor.js';

function map(x: Tensor, f: (v: number) => number): Tensor {
  const out = new Float32Array(x.size);
  for (let i = 0; i < out.length; i++) out[i] = f(x.data[i]);
  return new Tensor(out, x.shape);
}

function map2(a: Tensor, b: Tensor, f: (u: number, v: number) => number): Tensor {
  const out = new Float32Array(a.size);
  for (let i = 0; i < out.length; i++) out[i] = f(a.data[i], b.data[i]);
  return new Tensor(out, a.shape);
}

/** A = max(0, Z). */
export const relu = (x: Tensor): Tensor => map(x, (v) => (v > 0 ? v : v === v ? 0 : v));
/** dZ = dA · [Z > 0] (the subgradient at 0 is 0, as in every major framework). */
export const reluBackward = (dy: Tensor, x: Tensor): Tensor => map2(dy, x, (g, v) => (v > 0 ? g : 0));

/** A = Z for Z > 0, alpha · Z otherwise. */
export const leakyRelu = (x: Tensor, alpha: number): Tensor => map(x, (v) => (v > 0 ? v : alpha * v));
export const leakyReluBackward = (dy: Tensor, x: Tensor, alpha: number): Tensor => map2(dy, x, (g, v) => (v > 0 ? g : alpha * g));

/** A = 1 / (1 + e^-Z), computed without overflow for large |Z|. */
export const sigmoid = (x: Tensor): Tensor =>
  map(x, (v) => {
    if (v >= 0) return 1 / (1 + Math.exp(-v));
    const e = Math.exp(v);
    return e / (1 + e);
  });
/** dZ = dA · A · (1 - A). */
export const sigmoidBackward = (dy: Tensor, y: Tensor): Tensor => map2(dy, y, (g, s) => g * s * (1 - s));

export const tanh = (x: Tensor): Tensor => map(x, Math.tanh);
/** dZ = dA · (1 - A²). */
export const tanhBackward = (dy: Tensor, y: Tensor): Tensor => map2(dy, y, (g, t) => g * (1 - t * t));
