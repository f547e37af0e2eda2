/** dense / denseBackward: a hand case and numeric gradient checks over random shapes. */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/tensor.js';
import { dense, denseBackward } from '../../src/kernels/ops.js';
import { gradcheckOp } from '../../src/gradcheck.js';
import { assertClose } from '../helpers/assert-close.js';
import { randInt } from '../helpers/configs.js';
import { rng, randTensor } from '../helpers/tensors.js';

describe('dense, hand-computed', () => {
  test('x=[2,3] (1..6) w=[3,2] (1..6) b=[0.5,-1]', () => {
    const x = Tensor.fromArray([1, 2, 3, 4, 5, 6], [2, 3]);
    const w = Tensor.fromArray([1, 2, 3, 4, 5, 6], [3, 2]); // rows: [1,2], [3,4], [5,6]
    const y = dense(x, w, Tensor.fromArray([0.5, -1]));
    assert.deepEqual(y.shape, [2, 2]);
    assertClose(y, [0.5 + 1 * 1 + 2 * 3 + 3 * 5, -1 + 1 * 2 + 2 * 4 + 3 * 6, 0.5 + 4 * 1 + 5 * 3 + 6 * 5, -1 + 4 * 2 + 5 * 4 + 6 * 6], {
      atol: 0,
      rtol: 0,
    });
    const { dx, dw, db } = denseBackward(Tensor.fromArray([1, 0, 0, 2], [2, 2]), x, w);
    assertClose(dx, [1, 3, 5, 2 * 2, 2 * 4, 2 * 6], { atol: 0, rtol: 0, label: 'dx = dy · wᵀ' });
    assertClose(dw, [1, 2 * 4, 2, 2 * 5, 3, 2 * 6], { atol: 0, rtol: 0, label: 'dw = xᵀ · dy' });
    assertClose(db, [1, 2], { atol: 0, rtol: 0, label: 'db' });
  });
});

describe('dense gradient check (dx, dw, db)', () => {
  const r = rng(606);
  for (let i = 0; i < 12; i++) {
    const n = randInt(r, 1, 3);
    const inF = randInt(r, 1, 7);
    const outF = randInt(r, 1, 5);
    const bias = r.int(3) !== 0;
    test(`x=[${n},${inF}] w=[${inF},${outF}]${bias ? '' : ' nobias'}`, () => {
      const tr = rng(6060 + i);
      const x = randTensor([n, inF], tr);
      const w = randTensor([inF, outF], tr);
      const b = bias ? randTensor([outF], tr) : null;
      const rep = gradcheckOp(() => dense(x, w, b), (dy) => denseBackward(dy, x, w), b ? { x, w, b } : { x, w }, { seed: i });
      assert.ok(rep.ok, rep.message);
    });
  }
});
