/**
 * Fused layer pairs (issue 11): conv2dRelu / denseRelu and their backward passes equal the
 * composition of the separate ops on randomized shapes (on the wasm backend bit for bit, since the
 * ReLU is the same kernel; on the reference exactly), pass a numeric gradient check, and Sequential
 * fuses Conv2D -> ReLU and Dense -> ReLU in trainStep and predict with the same numbers as the
 * unfused path (`fuse: false`), on both backends, whether the pair is the first weighted layer (no
 * dx) or not, and predict pools before the ReLU where a MaxPool2D follows. The model's spec and ONNX
 * export do not change.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Conv2D, Dense, Flatten, LeakyReLU, MaxPool2D, ReLU, SGD, Sequential, Tensor, conv2d, conv2dBackward, conv2dBackwardFilter, conv2dRelu,
  conv2dReluBackward, dense, denseBackward, denseRelu, denseReluBackward, gradcheckOp, relu, reluBackward, setBackend, type Layer,
  Rng, maxPool2d, maxPool2dBackward, maxPool2dRelu, maxPool2dReluBackward, computePool2DInfo, type PoolWindowOptions, type Padding,
} from '../../src/index.js';
import { initWasm, setThreads, ready, wasmRuntime } from '../../src/kernels/wasm/index.js';
import { exportOnnx } from '../../src/onnx/export.js';
import { winogradCalls } from '../../src/kernels/wasm/winograd.js';
import { randomConvCase, describeCase, assertCloseToRef } from '../wasm/helpers.js';

/** Bit-for-bit equality (NaN matches NaN). */
function same(a: Tensor, b: Tensor, what: string): void {
  assert.deepEqual(a.shape, b.shape, `${what}: shape`);
  const x = a.data;
  const y = b.data;
  for (let i = 0; i < x.length; i++) {
    if (Number.isNaN(x[i]) && Number.isNaN(y[i])) continue;
    if (!Object.is(x[i], y[i])) throw new Error(`${what}: differs at ${i}: fused ${x[i]} vs separate ${y[i]}`);
  }
}

/** Normal values with some exact zeros, -0 and NaN (the ReLU's edge cases). */
function edgy(shape: number[], seed: number, nan: boolean): Tensor {
  const t = Tensor.randn(shape, { seed });
  for (let i = 0; i < t.size; i += 7) t.data[i] = 0;
  for (let i = 3; i < t.size; i += 11) t.data[i] = -0;
  if (nan) for (let i = 5; i < t.size; i += 13) t.data[i] = NaN;
  return t;
}

function checkOps(seeds: number, backend: string): void {
  for (let s = 0; s < seeds; s++) {
    const c = randomConvCase(s + 500);
    const ctx = `${backend} ${describeCase(c)}`;
    const x = edgy(c.xShape, s * 5 + 1, s % 4 === 3);
    const w = Tensor.randn(c.wShape, { seed: s * 5 + 2 });
    const b = s % 3 === 0 ? null : Tensor.randn([c.wShape[3]], { seed: s * 5 + 3 });
    const rt = wasmRuntime();
    if (rt !== null) rt.poison = NaN;
    try {
      const z = conv2d(x, w, b, c.opts);
      const y = relu(z);
      const yf = conv2dRelu(x, w, b, c.opts);
      same(yf, y, `conv2dRelu ${ctx}`);
      const dy = edgy(y.shape as number[], s * 5 + 4, false);
      const dz = reluBackward(dy, z);
      const want = conv2dBackward(dz, x, w, c.opts);
      const got = conv2dReluBackward(dy, yf, x, w, c.opts);
      same(got.dx!, want.dx, `conv2dReluBackward dx ${ctx}`);
      same(got.dw, want.dw, `conv2dReluBackward dw ${ctx}`);
      same(got.db, want.db, `conv2dReluBackward db ${ctx}`);
      const noDx = conv2dReluBackward(dy, yf, x, w, c.opts, { dx: false });
      assert.equal(noDx.dx, null);
      const filt = conv2dBackwardFilter(dz, x, w.shape, c.opts);
      same(noDx.dw, filt.dw, `conv2dReluBackward without dx: dw ${ctx}`);
      same(noDx.db, filt.db, `conv2dReluBackward without dx: db ${ctx}`);
      // Dense on the same data, flattened.
      const n = c.xShape[0];
      const f = x.size / n;
      const x2 = x.reshape([n, f]);
      const w2 = Tensor.randn([f, c.wShape[3]], { seed: s * 5 + 5 });
      const z2 = dense(x2, w2, b);
      const y2 = denseRelu(x2, w2, b);
      same(y2, relu(z2), `denseRelu ${ctx}`);
      const dy2 = Tensor.randn(y2.shape as number[], { seed: s * 5 + 6 });
      const want2 = denseBackward(reluBackward(dy2, z2), x2, w2);
      const got2 = denseReluBackward(dy2, y2, x2, w2);
      same(got2.dx!, want2.dx, `denseReluBackward dx ${ctx}`);
      same(got2.dw, want2.dw, `denseReluBackward dw ${ctx}`);
      same(got2.db, want2.db, `denseReluBackward db ${ctx}`);
      const noDx2 = denseReluBackward(dy2, y2, x2, w2, { dx: false });
      assert.equal(noDx2.dx, null);
      same(noDx2.dw, want2.dw, `denseReluBackward without dx: dw ${ctx}`);
    } finally {
      if (rt !== null) rt.poison = null;
    }
  }
}

