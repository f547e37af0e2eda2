/**
 * The public gradcheck API: the low-level form, gradcheckOp and gradcheckLayer (on hand-written
 * layers, real layers, Dropout with its mask held fixed, and a whole Sequential model).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, type Shape } from '../src/tensor/tensor.js';
import { Rng } from '../src/tensor/random.js';
import { Param, type Layer, type LayerSpec } from '../src/layers/layer.js';
import { gradcheck, gradcheckOp, gradcheckLayer } from '../src/gradcheck.js';
import { Conv2D, Dense, Dropout, AvgPool2D, MaxPool2D, Tanh, Flatten, BatchNorm, Sequential } from '../src/index.js';
import { conv2d, conv2dBackward } from '../src/kernels/ops.js';
import { rng, randTensor, distinctTensor } from './helpers/tensors.js';

/** L = Σ a_i² + 3 Σ b_j, with analytic gradients 2a and 3. */
function quadratic() {
  const a = Tensor.fromArray([0.5, -1, 2, 0.25], [2, 2]);
  const b = Tensor.fromArray([1, 2, 3, 4, 5, 6], [2, 3]);
  const loss = (): number => {
    let s = 0;
    for (const v of a.data) s += v * v;
    for (const v of b.data) s += 3 * v;
    return s;
  };
  return { a, b, loss, ga: new Tensor(a.data.map((v) => 2 * v), a.shape), gb: Tensor.full(b.shape, 3) };
}

