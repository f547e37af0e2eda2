/**
 * maxPool2d / maxPool2dBackward: hand cases, the conventions (padded cells never win, ties go to the
 * first maximum in row-major window order, in the backward too), and numeric gradient checks on
 * inputs without near-ties.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/tensor.js';
import { maxPool2d, maxPool2dBackward } from '../../src/kernels/ops.js';
import { gradcheckOp } from '../../src/gradcheck.js';
import { assertClose } from '../helpers/assert-close.js';
import { randomPoolConfig, poolTitle, poolOpts, tryPoolInfo, type PoolConfig } from '../helpers/configs.js';
import { rng, distinctTensor } from '../helpers/tensors.js';

const iota = (shape: number[]): Tensor => Tensor.fromArray(Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i + 1), shape);
const exact = { atol: 0, rtol: 0 };

describe('maxPool2d, hand-computed', () => {
  test('x=[1,4,4,1] (1..16) k=2 s=2: the bottom-right cell of each window wins', () => {
    const x = iota([1, 4, 4, 1]);
    const y = maxPool2d(x, { kernelSize: 2 });
    assert.deepEqual(y.shape, [1, 2, 2, 1]);
    assertClose(y, [6, 8, 14, 16], exact);
    const dx = maxPool2dBackward(Tensor.fromArray([10, 20, 30, 40], [1, 2, 2, 1]), x, { kernelSize: 2 });
    const expected = new Array(16).fill(0);
    expected[5] = 10; // x = 6 at (1,1)
    expected[7] = 20; // x = 8 at (1,3)
    expected[13] = 30; // x = 14 at (3,1)
    expected[15] = 40; // x = 16 at (3,3)
    assertClose(dx, expected, exact);
  });

  test('x=[1,2,3,2] two channels pooled independently, k=[2,3]', () => {
    // channel 0 = 1..6, channel 1 = 6..1 interleaved: x[0,i,j,:] = [v, 7 - v]
    const vals: number[] = [];
    for (let v = 1; v <= 6; v++) vals.push(v, 7 - v);
    const y = maxPool2d(Tensor.fromArray(vals, [1, 2, 3, 2]), { kernelSize: [2, 3] });
    assertClose(y, [6, 6], exact);
    const dx = maxPool2dBackward(Tensor.fromArray([1, 2], [1, 1, 1, 2]), Tensor.fromArray(vals, [1, 2, 3, 2]), { kernelSize: [2, 3] });
    const expected = new Array(12).fill(0);
    expected[5 * 2 + 0] = 1; // channel 0: max 6 at cell 5
    expected[0 * 2 + 1] = 2; // channel 1: max 6 at cell 0
    assertClose(dx, expected, exact);
  });

  test("never picks a padded cell: all-negative x=[1,3,3,1] (-1..-9) k=2 s=1 p=same gives x itself, not 0", () => {
    const x = new Tensor(iota([1, 3, 3, 1]).data.map((v) => -v), [1, 3, 3, 1]);
    // 'same' pads one row/column at the bottom/right; each window's best real cell is its top-left one
    const y = maxPool2d(x, { kernelSize: 2, stride: 1, padding: 'same' });
    assert.deepEqual(y.shape, [1, 3, 3, 1]);
    assertClose(y, x.data, exact);
    const dy = iota([1, 3, 3, 1]);
    assertClose(maxPool2dBackward(dy, x, { kernelSize: 2, stride: 1, padding: 'same' }), dy.data, { ...exact, label: 'dx' });
  });

  test('never picks a padded cell: all-negative x with explicit padding [1,1,1,1] k=3 s=2', () => {
    const x = new Tensor(iota([1, 3, 3, 1]).data.map((v) => -v), [1, 3, 3, 1]);
    const y = maxPool2d(x, { kernelSize: 3, stride: 2, padding: [1, 1, 1, 1] });
    assert.deepEqual(y.shape, [1, 2, 2, 1]);
    // windows cover real rows/cols {0,1}, {1,2}: best = smallest magnitude = top-left real cell
    assertClose(y, [-1, -2, -4, -5], exact);
    const dx = maxPool2dBackward(Tensor.fromArray([1, 2, 3, 4], [1, 2, 2, 1]), x, { kernelSize: 3, stride: 2, padding: [1, 1, 1, 1] });
    assertClose(dx, [1, 2, 0, 3, 4, 0, 0, 0, 0], exact);
  });

  test('ties: a constant window sends its whole gradient to its first cell', () => {
    const x = Tensor.full([1, 2, 2, 1], 5);
    assertClose(maxPool2d(x, { kernelSize: 2 }), [5], exact);
    assertClose(maxPool2dBackward(Tensor.full([1, 1, 1, 1], 7), x, { kernelSize: 2 }), [7, 0, 0, 0], exact);
  });

  test('ties: [[1,3],[3,2]] sends the gradient to (0,1), the first maximum in row-major order, not (1,0)', () => {
    const x = Tensor.fromArray([1, 3, 3, 2], [1, 2, 2, 1]);
    assertClose(maxPool2dBackward(Tensor.full([1, 1, 1, 1], 1), x, { kernelSize: 2 }), [0, 1, 0, 0], exact);
  });

  test('ties in overlapping windows: x=[2,2,2] k=[1,2] s=1 → window 0 picks cell 0, window 1 picks cell 1', () => {
    const x = Tensor.full([1, 1, 3, 1], 2);
    const dx = maxPool2dBackward(Tensor.fromArray([10, 100], [1, 1, 2, 1]), x, { kernelSize: [1, 2], stride: 1 });
    assertClose(dx, [10, 100, 0], exact);
  });

  test('NaN in a window wins the window', () => {
    const y = maxPool2d(Tensor.fromArray([1, NaN, 3, 2], [1, 2, 2, 1]), { kernelSize: 2 });
    assert.ok(Number.isNaN(y.data[0]));
  });
});

const forced: PoolConfig[] = [
  { xShape: [1, 5, 7, 1], kernelSize: [3, 2], stride: [2, 1], padding: [1, 0, 1, 1] },
  { xShape: [2, 6, 5, 2], kernelSize: [2, 2], stride: [1, 1], padding: 'same' },
  { xShape: [1, 7, 7, 3], kernelSize: [3, 3], stride: [2, 2], padding: 'same' },
  { xShape: [1, 8, 3, 1], kernelSize: [4, 1], stride: [3, 1], padding: 'valid' },
  { xShape: [1, 1, 1, 1], kernelSize: [1, 1], stride: [1, 1], padding: 'valid' },
];
const r = rng(31337);
const configs = [...forced, ...Array.from({ length: 30 }, () => randomPoolConfig(r))];

describe('maxPool2d gradient check (inputs with distinct values 0.05 apart, eps 1e-2)', () => {
  configs.forEach((cfg, i) => {
    test(poolTitle(cfg), () => {
      const x = distinctTensor(cfg.xShape, rng(900 + i), 0.05);
      const o = poolOpts(cfg);
      const rep = gradcheckOp(() => maxPool2d(x, o), (dy) => ({ x: maxPool2dBackward(dy, x, o) }), { x }, { seed: i });
      assert.ok(rep.ok, `seed 31337 config #${i}: ${rep.message}`);
    });
  });

  test('the configurations cover strides 1-3, every padding form, non-square windows, N=1 and N>1', () => {
    const has = (pred: (c: PoolConfig) => boolean): boolean => configs.some(pred);
    const missing = Object.entries({
      'stride 3': (c: PoolConfig) => c.stride.includes(3),
      'stride 2': (c: PoolConfig) => c.stride.includes(2),
      "'same' with padding": (c: PoolConfig) => c.padding === 'same' && tryPoolInfo(c)!.padBottom > 0,
      'asymmetric [t,b,l,r]': (c: PoolConfig) => Array.isArray(c.padding) && c.padding.length === 4 && c.padding[0] !== c.padding[1],
      'non-square window': (c: PoolConfig) => c.kernelSize[0] !== c.kernelSize[1],
      'overlapping windows': (c: PoolConfig) => c.stride[0] < c.kernelSize[0],
      'N>1': (c: PoolConfig) => c.xShape[0] > 1,
      'C>1': (c: PoolConfig) => c.xShape[3] > 1,
    })
      .filter(([, pred]) => !has(pred))
      .map(([name]) => name);
    assert.deepEqual(missing, []);
  });
});
