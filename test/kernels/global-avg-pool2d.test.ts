/**
 * globalAvgPool2d / globalAvgPool2dBackward on the reference backend: a hand case, an independent
 * kernel (average pooling with one window the size of the image), numeric gradient checks, and bad
 * input naming op, argument, expected and actual.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/tensor.js';
import { Rng } from '../../src/tensor/random.js';
import { reference } from '../../src/kernels/reference/index.js';
import { setBackend } from '../../src/kernels/backend.js';
import { computePool2DInfo } from '../../src/kernels/conv-info.js';
import { globalAvgPool2d, globalAvgPool2dBackward } from '../../src/kernels/ops.js';
import { gradcheckOp } from '../../src/gradcheck.js';
import { assertClose } from '../helpers/assert-close.js';
import { randTensor, rng, snapshot, assertUnchanged } from '../helpers/tensors.js';

setBackend('reference');

/** Random [N, H, W, C], with N = 1, C = 1 and 1x1 images among them. */
function randomShape(r: Rng): [number, number, number, number] {
  const one = r.int(6) === 0;
  return [1 + r.int(3), one ? 1 : 1 + r.int(9), one ? 1 : 1 + r.int(9), r.int(4) === 0 ? 1 : 1 + r.int(13)];
}

describe('globalAvgPool2d, by hand', () => {
  test('x=[2,2,2,2]: each channel of each image is the mean of its 4 cells; dx spreads dy / 4', () => {
    // x[b,h,w,c] = 100 b + 10 (2h + w) + c
    const data: number[] = [];
    for (let b = 0; b < 2; b++) for (let p = 0; p < 4; p++) for (let c = 0; c < 2; c++) data.push(100 * b + 10 * p + c);
    const x = Tensor.fromArray(data, [2, 2, 2, 2]);
    const y = globalAvgPool2d(x);
    assert.deepEqual(y.shape, [2, 2]);
    assertClose(y, [15, 16, 115, 116], { atol: 1e-6 }); // mean of 0, 10, 20, 30 is 15
    const dx = globalAvgPool2dBackward(Tensor.fromArray([4, 8, -4, 2], [2, 2]), x.shape);
    assert.deepEqual(dx.shape, [2, 2, 2, 2]);
    assertClose(dx, [1, 2, 1, 2, 1, 2, 1, 2, -1, 0.5, -1, 0.5, -1, 0.5, -1, 0.5], { atol: 1e-7 });
  });
});

describe('globalAvgPool2d = avgPool2d with one H x W window (an independent kernel)', () => {
  test('60 random shapes, forward and backward; inputs unchanged', () => {
    const r = rng(2024);
    let sawN1 = false, sawC1 = false, saw1x1 = false;
    for (let i = 0; i < 60; i++) {
      const shape = randomShape(r);
      const [n, h, w, c] = shape;
      sawN1 ||= n === 1;
      sawC1 ||= c === 1;
      saw1x1 ||= h === 1 && w === 1;
      const x = randTensor(shape, r);
      const dy = randTensor([n, c], r);
      const info = computePool2DInfo('test', shape, { kernelSize: [h, w] });
      const snap = snapshot({ x, dy });
      const label = `shape [${shape}]`;
      assertClose(globalAvgPool2d(x), reference.avgPool2d(x, info).reshape([n, c]), { label: `${label} y` });
      const dyPool = dy.reshape([n, 1, 1, c]);
      assertClose(globalAvgPool2dBackward(dy, shape), reference.avgPool2dBackward(dyPool, x, info), { label: `${label} dx` });
      assertUnchanged(snap, label);
    }
    assert.ok(sawN1 && sawC1 && saw1x1, 'the draw covers N = 1, C = 1 and 1x1 images');
  });
});

describe('globalAvgPool2d gradient check', () => {
  const r = rng(77);
  for (let i = 0; i < 12; i++) {
    const shape = randomShape(r);
    test(`x [${shape}]`, () => {
      const x = randTensor(shape, rng(500 + i));
      const rep = gradcheckOp(() => globalAvgPool2d(x), (dy) => ({ x: globalAvgPool2dBackward(dy, x.shape) }), { x }, { seed: i });
      assert.ok(rep.ok, rep.message);
    });
  }
});

describe('globalAvgPool2d bad input', () => {
  const cases: [string, () => unknown, RegExp][] = [
    ['x not a Tensor', () => globalAvgPool2d([1] as unknown as Tensor), /^Error: globalAvgPool2d: x must be a Tensor, got Array/],
    ['x rank 3', () => globalAvgPool2d(Tensor.zeros([2, 2, 3])), /^Error: globalAvgPool2d: x must be rank 4 \[N, H, W, C\], got rank 3 shape \[2, 2, 3\]/],
    ['x with H = 0', () => globalAvgPool2d(Tensor.zeros([1, 0, 2, 3])), /^Error: globalAvgPool2d: x must have H and W >= 1 .*got shape \[1, 0, 2, 3\]/],
    ['dy not a Tensor', () => globalAvgPool2dBackward(null as unknown as Tensor, [1, 2, 2, 3]), /^Error: globalAvgPool2dBackward: dy must be a Tensor, got null/],
    ['xShape rank 2', () => globalAvgPool2dBackward(Tensor.zeros([1, 3]), [1, 3]), /^Error: globalAvgPool2dBackward: xShape must be rank 4 \[N, H, W, C\], got rank 2 shape \[1, 3\]/],
    ['xShape not integers', () => globalAvgPool2dBackward(Tensor.zeros([1, 3]), [1, 2.5, 2, 3]), /^Error: globalAvgPool2dBackward: xShape\[1\] must be a non-negative integer, got 2\.5/],
    ['dy shape', () => globalAvgPool2dBackward(Tensor.zeros([2, 3]), [1, 2, 2, 3]), /^Error: globalAvgPool2dBackward: dy has shape \[2, 3\], expected \[1, 3\]/],
  ];
  for (const [title, f, re] of cases) test(title, () => assert.throws(f, re));
});