test('conv2dRelu, denseRelu and their backward passes = the separate ops, reference backend, 40 random configs', () => {
  setBackend('reference');
  try {
    checkOps(40, 'reference');
  } finally {
    setBackend('wasm');
  }
});

test('the same on the wasm backend, bit for bit, 1 thread and 2 threads (200 configs)', async () => {
  assert.ok(initWasm());
  setThreads(1);
  checkOps(120, 'wasm 1 thread');
  setThreads(2);
  await ready();
  try {
    checkOps(80, 'wasm 2 threads');
  } finally {
    setThreads(1);
  }
});

test('on the Winograd path (3x3, stride 1, >= 8 channels) the fused ops equal the separate ones bit for bit; a NaN input falls back to direct the same way', () => {
  assert.ok(initWasm());
  setThreads(1);
  const cases: { x: number[]; co: number; padding: 'same' | 'valid' }[] = [
    { x: [2, 9, 11, 8], co: 8, padding: 'same' },
    { x: [1, 12, 7, 16], co: 12, padding: 'valid' },
    { x: [3, 16, 16, 9], co: 17, padding: 'same' },
  ];
  let s = 0;
  for (const c of cases) {
    for (const nan of [false, true]) {
      s++;
      const ctx = `x ${c.x.join('x')} -> ${c.co}, ${c.padding}${nan ? ', NaN in x' : ''}`;
      const x = edgy(c.x, 900 + s, nan);
      const w = Tensor.randn([3, 3, c.x[3], c.co], { seed: 950 + s });
      const b = Tensor.randn([c.co], { seed: 970 + s });
      const opts = { padding: c.padding };
      const before = winogradCalls();
      const z = conv2d(x, w, b, opts);
      const y = relu(z);
      const yf = conv2dRelu(x, w, b, opts);
      if (!nan) assert.ok(winogradCalls() >= before + 2, `${ctx}: Winograd ran for both forwards`);
      same(yf, y, `conv2dRelu (Winograd) ${ctx}`);
      const dy = edgy(y.shape as number[], 990 + s, false);
      const want = conv2dBackward(reluBackward(dy, z), x, w, opts);
      const got = conv2dReluBackward(dy, yf, x, w, opts);
      same(got.dx!, want.dx, `conv2dReluBackward dx (Winograd) ${ctx}`);
      same(got.dw, want.dw, `conv2dReluBackward dw ${ctx}`);
      same(got.db, want.db, `conv2dReluBackward db ${ctx}`);
    }
  }
});

