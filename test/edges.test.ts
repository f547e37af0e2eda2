/** Sobel / Scharr edge detection as conv2d filters, on synthetic images. */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../src/tensor/tensor.js';
import { conv2d } from '../src/kernels/ops.js';
import { edges, edgeKernels, edgeFilterBank } from '../src/edges.js';
import { assertClose } from './helpers/assert-close.js';
import { rng, randTensor } from './helpers/tensors.js';

/** An [1, h, w, 1] image from f(row, col). */
function image(h: number, w: number, f: (y: number, x: number) => number): Tensor {
  const t = Tensor.zeros([1, h, w, 1]);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) t.data[y * w + x] = f(y, x);
  return t;
}
const exact = { atol: 1e-6, rtol: 0 };
/** The values of an [1, h, w, 1] tensor as rows. */
const rows = (t: Tensor): number[][] => (t.toArray() as number[][][][])[0].map((r) => r.map((p) => p[0]));

describe('kernels', () => {
  test('Sobel: gx = [[-1,0,1],[-2,0,2],[-1,0,1]] (1-2-1 weights the middle row), gy its transpose', () => {
    const { gx, gy } = edgeKernels('sobel');
    assert.deepEqual(gx, [
      [-1, 0, 1],
      [-2, 0, 2],
      [-1, 0, 1],
    ]);
    assert.deepEqual(gy, [
      [-1, -2, -1],
      [0, 0, 0],
      [1, 2, 1],
    ]);
  });

  test('Scharr: 3-10-3', () => {
    const { gx, gy } = edgeKernels('scharr');
    assert.deepEqual(gx, [
      [-3, 0, 3],
      [-10, 0, 10],
      [-3, 0, 3],
    ]);
    assert.deepEqual(gy[0], [-3, -10, -3]);
    assert.deepEqual(gy[2], [3, 10, 3]);
  });

  test('normalize divides by 8 (Sobel) and 32 (Scharr)', () => {
    assert.equal(edgeKernels('sobel', true).gx[1][2], 2 / 8);
    assert.equal(edgeKernels('scharr', true).gy[2][1], 10 / 32);
  });

  test('filter banks are HWIO: [3,3,C,2] (gradient of the channel mean) and [3,3,C,2C] per channel', () => {
    const w = edgeFilterBank('sobel', 3);
    assert.deepEqual(w.shape, [3, 3, 3, 2]);
    assert.equal(w.get(1, 2, 1, 0), Math.fround(2 / 3)); // gx[1][2] / C
    assert.equal(w.get(2, 1, 0, 1), Math.fround(2 / 3)); // gy[2][1] / C
    const p = edgeFilterBank('scharr', 2, { perChannel: true });
    assert.deepEqual(p.shape, [3, 3, 2, 4]);
    assert.equal(p.get(1, 2, 1, 2), 10); // channel 1's gx is output 2
    assert.equal(p.get(1, 2, 1, 0), 0); // channel 1 does not feed channel 0's outputs
    assert.equal(p.get(2, 1, 0, 1), 10); // channel 0's gy is output 1
  });
});

