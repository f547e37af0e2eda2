/** The CLI's random rotation/scaling transform: identity at zero, the documented direction, seeded draws. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/tensor.js';
import { Rng } from '../../src/tensor/random.js';
import { randomAffine } from '../../src/data/affine.js';

/** An Rng whose uniform(low, high) returns the next of `values` (for exact angles and scales). */
function fixed(values: number[]): Rng {
  let i = 0;
  return { uniform: () => values[i++] } as unknown as Rng;
}

test('randomAffine: no rotation and no scaling is the identity and draws nothing', () => {
  const x = Tensor.rand([2, 5, 4, 3], { seed: 1 });
  const rng = new Rng(3);
  const before = rng.getState();
  assert.deepEqual(randomAffine({ degrees: 0, scale: 0 })(x, rng).data, x.data);
  assert.deepEqual(rng.getState(), before);
});

test('randomAffine: +90 degrees turns the content clockwise on screen; scale 2 zooms in about the centre', () => {
  // 3x3, one bright pixel at the top centre (row 0, column 1).
  const x = Tensor.zeros([1, 3, 3, 1]);
  x.data[1] = 1;
  const r = randomAffine({ degrees: 90, scale: 0 })(x, fixed([90]));
  const expected = new Float32Array(9);
  expected[1 * 3 + 2] = 1; // right centre
  r.data.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-6, `pixel ${i}: ${v}`));
  // 5x5 with a 1 at (1, 1): zooming 2x about the centre (2, 2) samples (1.5, 1.5) at output (1, 1).
  const y = Tensor.zeros([1, 5, 5, 1]);
  y.data[1 * 5 + 1] = 1;
  const z = randomAffine({ degrees: 0, scale: 0.5 })(y, fixed([2]));
  assert.ok(Math.abs(z.data[1 * 5 + 1] - 0.25) < 1e-6, `${z.data[6]}`); // bilinear: a quarter of the pixel
  assert.equal(z.data[0], 1); // output (0, 0) samples exactly (1, 1): the content grew away from the centre
});

test('randomAffine: draws an angle then a scale per sample from the given Rng, reproducibly; fills outside with `fill`', () => {
  const x = Tensor.rand([3, 8, 8, 1], { seed: 2 });
  const t = randomAffine({ degrees: 15, scale: 0.1 });
  const a = t(x, new Rng(5));
  const b = t(x, new Rng(5));
  assert.deepEqual(a.data, b.data);
  assert.notDeepEqual(a.data, x.data);
  const r = new Rng(5);
  t(x, r);
  const s = new Rng(5);
  for (let i = 0; i < 6; i++) s.uniform();
  assert.deepEqual(r.getState(), s.getState(), 'two draws per sample');
  const filled = randomAffine({ degrees: 45, scale: 0, fill: -7 })(Tensor.zeros([1, 8, 8, 1]), fixed([45]));
  assert.equal(filled.data[0], -7, 'a corner rotated by 45 degrees comes from outside the image');
  assert.throws(() => randomAffine({ degrees: 10, scale: 1 }), /scale must be in \[0, 1\)/);
});
