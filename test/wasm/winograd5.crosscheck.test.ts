/**
 * Winograd F(2x2, 5x5) and F(4x4, 5x5) (assembly/winograd.ts, a = 6 and 8): the float64 reference with the
 * F25 and F45 matrices equals the direct convolution; the wasm kernels, forward and dX, equal the reference
 * on seeded random 5x5 stride-1 configs (every padding form, padding past the filter radius, odd
 * sizes, N = 1, C = 1, channel counts that are not multiples of 4 or 8) with NaN-poisoned arena
 * memory, on 1 and 2 threads and with the FMA build; 'auto' runs it on 5x5 stride-1 passes with
 * enough channels, 'direct' and other geometries do not, and a non-finite input runs the direct kernel.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import { Rng, Tensor, computeConv2DInfo, reference, setConvAlgorithm, type ConvWindowOptions, type Padding } from '../../src/index.js';
import { conv2d, conv2dBackward } from '../../src/kernels/ops.js';
import { gradcheckOp } from '../../src/gradcheck.js';
import { wasm, ready, setThreads, initWasm, wasmRuntime } from '../../src/kernels/wasm/index.js';
import { detectFeatures } from '../../src/kernels/wasm/loader.js';
import { conv2dWinogradReference, F2, F4, F25, F45 } from '../../src/kernels/reference/winograd.js';
import { conv2dBackwardInputWinogradWasm, conv2dWinogradWasm, winogradCalls, winogradTile, WINOGRAD_F4_MAX_CHANNELS, WINOGRAD_MIN_CHANNELS } from '../../src/kernels/wasm/winograd.js';
import { assertCloseToRef, checksum, type ConvCase } from './helpers.js';

/** A random 5x5 stride-1 dilation-1 config per seed (redrawn within the seed's stream when impossible). */
function case5(seed: number, maxHW = 13, maxC = 20): ConvCase {
  const rng = new Rng(seed);
  for (;;) {
    const n = 1 + rng.int(3);
    const h = 1 + rng.int(maxHW);
    const w = 1 + rng.int(maxHW);
    const inC = 1 + rng.int(maxC);
    const outC = 1 + rng.int(maxC);
    const p = (): number => rng.int(6);
    const forms: (() => Padding)[] = [() => 'valid', () => 'same', () => p(), () => [p(), p()], () => [p(), p(), p(), p()]];
    const opts: ConvWindowOptions = { padding: forms[rng.int(forms.length)]() };
    try {
      const info = computeConv2DInfo('test', [n, h, w, inC], [5, 5, inC, outC], opts);
      return { seed, xShape: [n, h, w, inC], wShape: [5, 5, inC, outC], opts, info };
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

/** The wasm F(m x m, 5x5) forward and dX on one config, against the direct reference, NaN-poisoned. */
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
  const ctx = `F(${m}x${m},5x5) ${describe(c)}`;
  assert.deepEqual([x, w, dy].map((t) => checksum(t.data)), sums, `${ctx}: a kernel changed its inputs`);
  assertCloseToRef(y, reference.conv2d(x, w, bias, c.info), 'y', ctx);
  assertCloseToRef(dx, reference.conv2dBackwardInput(dy, w, c.info), 'dx', ctx);
}

const CONFIGS = 150;

test('the random 5x5 configs cover every padding form, padding past the radius, odd sizes, N = 1, C = 1 and odd channel counts', () => {
  const cases = Array.from({ length: CONFIGS }, (_, i) => case5(i + 1));
  const has = (f: (c: ConvCase) => boolean): boolean => cases.some(f);
  for (const form of ['valid', 'same', 'number', 'pair', 'four']) {
    assert.ok(has((c) => (typeof c.opts.padding === 'string' ? c.opts.padding : typeof c.opts.padding === 'number' ? 'number' : c.opts.padding!.length === 2 ? 'pair' : 'four') === form), form);
  }
  assert.ok(has((c) => c.info.padTop !== c.info.padBottom || c.info.padLeft !== c.info.padRight), 'asymmetric padding');
  assert.ok(has((c) => c.info.padTop === 5 || c.info.padLeft === 5), 'padding larger than the filter (dX tiles start inside the image)');
  assert.ok(has((c) => c.info.outH % 2 === 1 && c.info.outW % 2 === 1), 'outputs that end inside a tile');
  assert.ok(has((c) => c.info.outH === 1 || c.info.outW === 1), 'an output one pixel high or wide');
  assert.ok(has((c) => c.xShape[0] === 1), 'N = 1');
  assert.ok(has((c) => c.wShape[2] === 1) && has((c) => c.wShape[3] === 1), 'C = 1');
  assert.ok(has((c) => c.wShape[2] % 4 !== 0 && c.wShape[3] % 8 !== 0 && c.wShape[3] > 8), 'odd channel counts');
  assert.ok(has((c) => c.info.batch * Math.ceil(c.info.outH / 2) * Math.ceil(c.info.outW / 2) % 4 !== 0), 'a last panel of fewer than 4 tiles');
});

test('every tile\'s matrices compute the correlation: Σ_j A^T[i][j] G[j][k] B^T[j][l] = [l = i + k]', () => {
  // (W1) for one output row and one channel: y_i = Σ_j A^T[i][j] (G g)_j (B^T d)_j = Σ_k g_k d_(i+k)
  for (const f of [F2, F4, F25, F45]) {
    assert.equal(f.a, f.m + f.r - 1);
    for (let i = 0; i < f.m; i++) for (let k = 0; k < f.r; k++) for (let l = 0; l < f.a; l++) {
      let s = 0;
      for (let j = 0; j < f.a; j++) s += f.AT[i][j] * f.G[j][k] * f.BT[j][l];
      assert.ok(Math.abs(s - (l === i + k ? 1 : 0)) < 1e-12, `F(${f.m},${f.r}) i=${i} k=${k} l=${l}: ${s}`);
    }
  }
});

test('the float64 Winograd reference with F(2x2,5x5) and F(4x4,5x5) equals the direct convolution; its float32 mode rounds', () => {
  for (let s = 1; s <= 40; s++) {
    const c = case5(s, 11, 6);
    const { x, w, bias } = data(c);
    const direct = reference.conv2d(x, w, bias, c.info);
    let maxRef = 0;
    for (const v of direct.data) maxRef = Math.max(maxRef, Math.abs(v));
    for (const f of [F25, F45]) {
      const got = conv2dWinogradReference(x, w, bias, c.info, f);
      for (let i = 0; i < got.size; i++) {
        assert.ok(Math.abs(got.data[i] - direct.data[i]) <= 1e-6 * (1 + maxRef), `F(${f.m},5) ${describe(c)} index ${i}: ${got.data[i]} vs ${direct.data[i]}`);
      }
      const f32 = conv2dWinogradReference(x, w, bias, c.info, f, true);
      assertCloseToRef(f32, direct, 'y', `F(${f.m},5) float32 mode ${describe(c)}`);
    }
  }
  const c0 = case5(7, 11, 12);
  const d0 = data(c0);
  assert.notDeepEqual(conv2dWinogradReference(d0.x, d0.w, d0.bias, c0.info, F45, true).data, conv2dWinogradReference(d0.x, d0.w, d0.bias, c0.info, F45).data, 'float32 mode rounds nothing');
  const c = case5(1);
  assert.throws(() => conv2dWinogradReference(data(c).x, data(c).w, null, c.info, F2), /conv2dWinogradReference: needs a 3x3 filter, stride 1, dilation 1; got 5x5/);
});

test(`wasm F(2x2,5x5) and F(4x4,5x5) forward and dX = reference on ${CONFIGS} random configs, one thread`, () => {
  assert.ok(initWasm(), 'SIMD is available in Node 20');
  assert.equal(setThreads(1), 1);
  assert.equal(wasmRuntime()!.variant.startsWith('simd'), true);
  for (let s = 1; s <= CONFIGS; s++) {
    checkWasm(case5(s), 2);
    checkWasm(case5(s), 4);
  }
});

test('wasm F(m x m,5x5) = reference with 2 threads, and the worker takes part', async () => {
  assert.equal((await ready()).backend, 'wasm');
  const rt = wasmRuntime()!;
  assert.equal(setThreads(2), 2);
  assert.ok(await rt.pool!.whenAlive(), 'the second thread started');
  const before = rt.pool!.chunkCounts()[1];
  for (let s = 1; s <= CONFIGS; s++) checkWasm(case5(s + 500), s % 2 === 0 ? 2 : 4);
  // Small jobs can be finished by the caller alone on a loaded machine: ask of a job of some
  // milliseconds, a few times over, whether the worker took part.
  const big = case5(901, 30, 40);
  for (let k = 0; k < 20 && rt.pool!.chunkCounts()[1] === before; k++) {
    checkWasm(big, 2);
    checkWasm(big, 4);
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.ok(rt.pool!.chunkCounts()[1] > before, `worker 1 ran no chunk: ${JSON.stringify(rt.pool!.chunkCounts())}`);
  setThreads(1);
});

test(`wasm F(m x m,5x5) relaxed-SIMD (FMA) build = reference on ${CONFIGS} random configs`, () => {
  v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  const f = detectFeatures();
  assert.ok(f.relaxedSimd, 'relaxed SIMD after enabling the V8 flag');
  assert.ok(initWasm(f));
  assert.equal(wasmRuntime()!.variant.startsWith('relaxed'), true);
  for (let s = 1; s <= CONFIGS; s++) {
    checkWasm(case5(s + 2000), 2);
    checkWasm(case5(s + 2000), 4);
  }
});

test("'auto' runs 5x5 stride-1 passes with enough channels as the tile it says; 'direct', other geometries and few channels run the direct kernel", () => {
  assert.ok(initWasm());
  const C = WINOGRAD_MIN_CHANNELS;
  // tiles x a²: 9x7: F(2) 5 x 4 x 36 = 720, F(4) 3 x 2 x 64 = 384; 6x2: 3 x 36 = 108 against 2 x 64 = 128
  for (const [h, wd, m] of [[9, 7, 4], [6, 2, 2]] as const) autoRuns(h, wd, m);
  const info = computeConv2DInfo('t', [1, 9, 7, C], [5, 5, C, C], { padding: 'same' });
  assert.equal(winogradTile(info, WINOGRAD_F4_MAX_CHANNELS, 8), 4);
  assert.equal(winogradTile(info, WINOGRAD_F4_MAX_CHANNELS + 1, 8), 2, 'F(4x4) beyond the channels its error was measured for');
  // the transformed filter U = a² x cIn x roundUp(cOut, 8) floats, at most 4 MiB
  assert.equal(winogradTile(info, 64, 128), 4, 'U of F(4x4): 64 x 64 x 128 x 4 B = 2.1 MB');
  assert.equal(winogradTile(info, 128, 224), 2, 'U of F(4x4) 7.3 MB, of F(2x2) 4.1 MB');
  assert.equal(winogradTile(info, 128, 232), null, 'U of F(2x2) over 4 MiB');
});

function autoRuns(h: number, wd: number, m: 2 | 4): void {
  const C = WINOGRAD_MIN_CHANNELS;
  const x = Tensor.randn([2, h, wd, C], { seed: 1 });
  const w = Tensor.randn([5, 5, C, C + 3], { seed: 2 });
  const b = Tensor.randn([C + 3], { seed: 3 });
  const info = computeConv2DInfo('t', x.shape, w.shape, { padding: 'same' });
  const dy = Tensor.randn([2, h, wd, C + 3], { seed: 4 });
  assert.equal(winogradTile(info, C, C + 3), m, `${h}x${wd}`);
  const counted = (f: () => void): number => {
    const n0 = winogradCalls();
    f();
    return winogradCalls() - n0;
  };
  let y: Tensor | null = null, dx: Tensor | null = null;
  assert.equal(counted(() => { y = wasm.conv2d(x, w, b, info); dx = wasm.conv2dBackward(dy, x, w, info).dx; }), 2, 'forward and dX by Winograd');
  const rt = wasmRuntime()!;
  rt.reset();
  assert.deepEqual(y!.data, conv2dWinogradWasm(rt, x, w, b, info, m)!.data, `${h}x${wd}: the forward did not run F(${m}x${m},5x5)`);
  rt.reset();
  assert.deepEqual(dx!.data, conv2dBackwardInputWinogradWasm(rt, dy, w, info, m)!.data, `${h}x${wd}: dX did not run F(${m}x${m},5x5)`);
  rt.reset();
  assert.notDeepEqual(y!.data, conv2dWinogradWasm(rt, x, w, b, info, m === 2 ? 4 : 2)!.data, 'F(2) and F(4) are bit-identical here: the check above proves nothing');
  setConvAlgorithm('direct');
  let direct: { y: Tensor; dx: Tensor } | null = null;
  try {
    assert.equal(counted(() => (direct = { y: wasm.conv2d(x, w, b, info), dx: wasm.conv2dBackward(dy, x, w, info).dx })), 0, "'direct' ran Winograd");
  } finally {
    setConvAlgorithm('auto');
  }
  assertCloseToRef(direct!.y, reference.conv2d(x, w, b, info), 'directY', 'dispatch');
  assert.ok(y!.data.some((v, i) => v !== direct!.y.data[i]), 'auto and direct forward are bit-identical: the same kernel ran');
  assert.ok(dx!.data.some((v, i) => v !== direct!.dx.data[i]), 'auto and direct dX are bit-identical: the same kernel ran');
  const cases: [number[], number[], ConvWindowOptions][] = [
    [[2, 9, 7, C], [5, 5, C, C], { stride: 2, padding: 'same' }],
    [[2, 9, 7, C], [5, 5, C, C], { dilation: 2, padding: 'same' }],
    [[2, 9, 7, C], [5, 3, C, C], { padding: 'same' }],
    [[2, 9, 7, C], [5, 5, C, C - 1], { padding: 'same' }],
    [[2, 9, 7, C - 1], [5, 5, C - 1, C], { padding: 'same' }],
  ];
  for (const [xs, ws, o] of cases) {
    const xi = Tensor.randn(xs, { seed: 5 });
    const wi = Tensor.randn(ws, { seed: 6 });
    const inf = computeConv2DInfo('t', xi.shape, wi.shape, o);
    const dyi = Tensor.randn([inf.batch, inf.outH, inf.outW, inf.outC], { seed: 7 });
    assert.equal(counted(() => { wasm.conv2d(xi, wi, null, inf); wasm.conv2dBackward(dyi, xi, wi, inf); }), 0, `x=[${xs}] w=[${ws}] ${JSON.stringify(o)} ran Winograd`);
  }
}

test('5x5: a non-finite input or filter runs the direct kernel, bit for bit', () => {
  assert.ok(initWasm());
  const C = WINOGRAD_MIN_CHANNELS;
  const info = computeConv2DInfo('t', [2, 9, 10, C], [5, 5, C, C], { padding: 'same' });
  for (const [where, value] of [['x', Infinity], ['x', NaN], ['w', -Infinity], ['dy', Infinity]] as const) {
    const x = Tensor.randn([2, 9, 10, C], { seed: 1 });
    const w = Tensor.randn([5, 5, C, C], { seed: 2 });
    const dy = Tensor.randn([2, 9, 10, C], { seed: 3 });
    const t = where === 'x' ? x : where === 'w' ? w : dy;
    t.data[Math.floor(t.size / 3) + 5] = value;
    const n0 = winogradCalls();
    const y = wasm.conv2d(x, w, null, info);
    const dx = wasm.conv2dBackwardInput(dy, w, info);
    assert.equal(winogradCalls() - n0, where === 'w' ? 0 : 1, `${where} = ${value}`);
    setConvAlgorithm('direct');
    try {
      if (where !== 'dy') assert.deepEqual(y.data, wasm.conv2d(x, w, null, info).data, `${where} = ${value}: the forward is not the direct kernel's`);
      if (where !== 'x') assert.deepEqual(dx.data, wasm.conv2dBackwardInput(dy, w, info).data, `${where} = ${value}: dX is not the direct kernel's`);
    } finally {
      setConvAlgorithm('auto');
    }
  }
});

test('the Winograd-dispatched 5x5 conv2d passes a numeric gradient check', () => {
  assert.ok(initWasm());
  const C = WINOGRAD_MIN_CHANNELS;
  for (const [seed, padding] of [[1, 'same'], [2, 'valid'], [3, [4, 0, 1, 3]]] as [number, Padding][]) {
    const x = Tensor.randn([1, 6, 7, C], { seed: seed * 3 });
    const w = Tensor.randn([5, 5, C, C + 1], { seed: seed * 3 + 1, std: 0.2 });
    const b = Tensor.randn([C + 1], { seed: seed * 3 + 2 });
    const o: ConvWindowOptions = { padding };
    const n0 = winogradCalls();
    // eps 0.1: the op is linear in each argument, so central differences are exact but for the
    // float32 loss's rounding, which at the default 0.01 (a 200-term reduction per output, the
    // Winograd error ~3x the direct kernel's) moved one numeric derivative past the tolerance
    const rep = gradcheckOp(() => conv2d(x, w, b, o), (g) => conv2dBackward(g, x, w, o), { x, w, b }, { seed, eps: 0.1 });
    assert.ok(winogradCalls() > n0, 'the check did not run Winograd');
    assert.ok(rep.ok, `${JSON.stringify(padding)}: ${rep.message}`);
  }
});
