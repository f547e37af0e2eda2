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