describe('gradcheck (low-level form)', () => {
  test('passes on correct gradients and checks every element', () => {
    const { a, b, loss, ga, gb } = quadratic();
    const rep = gradcheck(loss, [
      { name: 'a', value: a, grad: ga },
      { name: 'b', value: b, grad: gb },
    ]);
    assert.ok(rep.ok, rep.message);
    assert.equal(rep.checked, 10);
    assert.equal(rep.failures, 0);
    assert.match(rep.message, /^gradcheck passed: 0 of 10/);
  });

  test('reports the worst element: tensor name, flat index, coordinates, analytic, numeric, abs and rel error', () => {
    const { a, b, loss, ga, gb } = quadratic();
    gb.data[4] = 3.5; // b[1, 1] is wrong by 0.5
    ga.data[1] = -2.01; // a[0, 1] is off by 0.01, within the tolerance 1e-3 + 1e-2 · 2.01: not a failure
    const rep = gradcheck(loss, [
      { name: 'a', value: a, grad: ga },
      { name: 'b', value: b, grad: gb },
    ]);
    assert.equal(rep.ok, false);
    assert.equal(rep.failures, 1);
    const w = rep.worst!;
    assert.equal(w.tensor, 'b');
    assert.equal(w.index, 4);
    assert.deepEqual(w.coords, [1, 1]);
    assert.equal(w.analytic, 3.5);
    assert.ok(Math.abs(w.numeric - 3) < 1e-3, `numeric ${w.numeric}`);
    assert.ok(Math.abs(w.absError - 0.5) < 1e-3);
    assert.ok(Math.abs(w.relError - 0.5 / 3.5) < 1e-3);
    assert.match(rep.message, /FAILED: 1 of 10 .*Worst: tensor 'b' index 4 \(coords \[1, 1\]\): analytic 3\.50000, numeric 3\.00\d+, abs error 0\.(49|50)\d+, rel error 0\.14\d+/);
    assert.equal(rep.tensors[0].failures, 0);
    assert.equal(rep.tensors[1].failures, 1);
  });

  test('tolerance is |a - n| <= atol + rtol · max(|a|, |n|), with the options honoured', () => {
    const x = Tensor.fromArray([0.3]);
    const loss = (): number => x.data[0]; // numeric derivative 1
    const check = (g: number, atol: number, rtol: number) => gradcheck(loss, [{ name: 'x', value: x, grad: [g] }], { atol, rtol }).ok;
    assert.equal(check(1.02, 0, 0.01), false); // 0.02 > 0.01 · 1.02
    assert.equal(check(1.02, 0, 0.0199), true); // 0.02 <= 0.0199 · 1.02 = 0.0203 (would fail with min(|a|, |n|) = 1)
    assert.equal(check(1.02, 0.021, 0), true);
    assert.equal(check(1.02, 0.019, 0), false);
    assert.equal(check(NaN, 1, 1), false);
  });

  test('differences are taken in float64: L = 1e4 + Σ x is exact to 1e-9 (float32 sums would be off by ~5%)', () => {
    const x = Tensor.fromArray([0.1, -0.7, 0.33]);
    const loss = (): number => 1e4 + x.data[0] + x.data[1] + x.data[2];
    const rep = gradcheck(loss, [{ name: 'x', value: x, grad: [1, 1, 1] }], { atol: 0, rtol: 1e-9 });
    assert.ok(rep.ok, rep.message);
    const f32 = (): number => Math.fround(Math.fround(Math.fround(1e4 + x.data[0]) + x.data[1]) + x.data[2]);
    assert.equal(gradcheck(f32, [{ name: 'x', value: x, grad: [1, 1, 1] }], { atol: 0, rtol: 1e-3 }).ok, false);
  });

  test('every perturbed value is restored bit for bit, even when loss() throws', () => {
    const x = randTensor([3, 4], rng(5));
    const before = x.data.slice();
    gradcheck(() => x.data.reduce((s, v) => s + Math.sin(v), 0), [{ name: 'x', value: x, grad: x.data.map(Math.cos) }]);
    assert.deepEqual(x.data, before);
    let calls = 0;
    assert.throws(
      () =>
        gradcheck(
          () => {
            if (++calls === 5) throw new Error('boom');
            return 0;
          },
          [{ name: 'x', value: x, grad: new Float32Array(12) }],
        ),
      /boom/,
    );
    assert.deepEqual(x.data, before);
  });

  test('maxElements checks a seeded random subset of each tensor', () => {
    const x = randTensor([10, 10], rng(6));
    const touched = (seed: number): number[] => {
      const seen = new Set<number>();
      const orig = x.data.slice();
      const rep = gradcheck(
        () => {
          x.data.forEach((v, i) => v !== orig[i] && seen.add(i));
          return x.data.reduce((s, v) => s + 2 * v, 0);
        },
        [{ name: 'x', value: x, grad: Tensor.full([10, 10], 2) }],
        { maxElements: 7, seed },
      );
      assert.ok(rep.ok, rep.message);
      assert.equal(rep.checked, 7);
      return [...seen].sort((p, q) => p - q);
    };
    const s1 = touched(1);
    assert.equal(s1.length, 7);
    assert.deepEqual(touched(1), s1);
    assert.notDeepEqual(touched(2), s1);
  });

  test('refuses a non-deterministic loss, a gradient of the wrong size, and duplicate names', () => {
    const x = Tensor.fromArray([1, 2]);
    const r = new Rng(1);
    assert.throws(() => gradcheck(() => x.data[0] + r.next(), [{ name: 'x', value: x, grad: [1, 0] }]), /gradcheck: loss\(\) is not deterministic/);
    assert.throws(() => gradcheck(() => 0, [{ name: 'x', value: x, grad: [1, 0, 0] }]), /gradcheck: target 'x' grad has 3 elements, expected 2 \(value shape \[2\]\)/);
    assert.throws(() => gradcheck(() => 0, [{ name: 'x', value: x, grad: Tensor.zeros([2, 1]) }]), /gradcheck: target 'x' grad has shape \[2, 1\], expected \[2\]/);
    assert.throws(
      () =>
        gradcheck(() => 0, [
          { name: 'x', value: x, grad: [0, 0] },
          { name: 'x', value: x, grad: [0, 0] },
        ]),
      /duplicate target name 'x'/,
    );
    assert.throws(() => gradcheck(() => 0, [], { eps: 0 }), /gradcheck: eps must be a positive finite number, got 0/);
  });
});

