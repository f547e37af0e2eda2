/**
 * The Dropout and Softmax kernel entries (reference only: on the wasm backend they are the
 * reference's, since a wasm version does not pay, see docs/adding-an-op.md): dropout is exactly
 * x ⊙ mask and its own gradient; softmax equals e^z / Σ e^z computed independently, rows sum to 1,
 * and its backward passes a gradient check; bad input names op, argument, expected and actual.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/tensor.js';
import { reference } from '../../src/kernels/reference/index.js';
import { wasm } from '../../src/kernels/wasm/index.js';
import { setBackend } from '../../src/kernels/backend.js';
import { dropout, softmax, softmaxBackward } from '../../src/kernels/ops.js';
import { gradcheckOp } from '../../src/gradcheck.js';
import { assertClose } from '../helpers/assert-close.js';
import { randTensor, rng, snapshot, assertUnchanged } from '../helpers/tensors.js';

setBackend('reference');

test('the wasm backend uses the reference dropout and softmax (visibly: the same functions)', () => {
  assert.equal(wasm.dropout, reference.dropout);
  assert.equal(wasm.softmax, reference.softmax);
  assert.equal(wasm.softmaxBackward, reference.softmaxBackward);
});

test('dropout(x, mask) is x ⊙ mask exactly, on 30 random shapes, and leaves its inputs alone', () => {
  const r = rng(5);
  for (let k = 0; k < 30; k++) {
    const shape = [1 + r.int(4), 1 + r.int(6), 1 + r.int(5)];
    const x = randTensor(shape, r);
    const mask = randTensor(shape, r);
    for (let i = 0; i < mask.size; i++) mask.data[i] = mask.data[i] < 0 ? 0 : 1 / 0.7;
    const snap = snapshot({ x, mask });
    const y = dropout(x, mask);
    assert.deepEqual(y.shape, shape);
    for (let i = 0; i < y.size; i++) assert.ok(Object.is(y.data[i], Math.fround(x.data[i] * mask.data[i])), `shape [${shape}] element ${i}`);
    assertUnchanged(snap, `shape [${shape}]`);
  }
});

test('dropout gradient check: d(x ⊙ mask)/dx = dropout(dy, mask)', () => {
  for (let k = 0; k < 6; k++) {
    const x = randTensor([2, 3, 4], rng(40 + k));
    const mask = randTensor([2, 3, 4], rng(50 + k), 0, 2);
    const rep = gradcheckOp(() => dropout(x, mask), (dy) => ({ x: dropout(dy, mask) }), { x }, { seed: k });
    assert.ok(rep.ok, rep.message);
  }
});

test('softmax = e^z / Σ e^z over the last axis (computed here in float64), rows sum to 1', () => {
  const r = rng(9);
  for (let k = 0; k < 30; k++) {
    const shape = [1 + r.int(5), 1 + r.int(12)];
    const z = randTensor(shape, r, -8, 8);
    const p = softmax(z);
    const K = shape[1];
    const want: number[] = [];
    for (let o = 0; o < z.size; o += K) {
      let s = 0;
      for (let j = 0; j < K; j++) s += Math.exp(z.data[o + j]);
      for (let j = 0; j < K; j++) want.push(Math.exp(z.data[o + j]) / s);
    }
    assertClose(p, want, { atol: 1e-7, rtol: 1e-6, label: `shape [${shape}]` });
    for (let o = 0; o < p.size; o += K) assert.ok(Math.abs(p.data.subarray(o, o + K).reduce((a, b) => a + b, 0) - 1) < 1e-6);
  }
});

test('softmaxBackward gradient check on random shapes, K = 1 included', () => {
  for (const [shape, seed] of [[[3, 5], 1], [[2, 2, 4], 2], [[4, 1], 3], [[1, 7], 4]] as const) {
    const z = randTensor([...shape], rng(seed));
    const rep = gradcheckOp(() => softmax(z), (dy) => ({ z: softmaxBackward(dy, softmax(z)) }), { z }, { seed });
    assert.ok(rep.ok, `[${shape}]: ${rep.message}`);
  }
});

test('dropout bad input', () => {
  assert.throws(() => dropout(Tensor.zeros([2, 3]), Tensor.zeros([3, 2])), /^Error: dropout: mask has shape \[3, 2\], expected \[2, 3\]/);
  assert.throws(() => dropout(Tensor.zeros([2, 3]), null as unknown as Tensor), /^Error: dropout: mask must be a Tensor, got null/);
  assert.throws(() => dropout('x' as unknown as Tensor, Tensor.zeros([2, 3])), /^Error: dropout: x must be a Tensor, got String/);
});
