/**
 * Issue #9 item 1: after setThreads was lowered (3 or more -> 2 or more) a worker left over from
 * the larger pool could join the next job and write past scratch sized for the new count (wrong
 * dx/dW/forward, or "a chunk of 'convGather' failed"). Now a job carries the thread count its
 * scratch was sized for, read under the same claim as its other parameters, so a thread with
 * tid >= that count cannot take a chunk of it. Two checks: the claim loop's invariants, driven by
 * hand on a control block (deterministic), and a stress run of real kernels while the thread count
 * moves between 4, 3 and 2, every result compared bit for bit with the single-threaded wasm result.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, computeConv2DInfo, computePool2DInfo } from '../../src/index.js';
import { wasm, ready, setThreads, getThreads, wasmRuntime } from '../../src/kernels/wasm/index.js';
import { CTRL, CTRL_INTS, MAX_CHUNKS, claimChunks, type JobFunction } from '../../src/kernels/wasm/threads.js';

const B16 = BigInt(16);
const MASK = BigInt(0xffff);

/** A control block holding one open job of `total` one-unit chunks sized for `limit` threads. */
function job(gen: number, total: number, limit: number): { c: Int32Array; c64: BigInt64Array } {
  const sab = new SharedArrayBuffer(CTRL_INTS * 4);
  const c = new Int32Array(sab);
  const c64 = new BigInt64Array(sab);
  c[CTRL.FN] = 0;
  c[CTRL.TOTAL] = total;
  c[CTRL.CHUNK] = 1;
  c[CTRL.UNITS] = total;
  c[CTRL.LIMIT] = limit;
  c[CTRL.READY] = total; // not a gated job: every unit ready
  c64[CTRL.CLAIM64] = BigInt(gen) << B16;
  return { c, c64 };
}

test('a thread with tid >= the job limit takes no chunk; threads below it take them all, once each', () => {
  const { c, c64 } = job(7, 5, 2);
  const ran: [number, number][] = [];
  const fns: JobFunction[] = [(_p, u0, _u1, tid) => void ran.push([u0, tid])];
  claimChunks(c, c64, fns, 2, CTRL, B16, MASK); // a worker left over from a 3-thread pool
  claimChunks(c, c64, fns, 5, CTRL, B16, MASK);
  assert.deepEqual(ran, [], 'a thread outside the job limit ran a chunk');
  claimChunks(c, c64, fns, 1, CTRL, B16, MASK);
  assert.deepEqual(ran, [[0, 1], [1, 1], [2, 1], [3, 1], [4, 1]]);
  claimChunks(c, c64, fns, 0, CTRL, B16, MASK);
  assert.equal(ran.length, 5, 'a finished job gave out a chunk again');
  assert.equal(c[CTRL.DONE], 5);
  assert.deepEqual([c[CTRL.COUNT], c[CTRL.COUNT + 1], c[CTRL.COUNT + 2]], [0, 5, 0]);
});

test('a thread that read the claim word of one job cannot take a chunk of the next (generation checked by the swap)', () => {
  const { c, c64 } = job(41, 4, 3);
  const ran: number[] = [];
  // The first chunk publishes the next job (as the caller would after this one), closing the claim
  // word and opening it with the next generation: the thread must stop, not carry on into it.
  const fns: JobFunction[] = [
    (_p, u0) => {
      ran.push(u0);
      if (u0 === 0) {
        c64[CTRL.CLAIM64] = (BigInt(42) << B16) | BigInt(MAX_CHUNKS);
        c[CTRL.LIMIT] = 2;
        c64[CTRL.CLAIM64] = BigInt(42) << B16;
      }
    },
  ];
  claimChunks(c, c64, fns, 2, CTRL, B16, MASK);
  assert.deepEqual(ran, [0], 'thread 2 ran chunks of the next job, which is sized for 2 threads');
  // Generations 2^16 apart have the same low bits: the 64-bit claim word still tells them apart.
  const j = job(5, 2, 2);
  const seen: number[] = [];
  const g2: JobFunction[] = [
    (_p, u0) => {
      seen.push(u0);
      j.c64[CTRL.CLAIM64] = BigInt(5 + 65536) << B16; // a much later job at chunk 0
    },
  ];
  claimChunks(j.c, j.c64, g2, 1, CTRL, B16, MASK);
  assert.deepEqual(seen, [0]);
});

test('stress: setThreads moving between 4, 3 and 2 around conv forward, dX, dW and pooling keeps every result exact', { timeout: 120000 }, async () => {
  await ready();
  const x = Tensor.randn([4, 12, 12, 8], { seed: 1 });
  const w = Tensor.randn([3, 3, 8, 16], { seed: 2 });
  const x1 = Tensor.randn([4, 14, 14, 1], { seed: 5 });
  const w1 = Tensor.randn([5, 5, 1, 8], { seed: 6 });
  const info = computeConv2DInfo('stress', x.shape, w.shape, { padding: 'same' });
  const info1 = computeConv2DInfo('stress', x1.shape, w1.shape, { padding: 'same', stride: 2 });
  const pinfo = computePool2DInfo('stress', [4, 12, 12, 16], { kernelSize: 2 });
  const dy = Tensor.randn([4, 12, 12, 16], { seed: 3 });
  const dy1 = Tensor.randn([4, 7, 7, 8], { seed: 7 });
  const run = (): Float32Array[] => {
    const y = wasm.conv2d(x, w, null, info);
    const g = wasm.conv2dBackward(dy, x, w, info);
    const g1 = wasm.conv2dBackward(dy1, x1, w1, info1);
    const p = wasm.maxPool2d(y, pinfo);
    const pb = wasm.maxPool2dBackward(p, y, pinfo);
    return [y.data, g.dx.data, g.dw.data, g.db.data, wasm.conv2d(x1, w1, null, info1).data, g1.dx.data, g1.dw.data, p.data, pb.data];
  };
  const rt = wasmRuntime()!;
  rt.poison = NaN; // every arena allocation starts as NaN: an unwritten output cannot pass
  try {
    setThreads(1);
    const want = run();
    const cycle = [4, 3, 2, 3, 4, 2, 2, 3];
    let calls = 0;
    const t0 = Date.now();
    for (let round = 0; Date.now() - t0 < 8000; round++) {
      const n = cycle[round % cycle.length];
      assert.equal(setThreads(n), n);
      if (round < cycle.length) await ready(); // the workers have started; later rounds race freely
      const got = run();
      calls += got.length;
      for (let k = 0; k < want.length; k++) {
        const a = want[k];
        const b = got[k];
        for (let i = 0; i < a.length; i++) {
          if (!Object.is(a[i], b[i])) assert.fail(`round ${round} (${n} threads), output ${k}, element ${i}: ${b[i]} != ${a[i]}`);
        }
      }
      if (round % 64 === 0) await new Promise((r) => setTimeout(r, 0)); // let late workers wake in between
    }
    assert.ok(calls > 1000, `only ${calls} kernel calls in the stress window`);
    assert.ok(getThreads() >= 2);
  } finally {
    rt.poison = null;
    setThreads(1);
  }
});
