/**
 * Without WebAssembly SIMD the library must keep working on the reference kernels. This file
 * runs in its own process (node:test isolates files), so it can hide SIMD before the first import.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';

test('with SIMD reported missing, the reference backend stays selected and conv2d still works', async () => {
  const realValidate = WebAssembly.validate;
  WebAssembly.validate = () => false; // every feature probe fails, as in an engine without SIMD
  try {
    const stride = await import('../../src/index.js');
    assert.equal(stride.getBackend(), 'reference');
    assert.ok(!stride.listBackends().includes('wasm'), 'wasm must not be registered without SIMD');
    assert.equal((await stride.ready()).backend, 'reference');
    assert.equal(stride.setThreads(2), 1, 'no threads without the wasm backend');
    const x = stride.Tensor.randn([1, 5, 5, 2], { seed: 1 });
    const w = stride.Tensor.randn([3, 3, 2, 3], { seed: 2 });
    const y = stride.conv2d(x, w, null, { padding: 'same' });
    assert.deepEqual([...y.data], [...stride.reference.conv2d(x, w, null, stride.computeConv2DInfo('t', x.shape, w.shape, { padding: 'same' })).data]);
    assert.throws(() => stride.setBackend('wasm'), /unknown backend 'wasm'/);
  } finally {
    WebAssembly.validate = realValidate;
  }
});
