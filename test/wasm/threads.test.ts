/**
 * The worker pool: changing the thread count between calls many times must neither hang nor give
 * wrong results, and a failing chunk must raise an error instead of leaving the caller waiting.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, reference, computeConv2DInfo, computePool2DInfo } from '../../src/index.js';
import { wasm, ready, setThreads, getThreads, wasmRuntime } from '../../src/kernels/wasm/index.js';
import { CTRL, CTRL_BYTES, hostCores, loadSpawner } from '../../src/kernels/wasm/threads.js';
import { assertCloseToRef } from './helpers.js';
import { availableParallelism } from 'node:os';
import { execFileSync } from 'node:child_process';

test('threads default to the cores available (os.availableParallelism in Node, at most 8)', async () => {
  await loadSpawner();
  assert.equal(hostCores(), availableParallelism());
  // Fresh processes that never call setThreads, on all cores and pinned to one (taskset, from
  // util-linux, which Debian always installs): the default follows the cores the process may use.
  const script = "const m = await import('./src/index.ts'); await m.ready(); console.log(m.getThreads()); process.exit(0);";
  const args = ['--import', 'tsx', '--input-type=module', '-e', script];
  const all = execFileSync(process.execPath, args, { encoding: 'utf8' });
  assert.equal(Number(all.trim()), Math.min(8, availableParallelism()));
  const one = execFileSync('taskset', ['-c', '0', process.execPath, ...args], { encoding: 'utf8' });
  assert.equal(Number(one.trim()), 1, 'pinned to one core: one thread');
});

test('setThreads 1 <-> 2 between calls, 40 times, keeps results right and never hangs', { timeout: 60000 }, async () => {
  await ready();
  const x = Tensor.randn([2, 16, 16, 8], { seed: 1 });
  const w = Tensor.randn([3, 3, 8, 8], { seed: 2 });
  const info = computeConv2DInfo('t', x.shape, w.shape, { padding: 'same' });
  const want = reference.conv2d(x, w, null, info);
  for (let i = 0; i < 40; i++) {
    assert.equal(setThreads(1 + (i % 2)), 1 + (i % 2));
    assert.equal(getThreads(), 1 + (i % 2));
    assertCloseToRef(wasm.conv2d(x, w, null, info), want, 'y', `round ${i}`);
    if (i % 8 === 0) await new Promise((r) => setTimeout(r, 1)); // let workers start up in between
  }
  setThreads(1);
});

test('a chunk that traps raises an error on the calling thread (no hang), and the pool still works', { timeout: 60000 }, async () => {
  await ready();
  setThreads(2);
  await ready();
  const rt = wasmRuntime()!;
  rt.reset();
  // A parameter block whose source pointer lies far outside the memory: every chunk traps.
  const p = rt.putParams('gather', {
    src: 0x7ffffff0, srcH: 4, srcW: 4, C: 4, N: 64, GH: 4, GW: 4, mulY: 1, mulX: 1, T: 1, taps: rt.putI32([0, 0]), B: 0, Np: 8,
    out: 0, outH: 4, outW: 4, oY0: 0, oSY: 1, oX0: 0, oSX: 1, bias: 0, scratch: rt.alloc(4096), scratchStride: 1024, zero: rt.zeros(16), tpb: 1,
  });
  assert.throws(() => rt.run('convGather', p, 256, 1), /wasm kernels: a chunk of 'convGather' failed on thread/);
  const x = Tensor.randn([2, 9, 9, 4], { seed: 3 });
  const w = Tensor.randn([3, 3, 4, 8], { seed: 4 });
  const info = computeConv2DInfo('t', x.shape, w.shape, {});
  assertCloseToRef(wasm.conv2d(x, w, null, info), reference.conv2d(x, w, null, info), 'y', 'after a failed job');
  setThreads(1);
});

test('threads 2 -> 1, a pause, -> 2 again: the parked worker rejoins without hanging', { timeout: 60000 }, async () => {
  await ready();
  const x = Tensor.randn([2, 16, 16, 8], { seed: 5 });
  const w = Tensor.randn([3, 3, 8, 8], { seed: 6 });
  const info = computeConv2DInfo('t', x.shape, w.shape, { padding: 'same' });
  const want = reference.conv2d(x, w, null, info);
  setThreads(2);
  await ready();
  assertCloseToRef(wasm.conv2d(x, w, null, info), want, 'y', 'two threads');
  setThreads(1);
  await new Promise((r) => setTimeout(r, 300)); // (a worker terminated here would die only when next woken, mid-chunk)
  assertCloseToRef(wasm.conv2d(x, w, null, info), want, 'y', 'one thread');
  setThreads(2);
  await ready();
  const before = wasmRuntime()!.pool!.chunkCounts()[1];
  for (let i = 0; i < 5; i++) assertCloseToRef(wasm.conv2d(x, w, null, info), want, 'y', `two threads again, round ${i}`);
  assert.ok(wasmRuntime()!.pool!.chunkCounts()[1] >= before);
  setThreads(1);
});

test("an error in the caller's `during` callback is raised only after the whole job has finished", { timeout: 60000 }, async () => {
  await ready();
  setThreads(2);
  await ready();
  const rt = wasmRuntime()!;
  const x = Tensor.randn([64, 12, 12, 8], { seed: 11 });
  const info = computePool2DInfo('t', x.shape, { kernelSize: 2 });
  const n = 64 * 6 * 6 * 8;
  for (let round = 0; round < 10; round++) {
    rt.reset();
    const xP = rt.put(x.data);
    const yP = rt.alloc(n);
    rt.f32.fill(NaN, yP >> 2, (yP >> 2) + n);
    const p = rt.putParams('pool', { x: xP, N: 64, H: 12, W: 12, C: 8, Ho: 6, Wo: 6, kH: 2, kW: 2, sH: 2, sW: 2, pT: 0, pL: 0, y: yP, dy: 0, dx: 0, mode: 0 });
    const during = (): void => {
      throw new Error('boom');
    };
    assert.throws(() => rt.run('maxPool', p, 64, 1, during), /boom/);
    // every chunk was done before the error surfaced
    assertCloseToRef(new Tensor(rt.read(yP, n), [64, 6, 6, 8]), reference.maxPool2d(x, info), 'y', `round ${round}`);
  }
  const w = Tensor.randn([3, 3, 8, 8], { seed: 12 });
  const cinfo = computeConv2DInfo('t', x.shape, w.shape, {});
  assertCloseToRef(wasm.conv2d(x, w, null, cinfo), reference.conv2d(x, w, null, cinfo), 'y', 'after the errors');
  setThreads(1);
});

test('a gated job: a worker starts a chunk only once the caller has marked its units ready; an error in `during` still opens them all', { timeout: 60000 }, async () => {
  await ready();
  setThreads(2);
  await ready();
  const rt = wasmRuntime()!;
  const x = Tensor.randn([64, 12, 12, 8], { seed: 21 });
  const info = computePool2DInfo('t', x.shape, { kernelSize: 2 });
  const n = 64 * 6 * 6 * 8;
  const perImage = 12 * 12 * 8;
  const spin = (ms: number): void => {
    const t = performance.now();
    while (performance.now() - t < ms);
  };
  const counts0 = rt.pool!.chunkCounts();
  for (const failAt of [-1, 20]) {
    rt.reset();
    const xP = rt.alloc(x.size);
    rt.f32.fill(NaN, xP >> 2, (xP >> 2) + x.size); // not copied in yet: a chunk that ran early reads NaN
    const yP = rt.alloc(n);
    rt.f32.fill(NaN, yP >> 2, (yP >> 2) + n);
    const p = rt.putParams('pool', { x: xP, N: 64, H: 12, W: 12, C: 8, Ho: 6, Wo: 6, kH: 2, kW: 2, sH: 2, sW: 2, pT: 0, pL: 0, y: yP, dy: 0, dx: 0, mode: 0 });
    // Image b copied in (slowly: the worker waits on each), then units [0, b + 1) ready.
    const during = (): void => {
      for (let b = 0; b < 64; b++) {
        if (b === failAt) throw new Error('copy failed');
        spin(0.3);
        rt.f32.set(x.data.subarray(b * perImage, (b + 1) * perImage), (xP >> 2) + b * perImage);
        rt.ready(b + 1);
      }
    };
    if (failAt < 0) {
      rt.run('maxPool', p, 64, 1, during, true, true);
      assertCloseToRef(new Tensor(rt.read(yP, n), [64, 6, 6, 8]), reference.maxPool2d(x, info), 'y', 'gated job');
    } else {
      // the job still ends (the units past the failure read NaN, which is what they hold), then the error is raised
      assert.throws(() => rt.run('maxPool', p, 64, 1, during, true, true), /copy failed/);
    }
  }
  assert.ok(rt.pool!.chunkCounts()[1] > counts0[1], 'the worker ran chunks of the gated jobs');
  setThreads(1);
});

test('a chunk claimed and never finished makes the caller give up with an error, then run single-threaded', { timeout: 60000 }, async () => {
  // Runs last: it leaves this process's pool single-threaded on purpose.
  await ready();
  setThreads(1); // the job below runs on this thread alone: the worker sits it out (deterministic)
  const rt = wasmRuntime()!;
  const pool = rt.pool!;
  pool.stallMs = 300;
  const ctl64 = new BigInt64Array(rt.memory.buffer, CTRL_BYTES, 8);
  // A job whose first chunk, on the caller, marks every chunk as claimed (as if a dead thread held them) and returns.
  const fns = [(): void => void Atomics.store(ctl64, CTRL.CLAIM64, Atomics.load(ctl64, CTRL.CLAIM64) | BigInt(0xffff))];
  assert.throws(() => pool.run(fns, 0, 0, 64, 1, 1), /worker threads stopped responding \(1 of 64 chunks/);
  assert.equal(pool.size, 1);
  assert.equal(setThreads(2), 1, 'a broken pool stays single-threaded');
  const x = Tensor.randn([2, 9, 9, 4], { seed: 7 });
  const w = Tensor.randn([3, 3, 4, 8], { seed: 8 });
  const info = computeConv2DInfo('t', x.shape, w.shape, {});
  assertCloseToRef(wasm.conv2d(x, w, null, info), reference.conv2d(x, w, null, info), 'y', 'after the stall');
});
