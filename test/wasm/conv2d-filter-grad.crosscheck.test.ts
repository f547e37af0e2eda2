/**
 * The streaming dW kernel (assembly/conv2d-filter-grad.ts) against the reference conv2dBackwardFilter,
 * on seeded random configs it takes (input channels a multiple of 4 and >= 8, every stride,
 * dilation and padding form, odd output channel counts, N = 1, 1-pixel-wide outputs), with
 * NaN-poisoned memory, on one thread, two threads and the relaxed-SIMD (FMA) build. Each config is
 * also checked to have run on the streaming kernel (not the general convFilterGrad), and the result
 * to be the same bits for 1 and 2 threads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import { Tensor, computeConv2DInfo, reference, type ConvWindowOptions } from '../../src/index.js';
import { wasm, ready, setThreads, initWasm, wasmRuntime } from '../../src/kernels/wasm/index.js';
import { detectFeatures } from '../../src/kernels/wasm/loader.js';
import { filterStreamTuning } from '../../src/kernels/wasm/conv2d-filter-grad.js';
import { assertCloseToRef, checksum, describeCase, jobsRun, randomDwCase, recordJobs, withTuning, type ConvCase } from './helpers.js';
import { setConvAlgorithm } from '../../src/kernels/wasm/winograd.js';

// This file tests the direct kernels: stride-1 3x3 / 5x5 shapes would otherwise run on Winograd dW
// (test/wasm/winograd-filter-grad.crosscheck.test.ts).
setConvAlgorithm('direct');

const CONFIGS = 160;

/** A random config whose input channels suit the streaming kernel (C % 4 == 0, C >= 8). */
function randomStreamCase(seed: number, maxHW = 11): ConvCase {
  return randomDwCase(seed, maxHW, { inC: (rng) => 4 * (2 + rng.int(5)), outC: (rng) => 4 + rng.int(17), maxK: 5, maxDilation: 3 });
}

/** How often each kernel ran in all. */
const runs = new Map<string, number>();

/** Checks one config; returns the wasm dW for bit comparisons. */
function checkCase(c: ConvCase): Float32Array {
  const x = Tensor.randn(c.xShape, { seed: c.seed * 7 + 1 });
  const dy = Tensor.randn([c.info.batch, c.info.outH, c.info.outW, c.info.outC], { seed: c.seed * 7 + 4 });
  const sums = [x, dy].map((t) => checksum(t.data));
  const rt = wasmRuntime()!;
  recordJobs();
  jobsRun.length = 0;
  rt.poison = NaN;
  let g: { dw: Tensor; db: Tensor };
  try {
    g = wasm.conv2dBackwardFilter(dy, x, c.info);
  } finally {
    rt.poison = null;
  }
  const ctx = describeCase(c);
  const tile = rt.variant.startsWith('relaxed') ? 5 : 4;
  const inC = c.info.inC;
  const expected = inC % 4 === 0 && inC >= 8 && c.info.outC >= tile ? 'convFilterGradStream' : 'convFilterGrad';
  // the streaming kernel's slots are summed by a job of their own
  assert.deepEqual(jobsRun, expected === 'convFilterGradStream' ? [expected, 'convFilterGradStreamFinish'] : [expected], `${ctx}: ran ${jobsRun.join(', ')}`);
  runs.set(expected, (runs.get(expected) ?? 0) + 1);
  assert.deepEqual([x, dy].map((t) => checksum(t.data)), sums, `${ctx}: the kernel changed its inputs`);
  const r = reference.conv2dBackwardFilter(dy, x, c.info);
  assertCloseToRef(g.dw, r.dw, 'dw', ctx);
  assertCloseToRef(g.db, r.db, 'db', ctx);
  return g.dw.data;
}

/** Runs f with the streaming kernel taking every size, and `blockBytes` small enough for many units and slots. */
function withStreamTuning<T>(blockBytes: number, f: () => T): T {
  return withTuning(filterStreamTuning, { minPixels: 0, blockBytes }, f);
}

test('the random configs cover strides, dilations, padding forms, odd channel counts and N = 1', () => {
  const cases = Array.from({ length: CONFIGS }, (_, i) => randomStreamCase(i + 1));
  const has = (f: (c: ConvCase) => boolean): boolean => cases.some(f);
  for (const s of [1, 2, 3]) assert.ok(has((c) => c.info.strideH === s && c.info.strideW === s), `stride ${s}`);
  for (const d of [2, 3]) assert.ok(has((c) => c.info.dilationH === d), `dilation ${d}`);
  assert.ok(has((c) => Array.isArray(c.opts.padding) && c.opts.padding.length === 4 && c.info.padTop !== c.info.padBottom), 'asymmetric explicit');
  assert.ok(has((c) => c.opts.padding === 'same' && (c.info.padTop + c.info.padBottom) % 2 === 1), "'same' with an odd total");
  assert.ok(has((c) => c.info.padTop > 0 && c.info.padLeft > 0 && c.info.padBottom > 0 && c.info.padRight > 0), 'padding on all sides');
  assert.ok(has((c) => c.xShape[0] === 1), 'N = 1');
  assert.ok(has((c) => c.info.outW === 1), 'outputs one pixel wide');
  assert.ok(has((c) => c.wShape[2] % 8 === 4), 'input channels not a multiple of 8 (overlapping last tile)');
  assert.ok(has((c) => c.wShape[3] % 5 !== 0 && c.wShape[3] % 4 !== 0), 'output channels not a multiple of the tiles');
});