test('conv2dRelu and denseRelu pass a numeric gradient check (float64 oracle on the reference backend)', () => {
  setBackend('reference');
  try {
    let checked = 0;
    let cut = 0;
    let denseChecked = 0;
    for (let s = 0; checked < 6; s++) {
      assert.ok(s < 400, 'found 6 configs away from the kink');
      const c = randomConvCase(s + 900, 5);
      const x = Tensor.randn(c.xShape, { seed: s + 1 });
      const w = Tensor.randn(c.wShape, { seed: s + 2 });
      const b = Tensor.randn([c.wShape[3]], { seed: s + 3 });
      // Central differences (eps 0.01) need every pre-activation away from the ReLU's kink at 0 by
      // more than a step can move it.
      const maxAbs = (t: Tensor): number => t.data.reduce((m, v) => Math.max(m, Math.abs(v)), 1);
      const step = 0.01 * Math.max(maxAbs(x), maxAbs(w)) * 2;
      if (conv2d(x, w, b, c.opts).data.some((v) => Math.abs(v) <= step)) continue;
      checked++;
      const rep = gradcheckOp(
        () => conv2dRelu(x, w, b, c.opts),
        (g) => {
          const r = conv2dReluBackward(g, conv2dRelu(x, w, b, c.opts), x, w, c.opts);
          return { x: r.dx!, w: r.dw, b: r.db };
        },
        { x, w, b },
        { seed: s },
      );
      assert.ok(rep.ok, `${describeCase(c)}: ${rep.message}`);
      cut += conv2dRelu(x, w, b, c.opts).data.filter((v) => v === 0).length;
      const x2 = Tensor.randn([3, 7], { seed: s + 4 });
      const w2 = Tensor.randn([7, 5], { seed: s + 5 });
      const b2 = Tensor.randn([5], { seed: s + 6 });
      if (dense(x2, w2, b2).data.some((v) => Math.abs(v) <= 0.01 * Math.max(maxAbs(x2), maxAbs(w2)) * 2)) continue;
      const rep2 = gradcheckOp(
        () => denseRelu(x2, w2, b2),
        (g) => {
          const r = denseReluBackward(g, denseRelu(x2, w2, b2), x2, w2);
          return { x: r.dx!, w: r.dw, b: r.db };
        },
        { x: x2, w: w2, b: b2 },
        { seed: s },
      );
      assert.ok(rep2.ok, rep2.message);
      denseChecked++;
    }
    assert.ok(cut > 0, 'the checked configs have outputs the ReLU cuts (their gradient is 0)');
    assert.ok(denseChecked > 0, 'denseRelu was checked');
  } finally {
    setBackend('wasm');
  }
});

/**
 * A random pooling geometry; every other one tiles its input exactly (stride = window, no padding,
 * no remainder: the backward's write-once path), the rest have any padding, overlap or remainder.
 */
function randomPoolCase(seed: number): { shape: number[]; opts: PoolWindowOptions } {
  const rng = new Rng(seed);
  for (;;) {
    const k: [number, number] = [1 + rng.int(3), 1 + rng.int(3)];
    const n = 1 + rng.int(3);
    const c = 1 + rng.int(10);
    if (seed % 2 === 0) return { shape: [n, k[0] * (1 + rng.int(5)), k[1] * (1 + rng.int(5)), c], opts: { kernelSize: k } };
    const shape = [n, 1 + rng.int(10), 1 + rng.int(10), c];
    const p = (): number => rng.int(2);
    const forms: Padding[] = ['valid', 'same', [p(), p(), p(), p()]];
    const opts: PoolWindowOptions = { kernelSize: k, stride: [1 + rng.int(3), 1 + rng.int(3)], padding: forms[rng.int(forms.length)] };
    try {
      computePool2DInfo('test', shape, opts);
      return { shape, opts };
    } catch {
      // the window does not fit: draw again
    }
  }
}

/** Pre-activations with ties (small integers, many zeros and -0), or normal values with zeros, -0 and NaN. */
function poolZ(shape: number[], seed: number): Tensor {
  if (seed % 3 !== 0) return edgy(shape, seed, seed % 3 === 2);
  const t = Tensor.zeros(shape);
  const rng = new Rng(seed);
  for (let i = 0; i < t.size; i++) t.data[i] = [-1, -0, 0, 1, 2][rng.int(5)];
  return t;
}

