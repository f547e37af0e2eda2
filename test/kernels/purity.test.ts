/**
 * Kernels are pure: every public op leaves its input tensors bit-for-bit unchanged (checksummed
 * before and after), and returns new tensors rather than views of its inputs.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/tensor.js';
import * as ops from '../../src/kernels/ops.js';
import { softmax, softmaxBackward } from '../../src/losses/softmax.js';
import { softmaxCrossEntropy } from '../../src/losses/softmax-cross-entropy.js';
import { meanSquaredError } from '../../src/losses/mse.js';
import { randomConvConfig, randomPoolConfig, convTitle, poolTitle, convOpts, poolOpts } from '../helpers/configs.js';
import { rng, randTensor, randLabels, snapshot, assertUnchanged } from '../helpers/tensors.js';

/** Runs `fn` on the inputs, checks they are unchanged, and that no output shares an input's buffer. */
function checkPure(label: string, inputs: Record<string, Tensor | null>, fn: () => Tensor | Record<string, Tensor> | { loss: number; grad: Tensor }) {
  const snap = snapshot(inputs);
  const out = fn();
  assertUnchanged(snap, label);
  const outs: Tensor[] = out instanceof Tensor ? [out] : Object.values(out).filter((v): v is Tensor => v instanceof Tensor);
  assert.ok(outs.length > 0, `${label}: returned no tensor`);
  for (const o of outs) {
    for (const [name, t] of Object.entries(inputs)) {
      if (t !== null) assert.notEqual(o.data.buffer, t.data.buffer, `${label}: an output shares the buffer of input ${name}`);
    }
  }
}

describe('ops do not mutate their inputs', () => {
  const r = rng(123);
  for (let i = 0; i < 6; i++) {
    const cfg = randomConvConfig(r);
    test(`conv2d + conv2dBackward ${convTitle(cfg)}`, () => {
      const x = randTensor(cfg.xShape, r);
      const w = randTensor(cfg.wShape, r);
      const b = randTensor([cfg.wShape[3]], r);
      const o = convOpts(cfg);
      const y = ops.conv2d(x, w, b, o);
      checkPure('conv2d', { x, w, b }, () => ops.conv2d(x, w, b, o));
      const dy = randTensor(y.shape, r);
      checkPure('conv2dBackward', { dy, x, w }, () => ops.conv2dBackward(dy, x, w, o));
    });
  }
  for (let i = 0; i < 6; i++) {
    const cfg = randomPoolConfig(r);
    test(`maxPool2d/avgPool2d + backward ${poolTitle(cfg)}`, () => {
      const x = randTensor(cfg.xShape, r);
      const o = poolOpts(cfg);
      const dy = randTensor(ops.maxPool2d(x, o).shape, r);
      checkPure('maxPool2d', { x }, () => ops.maxPool2d(x, o));
      checkPure('maxPool2dBackward', { dy, x }, () => ops.maxPool2dBackward(dy, x, o));
      checkPure('avgPool2d', { x }, () => ops.avgPool2d(x, o));
      checkPure('avgPool2dBackward', { dy, x }, () => ops.avgPool2dBackward(dy, x, o));
    });
  }
  test('dense + denseBackward x=[3,4] w=[4,2]', () => {
    const x = randTensor([3, 4], r);
    const w = randTensor([4, 2], r);
    const b = randTensor([2], r);
    const dy = randTensor([3, 2], r);
    checkPure('dense', { x, w, b }, () => ops.dense(x, w, b));
    checkPure('denseBackward', { dy, x, w }, () => ops.denseBackward(dy, x, w));
  });
  test('activations and their backwards x=[2,3,3,2] (with negatives, zeros and NaN)', () => {
    const x = randTensor([2, 3, 3, 2], r, -3, 3);
    x.data[0] = 0;
    x.data[1] = NaN;
    const dy = randTensor(x.shape, r);
    checkPure('relu', { x }, () => ops.relu(x));
    checkPure('reluBackward', { dy, x }, () => ops.reluBackward(dy, x));
    checkPure('leakyRelu', { x }, () => ops.leakyRelu(x, 0.2));
    checkPure('leakyReluBackward', { dy, x }, () => ops.leakyReluBackward(dy, x, 0.2));
    const s = ops.sigmoid(x);
    checkPure('sigmoid', { x }, () => ops.sigmoid(x));
    checkPure('sigmoidBackward', { dy, s }, () => ops.sigmoidBackward(dy, s));
    const t = ops.tanh(x);
    checkPure('tanh', { x }, () => ops.tanh(x));
    checkPure('tanhBackward', { dy, t }, () => ops.tanhBackward(dy, t));
  });
  test('losses: softmax, softmaxBackward, softmaxCrossEntropy, meanSquaredError z=[4,5]', () => {
    const z = randTensor([4, 5], r, -3, 3);
    const dp = randTensor([4, 5], r);
    const p = softmax(z);
    const target = randTensor([4, 5], r);
    const labels = randLabels(4, 5, r);
    const labelsBefore = labels.slice();
    checkPure('softmax', { z }, () => softmax(z));
    checkPure('softmaxBackward', { dp, p }, () => softmaxBackward(dp, p));
    checkPure('softmaxCrossEntropy', { z }, () => softmaxCrossEntropy(z, labels));
    assert.deepEqual(labels, labelsBefore, 'softmaxCrossEntropy mutated labels');
    checkPure('meanSquaredError', { z, target }, () => meanSquaredError(z, target));
  });
});

describe('the purity check itself catches a mutating op', () => {
  test('an op that writes into its input fails assertUnchanged with the tensor and index named', () => {
    const x = Tensor.fromArray([1, 2, 3]);
    assert.throws(
      () =>
        checkPure('badOp', { x }, () => {
          x.data[2] = 7;
          return x.clone();
        }),
      /badOp: input x was mutated at index 2: 3 -> 7/,
    );
  });
});
