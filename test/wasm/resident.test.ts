/**
 * Kernel outputs kept in wasm memory (inside withExternalOutputs, as Sequential's trainStep and
 * predict run): every wasm kernel gives the same numbers, bit for bit, whether its inputs and
 * outputs stay in wasm memory or are copied in and out; the values survive memory growth (shared
 * and unshared memory, whose buffer is detached by grow); reading `data` downloads once and frees
 * the block; disposing frees it; what is left when the scope ends is downloaded; and training
 * leaves no block behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, reference, computePool2DInfo, computeDepthwiseConv2DInfo, createPreset, SGD, setBackend } from '../../src/index.js';
import { withExternalOutputs } from '../../src/tensor/tensor.js';
import { wasm, initWasm, wasmRuntime, setThreads, ready } from '../../src/kernels/wasm/index.js';
import { winogradCalls, winogradTile, WINOGRAD_MIN_CHANNELS } from '../../src/kernels/wasm/winograd.js';
import { computeConv2DInfo } from '../../src/kernels/conv-info.js';
import { detectFeatures } from '../../src/kernels/wasm/loader.js';
import type { Runtime } from '../../src/kernels/wasm/runtime.js';
import { assertCloseToRef, checksum, describeCase, randomConvCase } from './helpers.js';

/** A copy of t kept in wasm memory, as a kernel output would be (inside withExternalOutputs). */
function kept(rt: Runtime, t: Tensor): Tensor {
  const p = rt.keep(t.size);
  rt.f32.set(t.data, p >> 2);
  return rt.output(p, t.shape);
}

/** Throws unless a and b hold the same floats bit for bit (NaN payloads aside). */
function assertSame(a: Tensor, b: Tensor, what: string): void {
  assert.deepEqual(a.shape, b.shape, `${what}: shape`);
  const x = a.data;
  const y = b.data;
  for (let i = 0; i < x.length; i++) {
    if (Number.isNaN(x[i]) && Number.isNaN(y[i])) continue;
    if (!Object.is(x[i], y[i])) throw new Error(`${what}: differs at ${i}: kept ${x[i]} vs copied ${y[i]}`);
  }
}

/**
 * Runs f twice: with its inputs and outputs in arrays (outside any scope), and inside
 * withExternalOutputs with every input first kept in wasm memory; checks every output of the second
 * run was kept (until read), and both agree bit for bit. Arena allocations are NaN-poisoned.
 */
function sameKeptAndCopied(inputs: Tensor[], f: (...xs: Tensor[]) => Tensor[], what: string, exact = (_i: number) => true): void {
  const rt = wasmRuntime()!;
  const sums = inputs.map((t) => checksum(t.data));
  rt.poison = NaN;
  try {
    const copied = f(...inputs);
    withExternalOutputs(() => {
      const ins = inputs.map((t) => kept(rt, t));
      const outs = f(...ins);
      for (const [i, o] of outs.entries()) {
        if (o.size > 0 && i === 0) assert.notEqual(o.external, null, `${what}: output ${i} was not kept in wasm memory`);
      }
      outs.forEach((o, i) => (exact(i) ? assertSame(o, copied[i], `${what} output ${i}`) : assertCloseToRef(o, copied[i], `output ${i}`, what)));
      for (const t of ins) {
        assert.notEqual(t.external, null, `${what}: an input kept in wasm memory was downloaded (read from JavaScript) by the kernel`);
        t.dispose();
      }
    });
  } finally {
    rt.poison = null;
  }
  assert.deepEqual(inputs.map((t) => checksum(t.data)), sums, `${what}: a kernel changed its inputs`);
}

