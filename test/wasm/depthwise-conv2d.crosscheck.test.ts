/**
 * The wasm depthwise kernels (forward, dx, dw, db) against the reference, on seeded random configs
 * (strides, dilations, every padding form, odd channel counts, M from 1 to 6, 1x1 images), with
 * every arena allocation poisoned with NaN (an output element the kernels forget to write fails),
 * single-threaded, with 2 threads, and with the relaxed-SIMD (FMA) build.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import { Rng, Tensor, reference, computeDepthwiseConv2DInfo, depthwiseConv2d, getBackend } from '../../src/index.js';
import { wasm, ready, setThreads, initWasm, wasmRuntime } from '../../src/kernels/wasm/index.js';
import { detectFeatures } from '../../src/kernels/wasm/loader.js';
import { assertCloseToRef, checksum, describeCase, randomConvCase, type ConvCase } from './helpers.js';

const CONFIGS = 200;

/** conv2d's random case with wShape read as [kH, kW, C, M], M drawn from 1 to 6 (1 half the time). */
function depthwiseCase(seed: number, maxHW = 11): ConvCase & { info: ReturnType<typeof computeDepthwiseConv2DInfo> } {
  const c = randomConvCase(seed, maxHW);
  const r = new Rng(seed + 0x0d0e);
  const M = r.int(2) === 0 ? 1 : 1 + r.int(6);
  const wShape: [number, number, number, number] = [c.wShape[0], c.wShape[1], c.wShape[2], M];
  return { ...c, wShape, info: computeDepthwiseConv2DInfo('test', c.xShape, wShape, c.opts) };
}

function checkCase(c: ReturnType<typeof depthwiseCase>): void {
  const x = Tensor.randn(c.xShape, { seed: c.seed * 7 + 1 });
  const w = Tensor.randn(c.wShape, { seed: c.seed * 7 + 2 });
  const bias = c.seed % 5 === 0 ? null : Tensor.randn([c.info.outC], { seed: c.seed * 7 + 3 });
  const dy = Tensor.randn([c.info.batch, c.info.outH, c.info.outW, c.info.outC], { seed: c.seed * 7 + 4 });
  const inputs = [x, w, dy, ...(bias ? [bias] : [])];
  const sums = inputs.map((t) => checksum(t.data));
  const ctx = `${describeCase(c)} M=${c.info.channelMultiplier}`;
  const rt = wasmRuntime()!;
  rt.poison = NaN;
  let y: Tensor;
  let g: { dx: Tensor; dw: Tensor; db: Tensor };
  try {
    y = wasm.depthwiseConv2d(x, w, bias, c.info);
    g = wasm.depthwiseConv2dBackward(dy, x, w, c.info);
  } finally {
    rt.poison = null;
  }
  assert.deepEqual(inputs.map((t) => checksum(t.data)), sums, `${ctx}: a kernel changed its inputs`);
  assertCloseToRef(y, reference.depthwiseConv2d(x, w, bias, c.info), 'y', ctx);
  const r = reference.depthwiseConv2dBackward(dy, x, w, c.info);
  assertCloseToRef(g.dx, r.dx, 'dx', ctx);
  assertCloseToRef(g.dw, r.dw, 'dw', ctx);
  assertCloseToRef(g.db, r.db, 'db', ctx);
}

test(`depthwiseConv2d wasm = reference on ${CONFIGS} random configs, one thread`, () => {
  assert.ok(initWasm(), 'SIMD is available in Node 20');
  assert.equal(setThreads(1), 1);
  assert.notEqual(wasm.depthwiseConv2d, reference.depthwiseConv2d, 'the wasm backend has its own kernel');
  for (let s = 1; s <= CONFIGS; s++) checkCase(depthwiseCase(s));
});

test('the random configs cover strides, dilations, padding forms, M = 1 and M > 1 with odd C, 1x1 images', () => {
  const cases = Array.from({ length: CONFIGS }, (_, i) => depthwiseCase(i + 1));
  const has = (f: (c: ReturnType<typeof depthwiseCase>) => boolean): boolean => cases.some(f);
  for (const s of [2, 3]) assert.ok(has((c) => c.info.strideH === s), `stride ${s}`);
  for (const d of [2, 3]) assert.ok(has((c) => c.info.dilationH === d), `dilation ${d}`);
  assert.ok(has((c) => c.opts.padding === 'same' && (c.info.padTop + c.info.padBottom) % 2 === 1), "'same' with an odd total");
  assert.ok(has((c) => Array.isArray(c.opts.padding) && c.opts.padding.length === 4 && c.info.padTop !== c.info.padBottom), 'asymmetric explicit');
  assert.ok(has((c) => c.info.channelMultiplier === 1 && c.info.inC % 4 !== 0 && c.info.inC > 4), 'M = 1 with a SIMD body and a tail');
  assert.ok(has((c) => c.info.channelMultiplier > 4 && c.info.channelMultiplier % 4 !== 0), 'M > 4 with a tail');
  assert.ok(has((c) => c.info.inC === 1 && c.info.channelMultiplier > 1), 'C = 1, M > 1');
  assert.ok(has((c) => c.xShape[1] === 1 && c.xShape[2] === 1), '1x1 image');
  assert.ok(has((c) => c.xShape[0] === 1), 'N = 1');
});

test('depthwiseConv2d wasm = reference with 2 threads, and the workers do part of the work', async () => {
  assert.equal((await ready()).backend, 'wasm');
  const rt = wasmRuntime()!;
  assert.ok(rt.pool !== null, 'Node has shared memory');
  assert.equal(setThreads(2), 2);
  await ready();
  const before = rt.pool!.chunkCounts()[1];
  for (let s = 1; s <= CONFIGS; s++) checkCase(depthwiseCase(s));
  // larger batches, so the backward's per-thread dw and db shares are both non-empty
  for (let s = 1001; s <= 1012; s++) {
    const c = depthwiseCase(s, 24);
    const big = computeDepthwiseConv2DInfo('test', [8, ...c.xShape.slice(1)] as number[], c.wShape, c.opts);
    checkCase({ ...c, xShape: [8, c.xShape[1], c.xShape[2], c.xShape[3]], info: big });
  }
  assert.ok(rt.pool!.chunkCounts()[1] > before, 'worker 1 ran no chunk');
  setThreads(1);
});

test('the public op runs the wasm kernel on the default backend', () => {
  assert.equal(getBackend(), 'wasm');
  const x = Tensor.randn([2, 7, 6, 5], { seed: 1 });
  const w = Tensor.randn([3, 3, 5, 2], { seed: 2 });
  const info = computeDepthwiseConv2DInfo('t', x.shape, w.shape, { stride: 2, padding: 'same' });
  assertCloseToRef(depthwiseConv2d(x, w, null, { stride: 2, padding: 'same' }), reference.depthwiseConv2d(x, w, null, info), 'y', 'public op');
});

test(`depthwiseConv2d relaxed-SIMD (FMA) build = reference on ${CONFIGS} random configs`, () => {
  v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  const f = detectFeatures();
  assert.ok(f.relaxedSimd, 'relaxed SIMD after enabling the V8 flag');
  assert.ok(initWasm(f));
  assert.equal(wasmRuntime()!.variant.startsWith('relaxed'), true);
  for (let s = 1; s <= CONFIGS; s++) checkCase(depthwiseCase(s + 10000));
});
