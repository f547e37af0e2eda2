/**
 * Staged copies (src/kernels/wasm/staging.ts): on 2 threads, outside a training step, the direct
 * and small-C (Cin < 4) forward (plain and with the fused ReLU) and the direct dX copy their input in and their result out a group of
 * images at a time, overlapped with the jobs. Every result must be bit for bit the unstaged one (1
 * thread, where nothing is staged: the kernels compute each element in the same order however the
 * batch is split), on random configs with batches that do not divide into the groups, strides,
 * dilation, asymmetric padding and channel counts that are not multiples of 8, NaN-poisoned memory,
 * and the staged path must have run. The streaming dW copies x and dy in while its job runs, the
 * workers waiting for each slot's images (a gated job): same bits as on 1 thread too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, Tensor, computeConv2DInfo, reference, type Padding } from '../../src/index.js';
import { wasm, initWasm, wasmRuntime, setThreads, ready } from '../../src/kernels/wasm/index.js';
import { setConvAlgorithm } from '../../src/kernels/wasm/winograd.js';
import { stagedCalls, stagingTuning } from '../../src/kernels/wasm/staging.js';
import { assertCloseToRef, checksum, randomDwCase, recordJobs, jobsRun } from './helpers.js';
import { filterStreamTuning } from '../../src/kernels/wasm/conv2d-filter-grad.js';

function assertSameBits(a: Tensor, b: Tensor, what: string): void {
  assert.deepEqual(a.shape, b.shape, `${what}: shape`);
  for (let i = 0; i < a.size; i++) {
    if (Number.isNaN(a.data[i]) && Number.isNaN(b.data[i])) continue;
    if (!Object.is(a.data[i], b.data[i])) assert.fail(`${what}: element ${i} is ${a.data[i]} staged, ${b.data[i]} unstaged`);
  }
}

interface Case {
  x: Tensor;
  w: Tensor;
  b: Tensor;
  dy: Tensor;
  what: string;
  info: ReturnType<typeof computeConv2DInfo>;
}

function randomCase(seed: number): Case {
  const rng = new Rng(900 + seed);
  const batches = [2, 3, 5, 9, 17, 33];
  for (;;) {
    const n = batches[seed % batches.length];
    const h = 2 + rng.int(12);
    const wd = 2 + rng.int(12);
    const inC = seed % 3 === 2 ? 1 + rng.int(3) : 4 + rng.int(13); // Cin < 4: the small-C forward
    const outC = 1 + rng.int(20);
    const k = 1 + rng.int(4);
    const stride = [1 + rng.int(3), 1 + rng.int(3)] as [number, number];
    const dilation = (rng.int(3) === 0 ? [2, 1 + rng.int(2)] : [1, 1]) as [number, number];
    const padding: Padding = rng.int(2) === 0 ? 'same' : [rng.int(3), rng.int(3), rng.int(3), rng.int(3)];
    try {
      const info = computeConv2DInfo('test', [n, h, wd, inC], [k, k, inC, outC], { stride, dilation, padding });
      const x = Tensor.randn([n, h, wd, inC], { seed: seed * 5 + 1 });
      const w = Tensor.randn([k, k, inC, outC], { seed: seed * 5 + 2 });
      const b = Tensor.randn([outC], { seed: seed * 5 + 3 });
      const dy = Tensor.randn([n, info.outH, info.outW, outC], { seed: seed * 5 + 4 });
      const what = `seed ${seed}: x [${x.shape}] w [${w.shape}] stride ${stride} dilation ${dilation} padding ${JSON.stringify(padding)}`;
      return { x, w, b, dy, info, what };
    } catch {
      // a kernel larger than the padded input: draw again
    }
  }
}

function run(c: Case): Tensor[] {
  return [wasm.conv2d(c.x, c.w, c.b, c.info), wasm.conv2dRelu(c.x, c.w, c.b, c.info), wasm.conv2dBackwardInput(c.dy, c.w, c.info)];
}

test('staged forward (direct and small-C), fused ReLU forward and dX on 2 threads = unstaged on 1 thread, bit for bit (60 random configs)', async () => {
  assert.ok(initWasm());
  setConvAlgorithm('direct'); // the direct gather kernels (3x3 / 5x5 stride 1 would go to Winograd)
  const rt = wasmRuntime()!;
  rt.poison = NaN;
  const minFlops = stagingTuning.minFlops;
  stagingTuning.minFlops = 0; // these small calls would not be staged otherwise
  try {
    const cases = Array.from({ length: 60 }, (_, s) => randomCase(s));
    setThreads(1);
    const single = cases.map(run);
    setThreads(2);
    await ready();
    const staged0 = stagedCalls();
    for (const [i, c] of cases.entries()) {
      const sums = [checksum(c.x.data), checksum(c.dy.data)];
      const two = run(c);
      ['forward', 'conv2dRelu', 'dX'].forEach((name, j) => assertSameBits(two[j], single[i][j], `${name} ${c.what}`));
      assert.deepEqual([checksum(c.x.data), checksum(c.dy.data)], sums, `${c.what}: an input was changed`);
      if (i % 10 === 0) {
        assertCloseToRef(two[0], reference.conv2d(c.x, c.w, c.b, c.info), 'y', c.what);
        assertCloseToRef(two[2], reference.conv2dBackwardInput(c.dy, c.w, c.info), 'dx', c.what);
      }
    }
    // every forward and fused forward ran staged; dX too, except the small-C dX (its own kernel, not staged)
    const expected = cases.reduce((k, c) => k + (c.x.shape[3] < 4 ? 2 : 3), 0);
    assert.equal(stagedCalls() - staged0, expected, 'calls that ran staged');
    assert.ok(wasmRuntime()!.pool!.chunkCounts()[1] > 0, 'the worker ran chunks');
  } finally {
    stagingTuning.minFlops = minFlops;
    rt.poison = null;
    setConvAlgorithm('auto');
    setThreads(1);
  }
});

test('a small call (under stagingTuning.minFlops) is not staged; a large one is', async () => {
  assert.ok(initWasm());
  setThreads(2);
  await ready();
  setConvAlgorithm('direct');
  try {
    const small = Tensor.randn([4, 8, 8, 8], { seed: 1 });
    const big = Tensor.randn([8, 40, 40, 16], { seed: 2 });
    const w = Tensor.randn([3, 3, 8, 8], { seed: 3 });
    const w16 = Tensor.randn([3, 3, 16, 32], { seed: 4 });
    const infoS = computeConv2DInfo('t', small.shape, w.shape, { padding: 'same' });
    const infoB = computeConv2DInfo('t', big.shape, w16.shape, { padding: 'same' });
    assert.ok(2 * 8 * 40 * 40 * 32 * 9 * 16 < stagingTuning.minFlops, 'this call is under the default threshold: it is staged below only because the threshold is lowered');
    const n0 = stagedCalls();
    wasm.conv2d(small, w, null, infoS);
    assert.equal(stagedCalls(), n0, 'a small call was staged');
    const saved = stagingTuning.minFlops;
    stagingTuning.minFlops = 1e6;
    try {
      wasm.conv2d(big, w16, null, infoB);
      assert.equal(stagedCalls(), n0 + 1, 'a call over the threshold was not staged');
    } finally {
      stagingTuning.minFlops = saved;
    }
  } finally {
    setConvAlgorithm('auto');
    setThreads(1);
  }
});

test('staged dW (x and dy copied in during a gated job) on 2 threads = unstaged on 1 thread, bit for bit (40 random configs)', async () => {
  assert.ok(initWasm());
  setConvAlgorithm('direct'); // the streaming kernel, not Winograd dW
  recordJobs();
  const rt = wasmRuntime()!;
  rt.poison = NaN;
  const saved = { minFlops: stagingTuning.minFlops, minPixels: filterStreamTuning.minPixels, groups: filterStreamTuning.groups, blockBytes: filterStreamTuning.blockBytes };
  stagingTuning.minFlops = 0;
  filterStreamTuning.minPixels = 0;
  filterStreamTuning.blockBytes = 1024; // short blocks: many units, so that the slots' split is uneven
  try {
    const batches = [2, 3, 5, 9, 17, 33];
    const cases = Array.from({ length: 40 }, (_, i) => {
      const g = randomDwCase(4000 + i, 20, { inC: (r) => 8 + 4 * r.int(4), outC: (r) => 5 + r.int(20), maxK: 4, maxDilation: 2 });
      const xShape = [batches[i % batches.length], ...g.xShape.slice(1)];
      const info = computeConv2DInfo('test', xShape, g.wShape, g.opts);
      const x = Tensor.randn(xShape, { seed: 3 * i + 1 });
      const dy = Tensor.randn([info.batch, info.outH, info.outW, info.outC], { seed: 3 * i + 2 });
      return { x, dy, info, what: `seed ${4000 + i}: x [${xShape}] w [${g.wShape}] ${JSON.stringify(g.opts)}` };
    });
    setThreads(1);
    const single = cases.map((c) => wasm.conv2dBackwardFilter(c.dy, c.x, c.info));
    setThreads(2);
    await ready();
    const staged0 = stagedCalls();
    let streamed = 0;
    for (const [i, c] of cases.entries()) {
      filterStreamTuning.groups = [16, 3, 1][i % 3]; // more groups than images, a few, one
      const sums = [checksum(c.x.data), checksum(c.dy.data)];
      jobsRun.length = 0;
      const two = wasm.conv2dBackwardFilter(c.dy, c.x, c.info);
      if (jobsRun.includes('convFilterGradStream')) streamed++;
      assertSameBits(two.dw, single[i].dw, `dw ${c.what}`);
      assertSameBits(two.db, single[i].db, `db ${c.what}`);
      assert.deepEqual([checksum(c.x.data), checksum(c.dy.data)], sums, `${c.what}: an input was changed`);
      if (i % 8 === 0) {
        const ref = reference.conv2dBackwardFilter(c.dy, c.x, c.info);
        assertCloseToRef(two.dw, ref.dw, 'dw', c.what);
        assertCloseToRef(two.db, ref.db, 'db', c.what);
      }
    }
    assert.ok(streamed >= 30, `the streaming kernel ran on ${streamed} of 40 configs`);
    assert.equal(stagedCalls() - staged0, streamed, 'every streamed dW ran staged');
    assert.ok(rt.pool!.chunkCounts()[1] > 0, 'the worker ran chunks');
  } finally {
    Object.assign(stagingTuning, { minFlops: saved.minFlops });
    Object.assign(filterStreamTuning, { minPixels: saved.minPixels, groups: saved.groups, blockBytes: saved.blockBytes });
    rt.poison = null;
    setConvAlgorithm('auto');
    setThreads(1);
  }
});
