/**
 * The wasm global average pooling, forward and backward, against the reference on seeded random
 * shapes (N = 1, C = 1, C % 4 tails and SIMD bodies, 1x1 images, large H·W), outputs poisoned with
 * NaN so an unwritten element fails, inputs checked unchanged; and the layer on the wasm backend.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, Tensor, reference, GlobalAvgPool2D, gradcheckLayer } from '../../src/index.js';
import { wasm, initWasm, wasmRuntime } from '../../src/kernels/wasm/index.js';
import { getBackend } from '../../src/kernels/backend.js';
import { assertCloseToRef, checksum } from './helpers.js';

const CASES = 300;

test(`globalAvgPool2d wasm = reference on ${CASES} random shapes, NaN-poisoned outputs`, () => {
  assert.ok(initWasm());
  const rt = wasmRuntime()!;
  const seen = { n1: false, c1: false, tail: false, body: false, one: false, big: false };
  for (let seed = 1; seed <= CASES; seed++) {
    const rng = new Rng(seed);
    const oneByOne = rng.int(8) === 0;
    const big = rng.int(20) === 0;
    const shape = [1 + rng.int(3), oneByOne ? 1 : 1 + rng.int(big ? 60 : 9), oneByOne ? 1 : 1 + rng.int(big ? 60 : 9), rng.int(5) === 0 ? 1 : 1 + rng.int(19)];
    const [n, h, w, c] = shape;
    seen.n1 ||= n === 1;
    seen.c1 ||= c === 1;
    seen.tail ||= c % 4 !== 0 && c > 4;
    seen.body ||= c % 4 === 0;
    seen.one ||= h * w === 1;
    seen.big ||= h * w > 1000;
    const x = Tensor.randn(shape, { seed: seed * 2, mean: rng.int(3) === 0 ? 3 : 0 });
    const dy = Tensor.randn([n, c], { seed: seed * 2 + 1 });
    const sums = [checksum(x.data), checksum(dy.data)];
    const ctx = `seed=${seed} x=[${shape}]`;
    rt.poison = NaN;
    try {
      assertCloseToRef(wasm.globalAvgPool2d(x), reference.globalAvgPool2d(x), 'y', ctx);
      assertCloseToRef(wasm.globalAvgPool2dBackward(dy, shape), reference.globalAvgPool2dBackward(dy, shape), 'dx', ctx);
    } finally {
      rt.poison = null;
    }
    assert.deepEqual([checksum(x.data), checksum(dy.data)], sums, `${ctx}: a kernel changed its inputs`);
  }
  assert.deepEqual(seen, { n1: true, c1: true, tail: true, body: true, one: true, big: true }, 'coverage of the draw');
});

test('GlobalAvgPool2D layer on the wasm backend: gradient check', () => {
  assert.ok(initWasm());
  assert.equal(getBackend(), 'wasm');
  const rep = gradcheckLayer(new GlobalAvgPool2D(), [2, 3, 5, 6], { seed: 3 });
  assert.ok(rep.ok, rep.message);
});
