/**
 * The dW kernel for Cin < 4 (assembly/conv2d-filter-grad-small-c.ts) against the reference
 * conv2dBackwardFilter, on seeded random configs with 1-3 input channels (strides 1-3, dilations
 * 1-2, every padding form including asymmetric ones, odd sizes, N = 1, output channel counts that are
 * not multiples of 8, kernel rows shorter and longer than the 5-row tile), with
 * NaN-poisoned memory, on one thread, two threads and the relaxed-SIMD (FMA) build. Each config is
 * checked to have run on this kernel, and the result to be the same bits for 1 and 2 threads; lenet's
 * first layer (training included) runs on it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import { SGD, Tensor, computeConv2DInfo, reference } from '../../src/index.js';
import { wasm, ready, setThreads, initWasm, wasmRuntime } from '../../src/kernels/wasm/index.js';
import { detectFeatures } from '../../src/kernels/wasm/loader.js';
import { filterSmallCCalls, filterSmallCTuning } from '../../src/kernels/wasm/conv2d-filter-grad-small-c.js';
import { createPreset } from '../../src/model/presets.js';
import { assertCloseToRef, checksum, describeCase, jobsRun, randomDwCase, recordJobs, withTuning, type ConvCase } from './helpers.js';

const CONFIGS = 160;

/** A random config with 1-3 input channels. */
function randomSmallCCase(seed: number, maxHW = 13): ConvCase {
  return randomDwCase(seed, maxHW, { inC: (rng) => 1 + rng.int(3), outC: (rng) => 1 + rng.int(20), maxK: 6, maxDilation: 2 });
}


/** Checks one config (x with a NaN at `nanAt`, if given); returns the wasm dW for bit comparisons. */
function checkCase(c: ConvCase, nanAt = -1): Float32Array {
  const x = Tensor.randn(c.xShape, { seed: c.seed * 7 + 1 });
  if (nanAt >= 0) x.data[nanAt] = NaN;
  const dy = Tensor.randn([c.info.batch, c.info.outH, c.info.outW, c.info.outC], { seed: c.seed * 7 + 4 });
  const sums = [x, dy].map((t) => checksum(t.data));
  const rt = wasmRuntime()!;
  recordJobs();
  jobsRun.length = 0;
  const calls = filterSmallCCalls();
  rt.poison = NaN;
  let g: { dw: Tensor; db: Tensor };
  try {
    g = wasm.conv2dBackwardFilter(dy, x, c.info);
  } finally {
    rt.poison = null;
  }
  const ctx = describeCase(c);
  assert.deepEqual(jobsRun, ['convFilterGradSmallC'], `${ctx}: ran ${jobsRun.join(', ')}`);
  assert.equal(filterSmallCCalls(), calls + 1, `${ctx}: the counter`);
  assert.deepEqual([x, dy].map((t) => checksum(t.data)), sums, `${ctx}: the kernel changed its inputs`);
  const r = reference.conv2dBackwardFilter(dy, x, c.info);
  assertCloseToRef(g.dw, r.dw, 'dw', ctx, nanAt >= 0);
  assertCloseToRef(g.db, r.db, 'db', ctx);
  return g.dw.data;
}

/** Runs f with units of at least `blockPixels` output pixels and ~`blockBytes` of dy (small: many units and slots). */
function withSmallCTuning<T>(blockBytes: number, blockPixels: number, f: () => T): T {
  return withTuning(filterSmallCTuning, { blockBytes, blockPixels }, f);
}

test('the random configs cover 1-3 channels, strides, dilations, padding forms, odd channel counts and N = 1', () => {
  const cases = Array.from({ length: CONFIGS }, (_, i) => randomSmallCCase(i + 1));
  const has = (f: (c: ConvCase) => boolean): boolean => cases.some(f);
  for (const ic of [1, 2, 3]) assert.ok(has((c) => c.info.inC === ic), `Cin ${ic}`);
  for (const s of [1, 2, 3]) assert.ok(has((c) => c.info.strideH === s && c.info.strideW === s), `stride ${s}`);
  assert.ok(has((c) => c.info.dilationH === 2), 'dilation 2 in height');
  assert.ok(has((c) => c.info.dilationW === 2 && c.wShape[1] > 1), 'dilation 2 in width (the spread copy)');
  assert.ok(has((c) => Array.isArray(c.opts.padding) && c.opts.padding.length === 4 && c.info.padTop !== c.info.padBottom), 'asymmetric explicit');
  assert.ok(has((c) => c.opts.padding === 'same' && (c.info.padTop + c.info.padBottom) % 2 === 1), "'same' with an odd total");
  assert.ok(has((c) => c.info.padTop > 0 && c.info.padLeft > 0 && c.info.padBottom > 0 && c.info.padRight > 0), 'padding on all sides');
  assert.ok(has((c) => c.xShape[0] === 1), 'N = 1');
  assert.ok(has((c) => c.info.outW === 1), 'outputs one pixel wide');
  assert.ok(has((c) => c.wShape[1] * c.wShape[2] < 4), 'kernel rows shorter than a tile');
  assert.ok(has((c) => (c.wShape[1] * c.wShape[2]) % 5 !== 0 && c.wShape[1] * c.wShape[2] > 5), 'kernel rows with an overlapping last tile');
  assert.ok(has((c) => c.wShape[3] % 8 !== 0 && c.wShape[3] > 8), 'output channels past a multiple of 8');
  assert.ok(has((c) => c.wShape[3] < 8), 'fewer than 8 output channels');
});

