/** softmax, softmaxCrossEntropy, meanSquaredError (src/losses): hand values and numeric gradient checks. */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/tensor.js';
import { softmax, softmaxBackward } from '../../src/losses/softmax.js';
import { softmaxCrossEntropy } from '../../src/losses/softmax-cross-entropy.js';
import { meanSquaredError } from '../../src/losses/mse.js';
import { gradcheck, gradcheckOp } from '../../src/gradcheck.js';
import { assertClose } from '../helpers/assert-close.js';
import { randInt } from '../helpers/configs.js';
import { rng, randTensor, randLabels } from '../helpers/tensors.js';

describe('losses, hand values', () => {
  test('softmax([0, ln 2, ln 5]) = [1/8, 2/8, 5/8]; shift-invariant and finite at 1000', () => {
    assertClose(softmax(Tensor.fromArray([[0, Math.log(2), Math.log(5)]])), [1 / 8, 2 / 8, 5 / 8], { atol: 1e-7 });
    const big = softmax(Tensor.fromArray([[1000, 1000 + Math.log(3)]]));
    assertClose(big, [0.25, 0.75], { atol: 1e-6 });
  });

  test('softmaxCrossEntropy: logits [[0,0],[ln 3, 0]] labels [0, 1] → mean of ln 2 and ln 4', () => {
    const { loss, grad } = softmaxCrossEntropy(Tensor.fromArray([[0, 0], [Math.log(3), 0]]), [0, 1]);
    assert.ok(Math.abs(loss - (Math.log(2) + Math.log(4)) / 2) < 1e-6, `loss ${loss}`);
    // (softmax - onehot) / N: row 0 [0.5-1, 0.5]/2, row 1 [0.75, 0.25-1]/2
    assertClose(grad, [-0.25, 0.25, 0.375, -0.375], { atol: 1e-7 });
  });

  test('softmaxCrossEntropy is finite for logits of 1e4', () => {
    const { loss } = softmaxCrossEntropy(Tensor.fromArray([[1e4, 0, -1e4]]), [2]);
    assert.ok(Math.abs(loss - 2e4) < 1, `loss ${loss}`);
  });

  test('meanSquaredError: pred [1, 2, 3, 4], target [1, 0, 3, 0] → (0 + 4 + 0 + 16) / 4, grad 2·diff/4', () => {
    const { loss, grad } = meanSquaredError(Tensor.fromArray([[1, 2], [3, 4]]), Tensor.fromArray([[1, 0], [3, 0]]));
    assert.equal(loss, 5);
    assertClose(grad, [0, 1, 0, 2], { atol: 0, rtol: 0 });
  });
});

describe('loss gradient checks', () => {
  const r = rng(8080);
  for (let i = 0; i < 8; i++) {
    const n = randInt(r, 1, 4);
    const k = randInt(r, 2, 6);
    test(`softmax + softmaxBackward logits=[${n},${k}]`, () => {
      const z = randTensor([n, k], rng(810 + i), -3, 3);
      const rep = gradcheckOp(() => softmax(z), (dy) => ({ z: softmaxBackward(dy, softmax(z)) }), { z }, { seed: i });
      assert.ok(rep.ok, rep.message);
    });
    test(`softmaxCrossEntropy logits=[${n},${k}]`, () => {
      const tr = rng(820 + i);
      const z = randTensor([n, k], tr, -3, 3);
      const labels = randLabels(n, k, tr);
      const rep = gradcheck(() => softmaxCrossEntropy(z, labels).loss, [{ name: 'logits', value: z, grad: softmaxCrossEntropy(z, labels).grad }]);
      assert.ok(rep.ok, rep.message);
    });
    test(`meanSquaredError pred=[${n},${k}]`, () => {
      const tr = rng(830 + i);
      const p = randTensor([n, k], tr);
      const t = randTensor([n, k], tr);
      const rep = gradcheck(() => meanSquaredError(p, t).loss, [{ name: 'pred', value: p, grad: meanSquaredError(p, t).grad }]);
      assert.ok(rep.ok, rep.message);
    });
  }
  test('softmax over the last axis of a rank-4 tensor [2,2,2,3]', () => {
    const z = randTensor([2, 2, 2, 3], rng(850), -2, 2);
    const rep = gradcheckOp(() => softmax(z), (dy) => ({ z: softmaxBackward(dy, softmax(z)) }), { z });
    assert.ok(rep.ok, rep.message);
  });
});
