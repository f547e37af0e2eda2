/** The wasm loader: base64 decoding, feature detection, the choice of build, backend selection. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { Rng, getBackend, setBackend, conv2d, Tensor, reference, computeConv2DInfo } from '../../src/index.js';
import { chooseVariant, decodeBase64, detectFeatures, wasmBytes } from '../../src/kernels/wasm/loader.js';

test('decodeBase64 agrees with Buffer on every length mod 3', () => {
  const rng = new Rng(3);
  for (let n = 0; n < 70; n++) {
    const bytes = Uint8Array.from({ length: n }, () => rng.int(256));
    assert.deepEqual(decodeBase64(Buffer.from(bytes).toString('base64')), bytes, `length ${n}`);
  }
});

test('Node 20 has SIMD and shared memory; relaxed SIMD only behind its flag', () => {
  const f = detectFeatures();
  assert.equal(f.simd, true);
  assert.equal(f.threads, true);
  assert.equal(f.relaxedSimd, process.execArgv.includes('--experimental-wasm-relaxed-simd') || Number(process.versions.node.split('.')[0]) >= 22);
});

test('chooseVariant picks the FMA build only with relaxed SIMD, the shared build only for threads', () => {
  assert.equal(chooseVariant({ simd: true, relaxedSimd: false, threads: false }, false), 'simd');
  assert.equal(chooseVariant({ simd: true, relaxedSimd: true, threads: true }, true), 'relaxedShared');
  assert.equal(chooseVariant({ simd: true, relaxedSimd: true, threads: true }, false), 'relaxed');
  assert.equal(chooseVariant({ simd: true, relaxedSimd: false, threads: true }, true), 'simdShared');
});

test('every embedded build is a valid module here, except relaxed ones without the flag', () => {
  const f = detectFeatures();
  for (const v of ['simd', 'simdShared', 'relaxed', 'relaxedShared'] as const) {
    const bytes = wasmBytes(v);
    assert.deepEqual([...bytes.subarray(0, 4)], [0, 0x61, 0x73, 0x6d], `${v}: wasm magic`);
    assert.equal(WebAssembly.validate(bytes), v.startsWith('simd') || f.relaxedSimd, v);
  }
});

test("importing the library selects 'wasm'; setBackend('reference') switches back", () => {
  assert.equal(getBackend(), 'wasm');
  const x = Tensor.randn([2, 6, 6, 3], { seed: 1 });
  const w = Tensor.randn([3, 3, 3, 4], { seed: 2 });
  const info = computeConv2DInfo('t', x.shape, w.shape, { padding: 'same' });
  setBackend('reference');
  try {
    assert.equal(getBackend(), 'reference');
    // the reference kernel itself, bit for bit
    assert.deepEqual([...conv2d(x, w, null, { padding: 'same' }).data], [...reference.conv2d(x, w, null, info).data]);
  } finally {
    setBackend('wasm');
  }
});
