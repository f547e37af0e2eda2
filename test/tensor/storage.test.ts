/**
 * Recycled storage (src/tensor/storage.ts) and Tensor.dispose(): what is pooled and what is not,
 * the limit, the wasm kernels writing every element of a recycled (NaN-filled) output array, and
 * Sequential.predict disposing its intermediates but never the caller's input.
 */
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, Rng, relu as reluOp, reference, computeConv2DInfo, computePool2DInfo, Sequential, Conv2D, ReLU, MaxPool2D, Flatten, Dense, Dropout } from '../../src/index.js';
import { allocFloat32, recycleFloat32, takeFloat32, setStoragePoolLimit, storagePoolStats, resetStoragePool, MIN_POOLED_FLOATS } from '../../src/tensor/storage.js';
import { wasm, ready, setThreads, wasmRuntime } from '../../src/kernels/wasm/index.js';
import { setBackend, getBackend } from '../../src/kernels/backend.js';
import { assertCloseToRef } from '../wasm/helpers.js';

const BIG = MIN_POOLED_FLOATS;

beforeEach(() => {
  setStoragePoolLimit(256 * 1024 * 1024);
  resetStoragePool();
});

test('dispose: the array goes back to the pool, the tensor becomes unusable, twice is harmless', () => {
  const t = Tensor.zeros([2, BIG / 2]);
  const arr = t.data;
  t.dispose();
  assert.equal(t.isDisposed, true);
  assert.equal(t.data.length, 0);
  assert.throws(() => t.reshape([BIG]), /Tensor.reshape: tensor was disposed \(shape \[2, 32768\]\)/);
  assert.throws(() => t.get(0, 0), /Tensor.get: tensor was disposed/);
  assert.throws(() => t.clone(), /Tensor.clone: tensor was disposed/);
  assert.throws(() => reluOp(t), /relu: x was disposed/);
  const layer = new ReLU();
  layer.build([BIG / 2], new Rng(0));
  assert.throws(() => layer.forward(t, false), /ReLU.forward: x was disposed/);
  assert.equal(t.size, BIG);
  assert.deepEqual(t.shape, [2, BIG / 2]);
  t.dispose();
  assert.equal(storagePoolStats().arrays, 1);
  assert.equal(allocFloat32(BIG), arr, 'the same array is handed out again');
  assert.equal(storagePoolStats().arrays, 0);
  assert.notEqual(allocFloat32(BIG), arr, 'and only once');
});

test('only whole, unshared arrays of at least MIN_POOLED_FLOATS are kept; lengths must match exactly', () => {
  assert.equal(recycleFloat32(new Float32Array(BIG - 1)), false, 'small');
  const big = new Float32Array(BIG * 2);
  assert.equal(recycleFloat32(big.subarray(BIG)), false, 'a view of part of a buffer');
  assert.equal(recycleFloat32(big.subarray(0, BIG)), false, 'a view of the first part of a buffer');
  assert.equal(recycleFloat32(new Float32Array(new SharedArrayBuffer(BIG * 4))), false, 'shared memory');
  assert.equal(storagePoolStats().arrays, 0);
  assert.equal(recycleFloat32(big), true);
  assert.equal(recycleFloat32(big), true, 'returning an array twice keeps it once');
  assert.equal(storagePoolStats().arrays, 1);
  assert.equal(takeFloat32(BIG), null, 'a different length is not handed out');
  assert.equal(takeFloat32(BIG * 2), big);
  // A tensor and its reshape share one array: disposing both pools it once.
  const t = Tensor.zeros([BIG]);
  const r = t.reshape([2, BIG / 2]);
  t.dispose();
  r.dispose();
  assert.equal(storagePoolStats().arrays, 1);
});

test('the limit: oldest arrays are dropped first; 0 turns pooling off; bad limits throw', () => {
  const arrays = [1, 2, 3].map(() => new Float32Array(BIG));
  setStoragePoolLimit(2 * BIG * 4);
  for (const a of arrays) recycleFloat32(a);
  const s = storagePoolStats();
  assert.equal(s.arrays, 2);
  assert.equal(s.evicted, 1);
  assert.equal(s.heldBytes, 2 * BIG * 4);
  assert.equal(takeFloat32(BIG), arrays[2], 'newest first');
  assert.equal(takeFloat32(BIG), arrays[1]);
  assert.equal(takeFloat32(BIG), null, 'the oldest was dropped');
  recycleFloat32(arrays[0]);
  setStoragePoolLimit(0);
  assert.equal(storagePoolStats().arrays, 0);
  assert.equal(recycleFloat32(new Float32Array(BIG)), false);
  assert.throws(() => setStoragePoolLimit(-1), /setStoragePoolLimit: bytes must be a finite number >= 0, got -1/);
  assert.throws(() => setStoragePoolLimit(NaN), /got NaN/);
});

