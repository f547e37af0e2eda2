/**
 * Winograd dW (issue 11): the float64 reference of F(r x r, t x t) against conv2dBackwardFilter
 * (which proves the Cook-Toom matrices), and the wasm kernel against the reference on seeded random
 * stride-1 configs (3x3 and 5x5, every padding form, N = 1, odd sizes, tiles past the edges),
 * NaN-poisoned, with small blocks (many units and slots): one thread, two threads (a worker takes
 * part, and the bits equal one thread's), the relaxed-SIMD (FMA) build; and the dispatch ('auto'
 * runs it, 'direct' does not, a non-finite input falls back to the direct kernel).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import { Rng, Tensor, computeConv2DInfo, reference, type ConvWindowOptions, type Padding } from '../../src/index.js';
import { wasm, ready, setThreads, initWasm, wasmRuntime } from '../../src/kernels/wasm/index.js';
import { detectFeatures } from '../../src/kernels/wasm/loader.js';
import { setConvAlgorithm } from '../../src/kernels/wasm/winograd.js';
import { conv2dBackwardFilterWinogradWasm, winogradDwCalls, winogradDwTile, winogradDwTuning } from '../../src/kernels/wasm/winograd-filter-grad.js';
import { conv2dBackwardFilterWinogradReference, winogradFilterGradMatrices } from '../../src/kernels/reference/winograd-filter-grad.js';
import { assertCloseToRef, checksum, type ConvCase } from './helpers.js';

/** (filter size r, dy tile t) pairs the kernel takes: a = 4 (generic transforms) and a = 6 (written out). */
const TILES: readonly [number, number][] = [[3, 2], [3, 4], [5, 2]];

interface Case extends ConvCase {
  t: number;
}

/** A random stride-1 r x r config with channels multiples of 4 (what the kernel takes). */
function randomCase(seed: number, maxHW = 13): Case {
  const rng = new Rng(seed);
  for (;;) {
    const [r, t] = TILES[rng.int(TILES.length)];
    const n = 1 + rng.int(3);
    const h = 1 + rng.int(maxHW);
    const w = 1 + rng.int(maxHW);
    const inC = 4 * (1 + rng.int(5));
    const outC = 4 * (1 + rng.int(5));
    const p = (): number => rng.int(r);
    const pads: (() => Padding)[] = [() => 'valid', () => 'same', () => p(), () => [p(), p()], () => [p(), p(), p(), p()]];
    const opts: ConvWindowOptions = { padding: pads[rng.int(pads.length)]() };
    try {
      const info = computeConv2DInfo('test', [n, h, w, inC], [r, r, inC, outC], opts);
      return { seed, t, xShape: [n, h, w, inC], wShape: [r, r, inC, outC], opts, info };
    } catch {
      // the filter does not fit: draw again
    }
  }
}

const describe = (c: Case): string => `seed=${c.seed} F(${c.wShape[0]}, ${c.t}) x=[${c.xShape}] w=[${c.wShape}] padding=${JSON.stringify(c.opts.padding)}`;

function inputs(c: Case): { x: Tensor; dy: Tensor } {
  return {
    x: Tensor.randn(c.xShape, { seed: c.seed * 7 + 1 }),
    dy: Tensor.randn([c.info.batch, c.info.outH, c.info.outW, c.info.outC], { seed: c.seed * 7 + 4 }),
  };
}

/** The wasm kernel on one config (NaN-poisoned memory, small blocks), checked; returns dW and db for bit comparisons. */
function checkCase(c: Case, block = 3): Float32Array {
  const { x, dy } = inputs(c);
  const sums = [x, dy].map((v) => checksum(v.data));
  const rt = wasmRuntime()!;
  const saved = { ...winogradDwTuning };
  winogradDwTuning.block = block;
  rt.reset();
  rt.poison = NaN;
  let g: { dw: Tensor; db: Tensor } | null;
  try {
    g = conv2dBackwardFilterWinogradWasm(rt, dy, x, c.info, c.t);
  } finally {
    rt.poison = null;
    Object.assign(winogradDwTuning, saved);
  }
  const ctx = describe(c);
  assert.ok(g !== null, `${ctx}: finite inputs ran the kernel`);
  assert.deepEqual([x, dy].map((v) => checksum(v.data)), sums, `${ctx}: the kernel changed its inputs`);
  const ref = reference.conv2dBackwardFilter(dy, x, c.info);
  assertCloseToRef(g.dw, ref.dw, 'dw', ctx);
  assertCloseToRef(g.db, ref.db, 'db', ctx);
  return Float32Array.from([...g.dw.data, ...g.db.data]);
}