test(`streaming dW = reference on ${CONFIGS} random configs, one thread (mul + add build)`, () => {
  assert.ok(initWasm(), 'SIMD is available in Node 20');
  assert.equal(setThreads(1), 1);
  assert.equal(wasmRuntime()!.variant.startsWith('simd'), true);
  withStreamTuning(1024, () => {
    for (let s = 1; s <= CONFIGS; s++) checkCase(randomStreamCase(s));
  });
});

test('streaming dW = reference with 2 threads, the workers take part, and 1 and 2 threads give the same bits', async () => {
  assert.equal((await ready()).backend, 'wasm');
  const rt = wasmRuntime()!;
  assert.ok(rt.pool !== null, 'Node has shared memory');
  const cases = Array.from({ length: 40 }, (_, i) => randomStreamCase(2001 + i, 24));
  setThreads(1);
  const one = withStreamTuning(256, () => cases.map(checkCase));
  assert.equal(setThreads(2), 2);
  assert.ok(await rt.pool!.whenAlive(), 'the second thread started');
  const before = rt.pool!.chunkCounts()[1];
  withStreamTuning(256, () => {
    cases.forEach((c, i) => {
      const two = checkCase(c);
      const j = two.findIndex((v, k) => !Object.is(v, one[i][k]));
      assert.equal(j, -1, `${describeCase(c)}: dw with 2 threads differs from 1 thread at ${j}`);
    });
  });
  // These jobs last microseconds: on a loaded machine the caller can claim every chunk before the
  // worker wakes. Whether the worker takes part at all is asked of a job long enough (~10 ms) that
  // it must, a few times over before giving up.
  const big = randomStreamCase(2001, 24);
  const long: ConvCase = { ...big, xShape: [8, 48, 48, 32], wShape: [3, 3, 32, 32], opts: { padding: 'same' } };
  long.info = computeConv2DInfo('test', long.xShape, long.wShape, long.opts);
  for (let k = 0; k < 20 && rt.pool!.chunkCounts()[1] === before; k++) {
    withStreamTuning(4096, () => checkCase(long));
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.ok(rt.pool!.chunkCounts()[1] > before, `worker 1 ran no chunk: ${JSON.stringify(rt.pool!.chunkCounts())}`);
  setThreads(1);
});

test(`streaming dW relaxed-SIMD (FMA) build = reference on ${CONFIGS} random configs`, () => {
  v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  const f = detectFeatures();
  assert.ok(f.relaxedSimd, 'relaxed SIMD after enabling the V8 flag');
  assert.ok(initWasm(f));
  assert.equal(wasmRuntime()!.variant.startsWith('relaxed'), true);
  withStreamTuning(1024, () => {
    for (let s = 1; s <= CONFIGS; s++) checkCase(randomStreamCase(s + 10000));
  });
});

test('the streaming kernel ran on most configs', () => {
  assert.ok((runs.get('convFilterGradStream') ?? 0) > CONFIGS, `it ran ${runs.get('convFilterGradStream')} times`);
});

test('the default tuning sends the W1 shapes c2-c4 to the streaming kernel and checks them (N = 2)', () => {
  for (const [x, k, outC, opts] of [
    [[2, 14, 14, 32], 5, 64, { padding: 'same' }],
    [[2, 32, 32, 64], 3, 64, { padding: 'same' }],
    [[2, 56, 56, 64], 3, 128, { stride: 2, padding: 'valid' }],
  ] as [[number, number, number, number], number, number, ConvWindowOptions][]) {
    const info = computeConv2DInfo('test', x, [k, k, x[3], outC], opts);
    const c: ConvCase = { seed: x[1], xShape: x, wShape: [k, k, x[3], outC], opts, info };
    filterStreamTuning.minPixels = 0;
    try {
      checkCase(c);
    } finally {
      filterStreamTuning.minPixels = 2048;
    }
  }
});

test('slotBounds: the slots cover [0, units) in order, none empty, at most big + small of them, the short ones last', async () => {
  const { slotBounds } = await import('../../src/kernels/wasm/conv2d-filter-grad.js');
  for (const units of [1, 2, 3, 7, 8, 9, 16, 17, 100, 288, 1001]) {
    for (const [big, small, share] of [[8, 0, 0], [8, 8, 0.25], [6, 10, 0.15], [1, 1, 0.5], [16, 16, 0.9]] as const) {
      const b = slotBounds(units, big, small, share);
      const what = `units ${units}, ${big} + ${small} slots, share ${share}: [${b}]`;
      assert.equal(b[0], 0, what);
      assert.equal(b[b.length - 1], units, what);
      for (let i = 1; i < b.length; i++) assert.ok(b[i] > b[i - 1], `an empty slot: ${what}`);
      assert.ok(b.length - 1 <= big + small, `too many slots: ${what}`);
      if (small > 0 && share <= 0.25 && units >= 4 * (big + small)) {
        // the last slot is no longer than the first
        assert.ok(b[b.length - 1] - b[b.length - 2] <= b[1] - b[0], `the last slot is the longest: ${what}`);
      }
    }
  }
});