function checkPoolOps(seeds: number, backend: string, from: number): void {
  const rt = wasmRuntime();
  for (let s = from; s < from + seeds; s++) {
    const { shape, opts } = randomPoolCase(s);
    const ctx = `${backend} seed ${s} z=[${shape}] ${JSON.stringify(opts)}`;
    const z = poolZ(shape, s);
    if (rt !== null) rt.poison = NaN;
    try {
      const a = relu(z);
      const p = maxPool2d(a, opts);
      same(maxPool2dRelu(z, opts), p, `maxPool2dRelu ${ctx}`);
      const dy = edgy(p.shape as number[], s + 7000, s % 5 === 4); // -0 in dy (0 + -0 is +0), sometimes NaN (masked or routed)
      const want = reluBackward(maxPool2dBackward(dy, a, opts), z);
      const got = maxPool2dReluBackward(dy, z, opts);
      same(got, want, `maxPool2dReluBackward ${ctx}`);
      if (backend !== 'reference') {
        // The plain pool's backward (write-once where the windows tile x) against the reference.
        setBackend('reference');
        const ref = maxPool2dBackward(dy, a, opts);
        const refFused = maxPool2dReluBackward(dy, z, opts);
        setBackend('wasm');
        if (s % 2 === 0) {
          // Tiling windows: one contribution per cell, so the reference's float64 sum is exact and
          // the kernels must give its bits (+0, not -0, where dy is -0: the sum starts from +0).
          same(maxPool2dBackward(dy, a, opts), ref, `maxPool2dBackward (tiling) wasm vs reference ${ctx}`);
          same(got, refFused, `maxPool2dReluBackward (tiling) wasm vs reference ${ctx}`);
        } else if (!dy.data.some(Number.isNaN)) {
          assertCloseToRef(maxPool2dBackward(dy, a, opts), ref, 'maxPool2dBackward', ctx);
          assertCloseToRef(got, refFused, 'maxPool2dReluBackward', ctx);
        }
      }
    } finally {
      if (rt !== null) rt.poison = null;
    }
  }
}

test('maxPool2dRelu and its backward = relu, maxPool2d and their backward passes, bit for bit: reference, and wasm on 1 and 2 threads (ties, zeros, -0, NaN)', async () => {
  setBackend('reference');
  try {
    checkPoolOps(60, 'reference', 1);
  } finally {
    setBackend('wasm');
  }
  assert.ok(initWasm());
  setThreads(1);
  checkPoolOps(200, 'wasm 1 thread', 100);
  setThreads(2);
  await ready();
  try {
    checkPoolOps(120, 'wasm 2 threads', 400);
  } finally {
    setThreads(1);
  }
});

test('maxPool2dRelu passes a numeric gradient check (reference backend), and bad input names the op', () => {
  setBackend('reference');
  try {
    for (let s = 0; s < 4; s++) {
      // Distinct values away from 0, so no tie and no kink is within a step.
      const shape = [2, 4, 6, 3];
      const z = Tensor.zeros(shape);
      const rng = new Rng(s + 50);
      const perm = Array.from({ length: z.size }, (_, i) => i);
      for (let i = perm.length - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [perm[i], perm[j]] = [perm[j], perm[i]];
      }
      perm.forEach((v, i) => (z.data[i] = (v - z.size / 2 + 0.5) * 0.5));
      const opts = { kernelSize: 2 };
      const rep = gradcheckOp(() => maxPool2dRelu(z, opts), (g) => ({ z: maxPool2dReluBackward(g, z, opts) }), { z }, { seed: s });
      assert.ok(rep.ok, rep.message);
    }
  } finally {
    setBackend('wasm');
  }
  assert.throws(() => maxPool2dReluBackward(Tensor.zeros([1, 2, 2, 1]), Tensor.zeros([1, 2, 2, 1]), { kernelSize: 2 }), /maxPool2dReluBackward: dy/);
});