test('the random configs cover every padding form, N = 1, tiles past the edge and each tile size', () => {
  const cases = Array.from({ length: 120 }, (_, i) => randomCase(i + 1));
  const has = (f: (c: Case) => boolean): boolean => cases.some(f);
  for (const [r, t] of TILES) assert.ok(has((c) => c.wShape[0] === r && c.t === t), `F(${r}, ${t})`);
  assert.ok(has((c) => c.opts.padding === 'valid'), 'valid');
  assert.ok(has((c) => c.opts.padding === 'same'), "'same'");
  assert.ok(has((c) => typeof c.opts.padding === 'number' && c.opts.padding > 0), 'one explicit padding');
  assert.ok(has((c) => Array.isArray(c.opts.padding) && c.opts.padding.length === 4 && c.info.padTop !== c.info.padBottom), 'asymmetric');
  assert.ok(has((c) => c.xShape[0] === 1), 'N = 1');
  assert.ok(has((c) => c.info.outH % c.t !== 0 && c.info.outW % c.t !== 0), 'tiles past the edge');
  assert.ok(has((c) => c.wShape[3] % 8 === 4), 'output channels not a multiple of 8 (half a B panel)');
  assert.ok(has((c) => c.info.outH === 1 || c.info.outW === 1), 'one-pixel-wide outputs');
});

test('the matrices: B^T of a = 6 has the integer entries the written-out transform assumes', () => {
  const m = winogradFilterGradMatrices(3, 4);
  assert.deepEqual(Array.from(m.BT), [4, 0, -5, 0, 1, 0, 0, -4, -4, 1, 1, 0, 0, 4, -4, -1, 1, 0, 0, -2, -1, 2, 1, 0, 0, 2, -1, -2, 1, 0, 0, 4, 0, -5, 0, 1]);
  assert.deepEqual(Array.from(winogradFilterGradMatrices(5, 2).BT), Array.from(m.BT));
  assert.throws(() => winogradFilterGradMatrices(7, 2), /no points for a = 8/);
});

test('the float64 Winograd dW reference = conv2dBackwardFilter on 60 random configs', () => {
  for (let s = 1; s <= 60; s++) {
    const c = randomCase(s + 500);
    const { x, dy } = inputs(c);
    const want = reference.conv2dBackwardFilter(dy, x, c.info);
    const got = conv2dBackwardFilterWinogradReference(dy, x, c.info, c.t);
    // float64 inside, one rounding: equal to the reference's rounding but for the last bits
    for (let i = 0; i < want.dw.size; i++) assert.ok(Math.abs(got.dw.data[i] - want.dw.data[i]) <= 1e-6 * (1 + Math.abs(want.dw.data[i])), `${describe(c)}: dw[${i}]`);
    assertCloseToRef(got.db, want.db, 'db', describe(c));
  }
  assert.throws(() => conv2dBackwardFilterWinogradReference(Tensor.zeros([1, 2, 2, 1]), Tensor.zeros([1, 4, 4, 1]), computeConv2DInfo('t', [1, 4, 4, 1], [3, 3, 1, 1], { stride: 2 }), 2), /stride 1/);
});

test('wasm Winograd dW = reference on 150 random configs, one thread (mul + add build)', () => {
  assert.ok(initWasm(), 'SIMD is available in Node 20');
  assert.equal(setThreads(1), 1);
  assert.equal(wasmRuntime()!.variant.startsWith('simd'), true);
  for (let s = 1; s <= 150; s++) checkCase(randomCase(s));
});

