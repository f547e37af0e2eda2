/**
 * depthwiseConv2d and its backward, checked three ways that do not share code with the kernel:
 * - against conv2d (an independent reference kernel) with the block-diagonal filter
 *   W[ky,kx,c,c*M+m] = w[ky,kx,c,m]: a depthwise convolution is exactly that convolution, so y,
 *   dx and db must agree and dw must be the diagonal blocks of conv2d's dW;
 * - by a numeric gradient check (gradcheckOp) on random configs, dilation included;
 * - on a 1x1 example worked by hand, which pins the output channel order c * M + m.
 * Bad input gets errors naming the op, the argument, expected and actual, as conv2d's.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/tensor.js';
import * as ops from '../../src/kernels/ops.js';
import { computeDepthwiseConv2DInfo, depthwiseConv2dFlops } from '../../src/kernels/conv-info.js';
import { gradcheckOp } from '../../src/gradcheck.js';
import { assertClose } from '../helpers/assert-close.js';
import { randomConvConfig, convTitle, convOpts, type ConvConfig } from '../helpers/configs.js';
import { rng, randTensor, snapshot, assertUnchanged } from '../helpers/tensors.js';

/** The conv2d filter [kH, kW, C, C*M] that computes the same as the depthwise filter w [kH, kW, C, M]. */
function blockDiagonal(w: Tensor): Tensor {
  const [kH, kW, C, M] = w.shape;
  const W = Tensor.zeros([kH, kW, C, C * M]);
  for (let ky = 0; ky < kH; ky++)
    for (let kx = 0; kx < kW; kx++)
      for (let c = 0; c < C; c++)
        for (let m = 0; m < M; m++) W.data[((ky * kW + kx) * C + c) * C * M + c * M + m] = w.data[((ky * kW + kx) * C + c) * M + m];
  return W;
}

/** The diagonal blocks of a conv2d dW [kH, kW, C, C*M], as a depthwise dw [kH, kW, C, M]. */
function diagonalBlocks(dW: Tensor, M: number): Tensor {
  const [kH, kW, C] = dW.shape;
  const dw = Tensor.zeros([kH, kW, C, M]);
  for (let ky = 0; ky < kH; ky++)
    for (let kx = 0; kx < kW; kx++)
      for (let c = 0; c < C; c++)
        for (let m = 0; m < M; m++) dw.data[((ky * kW + kx) * C + c) * M + m] = dW.data[((ky * kW + kx) * C + c) * C * M + c * M + m];
  return dw;
}

/** Random configs with wShape read as [kH, kW, C, M]; the first few force C = 1, M > 1 and N = 1. */
function configs(seed: number, n: number): ConvConfig[] {
  const r = rng(seed);
  const out: ConvConfig[] = [];
  for (let i = 0; i < n; i++) {
    const cfg = randomConvConfig(r, { maxChannels: 4 });
    if (i % 4 === 0) {
      cfg.xShape[3] = 1;
      cfg.wShape[2] = 1;
    }
    if (i % 3 === 0) cfg.wShape[3] = 2 + (i % 2);
    if (i % 5 === 0) cfg.xShape[0] = 1;
    out.push(cfg);
  }
  return out;
}