describe('orientation on synthetic images (valid padding)', () => {
  test('a vertical step edge (dark left, bright right) responds in gx (+4 per unit step), not gy', () => {
    const img = image(6, 6, (_y, x) => (x >= 3 ? 1 : 0));
    const { gx, gy, magnitude } = edges(img);
    assert.deepEqual(gx.shape, [1, 4, 4, 1]);
    // output column ox sees input columns ox..ox+2: the step is inside for ox = 1, 2
    for (const r of rows(gx)) assert.deepEqual(r, [0, 4, 4, 0]);
    assertClose(gy, new Float32Array(16), { ...exact, label: 'gy' });
    assertClose(magnitude, gx, { ...exact, label: 'magnitude' });
  });

  test('the reversed step (bright left) gives negative gx: the course filter [[1,0,-1],[2,0,-2],[1,0,-1]] is -gx', () => {
    const img = image(5, 6, (_y, x) => (x >= 3 ? 0 : 1));
    const { gx, magnitude } = edges(img);
    for (const r of rows(gx)) assert.deepEqual(r, [0, -4, -4, 0]);
    for (const r of rows(magnitude)) assert.deepEqual(r, [0, 4, 4, 0]);
    const course = Tensor.fromArray([1, 0, -1, 2, 0, -2, 1, 0, -1], [3, 3, 1, 1]);
    assertClose(conv2d(img, course, null), new Tensor(gx.data.map((v) => -v), gx.shape), exact);
  });

  test('a horizontal step edge (dark top, bright bottom) responds in gy (positive), not gx', () => {
    const img = image(6, 5, (y) => (y >= 2 ? 1 : 0));
    const { gx, gy } = edges(img, { operator: 'scharr' });
    assert.deepEqual(gy.shape, [1, 4, 3, 1]);
    // output row oy sees rows oy..oy+2: the step (between rows 1 and 2) is inside for oy = 0, 1
    assert.deepEqual(rows(gy), [
      [16, 16, 16],
      [16, 16, 16],
      [0, 0, 0],
      [0, 0, 0],
    ]);
    assertClose(gx, new Float32Array(12), { ...exact, label: 'gx' });
  });

  test('a single bright pixel: gx is antisymmetric left/right, gy up/down, magnitude is sqrt(gx² + gy²)', () => {
    const img = image(5, 5, (y, x) => (y === 2 && x === 2 ? 1 : 0));
    const { gx, gy, magnitude } = edges(img);
    // gx at output (oy, ox) = kernel tap at the pixel: k[2 - oy][2 - ox], so gx mirrors the kernel
    assert.deepEqual(rows(gx), [
      [1, 0, -1],
      [2, 0, -2],
      [1, 0, -1],
    ]);
    assert.deepEqual(rows(gy), [
      [1, 2, 1],
      [0, 0, 0],
      [-1, -2, -1],
    ]);
    assert.ok(Math.abs(magnitude.get(0, 0, 0, 0) - Math.SQRT2) < 1e-6);
    assert.ok(Math.abs(magnitude.get(0, 0, 1, 0) - 2) < 1e-6);
  });

  test('normalize: a ramp of slope 1 per pixel gives gx = 1 exactly (Sobel and Scharr), slope 2 down gives gy = 2', () => {
    const ramp = image(5, 7, (y, x) => x + 2 * y);
    for (const operator of ['sobel', 'scharr'] as const) {
      const { gx, gy } = edges(ramp, { operator, normalize: true });
      assertClose(gx, new Float32Array(gx.size).fill(1), { ...exact, label: `${operator} gx` });
      assertClose(gy, new Float32Array(gy.size).fill(2), { ...exact, label: `${operator} gy` });
    }
  });

  test('agrees with the finite-difference formula written out by hand on a random image', () => {
    const img = randTensor([2, 6, 7, 1], rng(3));
    const { gx, gy } = edges(img);
    const I = (b: number, y: number, x: number): number => img.get(b, y, x, 0);
    for (let b = 0; b < 2; b++)
      for (let oy = 0; oy < 4; oy++)
        for (let ox = 0; ox < 5; ox++) {
          const y = oy + 1;
          const x = ox + 1; // the centre pixel of the window
          const ex = I(b, y - 1, x + 1) + 2 * I(b, y, x + 1) + I(b, y + 1, x + 1) - (I(b, y - 1, x - 1) + 2 * I(b, y, x - 1) + I(b, y + 1, x - 1));
          const ey = I(b, y + 1, x - 1) + 2 * I(b, y + 1, x) + I(b, y + 1, x + 1) - (I(b, y - 1, x - 1) + 2 * I(b, y - 1, x) + I(b, y - 1, x + 1));
          assert.ok(Math.abs(gx.get(b, oy, ox, 0) - ex) < 1e-5, `gx at ${b},${oy},${ox}`);
          assert.ok(Math.abs(gy.get(b, oy, ox, 0) - ey) < 1e-5, `gy at ${b},${oy},${ox}`);
        }
  });
});

