/**
 * The wasm max and average pooling kernels, forward and backward, against the reference on seeded
 * random configs (every padding form, strides 1-3, odd channel counts, 1x1 images), outputs
 * poisoned with NaN. Max pooling also gets inputs full of ties (first maximum wins) and NaNs (NaN wins).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, Tensor, reference, computePool2DInfo, type Pool2DInfo, type PoolWindowOptions, type Padding } from '../../src/index.js';
import { wasm, initWasm, wasmRuntime, ready, setThreads } from '../../src/kernels/wasm/index.js';
import { assertCloseToRef, checksum } from './helpers.js';

const CONFIGS = 240;

function randomPool(seed: number, maxN = 3): { shape: [number, number, number, number]; opts: PoolWindowOptions; info: Pool2DInfo } {
  const rng = new Rng(seed);
  for (;;) {
    const oneByOne = rng.int(10) === 0;
    const shape: [number, number, number, number] = [1 + rng.int(maxN), oneByOne ? 1 : 1 + rng.int(11), oneByOne ? 1 : 1 + rng.int(11), 1 + rng.int(9)];
    const k: [number, number] = [1 + rng.int(4), 1 + rng.int(4)];
    const p = (): number => rng.int(3);
    const forms: Padding[] = ['valid', 'same', p(), [p(), p()], [p(), p(), p(), p()]];
    const opts: PoolWindowOptions = { kernelSize: k, stride: [1 + rng.int(3), 1 + rng.int(3)], padding: forms[rng.int(forms.length)] };
    try {
      return { shape, opts, info: computePool2DInfo('test', shape, opts) };
    } catch {
      // padding too large for the window, or window larger than the input: draw again
    }
  }
}

/** Random data: normal, or small integers (many ties), or with NaNs sprinkled in. */
function poolInput(shape: number[], seed: number, kind: number): Tensor {
  const t = Tensor.randn(shape, { seed });
  const rng = new Rng(seed + 1);
  if (kind === 1) for (let i = 0; i < t.size; i++) t.data[i] = rng.int(3) - 1;
  if (kind === 2) for (let i = 0; i < t.size; i++) if (rng.int(6) === 0) t.data[i] = NaN;
  return t;
}

function checkPool(seed: number, maxN = 3): void {
  const { shape, opts, info } = randomPool(seed, maxN);
  const kind = seed % 3;
  const x = poolInput(shape, seed * 3 + 1, kind);
  const dy = Tensor.randn([info.batch, info.outH, info.outW, info.channels], { seed: seed * 3 + 2 });
  const ctx = `seed=${seed} x=[${shape}] ${JSON.stringify(opts)} data=${['normal', 'ties', 'NaN'][kind]}`;
  const sums = [checksum(x.data), checksum(dy.data)];
  const rt = wasmRuntime()!;
  rt.poison = kind === 2 ? null : NaN;
  try {
    assertCloseToRef(wasm.maxPool2d(x, info), reference.maxPool2d(x, info), 'maxPool2d y', ctx, true);
    assertCloseToRef(wasm.maxPool2dBackward(dy, x, info), reference.maxPool2dBackward(dy, x, info), 'maxPool2d dx', ctx);
    if (kind !== 2) {
      assertCloseToRef(wasm.avgPool2d(x, info), reference.avgPool2d(x, info), 'avgPool2d y', ctx);
      assertCloseToRef(wasm.avgPool2dBackward(dy, x, info), reference.avgPool2dBackward(dy, x, info), 'avgPool2d dx', ctx);
    }
  } finally {
    rt.poison = null;
  }
  assert.deepEqual([checksum(x.data), checksum(dy.data)], sums, `${ctx}: a kernel changed its inputs`);
}

test(`max/avg pooling wasm = reference on ${CONFIGS} random configs`, () => {
  assert.ok(initWasm());
  for (let s = 1; s <= CONFIGS; s++) checkPool(s);
});

test('W2 shape: 2x2 stride 2 max pooling of [32, 28, 28, 32]', () => {
  const x = Tensor.randn([32, 28, 28, 32], { seed: 9 });
  const info = computePool2DInfo('t', x.shape, { kernelSize: 2 });
  const dy = Tensor.randn([32, 14, 14, 32], { seed: 10 });
  assertCloseToRef(wasm.maxPool2d(x, info), reference.maxPool2d(x, info), 'y', 'W2');
  assertCloseToRef(wasm.maxPool2dBackward(dy, x, info), reference.maxPool2dBackward(dy, x, info), 'dx', 'W2');
});

test(`max/avg pooling wasm = reference with 2 threads (the batch split between them) on ${CONFIGS} random configs`, async () => {
  assert.equal((await ready()).backend, 'wasm');
  const rt = wasmRuntime()!;
  assert.ok(rt.pool !== null, 'Node has shared memory');
  assert.equal(setThreads(2), 2);
  await ready();
  const before = rt.pool!.chunkCounts()[1];
  for (let s = 1; s <= CONFIGS; s++) checkPool(s + 5000, 20);
  assert.ok(rt.pool!.chunkCounts()[1] > before, 'worker 1 ran no chunk');
  setThreads(1);
});