/** Puts a NaN-filled array of n floats in the pool, so the next output of that length reuses it. */
function poisonedSlot(n: number): Float32Array {
  const a = new Float32Array(n).fill(NaN);
  assert.ok(recycleFloat32(a));
  return a;
}

for (const threads of [1, 2]) {
  test(`wasm kernels write every element of a recycled NaN-filled output (${threads} thread${threads > 1 ? 's' : ''})`, async () => {
    await ready();
    setThreads(threads);
    // Shapes big enough to be pooled, with odd sizes, stride 2 and asymmetric padding.
    const x = Tensor.randn([4, 61, 57, 7], { seed: 1 });
    const w = Tensor.randn([3, 4, 7, 13], { seed: 2 });
    const b = Tensor.randn([13], { seed: 3 });
    const opts = [
      { stride: 1, padding: 'same' as const },
      { stride: [2, 1] as [number, number], padding: [1, 0, 2, 1] as [number, number, number, number], dilation: [1, 2] as [number, number] },
    ];
    for (const o of opts) {
      const info = computeConv2DInfo('test', x.shape, w.shape, o);
      const ctx = JSON.stringify(o);
      const ySlot = poisonedSlot(info.batch * info.outH * info.outW * info.outC);
      const y = wasm.conv2d(x, w, b, info);
      assert.equal(y.data, ySlot, `${ctx}: forward reused the pooled array`);
      assertCloseToRef(y, reference.conv2d(x, w, b, info), 'y', ctx);
      const dy = Tensor.randn([info.batch, info.outH, info.outW, info.outC], { seed: 4 });
      const dxSlot = poisonedSlot(x.size);
      const g = wasm.conv2dBackward(dy, x, w, info);
      assert.equal(g.dx.data, dxSlot, `${ctx}: dx reused the pooled array`);
      const r = reference.conv2dBackward(dy, x, w, info);
      assertCloseToRef(g.dx, r.dx, 'dx', ctx);
      assertCloseToRef(g.dw, r.dw, 'dw', ctx);
      assertCloseToRef(g.db, r.db, 'db', ctx);
    }
    // Pooling forward and backward, relu forward and backward, dense.
    for (const [name, fwd, bwd, ref, refB] of [
      ['max', wasm.maxPool2d, wasm.maxPool2dBackward, reference.maxPool2d, reference.maxPool2dBackward],
      ['avg', wasm.avgPool2d, wasm.avgPool2dBackward, reference.avgPool2d, reference.avgPool2dBackward],
    ] as const) {
      const big = Tensor.randn([8, 96, 81, 8], { seed: 5 });
      const bi = computePool2DInfo('test', big.shape, { kernelSize: 3, stride: 2, padding: 'same' });
      const slot = poisonedSlot(bi.batch * bi.outH * bi.outW * bi.channels);
      const p = fwd(big, bi);
      assert.equal(p.data, slot, `${name} pool reused the pooled array`);
      assertCloseToRef(p, ref(big, bi), `${name} pool`, '');
      const pdy = Tensor.randn(p.shape, { seed: 6 });
      const bslot = poisonedSlot(big.size);
      const pb = bwd(pdy, big, bi);
      assert.equal(pb.data, bslot);
      assertCloseToRef(pb, refB(pdy, big, bi), `${name} pool backward`, '');
    }
    const slot = poisonedSlot(x.size);
    const rl = wasm.relu(x);
    assert.equal(rl.data, slot);
    assertCloseToRef(rl, reference.relu(x), 'relu', '');
    const rdy = Tensor.randn(x.shape, { seed: 7 });
    poisonedSlot(x.size);
    assertCloseToRef(wasm.reluBackward(rdy, x), reference.reluBackward(rdy, x), 'reluBackward', '');
    const dx = Tensor.randn([300, 257], { seed: 8 });
    const dw = Tensor.randn([257, 300], { seed: 9 });
    const dslot = poisonedSlot(300 * 300);
    const d = wasm.dense(dx, dw, null);
    assert.equal(d.data, dslot);
    assertCloseToRef(d, reference.dense(dx, dw, null), 'dense', '');
    setThreads(2);
  });
}

