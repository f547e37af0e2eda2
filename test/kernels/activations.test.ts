/** relu, leakyRelu, sigmoid, tanh and their backwards: hand values and numeric gradient checks. */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/tensor.js';
import { relu, reluBackward, leakyRelu, leakyReluBackward, sigmoid, sigmoidBackward, tanh, tanhBackward } from '../../src/kernels/ops.js';
import { gradcheckOp } from '../../src/gradcheck.js';
import { assertClose } from '../helpers/assert-close.js';
import { rng, randTensor, awayFromZeroTensor } from '../helpers/tensors.js';

describe('activations, hand values', () => {
  test('relu([-2, -0, 0, 0.5, 3]) = [0, 0, 0, 0.5, 3]; reluBackward passes dy only where x > 0', () => {
    const x = Tensor.fromArray([-2, -0, 0, 0.5, 3]);
    assertClose(relu(x), [0, 0, 0, 0.5, 3], { atol: 0, rtol: 0 });
    assertClose(reluBackward(Tensor.fromArray([1, 2, 3, 4, 5]), x), [0, 0, 0, 4, 5], { atol: 0, rtol: 0 });
  });

  test('leakyRelu alpha 0.1: x for x > 0, 0.1·x otherwise; backward scales dy the same way', () => {
    const x = Tensor.fromArray([-2, 0, 3]);
    assertClose(leakyRelu(x, 0.1), [-0.2, 0, 3], { atol: 1e-7 });
    assertClose(leakyReluBackward(Tensor.fromArray([10, 10, 10]), x, 0.1), [1, 1, 10], { atol: 1e-6 });
    assertClose(leakyRelu(Tensor.fromArray([-100])), [-1], { atol: 1e-6, label: 'default alpha 0.01' });
  });

  test('sigmoid(0) = 0.5, sigmoid(ln 3) = 0.75, no overflow at ±100; backward dy·y·(1-y)', () => {
    const y = sigmoid(Tensor.fromArray([0, Math.log(3), 100, -100]));
    assertClose(y, [0.5, 0.75, 1, 0], { atol: 1e-7 });
    assert.ok(y.data[3] > 0 && Number.isFinite(y.data[3]));
    assertClose(sigmoidBackward(Tensor.fromArray([2, 2]), Tensor.fromArray([0.5, 0.75])), [2 * 0.25, 2 * 0.75 * 0.25], { atol: 1e-7 });
  });

  test('tanh(atanh(0.5)) = 0.5; backward dy·(1-y²)', () => {
    assertClose(tanh(Tensor.fromArray([0, Math.atanh(0.5), -20])), [0, 0.5, -1], { atol: 1e-7 });
    assertClose(tanhBackward(Tensor.fromArray([4]), Tensor.fromArray([0.5])), [4 * (1 - 0.25)], { atol: 1e-7 });
  });
});

const shapes = [[7], [2, 5], [1, 3, 4, 2], [2, 2, 3, 1], [3, 1, 1, 4]];

describe('activation gradient checks (kinked ones on inputs at least 0.1 from 0)', () => {
  shapes.forEach((shape, i) => {
    const s = `x=[${shape.join(',')}]`;
    test(`relu ${s}`, () => {
      const x = awayFromZeroTensor(shape, rng(100 + i));
      const rep = gradcheckOp(() => relu(x), (dy) => ({ x: reluBackward(dy, x) }), { x }, { seed: i });
      assert.ok(rep.ok, rep.message);
    });
    for (const alpha of [0.01, 0.3, -0.5]) {
      test(`leakyRelu alpha=${alpha} ${s}`, () => {
        const x = awayFromZeroTensor(shape, rng(200 + i));
        const rep = gradcheckOp(() => leakyRelu(x, alpha), (dy) => ({ x: leakyReluBackward(dy, x, alpha) }), { x }, { seed: i });
        assert.ok(rep.ok, rep.message);
      });
    }
    test(`sigmoid ${s}`, () => {
      const x = randTensor(shape, rng(300 + i), -4, 4);
      const rep = gradcheckOp(() => sigmoid(x), (dy) => ({ x: sigmoidBackward(dy, sigmoid(x)) }), { x }, { seed: i });
      assert.ok(rep.ok, rep.message);
    });
    test(`tanh ${s}`, () => {
      const x = randTensor(shape, rng(400 + i), -3, 3);
      const rep = gradcheckOp(() => tanh(x), (dy) => ({ x: tanhBackward(dy, tanh(x)) }), { x }, { seed: i });
      assert.ok(rep.ok, rep.message);
    });
  });
});
