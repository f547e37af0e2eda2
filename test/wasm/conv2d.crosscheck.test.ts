/**
 * The wasm conv2d kernels (forward, dx, dw, db) against the reference, on seeded random configs,
 * with every arena allocation poisoned with NaN (so any output element the kernels forget to write
 * fails), single-threaded, multi-threaded, and with the relaxed-SIMD (FMA) build.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import { Tensor, reference, computeConv2DInfo, type ConvWindowOptions } from '../../src/index.js';
import { wasm, ready, setThreads, initWasm, wasmRuntime } from '../../src/kernels/wasm/index.js';
import { detectFeatures } from '../../src/kernels/wasm/loader.js';
import { assertCloseToRef, checksum, describeCase, randomConvCase, type ConvCase } from './helpers.js';

const CONFIGS = 240;

function checkCase(c: ConvCase): void {
  const x = Tensor.randn(c.xShape, { seed: c.seed * 7 + 1 });
  const w = Tensor.randn(c.wShape, { seed: c.seed * 7 + 2 });
  const bias = c.seed % 5 === 0 ? null : Tensor.randn([c.wShape[3]], { seed: c.seed * 7 + 3 });
  const dy = Tensor.randn([c.info.batch, c.info.outH, c.info.outW, c.info.outC], { seed: c.seed * 7 + 4 });
  const sums = [x, w, dy, ...(bias ? [bias] : [])].map((t) => checksum(t.data));
  const ctx = describeCase(c);
  const rt = wasmRuntime()!;
  rt.poison = NaN;
  let y: Tensor;
  let g: { dx: Tensor; dw: Tensor; db: Tensor };
  try {
    y = wasm.conv2d(x, w, bias, c.info);
    g = wasm.conv2dBackward(dy, x, w, c.info);
  } finally {
    rt.poison = null;
  }
  assert.deepEqual([x, w, dy, ...(bias ? [bias] : [])].map((t) => checksum(t.data)), sums, `${ctx}: a kernel changed its inputs`);
  assertCloseToRef(y, reference.conv2d(x, w, bias, c.info), 'y', ctx);
  const r = reference.conv2dBackward(dy, x, w, c.info);
  assertCloseToRef(g.dx, r.dx, 'dx', ctx);
  assertCloseToRef(g.dw, r.dw, 'dw', ctx);
  assertCloseToRef(g.db, r.db, 'db', ctx);
}

test(`conv2d wasm = reference on ${CONFIGS} random configs, one thread`, () => {
  assert.ok(initWasm(), 'SIMD is available in Node 20');
  assert.equal(setThreads(1), 1);
  assert.equal(wasmRuntime()!.variant.startsWith('simd'), true);
  for (let s = 1; s <= CONFIGS; s++) checkCase(randomConvCase(s));
});

test('the random configs cover strides, dilations, padding forms, odd channels and 1x1 images', () => {
  const cases = Array.from({ length: CONFIGS }, (_, i) => randomConvCase(i + 1));
  const has = (f: (c: ConvCase) => boolean): boolean => cases.some(f);
  for (const s of [1, 2, 3]) assert.ok(has((c) => c.info.strideH === s && c.info.strideW === s), `stride ${s}`);
  for (const d of [2, 3]) assert.ok(has((c) => c.info.dilationH === d), `dilation ${d}`);
  assert.ok(has((c) => c.opts.padding === 'same' && (c.info.padTop + c.info.padBottom) % 2 === 1), "'same' with an odd total");
  assert.ok(has((c) => c.opts.padding === 'same' && c.info.padTop > 0 && c.info.padTop === c.info.padBottom), "'same' with an even total");
  assert.ok(has((c) => Array.isArray(c.opts.padding) && c.opts.padding.length === 4 && c.info.padTop !== c.info.padBottom), 'asymmetric explicit');
  assert.ok(has((c) => c.xShape[1] === 1 && c.xShape[2] === 1), '1x1 image');
  assert.ok(has((c) => c.xShape[0] === 1), 'N = 1');
  assert.ok(has((c) => c.wShape[2] % 4 !== 0 && c.wShape[3] % 8 !== 0), 'odd channel counts');
  // windows hanging over each edge: a tap reads outside the image on every side
  assert.ok(has((c) => c.info.padTop > 0 && c.info.padLeft > 0 && c.info.padBottom > 0 && c.info.padRight > 0), 'padding on all sides');
});

test('conv2d wasm = reference with 2 threads, and the workers do part of the work', async () => {
  assert.equal((await ready()).backend, 'wasm');
  const rt = wasmRuntime()!;
  assert.ok(rt.pool !== null, 'Node has shared memory');
  assert.equal(setThreads(2), 2);
  await ready();
  const before = rt.pool!.chunkCounts()[1];
  for (let s = 1; s <= CONFIGS; s++) checkCase(randomConvCase(s));
  // larger ones, so every kernel is split into many chunks
  for (let s = 1001; s <= 1012; s++) checkCase(randomConvCase(s, 24));
  assert.ok(rt.pool!.chunkCounts()[1] > before, 'worker 1 ran no chunk');
  setThreads(1);
});

test(`conv2d relaxed-SIMD (FMA) build = reference on ${CONFIGS} random configs`, () => {
  v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  const f = detectFeatures();
  assert.ok(f.relaxedSimd, 'relaxed SIMD after enabling the V8 flag');
  assert.ok(initWasm(f));
  assert.equal(wasmRuntime()!.variant.startsWith('relaxed'), true);
  for (let s = 1; s <= CONFIGS; s++) checkCase(randomConvCase(s + 10000));
});

/**
 * Strided dX runs its phase classes on a group of images at a time (a group's dy at most 128K
 * floats): these have 1 or 2 images per group, the last group shorter, so a wrong image offset
 * in any group shows. Forward and dW run too (checkCase).
 */
test('strided dx over several image groups = reference, 1 and 2 threads', async () => {
  const big = (seed: number, xShape: ConvCase['xShape'], wShape: ConvCase['wShape'], opts: ConvWindowOptions): ConvCase => ({
    seed, xShape, wShape, opts, info: computeConv2DInfo('test', xShape, wShape, opts),
  });
  const cases = [
    big(501, [3, 67, 67, 5], [3, 3, 5, 64], { stride: 2, padding: 'same' }), // dy 34x34x64 per image: 1 per group
    big(502, [3, 70, 61, 6], [4, 3, 6, 72], { stride: [3, 2], dilation: [1, 2], padding: [2, 1, 0, 3] }), // 24x30x72: 2 per group
  ];
  for (const c of cases) {
    const per = c.info.outH * c.info.outW * c.info.outC;
    assert.ok(per > 131072 / 3, `${describeCase(c)}: fewer than 2 image groups`);
  }
  assert.equal((await ready()).backend, 'wasm');
  for (const threads of [1, 2]) {
    assert.equal(setThreads(threads), threads);
    await ready();
    for (const c of cases) checkCase(c);
  }
  setThreads(1);
});