const MODELS: Record<string, () => Layer[]> = {
  // A fused pair first (its backward computes no dx), another after a pool, and a Dense -> ReLU.
  lenetLike: () => [
    new Conv2D({ outChannels: 6, kernelSize: 5, padding: 'same' }), new ReLU(), new MaxPool2D({ kernelSize: 2 }),
    new Conv2D({ outChannels: 12, kernelSize: 3, padding: 'same' }), new ReLU(), new MaxPool2D({ kernelSize: 2 }),
    new Flatten(), new Dense({ units: 20 }), new ReLU(), new Dense({ units: 10 }),
  ],
  // The first weighted layer not fused (no ReLU after it); a fused pair with Cin >= 4 later; a LeakyReLU never fuses.
  mixed: () => [
    new MaxPool2D({ kernelSize: 2 }), new Conv2D({ outChannels: 5, kernelSize: 3, stride: 2, bias: false }),
    new Conv2D({ outChannels: 9, kernelSize: 2, padding: 'same' }), new ReLU(), new Conv2D({ outChannels: 4, kernelSize: 1 }), new LeakyReLU(),
    new Flatten(), new Dense({ units: 10 }), new ReLU(),
  ],
};

for (const backend of ['wasm', 'reference']) {
  for (const [name, make] of Object.entries(MODELS)) {
    test(`Sequential ${name} on ${backend}: trainStep and predict fused = unfused, bit for bit`, () => {
      if (backend === 'wasm') assert.ok(initWasm());
      setBackend(backend);
      try {
        const x = edgy([6, 12, 12, 1], 11, false);
        const labels = Int32Array.from({ length: 6 }, (_, i) => (i * 3) % 10);
        const run = (fuse: boolean) => {
          const net = new Sequential(make(), { inputShape: [12, 12, 1], seed: 4, fuse });
          assert.equal(net.fuse, fuse);
          const sgd = new SGD({ lr: 0.1 });
          const losses = [0, 1, 2].map(() => net.trainStep(x, labels, sgd).loss);
          return { net, losses, pred: net.predict(x, 4) };
        };
        const a = run(true);
        const b = run(false);
        assert.deepEqual(a.losses, b.losses);
        a.net.params().forEach((p, i) => same(p.value, b.net.params()[i].value, `${name} param ${i}`));
        same(a.pred, b.pred, `${name} predict`);
        // Inference pools before the ReLU where a MaxPool2D follows the pair: the same with NaN, zeros and -0 in x.
        const xn = edgy([5, 12, 12, 1], 12, false);
        for (let i = 0; i < 144; i += 17) xn.data[i] = NaN; // in the first image only
        const pa = a.net.predict(xn);
        same(pa, b.net.predict(xn), `${name} predict with NaN inputs`);
        assert.ok(pa.data.some(Number.isNaN) && pa.data.some((v) => !Number.isNaN(v)), 'NaN reached some outputs, not all');
        // Toggling on a built model gives the same too.
        b.net.fuse = true;
        same(b.net.predict(x), a.net.predict(x), `${name} predict after turning fusion on`);
        // The layers, the spec and the ONNX file are the model's, whatever the execution.
        assert.deepEqual(a.net.toSpec(), b.net.toSpec());
        assert.deepEqual(exportOnnx(a.net), exportOnnx(b.net));
      } finally {
        setBackend('wasm');
      }
    });
  }
}

test('which pairs fuse: exactly Conv2D or Dense, then exactly ReLU', () => {
  class MyConv extends Conv2D {}
  const net = new Sequential(
    [
      new MyConv({ outChannels: 2, kernelSize: 1 }), new ReLU(), new Conv2D({ outChannels: 2, kernelSize: 1 }), new LeakyReLU(),
      new Conv2D({ outChannels: 2, kernelSize: 1 }), new ReLU(), new Flatten(), new Dense({ units: 3 }), new ReLU(),
    ],
    { inputShape: [2, 2, 1] },
  );
  assert.deepEqual((net as unknown as { fusible: boolean[] }).fusible, [false, false, false, false, true, false, false, true, false, false].slice(0, 9));
  assert.throws(() => new Sequential([new Dense({ units: 2 })], { inputShape: [3], fuse: 'yes' as unknown as boolean }), /Sequential: opts.fuse must be true or false, got "yes"/);
});

test('backwardRelu without forwardRelu names the layer', () => {
  const l = new Conv2D({ outChannels: 2, kernelSize: 1 });
  const net = new Sequential([l], { inputShape: [2, 2, 1] });
  l.forward(Tensor.zeros([1, 2, 2, 1]), true);
  assert.throws(() => l.backwardRelu(Tensor.zeros([1, 2, 2, 2])), /Conv2D.backwardRelu: call forwardRelu\(x, true\) first/);
  void net;
});
