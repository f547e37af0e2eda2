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

/** A size for the dense kernels' edges: 1, around the tiles (6 rows, 8 columns, 4-float vectors), or larger with an odd tail. */
function edgeSize(rng: Rng, max: number): number {
  const r = rng.int(4);
  if (r === 0) return 1;
  if (r === 1) return Math.min(max, [5, 6, 7, 8, 9, 12, 13, 17][rng.int(8)]);
  if (r === 2) return 1 + rng.int(max);
  return Math.min(max, 8 * (1 + rng.int(Math.max(1, max >> 3))) + (1 + rng.int(7)));
}

/**
 * The dense kernels of assembly/dense.ts (denseGemm forward and dX, denseDw) against the reference,
 * NaN-poisoned, on shapes with M from 1 to 300 and K, N with every tail: every output of each call
 * (dense, denseRelu, denseBackward, denseReluBackward with and without dx) on 1 and 2 threads, the
 * two bit for bit equal.
 */
function denseShapeCase(seed: number): { n: number; inF: number; outF: number } {
  const rng = new Rng(seed);
  const n = seed % 7 === 0 ? 1 : seed % 11 === 0 ? 300 : 1 + rng.int(300);
  // K up to 700 (several 256-row reduction blocks), N up to 300; at most ~2M multiply-adds a product.
  let inF = edgeSize(rng, 700);
  let outF = edgeSize(rng, 300);
  while (n * inF * outF > 2_000_000) {
    if (inF > outF) inF = Math.max(1, inF >> 1);
    else outF = Math.max(1, outF >> 1);
  }
  return { n, inF, outF };
}

/** The threaded kernels each runDenseKernels call ran. */
const ran = new Set<string>();

function runDenseKernels(x: Tensor, w: Tensor, b: Tensor | null, dy: Tensor): Tensor[] {
  const rt = wasmRuntime()!;
  rt.poison = NaN;
  const run = rt.run.bind(rt);
  rt.run = (...a: Parameters<typeof rt.run>): void => {
    ran.add(a[0]);
    run(...a);
  };
  try {
    const y = wasm.dense(x, w, b);
    const yr = wasm.denseRelu(x, w, b);
    const g = wasm.denseBackward(dy, x, w);
    const gr = wasm.denseReluBackward(dy, yr, x, w, true);
    const gw = wasm.denseReluBackward(dy, yr, x, w, false);
    assert.equal(gw.dx, null);
    return [y, yr, g.dx, g.dw, g.db, gr.dx!, gr.dw, gr.db, gw.dw, gw.db];
  } finally {
    rt.poison = null;
    delete (rt as { run?: unknown }).run;
  }
}

