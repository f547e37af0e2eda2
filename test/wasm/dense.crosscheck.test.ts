/** The wasm dense kernels against the reference on seeded random shapes, outputs poisoned with NaN. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, Tensor, reference } from '../../src/index.js';
import { wasm, initWasm, setThreads, ready, wasmRuntime } from '../../src/kernels/wasm/index.js';
import { assertCloseToRef, checksum } from './helpers.js';

const CONFIGS = 220;

function checkDense(seed: number, maxF: number): void {
  const rng = new Rng(seed);
  const n = 1 + rng.int(9);
  const inF = 1 + rng.int(maxF);
  const outF = 1 + rng.int(maxF);
  const x = Tensor.randn([n, inF], { seed: seed * 5 + 1 });
  const w = Tensor.randn([inF, outF], { seed: seed * 5 + 2 });
  const b = seed % 4 === 0 ? null : Tensor.randn([outF], { seed: seed * 5 + 3 });
  const dy = Tensor.randn([n, outF], { seed: seed * 5 + 4 });
  const ctx = `seed=${seed} x=[${n},${inF}] w=[${inF},${outF}] bias=${b !== null}`;
  const inputs = [x, w, dy, ...(b ? [b] : [])];
  const sums = inputs.map((t) => checksum(t.data));
  const rt = wasmRuntime()!;
  rt.poison = NaN;
  let y: Tensor;
  let g: { dx: Tensor; dw: Tensor; db: Tensor };
  try {
    y = wasm.dense(x, w, b);
    g = wasm.denseBackward(dy, x, w);
  } finally {
    rt.poison = null;
  }
  assert.deepEqual(inputs.map((t) => checksum(t.data)), sums, `${ctx}: a kernel changed its inputs`);
  assertCloseToRef(y, reference.dense(x, w, b), 'y', ctx);
  const r = reference.denseBackward(dy, x, w);
  assertCloseToRef(g.dx, r.dx, 'dx', ctx);
  assertCloseToRef(g.dw, r.dw, 'dw', ctx);
  assertCloseToRef(g.db, r.db, 'db', ctx);
}

test(`dense wasm = reference on ${CONFIGS} random shapes, one thread`, () => {
  assert.ok(initWasm());
  setThreads(1);
  for (let s = 1; s <= CONFIGS; s++) checkDense(s, s % 10 === 0 ? 300 : 20);
});

test('dense wasm = reference with 2 threads', async () => {
  await ready();
  assert.equal(setThreads(2), 2);
  await ready();
  for (let s = 1; s <= 60; s++) checkDense(s + 500, 300);
  setThreads(1);
});

/**
 * Wide layers (inF * Np above the 64K-float L2 block of the gather GEMM, as lenet's 3136 -> 256), and
 * with 2 threads enough rows for several chunks, where dW is also split into row groups between threads.
 */
function checkWide(seed: number, minN = 1): void {
  const rng = new Rng(seed);
  const n = minN + rng.int(3);
  const outF = 40 + rng.int(211);
  const Np = Math.ceil(outF / 8) * 8;
  const c = 4 * (4 + rng.int(29)); // 16 .. 128
  const T = Math.ceil(65537 / (Np * c)) + rng.int(3);
  const inF = c * T;
  assert.ok(inF * Np > 65536);
  const x = Tensor.randn([n, inF], { seed: seed * 5 + 1 });
  const w = Tensor.randn([inF, outF], { seed: seed * 5 + 2 });
  const b = seed % 4 === 0 ? null : Tensor.randn([outF], { seed: seed * 5 + 3 });
  const ctx = `seed=${seed} x=[${n},${inF}] w=[${inF},${outF}] bias=${b !== null}`;
  const dy = Tensor.randn([n, outF], { seed: seed * 5 + 4 });
  const sums = [checksum(x.data), checksum(w.data), checksum(dy.data)];
  const rt = wasmRuntime()!;
  rt.poison = NaN;
  let y: Tensor;
  let g: { dx: Tensor; dw: Tensor; db: Tensor };
  try {
    y = wasm.dense(x, w, b);
    g = wasm.denseBackward(dy, x, w);
  } finally {
    rt.poison = null;
  }
  assert.deepEqual([checksum(x.data), checksum(w.data), checksum(dy.data)], sums, `${ctx}: dense changed its inputs`);
  assertCloseToRef(y, reference.dense(x, w, b), 'y', ctx);
  const r = reference.denseBackward(dy, x, w);
  assertCloseToRef(g.dx, r.dx, 'dx', ctx);
  assertCloseToRef(g.dw, r.dw, 'dw', ctx);
}

test('dense wasm = reference on 200 wide layers, 1 and 2 threads', async () => {
  await ready();
  assert.equal(setThreads(1), 1);
  for (let s = 1; s <= 150; s++) checkWide(s + 2000);
  assert.equal(setThreads(2), 2);
  await ready();
  const before = wasmRuntime()!.pool!.chunkCounts()[1];
  // at least 9 tiles of 4 rows, so the row tiles are split into several chunks
  for (let s = 151; s <= 200; s++) checkWide(s + 2000, 36);
  assert.ok(wasmRuntime()!.pool!.chunkCounts()[1] > before, 'worker 1 ran no chunk');
  setThreads(1);
});
