/**
 * Bad input to every public op: each error message must name the op, the argument, and what was
 * expected against what was got. Each regex below checks all three.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/tensor.js';
import * as ops from '../../src/kernels/ops.js';
import { softmax, softmaxBackward } from '../../src/losses/softmax.js';
import { softmaxCrossEntropy } from '../../src/losses/softmax-cross-entropy.js';
import { meanSquaredError } from '../../src/losses/mse.js';
import { Sequential, Conv2D, Dense, MaxPool2D, AvgPool2D, BatchNorm, LeakyReLU, Flatten } from '../../src/index.js';

const z = (...shape: number[]): Tensor => Tensor.zeros(shape);
const x4 = z(1, 4, 4, 2);
const w4 = z(3, 3, 2, 3);

/** [title, thunk, regex] */
type Case = [string, () => unknown, RegExp];

const cases: Case[] = [
  // Tensor construction: data length vs shape, non-integer and negative sizes
  ['Tensor: data length does not match shape', () => new Tensor(new Float32Array(5), [2, 3]), /^Error: Tensor: data length 5 .*shape \[2, 3\].*expected 6/],
  ['Tensor: non-integer size', () => Tensor.zeros([2, 2.5]), /^Error: Tensor\.zeros: shape\[1\] must be a non-negative integer, got 2\.5/],
  ['Tensor: negative size', () => new Tensor(new Float32Array(0), [-1]), /^Error: Tensor: shape\[0\] must be a non-negative integer, got -1/],
  ['Tensor: data not a Float32Array', () => new Tensor([1, 2] as unknown as Float32Array, [2]), /^Error: Tensor: data must be a Float32Array, got array/],
  ['Tensor.reshape: element count', () => z(2, 3).reshape([4, 2]), /^Error: Tensor\.reshape: cannot reshape \[2, 3\] \(6 elements\) to \[4, 2\] \(8 elements\)/],

  // conv2d
  ['conv2d: x not a Tensor', () => ops.conv2d([1, 2] as unknown as Tensor, w4, null), /^Error: conv2d: x must be a Tensor, got Array/],
  ['conv2d: x wrong rank', () => ops.conv2d(z(4, 4, 2), w4, null), /^Error: conv2d: x must be rank 4 \[N, H, W, Cin\], got rank 3 shape \[4, 4, 2\]/],
  ['conv2d: w wrong rank', () => ops.conv2d(x4, z(3, 3, 2), null), /^Error: conv2d: w must be rank 4 \[fh, fw, Cin, Cout\], got rank 3 shape \[3, 3, 2\]/],
  ['conv2d: channel mismatch', () => ops.conv2d(x4, z(3, 3, 5, 3), null), /^Error: conv2d: channel mismatch: x has Cin = 2 .*w expects Cin = 5/],
  [
    'conv2d: kernel larger than the padded input',
    () => ops.conv2d(z(1, 3, 3, 2), w4, null, { dilation: 2 }),
    /^Error: conv2d: kernel larger .*effective kernel 5x5 \(w 3x3, dilation 2x2\) > padded input 3x3 \(x 3x3, padding \[0, 0, 0, 0\]\)/,
  ],
  ['conv2d: zero-size x', () => ops.conv2d(z(0, 4, 4, 2), w4, null), /^Error: conv2d: x must have positive dimensions, got \[0, 4, 4, 2\]/],
  ['conv2d: zero-size w', () => ops.conv2d(x4, z(3, 0, 2, 3), null), /^Error: conv2d: w must have positive dimensions, got \[3, 0, 2, 3\]/],
  ['conv2d: stride 0', () => ops.conv2d(x4, w4, null, { stride: 0 }), /^Error: conv2d: stride must be a positive integer .*got 0/],
  ['conv2d: negative stride', () => ops.conv2d(x4, w4, null, { stride: [1, -2] }), /^Error: conv2d: stride must be a positive integer .*got \[1,-2\]/],
  ['conv2d: non-integer stride', () => ops.conv2d(x4, w4, null, { stride: 1.5 }), /^Error: conv2d: stride must be a positive integer .*got 1\.5/],
  ['conv2d: stride of 3 numbers', () => ops.conv2d(x4, w4, null, { stride: [1, 1, 1] as unknown as number }), /^Error: conv2d: stride must be a number or \[h, w\], got \[1,1,1\]/],
  ['conv2d: dilation 0', () => ops.conv2d(x4, w4, null, { dilation: 0 }), /^Error: conv2d: dilation must be a positive integer .*got 0/],
  ['conv2d: non-integer dilation', () => ops.conv2d(x4, w4, null, { dilation: [2, 0.5] }), /^Error: conv2d: dilation must be a positive integer .*got \[2,0\.5\]/],
  ['conv2d: negative padding', () => ops.conv2d(x4, w4, null, { padding: [1, -1, 0, 0] }), /^Error: conv2d: padding must hold non-negative integers, got \[1,-1,0,0\]/],
  ['conv2d: non-integer padding', () => ops.conv2d(x4, w4, null, { padding: 0.5 }), /^Error: conv2d: padding must hold non-negative integers, got 0\.5/],
  ['conv2d: unknown padding', () => ops.conv2d(x4, w4, null, { padding: 'full' as 'same' }), /^Error: conv2d: padding must be 'valid', 'same', .*got "full"/],
  ['conv2d: padding of 3 numbers', () => ops.conv2d(x4, w4, null, { padding: [1, 1, 1] as unknown as number }), /^Error: conv2d: padding must be .*\[top, bottom, left, right\], got \[1,1,1\]/],
  ['conv2d: wrong bias shape', () => ops.conv2d(x4, w4, z(2)), /^Error: conv2d: b has shape \[2\], expected \[3\]/],
  ['conv2d: bias not a Tensor', () => ops.conv2d(x4, w4, [0, 0, 0] as unknown as Tensor), /^Error: conv2d: b must be a Tensor, got Array/],

  // conv2dBackward
  ['conv2dBackward: wrong dy shape', () => ops.conv2dBackward(z(1, 3, 2, 3), x4, w4), /^Error: conv2dBackward: dy has shape \[1, 3, 2, 3\], expected \[1, 2, 2, 3\]/],
  ['conv2dBackward: dy with wrong channels', () => ops.conv2dBackward(z(1, 2, 2, 4), x4, w4), /^Error: conv2dBackward: dy has shape \[1, 2, 2, 4\], expected \[1, 2, 2, 3\]/],
  ['conv2dBackward: dy wrong rank', () => ops.conv2dBackward(z(2, 2, 3), x4, w4), /^Error: conv2dBackward: dy has shape \[2, 2, 3\], expected \[1, 2, 2, 3\]/],
  ['conv2dBackward: x wrong rank', () => ops.conv2dBackward(z(1, 2, 2, 3), z(4, 4, 2), w4), /^Error: conv2dBackward: x must be rank 4 \[N, H, W, Cin\], got rank 3/],
  ['conv2dBackward: channel mismatch', () => ops.conv2dBackward(z(1, 2, 2, 3), z(1, 4, 4, 1), w4), /^Error: conv2dBackward: channel mismatch: x has Cin = 1 .*w expects Cin = 2/],
  ['conv2dBackward: dy not a Tensor', () => ops.conv2dBackward(null as unknown as Tensor, x4, w4), /^Error: conv2dBackward: dy must be a Tensor, got null/],

  // pooling
  ['maxPool2d: x wrong rank', () => ops.maxPool2d(z(4, 4), { kernelSize: 2 }), /^Error: maxPool2d: x must be rank 4 \[N, H, W, C\], got rank 2 shape \[4, 4\]/],
  ['maxPool2d: kernelSize missing', () => ops.maxPool2d(x4, {} as { kernelSize: number }), /^Error: maxPool2d: opts\.kernelSize is required/],
  ['maxPool2d: kernelSize 0', () => ops.maxPool2d(x4, { kernelSize: 0 }), /^Error: maxPool2d: kernelSize must be a positive integer .*got 0/],
  ['maxPool2d: non-integer kernelSize', () => ops.maxPool2d(x4, { kernelSize: [2, 1.5] }), /^Error: maxPool2d: kernelSize must be a positive integer .*got \[2,1\.5\]/],
  ['maxPool2d: stride 0', () => ops.maxPool2d(x4, { kernelSize: 2, stride: 0 }), /^Error: maxPool2d: stride must be a positive integer .*got 0/],
  [
    'maxPool2d: window larger than the padded input',
    () => ops.maxPool2d(x4, { kernelSize: [5, 2] }),
    /^Error: maxPool2d: kernel larger .*kernelSize 5x2 > padded input 4x4 \(x 4x4, padding \[0, 0, 0, 0\]\)/,
  ],
  ['maxPool2d: padding as large as the window', () => ops.maxPool2d(x4, { kernelSize: 2, padding: [0, 2, 0, 0] }), /^Error: maxPool2d: padding \[0, 2, 0, 0\] must be smaller than the window 2x2/],
  ['maxPool2d: zero-size x', () => ops.maxPool2d(z(1, 0, 4, 1), { kernelSize: 1 }), /^Error: maxPool2d: x must have positive dimensions, got \[1, 0, 4, 1\]/],
  ['maxPool2dBackward: wrong dy shape', () => ops.maxPool2dBackward(z(1, 2, 2, 1), x4, { kernelSize: 2 }), /^Error: maxPool2dBackward: dy has shape \[1, 2, 2, 1\], expected \[1, 2, 2, 2\]/],
  ['avgPool2d: x wrong rank', () => ops.avgPool2d(z(1, 4, 4, 2, 1), { kernelSize: 2 }), /^Error: avgPool2d: x must be rank 4 \[N, H, W, C\], got rank 5/],
  ['avgPool2d: negative padding', () => ops.avgPool2d(x4, { kernelSize: 2, padding: -1 }), /^Error: avgPool2d: padding must hold non-negative integers, got -1/],
  ['avgPool2d: window larger than the padded input', () => ops.avgPool2d(x4, { kernelSize: [2, 7] }), /^Error: avgPool2d: kernel larger .*kernelSize 2x7 > padded input 4x4/],
  ['avgPool2dBackward: wrong dy shape', () => ops.avgPool2dBackward(z(1, 3, 3, 2), x4, { kernelSize: 2 }), /^Error: avgPool2dBackward: dy has shape \[1, 3, 3, 2\], expected \[1, 2, 2, 2\]/],
  ['avgPool2dBackward: x not a Tensor', () => ops.avgPool2dBackward(z(1, 2, 2, 2), undefined as unknown as Tensor, { kernelSize: 2 }), /^Error: avgPool2dBackward: x must be a Tensor, got undefined/],

  // dense
  ['dense: x wrong rank', () => ops.dense(z(2, 3, 1), z(3, 4), null), /^Error: dense: x must be rank 2 \[N, in\], got rank 3 shape \[2, 3, 1\]/],
  ['dense: w wrong rank', () => ops.dense(z(2, 3), z(3), null), /^Error: dense: w must be rank 2 \[in, out\], got rank 1 shape \[3\]/],
  ['dense: feature mismatch', () => ops.dense(z(2, 3), z(4, 5), null), /^Error: dense: feature mismatch: x has 3 features .* w expects 4/],
  ['dense: wrong bias shape', () => ops.dense(z(2, 3), z(3, 4), z(3)), /^Error: dense: b has shape \[3\], expected \[4\]/],
  ['denseBackward: wrong dy shape', () => ops.denseBackward(z(2, 5), z(2, 3), z(3, 4)), /^Error: denseBackward: dy has shape \[2, 5\], expected \[2, 4\]/],
  ['denseBackward: feature mismatch', () => ops.denseBackward(z(2, 4), z(2, 3), z(2, 4)), /^Error: denseBackward: feature mismatch: x has 3 features .* w expects 2/],

  // activations
  ['relu: x not a Tensor', () => ops.relu(3 as unknown as Tensor), /^Error: relu: x must be a Tensor, got Number/],
  ['reluBackward: wrong dy shape', () => ops.reluBackward(z(2, 3), z(3, 2)), /^Error: reluBackward: dy has shape \[2, 3\], expected \[3, 2\]/],
  ['leakyRelu: non-finite alpha', () => ops.leakyRelu(z(2), NaN), /^Error: leakyRelu: alpha must be a finite number, got NaN/],
  ['leakyReluBackward: wrong dy shape', () => ops.leakyReluBackward(z(4), z(2, 2)), /^Error: leakyReluBackward: dy has shape \[4\], expected \[2, 2\]/],
  ['sigmoidBackward: wrong dy shape', () => ops.sigmoidBackward(z(1, 3), z(3)), /^Error: sigmoidBackward: dy has shape \[1, 3\], expected \[3\]/],
  ['tanhBackward: wrong dy shape', () => ops.tanhBackward(z(3), z(3, 1)), /^Error: tanhBackward: dy has shape \[3\], expected \[3, 1\]/],
  ['tanh: x not a Tensor', () => ops.tanh(undefined as unknown as Tensor), /^Error: tanh: x must be a Tensor, got undefined/],

  // losses
  ['softmax: scalar logits', () => softmax(new Tensor(Float32Array.of(1), [])), /^Error: softmax: logits must have rank >= 1, got a scalar/],
  ['softmaxBackward: wrong dp size', () => softmaxBackward(z(2, 4), z(2, 3)), /^Error: softmaxBackward: dp has shape \[2, 4\], expected \[2, 3\]/],
  ['softmaxBackward: same size, wrong shape', () => softmaxBackward(z(3, 2), z(2, 3)), /^Error: softmaxBackward: dp has shape \[3, 2\], expected \[2, 3\]/],
  ['leakyReluBackward: non-finite alpha', () => ops.leakyReluBackward(z(2), z(2), NaN), /^Error: leakyReluBackward: alpha must be a finite number, got NaN/],
  ['softmaxCrossEntropy: logits wrong rank', () => softmaxCrossEntropy(z(2, 3, 1), [0, 1]), /^Error: softmaxCrossEntropy: logits must be rank 2 \[N, classes\], got shape \[2, 3, 1\]/],
  ['softmaxCrossEntropy: too few labels', () => softmaxCrossEntropy(z(2, 3), [0]), /^Error: softmaxCrossEntropy: labels must have one entry per row: expected 2, got 1/],
  ['softmaxCrossEntropy: label out of range', () => softmaxCrossEntropy(z(2, 3), [0, 3]), /^Error: softmaxCrossEntropy: labels\[1\] must be an integer class in \[0, 3\), got 3/],
  ['softmaxCrossEntropy: negative label', () => softmaxCrossEntropy(z(2, 3), [-1, 0]), /^Error: softmaxCrossEntropy: labels\[0\] must be an integer class in \[0, 3\), got -1/],
  ['softmaxCrossEntropy: non-integer label', () => softmaxCrossEntropy(z(2, 3), [0, 1.5]), /^Error: softmaxCrossEntropy: labels\[1\] must be an integer class in \[0, 3\), got 1\.5/],
  ['meanSquaredError: shape mismatch', () => meanSquaredError(z(2, 3), z(3, 2)), /^Error: meanSquaredError: target has shape \[3, 2\], expected \[2, 3\]/],
  ['meanSquaredError: pred not a Tensor', () => meanSquaredError([1] as unknown as Tensor, z(1)), /^Error: meanSquaredError: pred must be a Tensor, got Array/],

  // Shapes and sizes that are not integers (4.5) or not numbers ("4") are refused everywhere, quoted
  ['Tensor.zeros: a string size is quoted', () => Tensor.zeros([2, '4' as unknown as number]), /^Error: Tensor\.zeros: shape\[1\] must be a non-negative integer, got "4" in \[2, "4"\]/],
  ['Tensor.reshape: a string size', () => z(8).reshape([-1, '4' as unknown as number]), /^Error: Tensor\.reshape: shape\[1\] must be a non-negative integer, got "4" in \[2, "4"\]/],
  ['Tensor.reshape: a fractional size', () => z(9).reshape([2, 4.5]), /^Error: Tensor\.reshape: shape\[1\] must be a non-negative integer, got 4\.5 in \[2, 4\.5\]/],
  ['Tensor.reshape: not an array', () => z(9).reshape(9 as unknown as number[]), /^Error: Tensor\.reshape: shape must be an array of integers, got number 9/],
  ['Tensor.fromArray: a fractional shape', () => Tensor.fromArray([1, 2, 3, 4], [4.5]), /^Error: Tensor: shape\[0\] must be a non-negative integer, got 4\.5 in \[4\.5\]/],
  ['Tensor.full: a non-number value', () => Tensor.full([2], '1' as unknown as number), /^Error: Tensor\.full: value must be a number, got string 1/],
  ['Conv2D: a fractional stride', () => new Conv2D({ outChannels: 2, kernelSize: 3, stride: 1.5 }), /^Error: Conv2D: stride must be a positive integer or a pair of them, got 1\.5/],
  ['Conv2D: a string dilation', () => new Conv2D({ outChannels: 2, kernelSize: 3, dilation: '2' as unknown as number }), /^Error: Conv2D: dilation must be a number or \[h, w\], got "2"/],
  ['Conv2D: a fractional padding', () => new Conv2D({ outChannels: 2, kernelSize: 3, padding: 1.5 }), /^Error: Conv2D: padding must hold non-negative integers, got 1\.5/],
  ['Conv2D: a string outChannels', () => new Conv2D({ outChannels: '4' as unknown as number, kernelSize: 3 }), /^Error: Conv2D: outChannels must be a positive integer, got "4"/],
  ['Conv2D: bias not a boolean', () => new Conv2D({ outChannels: 2, kernelSize: 3, bias: 'no' as unknown as boolean }), /^Error: Conv2D: bias must be true or false, got "no"/],
  ['Dense: fractional units', () => new Dense({ units: 4.5 }), /^Error: Dense: units must be a positive integer, got 4\.5/],
  ['MaxPool2D: null options', () => new MaxPool2D(null as unknown as { kernelSize: number }), /^Error: MaxPool2D: kernelSize is required \(a positive integer or \[h, w\]\), got null options/],
  ['AvgPool2D: a fractional padding', () => new AvgPool2D({ kernelSize: 3, padding: 0.5 }), /^Error: AvgPool2D: padding must hold non-negative integers, got 0\.5/],
  ['BatchNorm: a string momentum', () => new BatchNorm({ momentum: '0.5' as unknown as number }), /^Error: BatchNorm: momentum must be a number in \[0, 1\], got "0\.5"/],
  ['Sequential: a fractional inputShape', () => new Sequential([new Flatten()], { inputShape: [4.5, 2, 1] }), /^Error: Sequential: opts\.inputShape\[0\] must be a positive integer, got 4\.5 in \[4\.5,2,1\]/],
  ['Sequential: a string inputShape', () => new Sequential([new Flatten()], { inputShape: ['4' as unknown as number, 2, 1] }), /^Error: Sequential: opts\.inputShape\[0\] must be a positive integer, got "4"/],
  ['Sequential.predict: batchSize 0', () => new Sequential([new Flatten()], { inputShape: [2, 2, 1] }).predict(z(300, 2, 2, 1), 0), /^Error: Sequential\.predict: batchSize must be a positive integer, got 0/],
  ['Sequential.evaluate: fractional batchSize', () => new Sequential([new Flatten()], { inputShape: [2, 2, 1] }).evaluate(z(3, 2, 2, 1), [0, 1, 2], 2.5), /^Error: Sequential\.evaluate: batchSize must be a positive integer, got 2\.5/],
];

test('null options are no options, for every op and layer that takes an option bag', () => {
  const x = Tensor.randn([1, 5, 5, 2], { seed: 1 });
  const w = Tensor.randn([3, 3, 2, 2], { seed: 2 });
  const nul = null as unknown as undefined;
  assert.deepEqual([...ops.conv2d(x, w, null, nul).data], [...ops.conv2d(x, w, null).data]);
  const dy = Tensor.randn([1, 3, 3, 2], { seed: 3 });
  assert.deepEqual([...ops.conv2dBackward(dy, x, w, nul).dw.data], [...ops.conv2dBackward(dy, x, w).dw.data]);
  assert.deepEqual([...Tensor.rand([3], nul).data], [...Tensor.rand([3]).data]);
  assert.deepEqual([...Tensor.randn([3], nul).data], [...Tensor.randn([3]).data]);
  assert.equal(new BatchNorm(nul).momentum, 0.1);
  assert.equal(new LeakyReLU(nul).alpha, 0.01);
});

describe('bad input: errors name the op, the argument, expected and actual', () => {
  for (const [title, fn, re] of cases) {
    test(title, () => {
      assert.throws(fn, re);
    });
  }
});
