// Adam against Kingma & Ba (2015), Algorithm 1, for 3 steps on a 2-element param. The expected
// values come from the paper's formulas written out below in scalar arithmetic, plus step 1 worked
// out by hand (at t = 1 bias correction gives m̂ = g and v̂ = g², so the step is lr·g/(|g| + ε)).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Adam } from '../../src/optim/adam.js';
import { assertClose } from '../helpers/assert-close.js';
import { GRADS, W0, param, runFixedGrads } from './util.js';

const tol = { atol: 1e-6, rtol: 1e-6 };

/** Algorithm 1 for one scalar θ, with L2: g_t ← g_t + l2·θ_{t−1} (PyTorch's weight_decay). */
function adamPaper(theta0: number, grads: number[], alpha: number, beta1: number, beta2: number, eps: number, l2 = 0): number[] {
  let theta = theta0;
  let m = 0; // m_0
  let v = 0; // v_0
  const out: number[] = [];
  for (let t = 1; t <= grads.length; t++) {
    const g = grads[t - 1] + l2 * theta;
    m = beta1 * m + (1 - beta1) * g; //            m_t = β1·m_{t−1} + (1 − β1)·g_t
    v = beta2 * v + (1 - beta2) * g * g; //        v_t = β2·v_{t−1} + (1 − β2)·g_t²
    const mHat = m / (1 - Math.pow(beta1, t)); //  m̂_t = m_t / (1 − β1^t)
    const vHat = v / (1 - Math.pow(beta2, t)); //  v̂_t = v_t / (1 − β2^t)
    theta = theta - (alpha * mHat) / (Math.sqrt(vHat) + eps); // θ_t = θ_{t−1} − α·m̂_t/(√v̂_t + ε)
    out.push(theta);
  }
  return out;
}

/** Per-step expected values for both elements. */
function expected(alpha: number, beta1: number, beta2: number, eps: number, l2 = 0): number[][] {
  const e0 = adamPaper(W0[0], GRADS.map((g) => g[0]), alpha, beta1, beta2, eps, l2);
  const e1 = adamPaper(W0[1], GRADS.map((g) => g[1]), alpha, beta1, beta2, eps, l2);
  return e0.map((x, k) => [x, e1[k]]);
}

test('Adam lr=0.1 β1=0.9 β2=0.999 ε=0.01: 3 steps of Algorithm 1 (bias correction divides)', () => {
  const got = runFixedGrads(new Adam({ lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 0.01 }), param(W0), GRADS);
  // Step 1 by hand: w1 = [1 − 0.1·0.5/0.51, −2 + 0.1·1/1.01]
  assertClose(got[0], [0.9019607843137255, -1.900990099009901], { ...tol, label: 'step 1 (by hand)' });
  const want = expected(0.1, 0.9, 0.999, 0.01);
  for (let k = 0; k < 3; k++) assertClose(got[k], want[k], { ...tol, label: `step ${k + 1}` });
  // convnetjs multiplies by (1 − β^t) instead of dividing: its step 1 would be
  // 0.1·(0.05·0.1)/(√(0.00025·0.001) + 0.01) = 0.0476 instead of 0.098. Make sure we are far from it.
  assert.ok(Math.abs(got[0][0] - (1 - (0.1 * 0.005) / (Math.sqrt(0.00025 * 0.001) + 0.01))) > 0.01);
});

test('Adam defaults (lr=1e-3, ε=1e-8): the first step is lr·sign(g)', () => {
  const opt = new Adam();
  const got = runFixedGrads(opt, param(W0), GRADS);
  assertClose(got[0], [1 - 0.001, -2 + 0.001], { atol: 1e-7, rtol: 1e-7, label: 'step 1' });
  const want = expected(0.001, 0.9, 0.999, 1e-8);
  for (let k = 0; k < 3; k++) assertClose(got[k], want[k], { ...tol, label: `step ${k + 1}` });
  assert.equal(opt.stepCount, 3);
});

test('Adam β1=0.5 β2=0.75 (strong bias correction) with L2 weight decay 0.1 added to the gradient', () => {
  const got = runFixedGrads(new Adam({ lr: 0.1, beta1: 0.5, beta2: 0.75, eps: 0.01, weightDecay: 0.1 }), param(W0), GRADS);
  // Step 1 by hand: g' = g + 0.1·w0 = [0.6, −1.2]; w1 = [1 − 0.1·0.6/0.61, −2 + 0.1·1.2/1.21]
  assertClose(got[0], [1 - 0.06 / 0.61, -2 + 0.12 / 1.21], { ...tol, label: 'step 1 (by hand)' });
  const want = expected(0.1, 0.5, 0.75, 0.01, 0.1);
  for (let k = 0; k < 3; k++) assertClose(got[k], want[k], { ...tol, label: `step ${k + 1}` });
});
