/**
 * Winograd F(2x2, 3x3) and F(4x4, 3x3) (assembly/winograd.ts): the float64 reference of the
 * algorithm equals the direct convolution (so the matrices are right); the wasm kernels, forward
 * and dX, equal the reference on seeded random 3x3 stride-1 configs (every padding form, odd
 * sizes, N = 1, C = 1, channel counts that are not multiples of 4 or 8) with NaN-poisoned arena
 * memory, on 1 and 2 threads and with the FMA build; the default dispatch uses it where documented,
 * setConvAlgorithm('direct') really runs the direct kernel, and the dispatched op passes a
 * numeric gradient check.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import { Rng, Tensor, computeConv2DInfo, reference, getConvAlgorithm, setConvAlgorithm, type ConvWindowOptions, type Padding } from '../../src/index.js';
import { conv2d, conv2dBackward } from '../../src/kernels/ops.js';
import { gradcheckOp } from '../../src/gradcheck.js';
import { wasm, ready, setThreads, initWasm, wasmRuntime } from '../../src/kernels/wasm/index.js';
import { detectFeatures } from '../../src/kernels/wasm/loader.js';
import { conv2dWinogradReference, F2, F4 } from '../../src/kernels/reference/winograd.js';
import {
  conv2dBackwardInputWinogradWasm, conv2dWinogradWasm, winogradCalls, winogradTile, WINOGRAD_F4_MAX_CHANNELS, WINOGRAD_MIN_CHANNELS,
} from '../../src/kernels/wasm/winograd.js';
import { assertCloseToRef, checksum, type ConvCase } from './helpers.js';

/** A random 3x3 stride-1 dilation-1 config per seed (redrawn within the seed's stream when impossible). */
function winogradCase(seed: number, maxHW = 13, maxC = 20): ConvCase {
  const rng = new Rng(seed);
  for (;;) {
    const n = 1 + rng.int(3);
    const h = 1 + rng.int(maxHW);
    const w = 1 + rng.int(maxHW);
    const inC = 1 + rng.int(maxC);
    const outC = 1 + rng.int(maxC);
    const p = (): number => rng.int(4);
    const forms: (() => Padding)[] = [() => 'valid', () => 'same', () => p(), () => [p(), p()], () => [p(), p(), p(), p()]];
    const opts: ConvWindowOptions = { padding: forms[rng.int(forms.length)]() };
    try {
      const info = computeConv2DInfo('test', [n, h, w, inC], [3, 3, inC, outC], opts);
      return { seed, xShape: [n, h, w, inC], wShape: [3, 3, inC, outC], opts, info };
    } catch {
      // the padded input is smaller than the filter: draw again
    }
  }
}

const describe = (c: ConvCase): string => `seed=${c.seed} x=[${c.xShape}] w=[${c.wShape}] padding=${JSON.stringify(c.opts.padding)}`;

function data(c: ConvCase): { x: Tensor; w: Tensor; bias: Tensor | null; dy: Tensor } {
  return {
    x: Tensor.randn(c.xShape, { seed: c.seed * 5 + 1 }),
    w: Tensor.randn(c.wShape, { seed: c.seed * 5 + 2 }),
    bias: c.seed % 4 === 0 ? null : Tensor.randn([c.wShape[3]], { seed: c.seed * 5 + 3 }),
    dy: Tensor.randn([c.info.batch, c.info.outH, c.info.outW, c.info.outC], { seed: c.seed * 5 + 4 }),
  };
}

