/** Small helpers shared by the optimizer tests (not a test file itself). */
import { Tensor } from '../../src/tensor/tensor.js';
import { Param } from '../../src/layers/layer.js';
import type { Optimizer } from '../../src/optim/optimizer.js';

/** A 1-D Param with the given values. */
export function param(values: number[], decay = true, name = decay ? 'weight' : 'bias'): Param {
  return new Param(name, Tensor.fromArray(values), decay);
}

/** Runs `grads.length` steps on `p`, setting its gradient to grads[k] before step k. Returns the values after each step. */
export function runFixedGrads(opt: Optimizer, p: Param, grads: number[][]): number[][] {
  const out: number[][] = [];
  for (const g of grads) {
    opt.zeroGrad([p]);
    p.grad.data.set(g);
    opt.step([p]);
    out.push(Array.from(p.value.data));
  }
  return out;
}

/** The gradients used by the 3-step paper tests. */
export const GRADS = [
  [0.5, -1],
  [0.3, 0.2],
  [-0.4, 0.6],
];
export const W0 = [1, -2];