describe('gradcheckOp', () => {
  test("accepts a kernel's {dx, dw, db} for inputs {x, w, b} and catches a wrong one", () => {
    const x = randTensor([1, 4, 5, 2], rng(1));
    const w = randTensor([2, 3, 2, 3], rng(2));
    const b = randTensor([3], rng(3));
    const o = { stride: 2, padding: 'same' as const };
    const good = gradcheckOp(() => conv2d(x, w, b, o), (dy) => conv2dBackward(dy, x, w, o), { x, w, b });
    assert.ok(good.ok, good.message);
    assert.equal(good.checked, x.size + w.size + b.size);
    const bad = gradcheckOp(
      () => conv2d(x, w, b, o),
      (dy) => {
        const g = conv2dBackward(dy, x, w, o);
        return { ...g, db: new Tensor(g.db.data.map((v) => -v), g.db.shape) };
      },
      { x, w, b },
    );
    assert.equal(bad.ok, false);
    assert.equal(bad.worst!.tensor, 'b');
  });

  test('names a missing gradient', () => {
    const x = Tensor.fromArray([1]);
    assert.throws(() => gradcheckOp(() => x.clone(), () => ({ dz: x }), { x }), /returned no gradient for input 'x' \(expected key 'x' or 'dx', got dz\)/);
  });
});

/** y = x · s + t elementwise along the last axis, with params s and t. */
class ScaleShift implements Layer {
  readonly type = 'ScaleShift';
  s?: Param;
  t?: Param;
  private x?: Tensor;
  constructor(private readonly mode: 'correct' | 'overwrite' | 'wrong-dx' = 'correct') {}
  build(inputShape: Shape, rng: Rng): Shape {
    const c = inputShape[inputShape.length - 1];
    this.s = new Param('scale', Tensor.rand([c], { rng, low: 0.5, high: 1.5 }));
    this.t = new Param('shift', Tensor.rand([c], { rng }), false);
    return inputShape;
  }
  forward(x: Tensor, training: boolean): Tensor {
    const c = this.s!.value.size;
    const y = new Float32Array(x.size);
    for (let i = 0; i < x.size; i++) y[i] = x.data[i] * this.s!.value.data[i % c] + this.t!.value.data[i % c];
    if (training) this.x = x;
    return new Tensor(y, x.shape);
  }
  backward(dy: Tensor): Tensor {
    const x = this.x!;
    const c = this.s!.value.size;
    const dx = new Float32Array(x.size);
    const ds = new Float64Array(c);
    const dt = new Float64Array(c);
    for (let i = 0; i < x.size; i++) {
      dx[i] = dy.data[i] * this.s!.value.data[i % c] * (this.mode === 'wrong-dx' && i === 3 ? 2 : 1);
      ds[i % c] += dy.data[i] * x.data[i];
      dt[i % c] += dy.data[i];
    }
    for (let k = 0; k < c; k++) {
      if (this.mode === 'overwrite') {
        this.s!.grad.data[k] = ds[k];
        this.t!.grad.data[k] = dt[k];
      } else {
        this.s!.grad.data[k] += ds[k];
        this.t!.grad.data[k] += dt[k];
      }
    }
    return new Tensor(dx, x.shape);
  }
  params(): Param[] {
    return [this.s!, this.t!];
  }
  buffers() {
    return [];
  }
  toSpec(): LayerSpec {
    return { type: this.type, config: {} };
  }
  flops(): number {
    return 0;
  }
  toString(): string {
    return 'ScaleShift()';
  }
}