function checkAll(seeds: number): void {
  for (let seed = 0; seed < seeds; seed++) {
    const c = randomConvCase(seed);
    const ctx = describeCase(c);
    const x = Tensor.randn(c.xShape, { seed: seed * 7 + 1 });
    const w = Tensor.randn(c.wShape, { seed: seed * 7 + 2 });
    const b = Tensor.randn([c.wShape[3]], { seed: seed * 7 + 3 });
    const dy = Tensor.randn([c.info.batch, c.info.outH, c.info.outW, c.info.outC], { seed: seed * 7 + 4 });
    sameKeptAndCopied([x, w, b], (xx, ww, bb) => [wasm.conv2d(xx, ww, bb, c.info)], `conv2d ${ctx}`);
    sameKeptAndCopied([dy, x, w], (g, xx, ww) => {
      const r = wasm.conv2dBackward(g, xx, ww, c.info);
      return [r.dx, r.dw, r.db];
    }, `conv2dBackward ${ctx}`);
    sameKeptAndCopied([dy, w], (g, ww) => [wasm.conv2dBackwardInput(g, ww, c.info)], `conv2dBackwardInput ${ctx}`);
    // The reference agrees with the kept path too (not only the copied one).
    withExternalOutputs(() => {
      const rt = wasmRuntime()!;
      const y = wasm.conv2d(kept(rt, x), w, b, c.info);
      assertCloseToRef(y, reference.conv2d(x, w, b, c.info), 'kept conv2d y', ctx);
    });
    const info = computePool2DInfo('test', c.xShape, {
      kernelSize: [Math.min(c.xShape[1], 1 + (seed % 3)), Math.min(c.xShape[2], 1 + ((seed >> 1) % 3))], padding: seed % 2 === 0 ? 'same' : 'valid',
    });
    const pdy = Tensor.randn([info.batch, info.outH, info.outW, info.channels], { seed: seed * 7 + 5 });
    sameKeptAndCopied([x], (xx) => [wasm.maxPool2d(xx, info)], `maxPool2d seed ${seed}`);
    sameKeptAndCopied([pdy, x], (g, xx) => [wasm.maxPool2dBackward(g, xx, info)], `maxPool2dBackward seed ${seed}`);
    sameKeptAndCopied([x], (xx) => [wasm.avgPool2d(xx, info)], `avgPool2d seed ${seed}`);
    sameKeptAndCopied([x], (xx) => [wasm.relu(xx)], `relu seed ${seed}`);
    sameKeptAndCopied([x, x], (g, xx) => [wasm.reluBackward(g, xx)], `reluBackward seed ${seed}`);
    sameKeptAndCopied([x], (xx) => [wasm.tanh(xx)], `tanh seed ${seed}`);
    const n = c.xShape[0];
    const f = c.xShape[1] * c.xShape[2] * c.xShape[3];
    const x2 = x.reshape([n, f]);
    const w2 = Tensor.randn([f, c.wShape[3]], { seed: seed * 7 + 6 });
    const dy2 = Tensor.randn([n, c.wShape[3]], { seed: seed * 7 + 7 });
    sameKeptAndCopied([x2, w2, b], (xx, ww, bb) => [wasm.dense(xx, ww, bb)], `dense seed ${seed}`);
    sameKeptAndCopied([dy2, x2, w2], (g, xx, ww) => {
      const r = wasm.denseBackward(g, xx, ww);
      return [r.dx, r.dw, r.db];
    }, `denseBackward seed ${seed}`);
    const dw = Tensor.randn([2, 2, c.xShape[3], 2], { seed: seed * 7 + 8 });
    const dinfo = computeDepthwiseConv2DInfo('test', c.xShape, dw.shape, { padding: 'same' });
    const ddy = Tensor.randn([dinfo.batch, dinfo.outH, dinfo.outW, dinfo.outC], { seed: seed * 7 + 9 });
    sameKeptAndCopied([x, dw], (xx, ww) => [wasm.depthwiseConv2d(xx, ww, null, dinfo)], `depthwiseConv2d seed ${seed}`);
    sameKeptAndCopied([ddy, x, dw], (g, xx, ww) => {
      const r = wasm.depthwiseConv2dBackward(g, xx, ww, dinfo);
      return [r.dx, r.dw, r.db];
    }, `depthwiseConv2dBackward seed ${seed}`, (i) => i === 0); // its dw and db are summed over threads in the order they ran
  }
}