/** The wasm Winograd kernels (F(m x m, 3 x 3)) on one config, against the direct reference, NaN-poisoned. */
function checkWasm(c: ConvCase, m: 2 | 4): void {
  const { x, w, bias, dy } = data(c);
  const sums = [x, w, dy].map((t) => checksum(t.data));
  const rt = wasmRuntime()!;
  const before = winogradCalls();
  rt.poison = NaN;
  let y: Tensor, dx: Tensor;
  try {
    rt.reset();
    y = conv2dWinogradWasm(rt, x, w, bias, c.info, m)!;
    rt.reset();
    dx = conv2dBackwardInputWinogradWasm(rt, dy, w, c.info, m)!;
  } finally {
    rt.poison = null;
  }
  assert.equal(winogradCalls(), before + 2);
  const ctx = `F(${m}x${m},3x3) ${describe(c)}`;
  assert.deepEqual([x, w, dy].map((t) => checksum(t.data)), sums, `${ctx}: a kernel changed its inputs`);
  assertCloseToRef(y, reference.conv2d(x, w, bias, c.info), 'y', ctx);
  assertCloseToRef(dx, reference.conv2dBackwardInput(dy, w, c.info), 'dx', ctx);
}

const CONFIGS = 150;

test('the random configs cover every padding form, odd sizes, N = 1, C = 1 and channels that are not multiples of 4 or 8', () => {
  const cases = Array.from({ length: CONFIGS }, (_, i) => winogradCase(i + 1));
  const has = (f: (c: ConvCase) => boolean): boolean => cases.some(f);
  for (const form of ['valid', 'same', 'number', 'pair', 'four']) {
    assert.ok(has((c) => (typeof c.opts.padding === 'string' ? c.opts.padding : typeof c.opts.padding === 'number' ? 'number' : c.opts.padding!.length === 2 ? 'pair' : 'four') === form), form);
  }
  assert.ok(has((c) => c.info.padTop !== c.info.padBottom || c.info.padLeft !== c.info.padRight), 'asymmetric padding');
  assert.ok(has((c) => c.info.padTop === 3 || c.info.padLeft === 3), 'padding larger than the filter radius (dX tiles start inside the image)');
  assert.ok(has((c) => c.info.outH % 2 === 1 && c.info.outW % 4 !== 0), 'outputs that end inside a tile');
  assert.ok(has((c) => c.xShape[0] === 1), 'N = 1');
  assert.ok(has((c) => c.wShape[2] === 1) && has((c) => c.wShape[3] === 1), 'C = 1');
  assert.ok(has((c) => c.wShape[2] % 4 !== 0 && c.wShape[3] % 8 !== 0 && c.wShape[3] > 8), 'odd channel counts');
  assert.ok(has((c) => c.info.batch * Math.ceil(c.info.outH / 2) * Math.ceil(c.info.outW / 2) % 4 !== 0), 'a last panel of fewer than 4 tiles');
});

test('the float64 Winograd reference, F(2x2,3x3) and F(4x4,3x3), equals the direct convolution', () => {
  for (let s = 1; s <= 40; s++) {
    const c = winogradCase(s, 9, 6);
    const { x, w, bias } = data(c);
    const direct = reference.conv2d(x, w, bias, c.info);
    for (const f of [F2, F4]) {
      const got = conv2dWinogradReference(x, w, bias, c.info, f);
      let maxRef = 0;
      for (const v of direct.data) maxRef = Math.max(maxRef, Math.abs(v));
      for (let i = 0; i < got.size; i++) {
        assert.ok(Math.abs(got.data[i] - direct.data[i]) <= 1e-6 * (1 + maxRef), `F(${f.m}) ${describe(c)} index ${i}: ${got.data[i]} vs ${direct.data[i]}`);
      }
    }
  }
  assert.throws(() => conv2dWinogradReference(Tensor.zeros([1, 5, 5, 1]), Tensor.zeros([3, 3, 1, 1]), null, computeConv2DInfo('t', [1, 5, 5, 1], [3, 3, 1, 1], { stride: 2 })), /conv2dWinogradReference: needs a 3x3 filter, stride 1, dilation 1; got 3x3, stride 2x2/);
});

test(`wasm Winograd forward and dX = reference on ${CONFIGS} random configs, one thread`, () => {
  assert.ok(initWasm(), 'SIMD is available in Node 20');
  assert.equal(setThreads(1), 1);
  assert.equal(wasmRuntime()!.variant.startsWith('simd'), true);
  for (let s = 1; s <= CONFIGS; s++) {
    checkWasm(winogradCase(s), 2);
    checkWasm(winogradCase(s), 4);
  }
});

