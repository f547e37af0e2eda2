// AdamW against Loshchilov & Hutter (2019), Algorithm 2, for 3 steps on a 2-element param, and
// against Adam with L2 to show that decoupled decay is a different update.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Adam } from '../../src/optim/adam.js';
import { AdamW } from '../../src/optim/adamw.js';
import { assertClose } from '../helpers/assert-close.js';
import { GRADS, W0, param, runFixedGrads } from './util.js';

const tol = { atol: 1e-6, rtol: 1e-6 };

/**
 * One scalar through Adam with decoupled decay `decoupled` (AdamW, Algorithm 2 line 12 with η_t = lr
 * as PyTorch: θ_t = θ_{t−1} − lr·(m̂_t/(√v̂_t + ε) + λ·θ_{t−1})) or L2 decay `l2` (g_t += λ·θ_{t−1}).
 */
function paper(theta0: number, grads: number[], lr: number, b1: number, b2: number, eps: number, decoupled: number, l2: number): number[] {
  let theta = theta0;
  let m = 0;
  let v = 0;
  const out: number[] = [];
  for (let t = 1; t <= grads.length; t++) {
    const g = grads[t - 1] + l2 * theta;
    m = b1 * m + (1 - b1) * g;
    v = b2 * v + (1 - b2) * g * g;
    const mHat = m / (1 - Math.pow(b1, t));
    const vHat = v / (1 - Math.pow(b2, t));
    theta = theta - lr * (mHat / (Math.sqrt(vHat) + eps) + decoupled * theta);
    out.push(theta);
  }
  return out;
}

function expected(decoupled: number, l2: number): number[][] {
  const e0 = paper(W0[0], GRADS.map((g) => g[0]), 0.1, 0.9, 0.999, 0.01, decoupled, l2);
  const e1 = paper(W0[1], GRADS.map((g) => g[1]), 0.1, 0.9, 0.999, 0.01, decoupled, l2);
  return e0.map((x, k) => [x, e1[k]]);
}

const hyper = { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 0.01, weightDecay: 0.5 };

test('AdamW weightDecay=0.5: 3 steps of decoupled decay, w ← w − lr·(m̂/(√v̂+ε) + λw)', () => {
  const got = runFixedGrads(new AdamW(hyper), param(W0), GRADS);
  // Step 1 by hand: w1 = w0·(1 − 0.05) − 0.1·g/(|g| + 0.01) = [0.95 − 0.05/0.51, −1.9 + 0.1/1.01]
  assertClose(got[0], [0.95 - 0.05 / 0.51, -1.9 + 0.1 / 1.01], { ...tol, label: 'step 1 (by hand)' });
  const want = expected(0.5, 0);
  for (let k = 0; k < 3; k++) assertClose(got[k], want[k], { ...tol, label: `step ${k + 1}` });
});

test('AdamW differs from Adam with L2 of the same coefficient; each matches its own rule', () => {
  const adamw = runFixedGrads(new AdamW(hyper), param(W0), GRADS);
  const adamL2 = runFixedGrads(new Adam(hyper), param(W0), GRADS);
  // Adam+L2 step 1 by hand: g' = g + 0.5·w0 = [1, −2]; w1 = [1 − 0.1·1/1.01, −2 + 0.1·2/2.01]
  assertClose(adamL2[0], [1 - 0.1 / 1.01, -2 + 0.2 / 2.01], { ...tol, label: 'Adam+L2 step 1 (by hand)' });
  const wantW = expected(0.5, 0);
  const wantL2 = expected(0, 0.5);
  for (let k = 0; k < 3; k++) {
    assertClose(adamw[k], wantW[k], { ...tol, label: `AdamW step ${k + 1}` });
    assertClose(adamL2[k], wantL2[k], { ...tol, label: `Adam+L2 step ${k + 1}` });
  }
  for (let i = 0; i < 2; i++) {
    assert.ok(Math.abs(adamw[2][i] - adamL2[2][i]) > 1e-2, `element ${i}: AdamW ${adamw[2][i]} vs Adam+L2 ${adamL2[2][i]} should differ`);
  }
});

test('AdamW with weightDecay=0 is exactly Adam', () => {
  const h = { ...hyper, weightDecay: 0 };
  const a = runFixedGrads(new AdamW(h), param(W0), GRADS);
  const b = runFixedGrads(new Adam(h), param(W0), GRADS);
  assert.deepEqual(a, b);
});

test('AdamW default weightDecay is 0.01 (PyTorch)', () => {
  assert.equal(new AdamW().hyper.weightDecay, 0.01);
  assert.equal(new Adam().hyper.weightDecay, 0);
});

test('AdamW with a zero gradient shrinks weights geometrically: w_t = w0·(1 − lr·λ)^t; Adam+L2 does not', () => {
  const w = param([1, -2]);
  const opt = new AdamW({ lr: 0.1, weightDecay: 0.5 });
  for (let t = 0; t < 20; t++) opt.step([w]); // grads stay zero
  const factor = Math.pow(1 - 0.1 * 0.5, 20);
  assertClose(w.value.data, [factor, -2 * factor], { atol: 1e-6, rtol: 1e-5 });
  // Adam with L2 normalises the decay term by √v̂: each step moves w by about lr, whatever its size.
  const l2 = param([1, -2]);
  const adam = new Adam({ lr: 0.1, weightDecay: 0.5 });
  adam.step([l2]);
  assertClose(l2.value.data, [1 - 0.1, -2 + 0.1], { atol: 1e-6, rtol: 1e-6, label: 'Adam+L2 step 1' });
});