describe('channels and padding', () => {
  test('a gray image copied into 3 channels gives the same edges as the 1-channel image', () => {
    const gray = randTensor([1, 5, 6, 1], rng(4));
    const rgb = Tensor.zeros([1, 5, 6, 3]);
    for (let i = 0; i < gray.size; i++) for (let c = 0; c < 3; c++) rgb.data[i * 3 + c] = gray.data[i];
    const a = edges(gray, { operator: 'scharr' });
    const b = edges(rgb, { operator: 'scharr' });
    assertClose(b.magnitude, a.magnitude, { atol: 1e-5, label: 'magnitude' });
    assertClose(b.gx, a.gx, { atol: 1e-5, label: 'gx' });
  });

  test('perChannel: a vertical edge in channel 0 and a horizontal edge in channel 1 stay apart', () => {
    const img = Tensor.zeros([1, 5, 5, 2]);
    for (let y = 0; y < 5; y++)
      for (let x = 0; x < 5; x++) {
        img.data[(y * 5 + x) * 2] = x >= 2 ? 1 : 0;
        img.data[(y * 5 + x) * 2 + 1] = y >= 2 ? 1 : 0;
      }
    const { gx, gy, magnitude } = edges(img, { perChannel: true });
    assert.deepEqual(gx.shape, [1, 3, 3, 2]);
    const channel = (t: Tensor, c: number): number[] => Array.from(t.data.filter((_, i) => i % 2 === c));
    assert.deepEqual(channel(gx, 0), [4, 4, 0, 4, 4, 0, 4, 4, 0]);
    assert.deepEqual(channel(gy, 0), new Array(9).fill(0));
    assert.deepEqual(channel(gx, 1), new Array(9).fill(0));
    assert.deepEqual(channel(gy, 1), [4, 4, 4, 4, 4, 4, 0, 0, 0]);
    assert.deepEqual(channel(magnitude, 1), channel(gy, 1));
  });

  test("padding 'same' keeps the size; zero padding shows the border of a constant image as an edge", () => {
    const { magnitude } = edges(Tensor.ones([1, 4, 5, 1]), { padding: 'same' });
    assert.deepEqual(magnitude.shape, [1, 4, 5, 1]);
    const m = rows(magnitude);
    assert.equal(m[1][1], 0);
    assert.equal(m[2][3], 0);
    assert.ok(m[0][2] > 0 && m[3][0] > 0 && m[1][4] > 0, 'border responds');
  });

  test('explicit padding is passed to conv2d', () => {
    assert.deepEqual(edges(Tensor.ones([1, 4, 5, 1]), { padding: [1, 0, 0, 2] }).gx.shape, [1, 3, 5, 1]);
  });
});

describe('bad input', () => {
  test('errors name edges, the argument, expected and actual', () => {
    assert.throws(() => edges(Tensor.zeros([4, 4, 1])), /^Error: edges: image must be rank 4 \[N, H, W, C\], got rank 3 shape \[4, 4, 1\]/);
    assert.throws(() => edges([1] as unknown as Tensor), /^Error: edges: image must be a Tensor, got Array/);
    assert.throws(() => edges(Tensor.zeros([1, 4, 4, 1]), { operator: 'canny' as 'sobel' }), /^Error: edges: operator must be 'sobel' or 'scharr', got "canny"/);
    assert.throws(() => edges(Tensor.zeros([1, 2, 4, 1])), /^Error: edges: conv2d: kernel larger than the padded input: .*> padded input 2x4/);
    assert.throws(() => edgeFilterBank('sobel', 0), /^Error: edgeFilterBank: channels must be a positive integer, got 0/);
  });
});