test('wasm Winograd = reference with 2 threads, and the workers do part of the work', async () => {
  assert.equal((await ready()).backend, 'wasm');
  const rt = wasmRuntime()!;
  assert.equal(setThreads(2), 2);
  await ready();
  const before = rt.pool!.chunkCounts()[1];
  for (let s = 1; s <= CONFIGS; s++) checkWasm(winogradCase(s + 500), s % 2 === 0 ? 2 : 4);
  // larger ones, split into many chunks
  for (let s = 1; s <= 6; s++) {
    checkWasm(winogradCase(s + 900, 40, 40), 2);
    checkWasm(winogradCase(s + 900, 40, 40), 4);
  }
  assert.ok(rt.pool!.chunkCounts()[1] > before, 'worker 1 ran no chunk');
  setThreads(1);
});

test(`wasm Winograd relaxed-SIMD (FMA) build = reference on ${CONFIGS} random configs`, () => {
  v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  const f = detectFeatures();
  assert.ok(f.relaxedSimd, 'relaxed SIMD after enabling the V8 flag');
  assert.ok(initWasm(f));
  assert.equal(wasmRuntime()!.variant.startsWith('relaxed'), true);
  for (let s = 1; s <= CONFIGS; s++) {
    checkWasm(winogradCase(s + 2000), 2);
    checkWasm(winogradCase(s + 2000), 4);
  }
});

test("'auto' runs 3x3 stride-1 convolutions with enough channels as Winograd; 'direct' and other geometries run the direct kernel", () => {
  assert.ok(initWasm());
  assert.equal(getConvAlgorithm(), 'auto');
  const C = WINOGRAD_MIN_CHANNELS;
  const x = Tensor.randn([2, 9, 7, C], { seed: 1 });
  const w = Tensor.randn([3, 3, C, C + 3], { seed: 2 });
  const b = Tensor.randn([C + 3], { seed: 3 });
  const info = computeConv2DInfo('t', x.shape, w.shape, { padding: 'same' });
  const dy = Tensor.randn([2, 9, 7, C + 3], { seed: 4 });
  const counted = (f: () => void): number => {
    const n0 = winogradCalls();
    f();
    return winogradCalls() - n0;
  };
  let auto: { y: Tensor; dx: Tensor } | null = null;
  assert.equal(counted(() => (auto = { y: wasm.conv2d(x, w, b, info), dx: wasm.conv2dBackward(dy, x, w, info).dx })), 2, 'forward and dX by Winograd');
  assert.equal(counted(() => wasm.conv2dBackwardInput(dy, w, info)), 1, 'conv2dBackwardInput by Winograd');
  setConvAlgorithm('direct');
  let direct: { y: Tensor; dx: Tensor } | null = null;
  try {
    assert.equal(counted(() => (direct = { y: wasm.conv2d(x, w, b, info), dx: wasm.conv2dBackward(dy, x, w, info).dx })), 0, "'direct' ran Winograd");
  } finally {
    setConvAlgorithm('auto');
  }
  // Both agree with the reference, and are different computations (they round differently).
  const r = reference.conv2dBackward(dy, x, w, info);
  for (const [name, got] of Object.entries({ autoY: auto!.y, directY: direct!.y })) assertCloseToRef(got, reference.conv2d(x, w, b, info), name, 'dispatch');
  for (const [name, got] of Object.entries({ autoDx: auto!.dx, directDx: direct!.dx })) assertCloseToRef(got, r.dx, name, 'dispatch');
  assert.ok(auto!.y.data.some((v, i) => v !== direct!.y.data[i]), 'auto and direct forward are bit-identical: the same kernel ran');
  assert.ok(auto!.dx.data.some((v, i) => v !== direct!.dx.data[i]), 'auto and direct dX are bit-identical: the same kernel ran');
  // Other geometries, and too few channels, stay direct.
  const cases: [number[], number[], ConvWindowOptions][] = [
    [[2, 9, 7, C], [3, 3, C, C], { stride: 2, padding: 'same' }],
    [[2, 9, 7, C], [3, 3, C, C], { dilation: 2, padding: 'same' }],
    [[2, 9, 7, C], [7, 7, C, C], { padding: 'same' }],
    [[2, 9, 7, C], [3, 3, C, C - 1], { padding: 'same' }],
    [[2, 9, 7, C - 1], [3, 3, C - 1, C], { padding: 'same' }],
  ];
  for (const [xs, ws, o] of cases) {
    const xi = Tensor.randn(xs, { seed: 5 });
    const wi = Tensor.randn(ws, { seed: 6 });
    const inf = computeConv2DInfo('t', xi.shape, wi.shape, o);
    const dyi = Tensor.randn([inf.batch, inf.outH, inf.outW, inf.outC], { seed: 7 });
    assert.equal(counted(() => { wasm.conv2d(xi, wi, null, inf); wasm.conv2dBackward(dyi, xi, wi, inf); }), 0, `x=[${xs}] w=[${ws}] ${JSON.stringify(o)} ran Winograd`);
  }
});

