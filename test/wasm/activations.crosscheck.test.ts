/**
 * The wasm elementwise activations against the reference on 200 seeded random tensors each, with
 * NaN-poisoned outputs, special values (NaN, ±0, ±Infinity, tiny and huge numbers) and lengths that
 * are not multiples of 4. relu is exact; leaky relu, sigmoid, tanh and the gradients agree within
 * 1e-6 relative (+1e-7 absolute): float32 arithmetic and a polynomial e^t instead of float64 Math.exp.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import { Rng, Tensor, reference } from '../../src/index.js';
import { wasm, initWasm, wasmRuntime } from '../../src/kernels/wasm/index.js';
import { detectFeatures } from '../../src/kernels/wasm/loader.js';
import { checksum } from './helpers.js';

const SPECIAL = [NaN, 0, -0, Infinity, -Infinity, 1e-30, -1e-30, 1e-6, -1e-6, 0.55, -0.55, 0.5499, 88, -88, 100, -100, 1e30, -1e30];

function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

/** Throws unless got matches want: NaN where want is NaN, equal infinities, else within 1e-6 relative + 1e-7. */
function assertClose(got: Float32Array, want: Float32Array, what: string, inputs: Float32Array): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    const ok = Number.isNaN(w) ? Number.isNaN(g) : !Number.isFinite(w) ? g === w : Math.abs(g - w) <= 1e-6 * Math.abs(w) + 1e-7;
    if (!ok) assert.fail(`${what}: element ${i} (input ${inputs[i]}) is ${g}, reference ${w}`);
  }
}

function randomCase(seed: number): { x: Tensor; dy: Tensor; alpha: number; ctx: string } {
  const rng = new Rng(seed);
  const shape = [1 + rng.int(4), 1 + rng.int(9), 1 + rng.int(7)];
  const scale = [0.1, 1, 5, 30][rng.int(4)];
  const x = Tensor.randn(shape, { seed: seed * 2, std: scale });
  for (let i = 0; i < x.size; i++) if (rng.int(5) === 0) x.data[i] = SPECIAL[rng.int(SPECIAL.length)];
  const dy = Tensor.randn(shape, { seed: seed * 2 + 1 });
  const alpha = [0.01, 0.1, 0.2, 0.3][rng.int(4)];
  return { x, dy, alpha, ctx: `seed=${seed} shape=[${shape}] std=${scale} alpha=${alpha}` };
}

/** Runs f with every arena allocation poisoned with NaN, and checks that it left its inputs alone. */
function poisoned<T>(inputs: Tensor[], f: () => T, ctx: string): T {
  const rt = wasmRuntime()!;
  const sums = inputs.map((t) => checksum(t.data));
  rt.poison = NaN;
  try {
    return f();
  } finally {
    rt.poison = null;
    assert.deepEqual(inputs.map((t) => checksum(t.data)), sums, `${ctx}: inputs changed`);
  }
}

test('relu and reluBackward wasm = reference exactly on 200 random tensors', () => {
  assert.ok(initWasm());
  for (let seed = 1; seed <= 200; seed++) {
    const { x, dy, ctx } = randomCase(seed);
    const y = poisoned([x], () => wasm.relu(x), ctx);
    const dx = poisoned([x, dy], () => wasm.reluBackward(dy, x), ctx);
    // relu is exact: the same values, including NaN; ±0 only in sign (the reference maps -0 to +0 as well)
    assert.ok(sameBits(y.data, reference.relu(x).data), `${ctx}: relu differs`);
    assert.ok(sameBits(dx.data, reference.reluBackward(dy, x).data), `${ctx}: reluBackward differs`);
    assert.deepEqual(y.shape, x.shape);
  }
});

function checkSmooth(seed0: number): void {
  for (let seed = seed0; seed < seed0 + 200; seed++) {
    const { x, dy, alpha, ctx } = randomCase(seed);
    assertClose(poisoned([x], () => wasm.leakyRelu(x, alpha), ctx).data, reference.leakyRelu(x, alpha).data, `${ctx} leakyRelu`, x.data);
    assertClose(poisoned([x, dy], () => wasm.leakyReluBackward(dy, x, alpha), ctx).data, reference.leakyReluBackward(dy, x, alpha).data, `${ctx} leakyReluBackward`, x.data);
    const s = reference.sigmoid(x);
    assertClose(poisoned([x], () => wasm.sigmoid(x), ctx).data, s.data, `${ctx} sigmoid`, x.data);
    assertClose(poisoned([dy, s], () => wasm.sigmoidBackward(dy, s), ctx).data, reference.sigmoidBackward(dy, s).data, `${ctx} sigmoidBackward`, s.data);
    const t = reference.tanh(x);
    const got = poisoned([x], () => wasm.tanh(x), ctx);
    assertClose(got.data, t.data, `${ctx} tanh`, x.data);
    assert.deepEqual(got.shape, x.shape);
    assertClose(poisoned([dy, t], () => wasm.tanhBackward(dy, t), ctx).data, reference.tanhBackward(dy, t).data, `${ctx} tanhBackward`, t.data);
  }
}

test('leakyRelu, sigmoid, tanh and their gradients wasm = reference on 200 random tensors each', () => {
  assert.ok(initWasm());
  assert.equal(wasmRuntime()!.variant.startsWith('simd'), true);
  checkSmooth(1);
});

test('sigmoid and tanh: signs, symmetry and saturation on a dense sweep of [-20, 20]', () => {
  assert.ok(initWasm());
  const n = 40001;
  const x = new Tensor(Float32Array.from({ length: n }, (_, i) => -20 + (40 * i) / (n - 1)), [n]);
  const s = wasm.sigmoid(x).data;
  const t = wasm.tanh(x).data;
  for (let i = 0; i < n; i++) {
    const v = x.data[i];
    assert.ok(s[i] >= 0 && s[i] <= 1, `sigmoid(${v}) = ${s[i]}`);
    assert.ok(Math.abs(s[i] + s[n - 1 - i] - 1) <= 3e-7, `sigmoid(${v}) + sigmoid(${-v}) = ${s[i] + s[n - 1 - i]}`);
    assert.ok(t[i] === -t[n - 1 - i], `tanh is odd at ${v}`);
    assert.ok(Math.abs(t[i] - Math.fround(Math.tanh(v))) <= 1e-6 * Math.abs(Math.tanh(v)) + 1e-9, `tanh(${v}) = ${t[i]}`);
  }
  assert.equal(s[n - 1], 1);
  assert.equal(t[n - 1], 1);
});

test('the relaxed-SIMD (FMA) build: leakyRelu, sigmoid, tanh and gradients = reference on 200 more random tensors', () => {
  v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  const f = detectFeatures();
  assert.ok(f.relaxedSimd, 'relaxed SIMD after enabling the V8 flag');
  assert.ok(initWasm(f));
  assert.equal(wasmRuntime()!.variant.startsWith('relaxed'), true);
  checkSmooth(1001);
});
