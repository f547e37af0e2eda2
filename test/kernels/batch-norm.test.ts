/**
 * The batch-norm ops on the reference backend: the statistics against E[x²] − E[x]² (a different
 * formula), the normalised output's per-channel mean and variance (β and γ²σ²/(σ²+eps)), a hand
 * case, numeric gradient checks of the training-mode composite (x, γ, β → y through the batch
 * statistics), and bad input naming op, argument, expected and actual.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/tensor.js';
import { Rng } from '../../src/tensor/random.js';
import { setBackend } from '../../src/kernels/backend.js';
import { batchNorm, batchNormBackward, batchNormStats } from '../../src/kernels/ops.js';
import { gradcheckOp } from '../../src/gradcheck.js';
import { assertClose } from '../helpers/assert-close.js';
import { randTensor, rng, snapshot, assertUnchanged } from '../helpers/tensors.js';

setBackend('reference');

function randomShape(r: Rng): number[] {
  const c = r.int(4) === 0 ? 1 : 1 + r.int(11);
  return r.int(3) === 0 ? [2 + r.int(6), c] : [1 + r.int(3), 1 + r.int(5), 1 + r.int(5), c];
}

describe('batchNorm ops, by hand and by property', () => {
  test('x [4, 2] by hand: mean, biased variance, normalised output', () => {
    const x = Tensor.fromArray([1, 10, 2, 20, 3, 30, 6, 40], [4, 2]);
    const { mean, variance } = batchNormStats(x);
    assertClose(mean, [3, 25], { atol: 1e-6 });
    assertClose(variance, [(4 + 1 + 0 + 9) / 4, (225 + 25 + 25 + 225) / 4], { atol: 1e-5 });
    const y = batchNorm(x, mean, variance, Tensor.fromArray([2, 1]), Tensor.fromArray([0, -1]), 1e-5);
    const s0 = 2 / Math.sqrt(3.5 + 1e-5);
    const s1 = 1 / Math.sqrt(125 + 1e-5);
    assertClose(y, [-2 * s0, -15 * s1 - 1, -1 * s0, -5 * s1 - 1, 0, 5 * s1 - 1, 3 * s0, 15 * s1 - 1], { atol: 1e-5 });
  });

  test('60 random shapes: stats = E[x²] − E[x]²; y has mean β and variance γ²σ²/(σ²+eps) per channel; inputs unchanged', () => {
    const r = rng(31);
    for (let k = 0; k < 60; k++) {
      const shape = randomShape(r);
      const C = shape[shape.length - 1];
      const x = randTensor(shape, r, -2, 3);
      const M = x.size / C;
      const gamma = randTensor([C], r, 0.5, 2);
      const beta = randTensor([C], r);
      const snap = snapshot({ x, gamma, beta });
      const { mean, variance } = batchNormStats(x);
      const s1 = new Float64Array(C);
      const s2 = new Float64Array(C);
      for (let i = 0; i < x.size; i++) {
        s1[i % C] += x.data[i];
        s2[i % C] += x.data[i] * x.data[i];
      }
      const label = `shape [${shape}]`;
      assertClose(mean, Array.from(s1, (v) => v / M), { label: `${label} mean`, atol: 1e-5 });
      assertClose(variance, Array.from(s2, (v, c) => v / M - (s1[c] / M) ** 2), { label: `${label} variance`, atol: 1e-4 });
      const eps = 1e-3;
      const y = batchNorm(x, mean, variance, gamma, beta, eps);
      const y1 = new Float64Array(C);
      const y2 = new Float64Array(C);
      for (let i = 0; i < y.size; i++) y1[i % C] += y.data[i] / M;
      for (let i = 0; i < y.size; i++) y2[i % C] += (y.data[i] - y1[i % C]) ** 2 / M;
      assertClose(y1, beta, { label: `${label} mean of y`, atol: 1e-4 });
      assertClose(y2, Array.from(gamma.data, (g, c) => (g * g * variance.data[c]) / (variance.data[c] + eps)), { label: `${label} variance of y`, atol: 1e-4 });
      assertUnchanged(snap, label);
    }
  });
});

describe('batchNorm gradient check (training mode: through the batch statistics)', () => {
  const r = rng(8);
  for (let k = 0; k < 12; k++) {
    const shape = randomShape(r);
    if (shape.slice(0, -1).reduce((a, b) => a * b, 1) < 2) shape[0] = 2;
    test(`x [${shape}]`, () => {
      const C = shape[shape.length - 1];
      const x = randTensor(shape, rng(100 + k));
      const gamma = randTensor([C], rng(200 + k), 0.5, 1.5);
      const beta = randTensor([C], rng(300 + k));
      const eps = 1e-3;
      const forward = (): Tensor => {
        const { mean, variance } = batchNormStats(x);
        return batchNorm(x, mean, variance, gamma, beta, eps);
      };
      const backward = (dy: Tensor) => {
        const { mean, variance } = batchNormStats(x);
        return batchNormBackward(dy, x, mean, variance, gamma, eps);
      };
      const rep = gradcheckOp(forward, backward, { x, gamma, beta }, { seed: k });
      assert.ok(rep.ok, rep.message);
    });
  }
});

describe('batchNorm bad input', () => {
  const x = Tensor.zeros([2, 3]);
  const c3 = Tensor.ones([3]);
  const cases: [string, () => unknown, RegExp][] = [
    ['stats: x not a Tensor', () => batchNormStats(null as unknown as Tensor), /^Error: batchNormStats: x must be a Tensor, got null/],
    ['stats: empty x', () => batchNormStats(Tensor.zeros([0, 3])), /^Error: batchNormStats: x must have rank >= 1 .*got shape \[0, 3\]/],
    ['mean shape', () => batchNorm(x, Tensor.ones([2]), c3, c3, c3), /^Error: batchNorm: mean has shape \[2\], expected \[3\]/],
    ['gamma not a Tensor', () => batchNorm(x, c3, c3, [1, 1, 1] as unknown as Tensor, c3), /^Error: batchNorm: gamma must be a Tensor, got Array/],
    ['eps zero', () => batchNorm(x, c3, c3, c3, c3, 0), /^Error: batchNorm: eps must be a positive finite number, got 0/],
    ['backward dy shape', () => batchNormBackward(Tensor.zeros([3, 3]), x, c3, c3, c3), /^Error: batchNormBackward: dy has shape \[3, 3\], expected \[2, 3\]/],
    ['backward variance shape', () => batchNormBackward(x, x, c3, Tensor.ones([1, 3]), c3), /^Error: batchNormBackward: variance has shape \[1, 3\], expected \[3\]/],
  ];
  for (const [title, f, re] of cases) test(title, () => assert.throws(f, re));
});
