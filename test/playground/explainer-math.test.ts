/**
 * The explainer's loops (playground/src/explainer-math.ts) against the library over every small
 * geometry: the window sums equal conv2d, the seed-000 accumulations after the last step equal
 * conv2dBackward, and seed 001's two convolutions (full convolution with the filter rotated 180
 * degrees; input convolved with dZ) give the same dA and dW. The page asserts this for the one
 * geometry on screen; this test covers the ones a user could pick.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EQUAL_TOL, checkGradients, finalChecks, forwardSum, makeProblem, poolDemo } from '../../playground/src/explainer-math.js';

test('explainer: window sums = conv2d, step-by-step sums and seed 001 shortcuts = conv2dBackward, for every small geometry', () => {
  let cases = 0;
  for (let n = 1; n <= 6; n++)
    for (let c = 1; c <= 2; c++)
      for (let f = 1; f <= 4; f++)
        for (let stride = 1; stride <= 3; stride++)
          for (let padding = 0; padding <= 2; padding++)
            for (let dilation = 1; dilation <= 2; dilation++) {
              if ((f - 1) * dilation + 1 > n + 2 * padding) continue; // conv2d refuses it; the page says so
              const params = { n, channels: c, f, stride, padding, dilation, seed: cases };
              const prob = makeProblem(params);
              for (let k = 0; k < prob.windows.length; k++) {
                assert.ok(Math.abs(forwardSum(prob, k) - prob.z.data[k]) <= EQUAL_TOL, `window ${k} of ${JSON.stringify(params)}`);
              }
              const { diff } = finalChecks(prob);
              for (const [what, d] of Object.entries(diff)) assert.ok(d <= EQUAL_TOL, `${what} off by ${d} for ${JSON.stringify(params)}`);
              cases++;
            }
  assert.ok(cases > 300, `only ${cases} geometries checked`);
});

test('explainer: an impossible geometry is refused with conv2d’s reason', () => {
  assert.throws(() => makeProblem({ n: 2, channels: 1, f: 4, stride: 1, padding: 0, dilation: 1, seed: 0 }), /kernel larger than the padded input/);
});

test('explainer: the gradient check passes with a small relative error, and the pool demo agrees with the pool kernels', () => {
  for (const seed of [1, 2, 3]) {
    const { report, maxRelError } = checkGradients(makeProblem({ n: 5, channels: 2, f: 3, stride: 2, padding: 1, dilation: 1, seed }));
    assert.ok(report.ok, report.message);
    assert.ok(maxRelError < 1e-3, `largest relative error ${maxRelError}`);
    const d = poolDemo(seed); // throws if the page's mask or even split disagreed with the library
    assert.equal(d.argmax.length, 4);
  }
});