test('dense kernels = reference on 150 shapes (M 1-300, K and N tails, 1), NaN-poisoned; 2 threads = 1 thread bit for bit', async () => {
  await ready();
  const names = ['y', 'relu y', 'dx', 'dw', 'db', 'relu dx', 'relu dw', 'relu db', 'relu dw (no dx)', 'relu db (no dx)'];
  const seen = { m1: false, m300: false, k1: false, n1: false };
  let workerChunks = 0;
  for (let s = 1; s <= 150; s++) {
    const { n, inF, outF } = denseShapeCase(s + 7000);
    seen.m1 ||= n === 1;
    seen.m300 ||= n === 300;
    seen.k1 ||= inF === 1;
    seen.n1 ||= outF === 1;
    const x = Tensor.randn([n, inF], { seed: s * 5 + 1 });
    const w = Tensor.randn([inF, outF], { seed: s * 5 + 2 });
    const b = s % 3 === 0 ? null : Tensor.randn([outF], { seed: s * 5 + 3 });
    const dy = Tensor.randn([n, outF], { seed: s * 5 + 4 });
    const ctx = `seed=${s + 7000} x=[${n},${inF}] w=[${inF},${outF}] bias=${b !== null}`;
    const sums = [x, w, dy].map((t) => checksum(t.data));
    assert.equal(setThreads(1), 1);
    ran.clear();
    const one = runDenseKernels(x, w, b, dy);
    assert.deepEqual([...ran].sort(), ['denseDw', 'denseGemm', 'densePackA'], `${ctx}: ran ${[...ran].join(', ')}`);
    assert.equal(setThreads(2), 2);
    await ready();
    const before = wasmRuntime()!.pool!.chunkCounts()[1];
    const two = runDenseKernels(x, w, b, dy);
    assert.deepEqual([...ran].sort(), ['denseDw', 'denseGemm', 'densePackA'], `${ctx}: ran ${[...ran].join(', ')}`);
    ran.clear();
    workerChunks += wasmRuntime()!.pool!.chunkCounts()[1] - before;
    assert.deepEqual([x, w, dy].map((t) => checksum(t.data)), sums, `${ctx}: a kernel changed its inputs`);
    const yRef = reference.dense(x, w, b);
    const yrRef = reference.denseRelu(x, w, b);
    const r = reference.denseBackward(dy, x, w);
    const rr = reference.denseReluBackward(dy, yrRef, x, w, true);
    const refs = [yRef, yrRef, r.dx, r.dw, r.db, rr.dx!, rr.dw, rr.db, rr.dw, rr.db];
    for (let i = 0; i < refs.length; i++) {
      assertCloseToRef(one[i], refs[i], names[i], ctx);
      const a = one[i].data, c = two[i].data;
      assert.equal(c.length, a.length, `${ctx}: ${names[i]} length`);
      for (let j = 0; j < a.length; j++) {
        if (!Object.is(a[j], c[j])) assert.fail(`${ctx}: ${names[i]}[${j}] is ${c[j]} on 2 threads, ${a[j]} on 1`);
      }
    }
  }
  assert.deepEqual(seen, { m1: true, m300: true, k1: true, n1: true }, 'the shapes must include M = 1, M = 300, K = 1 and N = 1');
  assert.ok(workerChunks > 0, 'worker 1 ran no chunk');
  setThreads(1);
});

test('an empty dimension (a batch of 0, no inputs, no units): every dense entry point gives the reference result', () => {
  assert.ok(initWasm());
  for (const [n, inF, outF] of [[0, 5, 3], [4, 0, 3], [4, 5, 0], [0, 0, 0]]) {
    const what = `n ${n}, ${inF} -> ${outF}`;
    const x = Tensor.randn([n, inF], { seed: 1 });
    const w = Tensor.randn([inF, outF], { seed: 2 });
    const b = Tensor.randn([outF], { seed: 3 });
    const dy = Tensor.randn([n, outF], { seed: 4 });
    const y = reference.denseRelu(x, w, b);
    const same = (got: Tensor | null, want: Tensor | null, name: string): void => {
      assert.ok(got !== null && want !== null, `${what}: ${name} missing`);
      assert.deepEqual(got!.shape, want!.shape, `${what}: ${name} shape`);
      assert.deepEqual(Array.from(got!.data), Array.from(want!.data), `${what}: ${name} values`);
    };
    same(wasm.dense(x, w, b), reference.dense(x, w, b), 'dense');
    same(wasm.denseRelu(x, w, b), y, 'denseRelu');
    const g = wasm.denseBackward(dy, x, w);
    const r = reference.denseBackward(dy, x, w);
    same(g.dx, r.dx, 'dx');
    same(g.dw, r.dw, 'dw');
    same(g.db, r.db, 'db');
    for (const wantDx of [true, false]) {
      const gr = wasm.denseReluBackward(dy, y, x, w, wantDx);
      const rr = reference.denseReluBackward(dy, y, x, w, wantDx);
      if (wantDx) same(gr.dx, rr.dx, 'relu dx');
      else assert.equal(gr.dx, null);
      same(gr.dw, rr.dw, 'relu dw');
      same(gr.db, rr.db, 'relu db');
    }
  }
});

test('a scratch size that is not a count is refused as an internal error, not reported as out of memory', () => {
  assert.ok(initWasm());
  const rt = wasmRuntime()!;
  rt.reset();
  for (const n of [NaN, -4, 2.3, Infinity]) assert.throws(() => rt.alloc(n), /internal error: a block of .* bytes was asked for/, String(n));
  assert.ok(rt.alloc(0) >= 0, 'an empty block is fine');
  rt.reset();
});