describe('depthwiseConv2d = conv2d with a block-diagonal filter (forward, dx, dw, db)', () => {
  configs(4242, 40).forEach((cfg, i) => {
    test(convTitle(cfg), () => {
      const r = rng(424200 + i);
      const x = randTensor(cfg.xShape, r);
      const w = randTensor(cfg.wShape, r);
      const M = cfg.wShape[3];
      const C = cfg.xShape[3];
      const b = cfg.bias ? randTensor([C * M], r) : null;
      const o = convOpts(cfg);
      const W = blockDiagonal(w);
      const y = ops.depthwiseConv2d(x, w, b, o);
      assertClose(y, ops.conv2d(x, W, b, o), { atol: 1e-5, rtol: 1e-5, label: 'forward' });
      const dy = randTensor(y.shape, r);
      const snap = snapshot({ dy, x, w });
      const got = ops.depthwiseConv2dBackward(dy, x, w, o);
      assertUnchanged(snap, 'depthwiseConv2dBackward');
      const want = ops.conv2dBackward(dy, x, W, o);
      assertClose(got.dx, want.dx, { atol: 1e-5, rtol: 1e-5, label: 'dx' });
      assertClose(got.dw, diagonalBlocks(want.dw, M), { atol: 1e-5, rtol: 1e-5, label: 'dw' });
      assertClose(got.db, want.db, { atol: 1e-5, rtol: 1e-5, label: 'db' });
    });
  });

  test('the configs cover C = 1 with M > 1, N = 1, C > 1 with M > 1, strides, dilations and padding forms', () => {
    const cs = configs(4242, 40);
    const has = (f: (c: ConvConfig) => boolean) => cs.some(f);
    assert.ok(has((c) => c.xShape[3] === 1 && c.wShape[3] > 1), 'C = 1, M > 1');
    assert.ok(has((c) => c.xShape[3] > 1 && c.wShape[3] > 1), 'C > 1, M > 1');
    assert.ok(has((c) => c.xShape[0] === 1), 'N = 1');
    assert.ok(has((c) => c.stride[0] > 1 || c.stride[1] > 1), 'stride > 1');
    assert.ok(has((c) => c.dilation[0] > 1 || c.dilation[1] > 1), 'dilation > 1');
    assert.ok(has((c) => c.padding === 'same'), "'same'");
    assert.ok(has((c) => Array.isArray(c.padding) && c.padding.length === 4), 'explicit [t, b, l, r]');
  });
});

describe('depthwiseConv2d gradients by numeric gradient check', () => {
  configs(777, 12).forEach((cfg, i) => {
    test(convTitle(cfg), () => {
      const r = rng(7770 + i);
      const x = randTensor(cfg.xShape, r);
      const w = randTensor(cfg.wShape, r);
      const b = cfg.bias ? randTensor([cfg.xShape[3] * cfg.wShape[3]], r) : null;
      const o = convOpts(cfg);
      const rep = gradcheckOp(() => ops.depthwiseConv2d(x, w, b, o), (g) => ops.depthwiseConv2dBackward(g, x, w, o), b ? { x, w, b } : { x, w }, { seed: i });
      assert.ok(rep.ok, rep.message);
    });
  });
});

test('a 1x1 example by hand: output channel c * M + m is x[c] · w[c, m] + b[c * M + m]', () => {
  // x: one pixel with C = 2 channels (3, 5); w [1, 1, 2, 2] = [[10, 20], [30, 40]]; b = [1, 2, 3, 4]
  const x = Tensor.fromArray([3, 5], [1, 1, 1, 2]);
  const w = Tensor.fromArray([10, 20, 30, 40], [1, 1, 2, 2]);
  const b = Tensor.fromArray([1, 2, 3, 4], [4]);
  const y = ops.depthwiseConv2d(x, w, b);
  assert.deepEqual(y.shape, [1, 1, 1, 4]);
  assert.deepEqual([...y.data], [3 * 10 + 1, 3 * 20 + 2, 5 * 30 + 3, 5 * 40 + 4]);
  // dy = (1, 0, 0, 1): dx[0] = w[0,0] = 10, dx[1] = w[1,1] = 40; dw = x[c] · dy[c*M+m]
  const g = ops.depthwiseConv2dBackward(Tensor.fromArray([1, 0, 0, 1], [1, 1, 1, 4]), x, w);
  assert.deepEqual([...g.dx.data], [10, 40]);
  assert.deepEqual([...g.dw.data], [3, 0, 0, 5]);
  assert.deepEqual([...g.db.data], [1, 0, 0, 1]);
});