describe('gradcheckLayer', () => {
  test('a correct layer passes: dx and every param.grad are checked, and params are left as they were', () => {
    const layer = new ScaleShift();
    const rep = gradcheckLayer(layer, [2, 3, 4], { seed: 1 });
    assert.ok(rep.ok, rep.message);
    assert.deepEqual(
      rep.tensors.map((t) => [t.name, t.checked]),
      [
        ['x', 24],
        ['scale', 4],
        ['shift', 4],
      ],
    );
    assert.deepEqual(rep.dy.shape, [2, 3, 4]);
  });

  test('a backward that overwrites param.grad instead of adding to it fails', () => {
    const rep = gradcheckLayer(new ScaleShift('overwrite'), [2, 3, 4], { seed: 1 });
    assert.equal(rep.ok, false);
    assert.match(rep.worst!.tensor, /scale|shift/);
    assert.match(rep.message, /^ScaleShift: gradcheck FAILED/);
  });

  test('a wrong dx is reported at its element', () => {
    const rep = gradcheckLayer(new ScaleShift('wrong-dx'), [2, 3, 4], { seed: 1 });
    assert.equal(rep.ok, false);
    assert.equal(rep.failures, 1);
    assert.equal(rep.worst!.tensor, 'x');
    assert.equal(rep.worst!.index, 3);
    assert.deepEqual(rep.worst!.coords, [0, 0, 3]);
  });

  test('param values and grads are restored after the check', () => {
    const layer = new ScaleShift();
    layer.build([4], new Rng(3));
    layer.s!.grad.data.fill(0.25);
    const s = layer.s!.value.data.slice();
    const rep = gradcheckLayer(layer, [3, 4], { build: false });
    assert.ok(rep.ok, rep.message);
    assert.deepEqual(layer.s!.value.data, s);
    assert.deepEqual(layer.s!.grad.data, Float32Array.from([0.25, 0.25, 0.25, 0.25]));
  });

  test('Conv2D layer (stride 2, same padding, bias)', () => {
    const rep = gradcheckLayer(new Conv2D({ outChannels: 3, kernelSize: [3, 2], stride: 2, padding: 'same' }), [2, 5, 6, 2], { seed: 2 });
    assert.ok(rep.ok, rep.message);
    assert.deepEqual(
      rep.tensors.map((t) => t.name),
      ['x', 'weight', 'bias'],
    );
  });

  test('Dense layer', () => {
    const rep = gradcheckLayer(new Dense({ units: 4 }), [3, 5], { seed: 3 });
    assert.ok(rep.ok, rep.message);
  });

  test('MaxPool2D layer on an input without near-ties', () => {
    const rep = gradcheckLayer(new MaxPool2D({ kernelSize: 2, padding: 'same' }), [1, 5, 5, 2], { input: distinctTensor([1, 5, 5, 2], rng(4)) });
    assert.ok(rep.ok, rep.message);
  });

  test('Dropout (rate 0.5): the mask is held fixed by replaying the build Rng before every forward', () => {
    const layer = new Dropout({ rate: 0.5 });
    const rep = gradcheckLayer(layer, [2, 4, 4, 3], { seed: 5 });
    assert.ok(rep.ok, rep.message);
    // it really is random: two training forwards without the replay differ
    const x = randTensor([2, 4, 4, 3], rng(6));
    assert.notDeepEqual(layer.forward(x, true).data, layer.forward(x, true).data);
  });

  test('a layer whose randomness gradcheckLayer cannot replay is refused, not mis-reported', () => {
    /** Multiplies by noise from a private generator forked at build time (out of reach of the replay). */
    class Noisy extends ScaleShift {
      private gen = new Rng(0);
      override build(inputShape: Shape, r: Rng): Shape {
        this.gen = r.fork();
        return super.build(inputShape, r);
      }
      override forward(x: Tensor, training: boolean): Tensor {
        const y = super.forward(x, training);
        return new Tensor(y.data.map((v) => v * (1 + 0.1 * this.gen.next())), y.shape);
      }
    }
    assert.throws(() => gradcheckLayer(new Noisy(), [2, 3], { seed: 1 }), /gradcheck: loss\(\) is not deterministic/);
  });

  test('BatchNorm (training path through the batch statistics); running statistics are restored', () => {
    const layer = new BatchNorm();
    layer.build([3], new Rng(0));
    layer.gamma!.value.data.set([0.5, 2, -1]);
    const before = layer.buffers().map((b) => b.value.data.slice());
    const rep = gradcheckLayer(layer, [6, 3], { build: false, seed: 8 });
    assert.ok(rep.ok, rep.message);
    assert.deepEqual(
      layer.buffers().map((b) => b.value.data),
      before,
    );
  });

  test('a whole Sequential model (conv, tanh, avg-pool, dropout, dense) with dropout masks held fixed', () => {
    const model = new Sequential(
      [new Conv2D({ outChannels: 3, kernelSize: 3, padding: 'same' }), new Tanh(), new AvgPool2D({ kernelSize: 2 }), new Dropout({ rate: 0.3 }), new Flatten(), new Dense({ units: 3 })],
      { inputShape: [4, 4, 2], seed: 9 },
    );
    const rep = gradcheckLayer(model, [2, 4, 4, 2], { build: false, seed: 9 });
    assert.ok(rep.ok, rep.message);
    assert.deepEqual(
      rep.tensors.map((t) => t.name),
      ['x', '0.weight', '0.bias', '5.weight', '5.bias'],
    );
  });
});
