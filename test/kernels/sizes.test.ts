/**
 * Bounded sizes at the op boundary (issue 9, item 11): an output too large for one tensor is
 * refused before anything is allocated, naming the op and the sizes, on every backend; geometry
 * is computed in safe integers; a huge stride or dilation that gives a valid small output works
 * on the wasm backend exactly as on the reference (the wasm parameter blocks are int32).
 *
 * The refused sizes are all above 2^32 elements, so even without the check nothing large is
 * allocated: Float32Array refuses such a length at once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, conv2d, conv2dBackward, maxPool2d, maxPool2dBackward, avgPool2d, avgPool2dBackward, dense, setBackend, getBackend, type ConvWindowOptions, type PoolWindowOptions } from '../../src/index.js';
import { initWasm } from '../../src/kernels/wasm/index.js';

const haveWasm = initWasm();
const backends = haveWasm ? ['reference', 'wasm'] : ['reference'];

function onEach(f: (backend: string) => void): void {
  const before = getBackend();
  try {
    for (const b of backends) {
      setBackend(b);
      f(b);
    }
  } finally {
    setBackend(before);
  }
}

const limit = /more than the 2,147,483,647 a tensor can hold/;

test('an output over 2^31 - 1 elements is refused by the op, naming it and the sizes, on every backend', () => {
  onEach((b) => {
    const t0 = performance.now();
    assert.throws(
      () => conv2d(Tensor.zeros([1, 1, 1, 1]), Tensor.zeros([1, 1, 1, 1]), null, { padding: 50_000 }),
      (e: Error) => /^conv2d: the output \[1, 100001, 100001, 1\] would have 10,000,200,001 elements \(37\.3 GiB of float32\)/.test(e.message) && limit.test(e.message),
      b,
    );
    const x = Tensor.zeros([1, 1, 1, 2]);
    const big: PoolWindowOptions = { kernelSize: 60_000, stride: 1, padding: 59_999 };
    for (const [name, f] of [
      ['maxPool2d', () => maxPool2d(x, big)],
      ['avgPool2d', () => avgPool2d(x, big)],
    ] as const) {
      assert.throws(f, (e: Error) => e.message.startsWith(`${name}: the output [1, 60000, 60000, 2] would have 7,200,000,000 elements`) && limit.test(e.message), b);
    }
    assert.throws(
      () => dense(Tensor.zeros([70_000, 1]), Tensor.zeros([1, 70_000]), null),
      (e: Error) => e.message.startsWith('dense: the output [70000, 70000] would have 4,900,000,000 elements') && limit.test(e.message),
      b,
    );
    assert.ok(performance.now() - t0 < 1000, 'refused without computing anything');
  });
  assert.throws(() => Tensor.zeros([100_000, 100_000]), /^Error: Tensor\.zeros: shape \[100000, 100000\] would have 10,000,000,000 elements .*more than the 2,147,483,647/);
  assert.throws(() => Tensor.rand([100_000, 100_000]), /^Error: Tensor\.zeros: shape \[100000, 100000\] would have/);
  assert.throws(() => Tensor.ones([100_000, 100_000]), /^Error: Tensor\.full: shape \[100000, 100000\] would have/);
});

test('options beyond safe integers are refused; geometry past 2^53 is refused instead of rounded', () => {
  const x = Tensor.zeros([1, 3, 3, 1]);
  const w = Tensor.zeros([3, 3, 1, 1]);
  assert.throws(() => conv2d(x, w, null, { stride: 2 ** 53 }), /^Error: conv2d: stride must be a positive integer or a pair of them, got 9007199254740992/);
  assert.throws(() => conv2d(x, w, null, { padding: 2 ** 60 }), /^Error: conv2d: padding must hold non-negative integers, got 1152921504606847000/);
  assert.throws(() => conv2d(x, w, null, { dilation: 2 ** 52 }), /^Error: conv2d: the effective kernel height \(kH - 1\) \* dilationH \+ 1 is 9007199254740992, beyond 2\^53/);
  assert.throws(() => conv2d(x, Tensor.zeros([1, 1, 1, 1]), null, { padding: [2 ** 52, 2 ** 52, 0, 0] }), /^Error: conv2d: the padded height is \d+, beyond 2\^53/);
});

/** The largest absolute difference, or Infinity when the shapes differ. */
function maxDiff(a: Tensor, b: Tensor): number {
  if (a.shape.join() !== b.shape.join()) return Infinity;
  let m = 0;
  for (let i = 0; i < a.size; i++) m = Math.max(m, Math.abs(a.data[i] - b.data[i]));
  return m;
}

