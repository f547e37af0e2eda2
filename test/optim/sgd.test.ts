// SGD against its update rule, 3 steps on a 2-element param, with the expected values worked out
// by hand below (lr 0.1, w0 = [1, -2], gradients g1 = [0.5, -1], g2 = [0.3, 0.2], g3 = [-0.4, 0.6]).
import { test } from 'node:test';
import { SGD } from '../../src/optim/sgd.js';
import { assertClose } from '../helpers/assert-close.js';
import { GRADS, W0, param, runFixedGrads } from './util.js';

const tol = { atol: 1e-6, rtol: 1e-6 };

test('SGD plain: w ← w − lr·g', () => {
  const got = runFixedGrads(new SGD({ lr: 0.1 }), param(W0), GRADS);
  // w1 = [1 − 0.05, −2 + 0.1]; w2 = w1 − 0.1·[0.3, 0.2]; w3 = w2 − 0.1·[−0.4, 0.6]
  assertClose(got[0], [0.95, -1.9], { ...tol, label: 'step 1' });
  assertClose(got[1], [0.92, -1.92], { ...tol, label: 'step 2' });
  assertClose(got[2], [0.96, -1.98], { ...tol, label: 'step 3' });
});

test('SGD momentum 0.9: b ← μb + g, w ← w − lr·b', () => {
  const got = runFixedGrads(new SGD({ lr: 0.1, momentum: 0.9 }), param(W0), GRADS);
  // b1 = [0.5, −1]                                   w1 = [0.95, −1.9]
  // b2 = 0.9·[0.5, −1] + [0.3, 0.2] = [0.75, −0.7]   w2 = [0.875, −1.83]
  // b3 = 0.9·[0.75, −0.7] + [−0.4, 0.6] = [0.275, −0.03]   w3 = [0.8475, −1.827]
  assertClose(got[0], [0.95, -1.9], { ...tol, label: 'step 1' });
  assertClose(got[1], [0.875, -1.83], { ...tol, label: 'step 2' });
  assertClose(got[2], [0.8475, -1.827], { ...tol, label: 'step 3' });
});

test('SGD Nesterov 0.9: b ← μb + g, w ← w − lr·(g + μb)', () => {
  const got = runFixedGrads(new SGD({ lr: 0.1, momentum: 0.9, nesterov: true }), param(W0), GRADS);
  // d1 = [0.5, −1] + 0.9·[0.5, −1] = [0.95, −1.9]        w1 = [0.905, −1.81]
  // d2 = [0.3, 0.2] + 0.9·[0.75, −0.7] = [0.975, −0.43]  w2 = [0.8075, −1.767]
  // d3 = [−0.4, 0.6] + 0.9·[0.275, −0.03] = [−0.1525, 0.573]  w3 = [0.82275, −1.8243]
  assertClose(got[0], [0.905, -1.81], { ...tol, label: 'step 1' });
  assertClose(got[1], [0.8075, -1.767], { ...tol, label: 'step 2' });
  assertClose(got[2], [0.82275, -1.8243], { ...tol, label: 'step 3' });
});

test('SGD weight decay 0.5 (L2): g ← g + wd·w, w ← w − lr·g', () => {
  const got = runFixedGrads(new SGD({ lr: 0.1, weightDecay: 0.5 }), param(W0), GRADS);
  // g1' = [0.5 + 0.5, −1 − 1] = [1, −2]                 w1 = [0.9, −1.8]
  // g2' = [0.3 + 0.45, 0.2 − 0.9] = [0.75, −0.7]        w2 = [0.825, −1.73]
  // g3' = [−0.4 + 0.4125, 0.6 − 0.865] = [0.0125, −0.265]  w3 = [0.82375, −1.7035]
  assertClose(got[0], [0.9, -1.8], { ...tol, label: 'step 1' });
  assertClose(got[1], [0.825, -1.73], { ...tol, label: 'step 2' });
  assertClose(got[2], [0.82375, -1.7035], { ...tol, label: 'step 3' });
});

test('SGD weight decay with momentum: the L2 term enters the momentum buffer (PyTorch)', () => {
  const got = runFixedGrads(new SGD({ lr: 0.1, momentum: 0.5, weightDecay: 0.5 }), param(W0), GRADS);
  // g1' = [1, −2], b1 = [1, −2]                               w1 = [0.9, −1.8]
  // g2' = [0.75, −0.7], b2 = 0.5·[1, −2] + [0.75, −0.7] = [1.25, −1.7]   w2 = [0.775, −1.63]
  // g3' = [−0.4 + 0.3875, 0.6 − 0.815] = [−0.0125, −0.215]
  // b3 = 0.5·[1.25, −1.7] + g3' = [0.6125, −1.065]            w3 = [0.71375, −1.5235]
  assertClose(got[0], [0.9, -1.8], { ...tol, label: 'step 1' });
  assertClose(got[1], [0.775, -1.63], { ...tol, label: 'step 2' });
  assertClose(got[2], [0.71375, -1.5235], { ...tol, label: 'step 3' });
});