function lenetish(seed: number, first: 'conv' | 'flatten' = 'conv'): Sequential {
  const layers = first === 'conv'
    ? [new Conv2D({ outChannels: 16, kernelSize: 5, padding: 'same' }), new ReLU(), new MaxPool2D({ kernelSize: 2 }), new Dropout({ rate: 0.5 }), new Flatten(), new Dense({ units: 10 })]
    : [new Flatten(), new Dense({ units: 300 }), new ReLU(), new Dense({ units: 10 })];
  return new Sequential(layers, { inputShape: [28, 28, 1], seed });
}

for (const backend of ['wasm', 'reference']) {
  test(`Sequential.predict (${backend}): same outputs as forward, intermediates recycled, the input never`, async () => {
    await ready();
    const before = getBackend();
    setBackend(backend);
    try {
      for (const first of ['conv', 'flatten'] as const) {
        const model = lenetish(3, first);
        const x = Tensor.rand([40, 28, 28, 1], { seed: 4 });
        const xCopy = x.data.slice();
        const want = model.forward(x, false).data.slice();
        resetStoragePool();
        // Batches of 16 and of 40: the intermediates of each batch feed the next one's outputs.
        for (const bs of [16, 40]) {
          const y = model.predict(x, bs);
          assert.deepEqual(y.data, want, `${first}, batch ${bs}`);
          assert.equal(x.isDisposed, false);
          assert.deepEqual(x.data, xCopy, 'the input is untouched');
          assert.equal(y.isDisposed, false);
        }
        const s = storagePoolStats();
        if (first === 'conv' && backend === 'wasm') {
          // The intermediates stay in wasm memory (docs/wasm.md, Memory): none went through the
          // pool of arrays; their blocks are freed and reused (the heap's end does not move).
          assert.equal(s.recycled, 0, `recycled ${s.recycled}`);
          const rt = wasmRuntime()!;
          const end = rt.heapStats().end;
          assert.deepEqual(model.predict(x, 16).data, want);
          rt.reset();
          assert.equal(rt.heapStats().liveBlocks, 0, 'no block left in wasm memory');
          assert.equal(rt.heapStats().end, end, 'the blocks of the first predict were reused');
        } else if (first === 'conv') {
          // 40 x 28 x 28 x 16 floats from the conv and the relu: recycled, then reused.
          assert.ok(s.recycled >= 2, `recycled ${s.recycled}`);
        } else {
          // Flatten shares the input's array: it must not be handed out as storage.
          assert.equal(s.recycled, 0, 'nothing big enough to pool except the input, which is never recycled');
        }
      }
    } finally {
      setBackend(before);
    }
  });
}

test('Sequential.trainStep disposes the step\'s activations and gradients, never x, and trains exactly as forward/backward/step', async () => {
  await ready();
  const { SGD } = await import('../../src/optim/sgd.js');
  const { softmaxCrossEntropy } = await import('../../src/losses/softmax-cross-entropy.js');
  const x = Tensor.rand([24, 28, 28, 1], { seed: 5 });
  const xCopy = x.data.slice();
  const labels = Int32Array.from({ length: 24 }, (_, i) => i % 10);
  const a = lenetish(6);
  const b = lenetish(6);
  const optA = new SGD({ lr: 0.05, momentum: 0.9 });
  const optB = new SGD({ lr: 0.05, momentum: 0.9 });
  resetStoragePool();
  for (let step = 0; step < 3; step++) {
    const r = a.trainStep(x, labels, optA);
    optB.zeroGrad(b.params());
    const logits = b.forward(x, true);
    const { loss, grad } = softmaxCrossEntropy(logits, labels);
    b.backward(grad);
    optB.step(b.params());
    assert.equal(r.loss, loss, `step ${step}: same loss`);
  }
  assert.deepEqual(a.params().map((p) => p.value.data), b.params().map((p) => p.value.data), 'same weights');
  assert.equal(x.isDisposed, false);
  assert.deepEqual(x.data, xCopy);
  const s = storagePoolStats();
  assert.ok(s.recycled >= 6, `24 x 28 x 28 x 16 activations and their gradients are recycled: ${s.recycled}`);
  assert.ok(s.reused >= 4, `and reused by the next steps: ${s.reused}`);
  assert.throws(() => a.backward(Tensor.zeros([24, 10])), /Sequential/, 'the step consumed the caches');
});