test('wasm kernels give the same numbers with inputs and outputs kept in wasm memory, 1 thread, 120 random configs', () => {
  assert.ok(initWasm());
  setThreads(1);
  checkAll(120);
});

/**
 * The Winograd forward and dX (3x3 and 5x5, F(2x2) and F(4x4)) keep their outputs in wasm memory too:
 * lenet's 32 -> 64 convolution runs there, and its output and dX are what the pools read next.
 */
function checkWinograd(): void {
  const C = WINOGRAD_MIN_CHANNELS;
  const cases: [number, number, number, number, 'same' | 'valid'][] = [
    [3, 9, 7, C + 3, 'same'], [3, 6, 5, C, 'valid'], [5, 9, 7, C + 5, 'same'], [5, 6, 2, C, 'same'], [3, 6, 2, C, 'same'], [3, 14, 14, 2 * C, 'same'],
  ];
  const tiles = new Set<number>();
  for (const [i, [k, h, wd, cOut, padding]] of cases.entries()) {
    const x = Tensor.randn([2, h, wd, C], { seed: 40 + i });
    const w = Tensor.randn([k, k, C, cOut], { seed: 50 + i });
    const b = Tensor.randn([cOut], { seed: 60 + i });
    const info = computeConv2DInfo('test', x.shape, w.shape, { padding });
    const m = winogradTile(info, C, cOut);
    assert.notEqual(m, null, `case ${i}: Winograd does not take ${k}x${k} ${h}x${wd}x${C} -> ${cOut}: the test checks nothing`);
    tiles.add(m!);
    const dy = Tensor.randn([2, info.outH, info.outW, cOut], { seed: 70 + i });
    const what = `Winograd ${k}x${k} F(${m}) ${h}x${wd}x${C} -> ${cOut} ${padding}`;
    const n0 = winogradCalls();
    sameKeptAndCopied([x, w, b], (xx, ww, bb) => [wasm.conv2d(xx, ww, bb, info)], `conv2d ${what}`);
    sameKeptAndCopied([x, w, b], (xx, ww, bb) => [wasm.conv2dRelu(xx, ww, bb, info)], `conv2dRelu ${what}`);
    sameKeptAndCopied([dy, w], (g, ww) => [wasm.conv2dBackwardInput(g, ww, info)], `conv2dBackwardInput ${what}`);
    assert.ok(winogradCalls() - n0 >= 6, `${what}: Winograd ran ${winogradCalls() - n0} of the 6 passes`);
  }
  assert.deepEqual([...tiles].sort(), [2, 4], 'both tile sizes are covered');
}

test('Winograd forward, fused ReLU and dX keep their outputs in wasm memory, bit for bit, 1 and 2 threads', async () => {
  assert.ok(initWasm());
  setThreads(1);
  checkWinograd();
  setThreads(2);
  await ready();
  try {
    checkWinograd();
  } finally {
    setThreads(1);
  }
});

test('the same with 2 threads', async () => {
  setThreads(2);
  await ready();
  try {
    checkAll(60);
    assert.ok(wasmRuntime()!.pool!.chunkCounts()[1] > 0, 'the worker ran chunks');
  } finally {
    setThreads(1);
  }
});

for (const threads of [true, false]) {
  test(`kept values survive memory growth (${threads ? 'shared' : 'unshared'} memory)`, () => {
    assert.ok(initWasm({ ...detectFeatures(), threads }));
    const rt = wasmRuntime()!;
    assert.equal(rt.memory.buffer instanceof ArrayBuffer, !threads);
    const v = Tensor.randn([3, 5, 7, 2], { seed: 3 });
    withExternalOutputs(() => {
      const a = kept(rt, v);
      const before = rt.memory.buffer.byteLength;
      const big = rt.keep((before / 4) * 2); // forces grow: an unshared buffer is detached
      assert.ok(rt.memory.buffer.byteLength > before, 'the memory grew');
      const y = wasm.relu(a); // reads a in place after the growth
      assert.notEqual(y.external, null);
      assertSame(y, reference.relu(v), 'relu of a kept tensor after growth');
      assertSame(a, v, 'kept values after growth');
      rt.releaseBlock(big);
      y.dispose();
    });
    assert.ok(initWasm());
  });
}

