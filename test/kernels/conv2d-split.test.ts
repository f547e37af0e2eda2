/**
 * Issue #10 item 4: conv2d's backward as two first-class kernels, dx alone (equation (1)) and
 * dw/db alone (equations (2), (3)), so a network's first layer skips its dx. Each equals the
 * combined conv2dBackward bit for bit, on both backends (wasm with NaN-poisoned outputs, on 1 and
 * 2 threads), and Sequential training computes no dx for its first weighted layer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Tensor, reference, conv2dBackward, conv2dBackwardInput, conv2dBackwardFilter, getKernels, registerBackend, setBackend, getBackend,
  Sequential, Conv2D, ReLU, MaxPool2D, Flatten, Dense, SGD, softmaxCrossEntropy, type Kernels,
} from '../../src/index.js';
import { wasm, ready, setThreads, wasmRuntime } from '../../src/kernels/wasm/index.js';
import { randomConvCase, describeCase } from '../wasm/helpers.js';

const same = (a: Tensor, b: Tensor, what: string): void => {
  assert.deepEqual(a.shape, b.shape, `${what}: shape`);
  for (let i = 0; i < a.size; i++) if (!Object.is(a.data[i], b.data[i])) assert.fail(`${what}[${i}]: ${a.data[i]} != ${b.data[i]}`);
};

function checkBackend(k: Kernels, seeds: number, label: string): void {
  for (let s = 0; s < seeds; s++) {
    const c = randomConvCase(5000 + s);
    const x = Tensor.randn(c.xShape, { seed: s * 3 + 1 });
    const w = Tensor.randn(c.wShape, { seed: s * 3 + 2 });
    const dy = Tensor.randn([c.info.batch, c.info.outH, c.info.outW, c.info.outC], { seed: s * 3 + 3 });
    const all = k.conv2dBackward(dy, x, w, c.info);
    const ctx = `${label} ${describeCase(c)}`;
    same(k.conv2dBackwardInput(dy, w, c.info), all.dx, `${ctx} dx`);
    const f = k.conv2dBackwardFilter(dy, x, c.info);
    same(f.dw, all.dw, `${ctx} dw`);
    same(f.db, all.db, `${ctx} db`);
  }
}

test('reference: dx alone and dw/db alone equal the combined backward bit for bit (120 random configs)', () => {
  checkBackend(reference, 120, 'reference');
});

test('wasm: the same, NaN-poisoned, on 1 and 2 threads (240 random configs)', async () => {
  await ready();
  const rt = wasmRuntime()!;
  rt.poison = NaN;
  try {
    for (const t of [1, 2]) {
      setThreads(t);
      await ready();
      checkBackend(wasm, 120, `wasm ${t} thread(s)`);
    }
  } finally {
    rt.poison = null;
    setThreads(1);
  }
});

test('the public ops check their arguments and match conv2dBackward', () => {
  const x = Tensor.randn([2, 7, 6, 3], { seed: 1 });
  const w = Tensor.randn([3, 2, 3, 4], { seed: 2 });
  const opts = { stride: 2, padding: 'same' as const };
  const all = conv2dBackward(Tensor.ones([2, 4, 3, 4]), x, w, opts);
  same(conv2dBackwardInput(Tensor.ones([2, 4, 3, 4]), w, x.shape, opts), all.dx, 'dx');
  same(conv2dBackwardFilter(Tensor.ones([2, 4, 3, 4]), x, w.shape, opts).dw, all.dw, 'dw');
  assert.throws(() => conv2dBackwardInput(Tensor.ones([2, 4, 4, 4]), w, x.shape, opts), /conv2dBackwardInput: dy has shape \[2, 4, 4, 4\], expected \[2, 4, 3, 4\]/);
  assert.throws(() => conv2dBackwardFilter(Tensor.ones([2, 4, 3, 4]), x, [3, 2, 5, 4], opts), /conv2dBackwardFilter/);
  assert.throws(() => conv2dBackwardInput(Tensor.ones([2, 4, 3, 4]), w, [2, 7, 6.5, 3], opts), /conv2dBackwardInput/);
});

for (const fuse of [false, true]) {
  test(`training computes no dx for the first weighted layer, and updates the weights exactly as backward does (fuse: ${fuse})`, () => {
    // With fusion, the first Conv2D -> ReLU -> MaxPool2D is a fused triple: maxPool2dReluBackward, then
    // conv2dBackwardFilter (no dx); the second Conv2D -> ReLU pair runs as conv2dReluBackward with dx.
    const calls = { input: 0, full: 0, filter: 0, reluFull: 0, reluNoDx: 0 };
    const base = getKernels();
    const counting: Kernels = {
      ...base,
      name: 'counting',
      conv2dBackward: (...a) => (calls.full++, base.conv2dBackward(...a)),
      conv2dBackwardInput: (...a) => (calls.input++, base.conv2dBackwardInput(...a)),
      conv2dBackwardFilter: (...a) => (calls.filter++, base.conv2dBackwardFilter(...a)),
      conv2dReluBackward: (...a) => (a[5] ? calls.reluFull++ : calls.reluNoDx++, base.conv2dReluBackward(...a)),
    };
    registerBackend(counting);
    const before = getBackend();
    setBackend('counting');
    try {
      const make = (): Sequential =>
        new Sequential(
          [new MaxPool2D({ kernelSize: 1 }), new Conv2D({ outChannels: 4, kernelSize: 3, padding: 'same' }), new ReLU(), new MaxPool2D({ kernelSize: 2 }),
            new Conv2D({ outChannels: 6, kernelSize: 3 }), new ReLU(), new Flatten(), new Dense({ units: 3 })],
          { inputShape: [8, 8, 1], seed: 3, fuse },
        );
      const x = Tensor.randn([4, 8, 8, 1], { seed: 4 });
      const labels = Int32Array.from([0, 1, 2, 1]);
      const a = make();
      const b = make();
      const optA = new SGD({ lr: 0.1, momentum: 0.9 });
      const optB = new SGD({ lr: 0.1, momentum: 0.9 });
      for (let step = 0; step < 3; step++) {
        for (const k of Object.keys(calls) as (keyof typeof calls)[]) calls[k] = 0;
        a.trainStep(x, labels, optA);
        // the second conv: full backward (its dx feeds the first conv); the first: dw/db only
        const want = fuse ? { input: 0, full: 0, filter: 1, reluFull: 1, reluNoDx: 0 } : { input: 0, full: 1, filter: 1, reluFull: 0, reluNoDx: 0 };
        assert.deepEqual(calls, want, `step ${step}`);
        // b: the plain forward / backward / step
        optB.zeroGrad(b.params());
        const logits = b.forward(x, true);
        const { grad } = softmaxCrossEntropy(logits, labels);
        b.backward(grad);
        optB.step(b.params());
        a.params().forEach((p, i) => same(p.value, b.params()[i].value, `step ${step} param ${i}`));
      }
    } finally {
      setBackend(before);
    }
  });
}