test('wasm Winograd dW with 2 threads = reference, a worker takes part, and 1 and 2 threads give the same bits', async () => {
  assert.equal((await ready()).backend, 'wasm');
  const rt = wasmRuntime()!;
  assert.ok(rt.pool !== null, 'Node has shared memory');
  const cases = Array.from({ length: 40 }, (_, i) => randomCase(3001 + i, 30));
  setThreads(1);
  const one = cases.map((c) => checkCase(c));
  assert.equal(setThreads(2), 2);
  assert.ok(await rt.pool!.whenAlive(), 'the second thread started');
  const before = rt.pool!.chunkCounts()[1];
  cases.forEach((c, i) => {
    const two = checkCase(c);
    const j = two.findIndex((v, k) => !Object.is(v, one[i][k]));
    assert.equal(j, -1, `${describe(c)}: dW/db with 2 threads differ from 1 thread at ${j}`);
  });
  // A job long enough (~10 ms) that the worker must take part, asked a few times before giving up.
  const long: Case = { ...cases[0], t: 4, xShape: [8, 40, 40, 32], wShape: [3, 3, 32, 32], opts: { padding: 'same' } };
  long.info = computeConv2DInfo('test', long.xShape, long.wShape, long.opts);
  for (let k = 0; k < 20 && rt.pool!.chunkCounts()[1] === before; k++) {
    checkCase(long, 8);
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.ok(rt.pool!.chunkCounts()[1] > before, `worker 1 ran no chunk: ${JSON.stringify(rt.pool!.chunkCounts())}`);
  setThreads(1);
});

test('the dispatch: auto runs Winograd dW on W1 c2/c3-like shapes (checked), direct and non-finite inputs do not', () => {
  setThreads(1);
  for (const [xs, k, outC, t] of [[[2, 14, 14, 32], 5, 64, 2], [[2, 32, 32, 64], 3, 64, 4]] as [[number, number, number, number], number, number, number][]) {
    const info = computeConv2DInfo('test', xs, [k, k, xs[3], outC], { padding: 'same' });
    const c: Case = { seed: k, t, xShape: xs, wShape: [k, k, xs[3], outC], opts: { padding: 'same' }, info };
    assert.equal(winogradDwTile(info), t, `${describe(c)}: the tile 'auto' takes`);
    const { x, dy } = inputs(c);
    const ref = reference.conv2dBackwardFilter(dy, x, info);
    const n0 = winogradDwCalls();
    const auto = wasm.conv2dBackwardFilter(dy, x, info);
    assert.equal(winogradDwCalls(), n0 + 1, `${describe(c)}: 'auto' ran Winograd dW`);
    assertCloseToRef(auto.dw, ref.dw, 'dw', describe(c));
    assertCloseToRef(auto.db, ref.db, 'db', describe(c));
    setConvAlgorithm('direct');
    try {
      assert.equal(winogradDwTile(info), null);
      const direct = wasm.conv2dBackwardFilter(dy, x, info);
      assert.equal(winogradDwCalls(), n0 + 1, `${describe(c)}: 'direct' ran no Winograd dW`);
      assertCloseToRef(direct.dw, ref.dw, 'dw', describe(c));
      assert.ok(direct.dw.data.some((v, i) => v !== auto.dw.data[i]), 'the direct result has its own rounding');
      // an Infinity in x: the direct kernel's result, bit for bit
      const xi = x.clone();
      xi.data[5] = Infinity;
      const want = wasm.conv2dBackwardFilter(dy, xi, info);
      setConvAlgorithm('auto');
      const got = wasm.conv2dBackwardFilter(dy, xi, info);
      assert.equal(winogradDwCalls(), n0 + 1, 'non-finite x ran no Winograd dW');
      assert.deepEqual(Array.from(got.dw.data), Array.from(want.dw.data));
    } finally {
      setConvAlgorithm('auto');
    }
  }
  // not taken: stride 2, a 1 x 3 filter, channels not multiples of 4, too few tiles
  const no = (xs: [number, number, number, number], w: [number, number, number, number], opts: ConvWindowOptions): void =>
    assert.equal(winogradDwTile(computeConv2DInfo('test', xs, w, opts)), null, `x=[${xs}] w=[${w}] ${JSON.stringify(opts)}`);
  no([4, 32, 32, 16], [3, 3, 16, 16], { stride: 2 });
  no([4, 32, 32, 16], [1, 3, 16, 16], {});
  no([4, 32, 32, 18], [3, 3, 18, 16], {});
  no([1, 8, 8, 16], [3, 3, 16, 16], {});
  // and too many: the reduction past the length whose error was measured (lenet's conv2 at N = 64
  // takes it, at N = 128 not; W1 c3 at N = 32 and 256 tiles of 4 x 4 per image up to N = 64)
  const yes = (xs: [number, number, number, number], w: [number, number, number, number], t: number): void =>
    assert.equal(winogradDwTile(computeConv2DInfo('test', xs, w, { padding: 'same' })), t, `x=[${xs}] w=[${w}]`);
  yes([64, 14, 14, 32], [5, 5, 32, 64], 2);
  no([128, 14, 14, 32], [5, 5, 32, 64], { padding: 'same' });
  yes([32, 32, 32, 64], [3, 3, 64, 64], 4);
  yes([64, 64, 64, 16], [3, 3, 16, 16], 4);
  no([65, 64, 64, 16], [3, 3, 16, 16], { padding: 'same' });
});

test(`wasm Winograd dW relaxed-SIMD (FMA) build = reference on 150 random configs`, () => {
  v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  const f = detectFeatures();
  assert.ok(f.relaxedSimd, 'relaxed SIMD after enabling the V8 flag');
  assert.ok(initWasm(f));
  assert.equal(wasmRuntime()!.variant.startsWith('relaxed'), true);
  for (let s = 1; s <= 150; s++) checkCase(randomCase(s + 10000));
});