test('geometry and FLOPs: output channels C * M, spatial size as conv2d', () => {
  const info = computeDepthwiseConv2DInfo('t', [2, 9, 8, 3], [3, 3, 3, 2], { stride: 2, padding: 'same' });
  assert.deepEqual([info.outH, info.outW, info.outC, info.channelMultiplier], [5, 4, 6, 2]);
  assert.equal(depthwiseConv2dFlops(info), 2 * 2 * 5 * 4 * 6 * 3 * 3);
});

const z = (...shape: number[]): Tensor => Tensor.zeros(shape);
const x4 = z(1, 4, 4, 2);
const w4 = z(3, 3, 2, 3);
type Case = [string, () => unknown, RegExp];
const cases: Case[] = [
  ['x not a Tensor', () => ops.depthwiseConv2d([1] as unknown as Tensor, w4, null), /^Error: depthwiseConv2d: x must be a Tensor, got Array/],
  ['x wrong rank', () => ops.depthwiseConv2d(z(4, 4, 2), w4, null), /^Error: depthwiseConv2d: x must be rank 4 \[N, H, W, C\], got rank 3 shape \[4, 4, 2\]/],
  ['w wrong rank', () => ops.depthwiseConv2d(x4, z(3, 3, 2), null), /^Error: depthwiseConv2d: w must be rank 4 \[fh, fw, C, M\], got rank 3 shape \[3, 3, 2\]/],
  ['channel mismatch', () => ops.depthwiseConv2d(x4, z(3, 3, 5, 1), null), /^Error: depthwiseConv2d: channel mismatch: x has C = 2 .*but w expects C = 5/],
  ['M = 0', () => ops.depthwiseConv2d(x4, z(3, 3, 2, 0), null), /^Error: depthwiseConv2d: w must have positive dimensions, got \[3, 3, 2, 0\]/],
  ['wrong bias shape', () => ops.depthwiseConv2d(x4, w4, z(3)), /^Error: depthwiseConv2d: b has shape \[3\], expected \[6\]/],
  ['stride 0', () => ops.depthwiseConv2d(x4, w4, null, { stride: 0 }), /^Error: depthwiseConv2d: stride must be a positive integer .*got 0/],
  ['bad padding', () => ops.depthwiseConv2d(x4, w4, null, { padding: 'full' as never }), /^Error: depthwiseConv2d: padding must be 'valid', 'same', .*got "full"/],
  [
    'kernel larger than the padded input',
    () => ops.depthwiseConv2d(z(1, 3, 3, 2), w4, null, { dilation: 2 }),
    /^Error: depthwiseConv2d: kernel larger .*effective kernel 5x5 \(w 3x3, dilation 2x2\) > padded input 3x3/,
  ],
  ['zero-size x', () => ops.depthwiseConv2d(z(0, 4, 4, 2), w4, null), /^Error: depthwiseConv2d: x must have positive dimensions, got \[0, 4, 4, 2\]/],
  ['backward: wrong dy shape', () => ops.depthwiseConv2dBackward(z(1, 2, 2, 2), x4, w4), /^Error: depthwiseConv2dBackward: dy has shape \[1, 2, 2, 2\], expected \[1, 2, 2, 6\]/],
  ['backward: dy not a Tensor', () => ops.depthwiseConv2dBackward(null as unknown as Tensor, x4, w4), /^Error: depthwiseConv2dBackward: dy must be a Tensor, got null/],
  ['backward: channel mismatch', () => ops.depthwiseConv2dBackward(z(1, 2, 2, 3), z(1, 4, 4, 1), w4), /^Error: depthwiseConv2dBackward: channel mismatch: x has C = 1 .*w expects C = 2/],
];

describe('depthwiseConv2d bad input: errors name the op, the argument, expected and actual', () => {
  for (const [title, fn, re] of cases) test(title, () => assert.throws(fn, re));
});