test("'auto' takes the tile size whose tiles do fewer multiplications in all, F(2x2) on a tie, and runs that kernel", () => {
  const info = (h: number, w: number, stride = 1) => computeConv2DInfo('t', [1, h, w, 8], [3, 3, 8, 8], { padding: 'same', stride });
  // tiles x a²: 6x6: F(2) 9 x 16 = 144, F(4) 4 x 36 = 144 (tie); 7x7: 16 x 16 = 256 vs 4 x 36 = 144; 1x1: 16 vs 36
  for (const [h, w, m] of [[6, 6, 2], [7, 7, 4], [1, 1, 2], [4, 4, 4], [2, 2, 2], [32, 32, 4], [2, 40, 2]] as const) {
    assert.equal(winogradTile(info(h, w), 8, 8), m, `${h}x${w}`);
  }
  assert.equal(winogradTile(info(32, 32), WINOGRAD_F4_MAX_CHANNELS, 8), 4);
  assert.equal(winogradTile(info(32, 32), WINOGRAD_F4_MAX_CHANNELS + 1, 8), 2, 'F(4x4) beyond the channels its error was measured for');
  // the transformed filter U = a² x cIn x roundUp(cOut, 8) floats, at most 4 MiB
  assert.equal(winogradTile(info(32, 32), 128, 128), 4, 'U of F(4x4): 36 x 128 x 128 x 4 B = 2.4 MB');
  assert.equal(winogradTile(info(32, 32), 256, 256), 2, 'U of F(4x4) 9.4 MB, of F(2x2) 4 MiB');
  assert.equal(winogradTile(info(32, 32), 256, 257), null, 'U of F(2x2) over 4 MiB');
  assert.equal(winogradTile(info(8, 8), 8, 7), null, 'too few output channels');
  assert.equal(winogradTile(info(8, 8, 2), 8, 8), null, 'stride 2');
  assert.ok(initWasm());
  const rt = wasmRuntime()!;
  for (const [h, w, m] of [[7, 7, 4], [6, 6, 2]] as const) {
    const x = Tensor.randn([2, h, w, 9], { seed: h });
    const wt = Tensor.randn([3, 3, 9, 10], { seed: h + 1 });
    const inf = computeConv2DInfo('t', x.shape, wt.shape, { padding: 'same' });
    const dy = Tensor.randn([2, h, w, 10], { seed: h + 2 });
    const y = wasm.conv2d(x, wt, null, inf);
    const dx = wasm.conv2dBackwardInput(dy, wt, inf);
    rt.reset();
    assert.deepEqual(y.data, conv2dWinogradWasm(rt, x, wt, null, inf, m)!.data, `${h}x${w}: forward did not run F(${m}x${m})`);
    rt.reset();
    assert.deepEqual(dx.data, conv2dBackwardInputWinogradWasm(rt, dy, wt, inf, m)!.data, `${h}x${w}: dX did not run F(${m}x${m})`);
    rt.reset();
    assert.notDeepEqual(y.data, conv2dWinogradWasm(rt, x, wt, null, inf, m === 2 ? 4 : 2)!.data, 'F(2) and F(4) are bit-identical here: the check above proves nothing');
  }
});

