/**
 * depthwiseConv2d's dw and db alone (equations (2), (3)), so a network whose first layer is a
 * DepthwiseConv2D skips its dx, as Conv2D's first layer does. The filter-only kernel equals the
 * combined depthwiseConv2dBackward's dw and db bit for bit on both backends (wasm with NaN-poisoned
 * outputs, on 1 thread; on 2 within tolerance, see checkBackend); the op checks its arguments; the layer's backwardParams calls it
 * and never the full backward, and trains to exactly the weights backward gives.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Rng, Tensor, reference, computeDepthwiseConv2DInfo, depthwiseConv2dBackward, depthwiseConv2dBackwardFilter, getKernels, registerBackend, setBackend,
  getBackend, Sequential, DepthwiseConv2D, Conv2D, ReLU, Flatten, Dense, SGD, softmaxCrossEntropy, type Kernels,
} from '../../src/index.js';
import { wasm, ready, setThreads, wasmRuntime } from '../../src/kernels/wasm/index.js';
import { randomConvCase, describeCase, assertCloseToRef } from '../wasm/helpers.js';

const same = (a: Tensor, b: Tensor, what: string): void => {
  assert.deepEqual(a.shape, b.shape, `${what}: shape`);
  for (let i = 0; i < a.size; i++) if (!Object.is(a.data[i], b.data[i])) assert.fail(`${what}[${i}]: ${a.data[i]} != ${b.data[i]}`);
};

/**
 * `exact`: bit for bit. With 2 threads the images go to whichever thread claims them first, so
 * the per-thread partial sums of dw and db are grouped differently from call to call (the full
 * backward does not repeat itself bit for bit either): there the check is the cross-check's tolerance.
 */
function checkBackend(k: Kernels, seeds: number, label: string, exact = true): void {
  let sawM = false;
  for (let s = 0; s < seeds; s++) {
    const c = randomConvCase(7000 + s);
    const M = new Rng(s).int(2) === 0 ? 1 : 2 + new Rng(s + 1).int(5);
    sawM ||= M > 4;
    const wShape = [c.wShape[0], c.wShape[1], c.wShape[2], M];
    const info = computeDepthwiseConv2DInfo('test', c.xShape, wShape, c.opts);
    const x = Tensor.randn(c.xShape, { seed: s * 3 + 1 });
    const w = Tensor.randn(wShape, { seed: s * 3 + 2 });
    const dy = Tensor.randn([info.batch, info.outH, info.outW, info.outC], { seed: s * 3 + 3 });
    const all = k.depthwiseConv2dBackward(dy, x, w, info);
    const f = k.depthwiseConv2dBackwardFilter(dy, x, info);
    const ctx = `${label} ${describeCase(c)} M=${M}`;
    if (exact) {
      same(f.dw, all.dw, `${ctx} dw`);
      same(f.db, all.db, `${ctx} db`);
    } else {
      assertCloseToRef(f.dw, all.dw, 'dw', ctx);
      assertCloseToRef(f.db, all.db, 'db', ctx);
    }
  }
  assert.ok(sawM, 'the draw has M > 4');
}

test('reference: dw/db alone equal the combined backward bit for bit (120 random configs)', () => {
  checkBackend(reference, 120, 'reference');
});

test('wasm: the same, NaN-poisoned, bit for bit on 1 thread, within the cross-check tolerance on 2 (240 random configs)', async () => {
  await ready();
  const rt = wasmRuntime()!;
  assert.notEqual(wasm.depthwiseConv2dBackwardFilter, reference.depthwiseConv2dBackwardFilter, 'the wasm backend has its own kernel');
  rt.poison = NaN;
  try {
    for (const t of [1, 2]) {
      setThreads(t);
      await ready();
      checkBackend(wasm, 120, `wasm ${t} thread(s)`, t === 1);
    }
  } finally {
    rt.poison = null;
    setThreads(1);
  }
});

test('the public op checks its arguments and matches depthwiseConv2dBackward', () => {
  const x = Tensor.randn([2, 7, 6, 3], { seed: 1 });
  const w = Tensor.randn([3, 2, 3, 2], { seed: 2 });
  const opts = { stride: 2, padding: 'same' as const };
  const dy = Tensor.randn([2, 4, 3, 6], { seed: 3 });
  const all = depthwiseConv2dBackward(dy, x, w, opts);
  const f = depthwiseConv2dBackwardFilter(dy, x, w.shape, opts);
  same(f.dw, all.dw, 'dw');
  same(f.db, all.db, 'db');
  assert.throws(() => depthwiseConv2dBackwardFilter(Tensor.ones([2, 4, 4, 6]), x, w.shape, opts), /^Error: depthwiseConv2dBackwardFilter: dy has shape \[2, 4, 4, 6\], expected \[2, 4, 3, 6\]/);
  assert.throws(() => depthwiseConv2dBackwardFilter(dy, x, [3, 2, 5, 2], opts), /^Error: depthwiseConv2dBackwardFilter: .*C = 3.*C = 5/);
  assert.throws(() => depthwiseConv2dBackwardFilter(dy, x, [3, 2.5, 3, 2], opts), /^Error: depthwiseConv2dBackwardFilter: wShape\[1\] must be a non-negative integer, got 2\.5/);
  assert.throws(() => depthwiseConv2dBackwardFilter(dy, 'x' as unknown as Tensor, w.shape, opts), /^Error: depthwiseConv2dBackwardFilter: x must be a Tensor, got String/);
});

test('a first DepthwiseConv2D computes no dx in training, and updates the weights exactly as backward does', () => {
  const calls = { full: 0, filter: 0 };
  const base = getKernels();
  const counting: Kernels = {
    ...base,
    name: 'counting-depthwise',
    depthwiseConv2dBackward: (...a) => (calls.full++, base.depthwiseConv2dBackward(...a)),
    depthwiseConv2dBackwardFilter: (...a) => (calls.filter++, base.depthwiseConv2dBackwardFilter(...a)),
  };
  registerBackend(counting);
  const before = getBackend();
  setBackend('counting-depthwise');
  try {
    const make = (): Sequential =>
      new Sequential(
        [new DepthwiseConv2D({ kernelSize: 3, depthMultiplier: 2, padding: 'same' }), new ReLU(), new DepthwiseConv2D({ kernelSize: 3, stride: 2 }),
          new Conv2D({ outChannels: 3, kernelSize: 1 }), new Flatten(), new Dense({ units: 3 })],
        { inputShape: [8, 8, 2], seed: 5 },
      );
    const x = Tensor.randn([4, 8, 8, 2], { seed: 6 });
    const labels = Int32Array.from([0, 1, 2, 1]);
    const a = make();
    const b = make();
    const optA = new SGD({ lr: 0.1, momentum: 0.9 });
    const optB = new SGD({ lr: 0.1, momentum: 0.9 });
    for (let step = 0; step < 3; step++) {
      calls.full = calls.filter = 0;
      a.trainStep(x, labels, optA);
      // the second depthwise layer: full backward (its dx feeds the first); the first: dw/db only
      assert.deepEqual(calls, { full: 1, filter: 1 }, `step ${step}`);
      optB.zeroGrad(b.params());
      const { grad } = softmaxCrossEntropy(b.forward(x, true), labels);
      b.backward(grad);
      optB.step(b.params());
      a.params().forEach((p, i) => same(p.value, b.params()[i].value, `step ${step} param ${i}`));
    }
  } finally {
    setBackend(before);
  }
});
