/**
 * The wasm batch-norm kernels (statistics, normalisation, backward) against the reference on
 * seeded random shapes ([N, F] and NHWC, C = 1, C % 4 tails and SIMD bodies, M = 2, a large M,
 * a mean far from zero), with every arena allocation poisoned with NaN and input checksums; then
 * the BatchNorm layer's gradient check on the wasm backend.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, Tensor, reference, BatchNorm, gradcheckLayer } from '../../src/index.js';
import { wasm, initWasm, wasmRuntime } from '../../src/kernels/wasm/index.js';
import { getBackend } from '../../src/kernels/backend.js';
import { assertCloseToRef, checksum } from './helpers.js';

const CASES = 250;

test(`batch norm wasm = reference on ${CASES} random shapes, NaN-poisoned outputs`, () => {
  assert.ok(initWasm());
  assert.notEqual(wasm.batchNorm, reference.batchNorm, 'the wasm backend has its own kernel');
  const rt = wasmRuntime()!;
  const seen = { c1: false, tail: false, body: false, m2: false, bigM: false, offset: false, dense: false };
  for (let seed = 1; seed <= CASES; seed++) {
    const rng = new Rng(seed);
    const C = rng.int(5) === 0 ? 1 : 1 + rng.int(21);
    const dense = rng.int(3) === 0;
    const big = rng.int(25) === 0;
    const shape = dense ? [2 + rng.int(big ? 3000 : 9), C] : [1 + rng.int(3), 1 + rng.int(big ? 40 : 7), 1 + rng.int(big ? 40 : 7), C];
    const M = shape.slice(0, -1).reduce((a, b) => a * b, 1);
    if (M < 2) shape[0] = 2;
    const mOf = shape.slice(0, -1).reduce((a, b) => a * b, 1);
    const offset = rng.int(4) === 0 ? 50 : 0;
    seen.c1 ||= C === 1;
    seen.tail ||= C > 4 && C % 4 !== 0;
    seen.body ||= C % 4 === 0;
    seen.m2 ||= mOf === 2;
    seen.bigM ||= mOf > 1000;
    seen.offset ||= offset !== 0;
    seen.dense ||= dense;
    const x = Tensor.randn(shape, { seed: seed * 5, mean: offset, std: 1 + rng.int(3) });
    const dy = Tensor.randn(shape, { seed: seed * 5 + 1 });
    const gamma = Tensor.randn([C], { seed: seed * 5 + 2 });
    const beta = Tensor.randn([C], { seed: seed * 5 + 3 });
    const eps = [1e-5, 1e-3][rng.int(2)];
    const inputs = [x, dy, gamma, beta];
    const sums = inputs.map((t) => checksum(t.data));
    const ctx = `seed=${seed} x=[${shape}] offset=${offset} eps=${eps}`;
    const ref = reference.batchNormStats(x);
    rt.poison = NaN;
    try {
      const st = wasm.batchNormStats(x);
      assertCloseToRef(st.mean, ref.mean, 'mean', ctx);
      assertCloseToRef(st.variance, ref.variance, 'variance', ctx);
      // With the same statistics, so each kernel is compared on its own.
      assertCloseToRef(wasm.batchNorm(x, ref.mean, ref.variance, gamma, beta, eps), reference.batchNorm(x, ref.mean, ref.variance, gamma, beta, eps), 'y', ctx);
      const g = wasm.batchNormBackward(dy, x, ref.mean, ref.variance, gamma, eps);
      const r = reference.batchNormBackward(dy, x, ref.mean, ref.variance, gamma, eps);
      assertCloseToRef(g.dx, r.dx, 'dx', ctx);
      assertCloseToRef(g.dgamma, r.dgamma, 'dgamma', ctx);
      assertCloseToRef(g.dbeta, r.dbeta, 'dbeta', ctx);
    } finally {
      rt.poison = null;
    }
    assert.deepEqual(inputs.map((t) => checksum(t.data)), sums, `${ctx}: a kernel changed its inputs`);
  }
  assert.deepEqual(seen, { c1: true, tail: true, body: true, m2: true, bigM: true, offset: true, dense: true }, 'coverage of the draw');
});

test('BatchNorm layer on the wasm backend: gradient check, NHWC and [N, F]', () => {
  assert.ok(initWasm());
  assert.equal(getBackend(), 'wasm');
  for (const [shape, seed] of [[[3, 2, 3, 6], 1], [[5, 7], 2]] as const) {
    const rep = gradcheckLayer(new BatchNorm({ eps: 1e-3 }), [...shape], { seed });
    assert.ok(rep.ok, `[${shape}]: ${rep.message}`);
  }
});
