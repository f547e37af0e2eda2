/** The wasm relu kernels against the reference, including NaN, ±0 and lengths that are not multiples of 4. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, Tensor, reference } from '../../src/index.js';
import { wasm, initWasm, wasmRuntime } from '../../src/kernels/wasm/index.js';
import { checksum } from './helpers.js';

const SPECIAL = [NaN, 0, -0, Infinity, -Infinity, 1e-30, -1e-30];

function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

test('relu and reluBackward wasm = reference exactly on 200 random tensors', () => {
  assert.ok(initWasm());
  const rt = wasmRuntime()!;
  for (let seed = 1; seed <= 200; seed++) {
    const rng = new Rng(seed);
    const shape = [1 + rng.int(4), 1 + rng.int(9), 1 + rng.int(7)];
    const x = Tensor.randn(shape, { seed: seed * 2 });
    for (let i = 0; i < x.size; i++) if (rng.int(5) === 0) x.data[i] = SPECIAL[rng.int(SPECIAL.length)];
    const dy = Tensor.randn(shape, { seed: seed * 2 + 1 });
    const sums = [checksum(x.data), checksum(dy.data)];
    rt.poison = NaN;
    let y: Tensor;
    let dx: Tensor;
    try {
      y = wasm.relu(x);
      dx = wasm.reluBackward(dy, x);
    } finally {
      rt.poison = null;
    }
    const ctx = `seed=${seed} shape=[${shape}]`;
    // relu is exact: the same values, including NaN; ±0 only in sign (the reference maps -0 to +0 as well)
    assert.ok(sameBits(y.data, reference.relu(x).data), `${ctx}: relu differs`);
    assert.ok(sameBits(dx.data, reference.reluBackward(dy, x).data), `${ctx}: reluBackward differs`);
    assert.deepEqual(y.shape, x.shape);
    assert.deepEqual([checksum(x.data), checksum(dy.data)], sums, `${ctx}: inputs changed`);
  }
});
