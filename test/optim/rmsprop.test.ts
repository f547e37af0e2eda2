// RMSProp (Hinton's lecture 6e, PyTorch's form) for 3 steps on a 2-element param, with and without
// momentum. Expected values are the formulas written out in scalar arithmetic, plus step 1 by hand.
import { test } from 'node:test';
import { RMSProp } from '../../src/optim/rmsprop.js';
import { assertClose } from '../helpers/assert-close.js';
import { GRADS, W0, param, runFixedGrads } from './util.js';

const tol = { atol: 1e-6, rtol: 1e-6 };

/** s ← α·s + (1−α)·g²;  d = g/(√s + ε);  b ← μ·b + d (if μ > 0);  w ← w − lr·(μ > 0 ? b : d). */
function paper(w0: number, grads: number[], lr: number, alpha: number, eps: number, mu: number, l2 = 0): number[] {
  let w = w0;
  let s = 0;
  let b = 0;
  const out: number[] = [];
  for (const g0 of grads) {
    const g = g0 + l2 * w;
    s = alpha * s + (1 - alpha) * g * g;
    const d = g / (Math.sqrt(s) + eps);
    if (mu > 0) {
      b = mu * b + d;
      w = w - lr * b;
    } else {
      w = w - lr * d;
    }
    out.push(w);
  }
  return out;
}

function expected(lr: number, alpha: number, eps: number, mu: number, l2 = 0): number[][] {
  const e0 = paper(W0[0], GRADS.map((g) => g[0]), lr, alpha, eps, mu, l2);
  const e1 = paper(W0[1], GRADS.map((g) => g[1]), lr, alpha, eps, mu, l2);
  return e0.map((x, k) => [x, e1[k]]);
}

test('RMSProp α=0.99 ε=0.01 lr=0.01 without momentum', () => {
  const got = runFixedGrads(new RMSProp({ lr: 0.01, alpha: 0.99, eps: 0.01 }), param(W0), GRADS);
  // Step 1 by hand: s = 0.01·g², √s = 0.1·|g| = [0.05, 0.1]; w1 = [1 − 0.01·0.5/0.06, −2 + 0.01·1/0.11]
  assertClose(got[0], [1 - 0.005 / 0.06, -2 + 0.01 / 0.11], { ...tol, label: 'step 1 (by hand)' });
  const want = expected(0.01, 0.99, 0.01, 0);
  for (let k = 0; k < 3; k++) assertClose(got[k], want[k], { ...tol, label: `step ${k + 1}` });
});

test('RMSProp α=0.9 ε=0.01 lr=0.01 momentum=0.9', () => {
  const got = runFixedGrads(new RMSProp({ lr: 0.01, alpha: 0.9, eps: 0.01, momentum: 0.9 }), param(W0), GRADS);
  // Step 1 by hand: s = 0.1·g², √s = [0.5·√0.1, √0.1]; b1 = d1; w1 = w0 − 0.01·g/(√s + 0.01)
  assertClose(got[0], [1 - 0.005 / (0.5 * Math.sqrt(0.1) + 0.01), -2 + 0.01 / (Math.sqrt(0.1) + 0.01)], { ...tol, label: 'step 1 (by hand)' });
  const want = expected(0.01, 0.9, 0.01, 0.9);
  for (let k = 0; k < 3; k++) assertClose(got[k], want[k], { ...tol, label: `step ${k + 1}` });
});

test('RMSProp rho is an alias of alpha; L2 weight decay 0.5 is added to the gradient', () => {
  const got = runFixedGrads(new RMSProp({ lr: 0.01, rho: 0.9, eps: 0.01, weightDecay: 0.5 }), param(W0), GRADS);
  const want = expected(0.01, 0.9, 0.01, 0, 0.5);
  for (let k = 0; k < 3; k++) assertClose(got[k], want[k], { ...tol, label: `step ${k + 1}` });
});