test(`small-Cin dW = reference on ${CONFIGS} random configs, one thread (mul + add build)`, () => {
  assert.ok(initWasm(), 'SIMD is available in Node 20');
  assert.equal(setThreads(1), 1);
  assert.equal(wasmRuntime()!.variant.startsWith('simd'), true);
  withSmallCTuning(1024, 8, () => {
    for (let s = 1; s <= CONFIGS; s++) checkCase(randomSmallCCase(s));
  });
  // The default tuning (one unit for most of these) too.
  for (let s = 1; s <= 40; s++) checkCase(randomSmallCCase(s + 500));
});

test('a NaN in x reaches exactly the dW entries that read it (as in the reference)', () => {
  for (let s = 1; s <= 20; s++) {
    const c = randomSmallCCase(s + 3000);
    checkCase(c, (s * 13) % c.xShape.reduce((a, b) => a * b));
  }
});

test('small-Cin dW = reference with 2 threads, the workers take part, and 1 and 2 threads give the same bits', async () => {
  assert.equal((await ready()).backend, 'wasm');
  const rt = wasmRuntime()!;
  assert.ok(rt.pool !== null, 'Node has shared memory');
  const cases = Array.from({ length: 40 }, (_, i) => randomSmallCCase(2001 + i, 24));
  setThreads(1);
  const one = withSmallCTuning(256, 4, () => cases.map((c) => checkCase(c)));
  assert.equal(setThreads(2), 2);
  assert.ok(await rt.pool!.whenAlive(), 'the second thread started');
  const before = rt.pool!.chunkCounts()[1];
  withSmallCTuning(256, 4, () => {
    cases.forEach((c, i) => {
      const two = checkCase(c);
      const j = two.findIndex((v, k) => !Object.is(v, one[i][k]));
      assert.equal(j, -1, `${describeCase(c)}: dw with 2 threads differs from 1 thread at ${j}`);
    });
  });
  // Small jobs may run on the caller alone (it can claim every chunk before the worker wakes), so the
  // bits are also compared on a job long enough (a few ms) that the worker takes part, asked a few
  // times over before giving up.
  const long: ConvCase = { ...cases[0], xShape: [16, 28, 28, 1], wShape: [5, 5, 1, 32], opts: { padding: 'same' } };
  long.info = computeConv2DInfo('test', long.xShape, long.wShape, long.opts);
  setThreads(1);
  const longOne = checkCase(long);
  setThreads(2);
  let shared = false;
  for (let k = 0; k < 20 && !shared; k++) {
    const c0 = rt.pool!.chunkCounts()[1];
    const two = checkCase(long);
    shared = rt.pool!.chunkCounts()[1] > c0;
    const j = two.findIndex((v, i) => !Object.is(v, longOne[i]));
    assert.equal(j, -1, `lenet-like N = 16: dw with 2 threads differs from 1 thread at ${j}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.ok(shared && rt.pool!.chunkCounts()[1] > before, `worker 1 ran no chunk: ${JSON.stringify(rt.pool!.chunkCounts())}`);
  setThreads(1);
});

test(`small-Cin dW relaxed-SIMD (FMA) build = reference on ${CONFIGS} random configs`, () => {
  v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  const f = detectFeatures();
  assert.ok(f.relaxedSimd, 'relaxed SIMD after enabling the V8 flag');
  assert.ok(initWasm(f));
  assert.equal(wasmRuntime()!.variant.startsWith('relaxed'), true);
  withSmallCTuning(1024, 8, () => {
    for (let s = 1; s <= CONFIGS; s++) checkCase(randomSmallCCase(s + 10000));
  });
});

test("lenet's first layer (28x28x1, 5x5x32 'same') runs on the kernel, alone and in a training step", async () => {
  assert.equal((await ready()).backend, 'wasm');
  const info = computeConv2DInfo('test', [2, 28, 28, 1], [5, 5, 1, 32], { padding: 'same' });
  checkCase({ seed: 28, xShape: [2, 28, 28, 1], wShape: [5, 5, 1, 32], opts: { padding: 'same' }, info });
  const net = createPreset('lenet', { seed: 1 });
  const before = filterSmallCCalls();
  net.trainStep(Tensor.randn([4, 28, 28, 1], { seed: 5 }), new Int32Array([1, 2, 3, 4]), new SGD({ lr: 0.01 }));
  assert.equal(filterSmallCCalls(), before + 1, 'one call a step: the first layer');
});
