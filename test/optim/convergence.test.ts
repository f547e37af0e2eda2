// Sanity: every optimizer minimises a small ill-conditioned quadratic f(w) = ½ Σ a_i (w_i − c_i)².
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createOptimizer } from '../../src/optim/registry.js';
import { param } from './util.js';

const A = [1, 10, 0.5];
const C = [3, -1, 0.5];
const f = (w: ArrayLike<number>): number => A.reduce((s, a, i) => s + 0.5 * a * (w[i] - C[i]) ** 2, 0);

const CONFIGS: [string, Record<string, number | boolean>][] = [
  ['sgd', { lr: 0.1 }],
  ['sgd', { lr: 0.05, momentum: 0.9 }],
  ['sgd', { lr: 0.05, momentum: 0.9, nesterov: true }],
  ['adam', { lr: 0.05 }],
  ['adamw', { lr: 0.05, weightDecay: 0 }],
  ['rmsprop', { lr: 0.01 }],
  ['rmsprop', { lr: 0.005, momentum: 0.9 }],
];

for (const [kind, opts] of CONFIGS) {
  test(`${kind} ${JSON.stringify(opts)} minimises a quadratic`, () => {
    const p = param([0, 0, 0]);
    const opt = createOptimizer(kind, opts);
    const f0 = f(p.value.data);
    for (let k = 0; k < 1000; k++) {
      opt.zeroGrad([p]);
      for (let i = 0; i < 3; i++) p.grad.data[i] = A[i] * (p.value.data[i] - C[i]);
      opt.step([p]);
    }
    const f1 = f(p.value.data);
    assert.ok(f1 < 1e-4 * f0, `f went from ${f0} to ${f1}; w = [${Array.from(p.value.data).join(', ')}]`);
  });
}