test('a non-finite input or filter runs the direct kernel (bit for bit), so Infinity and NaN reach the outputs they reach there', () => {
  assert.ok(initWasm());
  const C = WINOGRAD_MIN_CHANNELS;
  const info = computeConv2DInfo('t', [2, 9, 10, C], [3, 3, C, C], { padding: 'same' });
  const finite = (t: Tensor): boolean[] => Array.from(t.data, Number.isFinite);
  for (const [where, value] of [['x', Infinity], ['x', -Infinity], ['x', NaN], ['w', Infinity], ['dy', Infinity], ['dy', NaN]] as const) {
    const x = Tensor.randn([2, 9, 10, C], { seed: 1 });
    const w = Tensor.randn([3, 3, C, C], { seed: 2 });
    const dy = Tensor.randn([2, 9, 10, C], { seed: 3 });
    const t = where === 'x' ? x : where === 'w' ? w : dy;
    t.data[Math.floor(t.size / 3) + 5] = value;
    const n0 = winogradCalls();
    const y = wasm.conv2d(x, w, null, info);
    const dx = wasm.conv2dBackwardInput(dy, w, info);
    // the clean pass (dX for a bad x, the forward for a bad dy) still runs Winograd
    assert.equal(winogradCalls() - n0, where === 'w' ? 0 : 1, `${where} = ${value}`);
    setConvAlgorithm('direct');
    try {
      if (where !== 'dy') assert.deepEqual(y.data, wasm.conv2d(x, w, null, info).data, `${where} = ${value}: the forward is not the direct kernel's`);
      if (where !== 'x') assert.deepEqual(dx.data, wasm.conv2dBackwardInput(dy, w, info).data, `${where} = ${value}: dX is not the direct kernel's`);
    } finally {
      setConvAlgorithm('auto');
    }
    // A bad pixel reaches exactly the outputs that read it, as in the reference. (A bad filter tap
    // also meets the direct kernel's zero padding, 0 x Infinity = NaN, where the reference skips
    // padded taps: that is the direct kernel's behaviour, not checked here.)
    if (where === 'x') assert.deepEqual(finite(y), finite(reference.conv2d(x, w, null, info)), `x = ${value}: non-finite outputs`);
    if (where === 'dy') assert.deepEqual(finite(dx), finite(reference.conv2dBackwardInput(dy, w, info)), `dy = ${value}: non-finite outputs`);
  }
});

test('the Winograd-dispatched conv2d passes a numeric gradient check (dx by Winograd, dw direct)', () => {
  assert.ok(initWasm());
  const C = WINOGRAD_MIN_CHANNELS;
  for (const [seed, padding] of [[1, 'same'], [2, 'valid'], [3, [2, 0, 1, 3]]] as [number, Padding][]) {
    const x = Tensor.randn([1, 5, 6, C], { seed: seed * 3 });
    const w = Tensor.randn([3, 3, C, C + 1], { seed: seed * 3 + 1, std: 0.3 });
    const b = Tensor.randn([C + 1], { seed: seed * 3 + 2 });
    const o: ConvWindowOptions = { padding };
    const n0 = winogradCalls();
    const rep = gradcheckOp(() => conv2d(x, w, b, o), (g) => conv2dBackward(g, x, w, o), { x, w, b }, { seed });
    assert.ok(winogradCalls() > n0, 'the check did not run Winograd');
    assert.ok(rep.ok, `${JSON.stringify(padding)}: ${rep.message}`);
  }
});

test('setConvAlgorithm refuses an unknown algorithm, naming the function, the argument and the choices', () => {
  assert.throws(() => setConvAlgorithm('winograd' as 'auto'), /setConvAlgorithm: algorithm must be one of 'auto', 'direct', got "winograd"/);
  assert.equal(getConvAlgorithm(), 'auto');
});