test('a huge stride or dilation with a valid small output gives the same results on wasm as on the reference', { skip: haveWasm ? false : 'no WebAssembly SIMD' }, () => {
  const convCases: [number[], number[], ConvWindowOptions][] = [
    [[2, 5, 5, 4], [3, 3, 4, 8], { stride: 2 ** 31 }],
    [[2, 5, 5, 1], [3, 3, 1, 8], { stride: 2 ** 31 }], // Cin < 4: the path that refused it (a 32 GB slack)
    [[1, 5, 6, 2], [2, 3, 2, 3], { stride: [2 ** 40, 1], padding: 'same' }],
    [[1, 5, 5, 4], [1, 1, 4, 8], { dilation: 2 ** 31 }],
    [[1, 5, 5, 1], [1, 3, 1, 8], { dilation: [2 ** 33, 1], stride: [1, 2 ** 32] }],
    [[1, 4, 4, 3], [3, 3, 3, 5], { stride: 2 ** 53 - 1, padding: 1 }],
    // Padding past int32 with a stride that skips it: the wasm glue hands this to the reference.
    [[1, 1, 3, 1], [1, 1, 1, 2], { padding: [0, 0, 2 ** 31, 2 ** 31], stride: [1, 2 ** 31] }],
  ];
  for (const [xs, ws, opts] of convCases) {
    const x = Tensor.randn(xs, { seed: 1 });
    const w = Tensor.randn(ws, { seed: 2 });
    const b = Tensor.randn([ws[3]], { seed: 3 });
    const got: Record<string, { y: Tensor; dx: Tensor; dw: Tensor; db: Tensor }> = {};
    onEach((be) => {
      const y = conv2d(x, w, b, opts);
      const dy = Tensor.randn(y.shape, { seed: 4 });
      got[be] = { y, ...conv2dBackward(dy, x, w, opts) };
    });
    const where = `${JSON.stringify(xs)} * ${JSON.stringify(ws)} ${JSON.stringify(opts)}`;
    for (const k of ['y', 'dx', 'dw', 'db'] as const) {
      assert.ok(maxDiff(got.wasm[k], got.reference[k]) < 1e-4, `${k} of ${where}: wasm differs from the reference by ${maxDiff(got.wasm[k], got.reference[k])}`);
    }
    assert.ok(got.reference.y.size > 0);
  }
  const poolCases: [number[], PoolWindowOptions][] = [
    [[2, 5, 5, 3], { kernelSize: 2, stride: 2 ** 31 }],
    [[1, 5, 7, 4], { kernelSize: [2, 3], stride: [2 ** 32, 1], padding: 'same' }],
    [[1, 1, 3, 2], { kernelSize: 1, stride: [1, 2 ** 31] }],
  ];
  for (const [xs, opts] of poolCases) {
    const x = Tensor.randn(xs, { seed: 5 });
    const got: Record<string, Tensor[]> = {};
    onEach((be) => {
      const ym = maxPool2d(x, opts);
      const ya = avgPool2d(x, opts);
      const dy = Tensor.randn(ym.shape, { seed: 6 });
      got[be] = [ym, ya, maxPool2dBackward(dy, x, opts), avgPool2dBackward(dy, x, opts)];
    });
    got.wasm.forEach((t, i) => assert.ok(maxDiff(t, got.reference[i]) < 1e-5, `pool output ${i} of ${JSON.stringify(xs)} ${JSON.stringify(opts)}`));
  }
});
