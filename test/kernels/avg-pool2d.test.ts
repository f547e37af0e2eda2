/**
 * avgPool2d / avgPool2dBackward: hand cases, the divide-by-real-cells convention at padded borders
 * (forward AND backward), and numeric gradient checks.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/tensor.js';
import { avgPool2d, avgPool2dBackward } from '../../src/kernels/ops.js';
import { gradcheckOp } from '../../src/gradcheck.js';
import { assertClose } from '../helpers/assert-close.js';
import { randomPoolConfig, poolTitle, poolOpts, type PoolConfig } from '../helpers/configs.js';
import { rng, randTensor } from '../helpers/tensors.js';

const iota = (shape: number[]): Tensor => Tensor.fromArray(Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i + 1), shape);

describe('avgPool2d, hand-computed', () => {
  test('x=[1,4,4,1] (1..16) k=2 s=2: window means', () => {
    const x = iota([1, 4, 4, 1]);
    assertClose(avgPool2d(x, { kernelSize: 2 }), [(1 + 2 + 5 + 6) / 4, (3 + 4 + 7 + 8) / 4, (9 + 10 + 13 + 14) / 4, (11 + 12 + 15 + 16) / 4], {
      atol: 1e-6,
    });
    const dx = avgPool2dBackward(Tensor.fromArray([4, 8, 12, 16], [1, 2, 2, 1]), x, { kernelSize: 2 });
    // each cell gets its window's dy / 4
    assertClose(dx, [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4], { atol: 1e-6 });
  });

  test("x=[1,3,3,1] (1..9) k=3 s=1 p=same: border windows divide by their real cells (4 at corners, 6 at edges)", () => {
    const y = avgPool2d(iota([1, 3, 3, 1]), { kernelSize: 3, stride: 1, padding: 'same' });
    assert.deepEqual(y.shape, [1, 3, 3, 1]);
    const expected = [
      (1 + 2 + 4 + 5) / 4,
      (1 + 2 + 3 + 4 + 5 + 6) / 6,
      (2 + 3 + 5 + 6) / 4,
      (1 + 2 + 4 + 5 + 7 + 8) / 6,
      45 / 9,
      (2 + 3 + 5 + 6 + 8 + 9) / 6,
      (4 + 5 + 7 + 8) / 4,
      (4 + 5 + 6 + 7 + 8 + 9) / 6,
      (5 + 6 + 8 + 9) / 4,
    ];
    assertClose(y, expected, { atol: 1e-6 });
  });

  test("backward at 'same' borders uses the same counts: dy = 1 everywhere on x=[1,3,3,1] k=3 s=1", () => {
    const x = iota([1, 3, 3, 1]);
    const dx = avgPool2dBackward(Tensor.ones([1, 3, 3, 1]), x, { kernelSize: 3, stride: 1, padding: 'same' });
    // window (oy, ox) has count c(oy) * c(ox) with c(0) = c(2) = 2, c(1) = 3; every window covering a cell sends 1/count
    const corner = 1 / 4 + 1 / 6 + 1 / 6 + 1 / 9; // windows (0,0) (0,1) (1,0) (1,1) cover cell (0,0)
    // cell (0,1) is covered by windows with oy in {0,1} and ox in {0,1,2}: counts 4, 6, 4 (oy=0) and 6, 9, 6 (oy=1)
    const edge01 = 1 / 4 + 1 / 6 + 1 / 4 + 1 / 6 + 1 / 9 + 1 / 6;
    const centre = 4 / 4 + 4 / 6 + 1 / 9; // all 9 windows
    assertClose(dx, [corner, edge01, corner, edge01, centre, edge01, corner, edge01, corner], { atol: 1e-6 });
    // dy = 1 makes every window's outgoing gradient sum to 1, so Σ dx = number of windows
    assert.ok(Math.abs(dx.data.reduce((a, b) => a + b, 0) - 9) < 1e-5);
  });

  test('explicit padding [1,0,0,1] k=2 s=2 on x=[1,3,3,1]: counts 1, 2 (top row) and 2, 4', () => {
    // padded rows: -1 (pad), 0, 1, 2 → windows rows {-1,0}, {1,2}; padded cols 0, 1, 2, 3 (pad) → {0,1}, {2,3}
    const y = avgPool2d(iota([1, 3, 3, 1]), { kernelSize: 2, stride: 2, padding: [1, 0, 0, 1] });
    assert.deepEqual(y.shape, [1, 2, 2, 1]);
    assertClose(y, [(1 + 2) / 2, 3 / 1, (4 + 5 + 7 + 8) / 4, (6 + 9) / 2], { atol: 1e-6 });
  });
});

const forced: PoolConfig[] = [
  { xShape: [1, 5, 7, 1], kernelSize: [3, 2], stride: [2, 1], padding: [1, 0, 1, 1] },
  { xShape: [2, 6, 5, 2], kernelSize: [2, 2], stride: [1, 1], padding: 'same' },
  { xShape: [1, 7, 7, 3], kernelSize: [3, 3], stride: [2, 2], padding: 'same' },
  { xShape: [1, 8, 3, 1], kernelSize: [4, 1], stride: [3, 1], padding: 'valid' },
];
const r = rng(4242);
const configs = [...forced, ...Array.from({ length: 30 }, () => randomPoolConfig(r))];

describe('avgPool2d gradient check', () => {
  configs.forEach((cfg, i) => {
    test(poolTitle(cfg), () => {
      const x = randTensor(cfg.xShape, rng(700 + i));
      const o = poolOpts(cfg);
      const rep = gradcheckOp(() => avgPool2d(x, o), (dy) => ({ x: avgPool2dBackward(dy, x, o) }), { x }, { seed: i });
      assert.ok(rep.ok, `seed 4242 config #${i}: ${rep.message}`);
    });
  });
});