test('reading data downloads once and frees the block; dispose frees it; the scope end downloads the rest', () => {
  assert.ok(initWasm());
  const rt = wasmRuntime()!;
  rt.reset();
  const live0 = rt.heapStats().liveBlocks;
  const v = Tensor.randn([2, 4, 4, 3], { seed: 5 });
  let leftover: Tensor | null = null;
  let reshaped: Tensor | null = null;
  withExternalOutputs(() => {
    const a = kept(rt, v);
    const b = kept(rt, v);
    const c = kept(rt, v);
    assert.equal(rt.heapStats().liveBlocks, live0 + 3);
    // data: one download, the block freed, the tensor an ordinary one from then on.
    const d1 = a.data;
    assert.equal(a.external, null);
    assert.equal(a.data, d1, 'a second read returns the same array');
    assertSame(a, v, 'downloaded values');
    assert.equal(rt.heapStats().liveBlocks, live0 + 2);
    // A reshape shares the kept values and is disposed with them.
    reshaped = b.reshape([2, 48]);
    assert.notEqual(reshaped.external, null);
    assert.ok(reshaped.sharesStorage(b));
    b.dispose();
    assert.ok(reshaped.isDisposed, 'disposing a tensor disposes its reshapes (they share the memory)');
    assert.equal(rt.heapStats().liveBlocks, live0 + 1);
    // A user writing into data after reading it: the kernels see the write (they copy the array in).
    a.data[0] = -123;
    const y = wasm.relu(a);
    assert.equal(y.data[0], 0);
    leftover = c;
  });
  rt.reset(); // frees the last call's scratch
  // c was neither read nor disposed: the end of the scope downloaded it.
  assert.equal(leftover!.external, null);
  assertSame(leftover!, v, 'values downloaded at the end of the scope');
  assert.equal(rt.heapStats().liveBlocks, live0, 'no kept block left after the scope');
  assert.ok(reshaped!.isDisposed);
});

test('trainStep and predict: the same numbers with kept outputs and copied ones, and no block left behind', () => {
  assert.ok(initWasm());
  setBackend('wasm');
  const rt = wasmRuntime()!;
  const x = Tensor.rand([12, 28, 28, 1], { seed: 1 });
  const labels = Int32Array.from({ length: 12 }, (_, i) => (i * 7) % 10);
  const run = (keep: boolean): { losses: number[]; params: Float32Array[]; pred: Float32Array; ends: number[] } => {
    rt.keepOutputs = keep;
    try {
      const net = createPreset('lenet', { seed: 2 });
      const sgd = new SGD({ lr: 0.05 });
      const losses: number[] = [];
      const ends: number[] = [];
      for (let i = 0; i < 4; i++) {
        losses.push(net.trainStep(x, labels, sgd).loss);
        rt.reset();
        if (keep) assert.equal(rt.heapStats().liveBlocks, 0, `trainStep ${i} left kept blocks in wasm memory`);
        ends.push(rt.heapStats().end);
      }
      const pred = net.predict(x, 5);
      rt.reset();
      assert.equal(rt.heapStats().liveBlocks, 0, 'predict left kept blocks in wasm memory');
      return { losses, params: net.params().map((p) => p.value.data.slice()), pred: pred.data, ends };
    } finally {
      rt.keepOutputs = true;
    }
  };
  const copied = run(false);
  const keptRun = run(true);
  assert.deepEqual(keptRun.losses, copied.losses);
  keptRun.params.forEach((p, i) => assert.deepEqual(p, copied.params[i], `parameter ${i}`));
  assert.deepEqual(keptRun.pred, copied.pred);
  // Steady state: after the first step, the steps reuse the same blocks (the heap does not grow).
  assert.equal(keptRun.ends[3], keptRun.ends[1], `heap end grew from step to step: ${keptRun.ends}`);
});
