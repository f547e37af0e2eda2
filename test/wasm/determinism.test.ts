/**
 * Training with a seed is bit-reproducible on the wasm backend with threads: the filter gradient's
 * reduction is split into a fixed number of chunks with a buffer each, summed in chunk order, so
 * which thread ran which chunk cannot change the rounding (and neither can the thread count).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, Sequential, Conv2D, ReLU, MaxPool2D, Flatten, Dense, SGD, getBackend } from '../../src/index.js';
import { ready, setThreads, getThreads } from '../../src/kernels/wasm/index.js';

function train(): Float32Array[] {
  const m = new Sequential(
    [
      new Conv2D({ outChannels: 16, kernelSize: 3, padding: 'same' }),
      new ReLU(),
      new MaxPool2D({ kernelSize: 2 }),
      new Conv2D({ outChannels: 24, kernelSize: 3, padding: 'same' }),
      new ReLU(),
      new Flatten(),
      new Dense({ units: 10 }),
    ],
    { inputShape: [24, 24, 3], seed: 3 },
  );
  const opt = new SGD({ lr: 0.01, momentum: 0.9 });
  for (let s = 0; s < 3; s++) {
    // 32 images of 24x24: 18,432 output pixels in the first layer, 72 dW reduction blocks.
    const x = Tensor.randn([32, 24, 24, 3], { seed: s });
    const y = new Int32Array(32).map((_, i) => (i * 7 + s) % 10);
    m.trainStep(x, y, opt);
  }
  return m.params().map((p) => p.value.data.slice());
}

function assertSameBits(a: Float32Array[], b: Float32Array[], what: string): void {
  a.forEach((t, i) => {
    const j = t.findIndex((v, k) => !Object.is(v, b[i][k]));
    assert.equal(j, -1, `${what}: param ${i} differs at ${j}: ${t[j]} vs ${b[i][j]}`);
  });
}

test('same seed, 2 threads: bit-identical weights run after run, and equal to 1 thread', async () => {
  await ready();
  assert.equal(getBackend(), 'wasm');
  const before = getThreads();
  try {
    setThreads(2);
    await ready();
    const runs = [train(), train(), train()];
    assertSameBits(runs[0], runs[1], '2 threads, run 1 vs 2');
    assertSameBits(runs[0], runs[2], '2 threads, run 1 vs 3');
    setThreads(1);
    assertSameBits(runs[0], train(), '2 threads vs 1 thread');
  } finally {
    setThreads(before);
  }
});

test('dW with more reduction slots than 8 (each slot one chunk): 2 threads = 1 thread, bit for bit', async () => {
  const { filterStreamTuning } = await import('../../src/kernels/wasm/conv2d-filter-grad.js');
  const { filterSmallCTuning } = await import('../../src/kernels/wasm/conv2d-filter-grad-small-c.js');
  const { computeConv2DInfo } = await import('../../src/kernels/conv-info.js');
  const { wasm } = await import('../../src/kernels/wasm/index.js');
  const saved = { stream: filterStreamTuning.big, small: filterSmallCTuning.slots };
  const before = getThreads();
  try {
    filterStreamTuning.big = 16;
    filterSmallCTuning.slots = 16;
    // the stream kernel (Cin = 16) and the Cin < 4 kernel (Cin = 3), with many units each
    // (stride 2: Winograd dW would take a stride-1 3x3 with 16 channels)
    const cases = [[8, 40, 40, 16, 24, 2], [8, 24, 24, 3, 16, 1]].map(([n, h, w, c, o, s]) => {
      const x = Tensor.randn([n, h, w, c], { seed: c });
      const info = computeConv2DInfo('test', x.shape, [3, 3, c, o], { padding: 'same', stride: s });
      const dy = Tensor.randn([n, info.outH, info.outW, o], { seed: o });
      return { x, dy, info };
    });
    const run = (): Float32Array[] => cases.flatMap(({ x, dy, info }) => {
      const g = wasm.conv2dBackwardFilter(dy, x, info);
      return [g.dw.data.slice(), g.db.data.slice()];
    });
    setThreads(1);
    await ready();
    const one = run();
    setThreads(2);
    await ready();
    assertSameBits(run(), one, '16 slots, 2 threads vs 1 thread');
  } finally {
    filterStreamTuning.big = saved.stream;
    filterSmallCTuning.slots = saved.small;
    setThreads(before);
  }
});
