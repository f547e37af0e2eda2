// The shared optimizer machinery: weight decay and Param.decay, zeroGrad, stateDict round trips and
// their validation, hyperparameter validation, specs and the registry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/tensor.js';
import { Param } from '../../src/layers/layer.js';
import type { Optimizer, OptimizerStateDict } from '../../src/optim/optimizer.js';
import { SGD } from '../../src/optim/sgd.js';
import { Adam } from '../../src/optim/adam.js';
import { AdamW } from '../../src/optim/adamw.js';
import { RMSProp } from '../../src/optim/rmsprop.js';
import { createOptimizer, optimizerFromSpec, optimizerNames } from '../../src/optim/registry.js';
import { param } from './util.js';

/** One configuration per optimizer, each with weight decay and every state slot in use. */
const CONFIGS: { kind: string; opts: Record<string, number | boolean> }[] = [
  { kind: 'sgd', opts: { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.1 } },
  { kind: 'adam', opts: { lr: 0.01, beta1: 0.8, beta2: 0.9, weightDecay: 0.1 } },
  { kind: 'adamw', opts: { lr: 0.01, beta1: 0.8, beta2: 0.9, weightDecay: 0.1 } },
  { kind: 'rmsprop', opts: { lr: 0.01, alpha: 0.9, momentum: 0.5, weightDecay: 0.1 } },
];

/** A weight [2, 3] (decayed) and a bias [4] (not), with fixed distinct values. */
function makeParams(): Param[] {
  return [
    new Param('weight', Tensor.fromArray([[0.5, -1, 1.5], [2, -0.25, 0.75]]), true),
    new Param('bias', Tensor.fromArray([0.1, -0.2, 0.3, -0.4]), false),
  ];
}

/** A gradient that depends on the current value (so the trajectory depends on all of the state): g = 0.3·w + 0.1·(i − 2). */
function setGrads(params: Param[]): void {
  for (const p of params) for (let i = 0; i < p.value.size; i++) p.grad.data[i] = 0.3 * p.value.data[i] + 0.1 * (i - 2);
}

function train(opt: Optimizer, params: Param[], steps: number): void {
  for (let k = 0; k < steps; k++) {
    opt.zeroGrad(params);
    setGrads(params);
    opt.step(params);
  }
}

const values = (params: Param[]): Float32Array[] => params.map((p) => p.value.data.slice());

for (const { kind, opts } of CONFIGS) {
  test(`${kind}: weight decay skips params with decay=false, and decayAll applies it to every param`, () => {
    // Same values and gradients in a decayed and a non-decayed param.
    const run = (o: Record<string, number | boolean>): Float32Array[] => {
      const ps = [param([1, -2], true), param([1, -2], false)];
      const opt = createOptimizer(kind, o);
      for (let k = 0; k < 3; k++) {
        for (const p of ps) p.grad.data.set([0.5, 0.25]);
        opt.step(ps);
      }
      return values(ps);
    };
    const [decayed, skipped] = run(opts);
    const [noDecay] = run({ ...opts, weightDecay: 0 });
    assert.deepEqual(skipped, noDecay, 'decay=false param must follow the weightDecay=0 trajectory exactly');
    assert.notDeepEqual(decayed, noDecay, 'decay=true param must be decayed');
    const [allA, allB] = run({ ...opts, decayAll: true });
    assert.deepEqual(allA, decayed);
    assert.deepEqual(allB, decayed, 'decayAll must decay the decay=false param too');
  });

  test(`${kind}: stateDict after 3 steps, reload into a fresh optimizer (via JSON), 2 more steps == 5 steps straight, bit-identical`, () => {
    const straight = makeParams();
    const a = createOptimizer(kind, opts);
    train(a, straight, 5);

    const first = makeParams();
    const b = createOptimizer(kind, opts);
    train(b, first, 3);
    // Through JSON, as a checkpoint file would be: slot arrays become number arrays (float32 values are exact in float64).
    const json = JSON.stringify(b.stateDict(first), (_k, v: unknown) => (v instanceof Float32Array ? Array.from(v) : v));
    // A fresh model with the same values, and a fresh optimizer with different (default) hyperparameters.
    const resumed = makeParams();
    resumed.forEach((p, i) => p.value.data.set(first[i].value.data));
    const c = createOptimizer(kind);
    c.loadStateDict(resumed, JSON.parse(json));
    assert.equal(c.stepCount, 3);
    assert.deepEqual(c.hyper, a.hyper, 'hyperparameters are restored');
    train(c, resumed, 2);
    assert.deepEqual(values(resumed), values(straight));
    assert.equal(c.stepCount, 5);
  });
}

test('a run that does NOT restore the state differs (so the round-trip test can fail)', () => {
  const straight = makeParams();
  const a = new Adam({ lr: 0.01 });
  train(a, straight, 5);
  const first = makeParams();
  const b = new Adam({ lr: 0.01 });
  train(b, first, 3);
  const c = new Adam({ lr: 0.01 });
  train(c, first, 2);
  assert.notDeepEqual(values(first), values(straight));
});

test('stateDict: layout, order of params, copies, and zero slots for params not stepped yet', () => {
  const ps = makeParams();
  const opt = new Adam({ lr: 0.01 });
  train(opt, ps, 2);
  const fresh = param([1, 2, 3]);
  const sd = opt.stateDict([ps[1], fresh, ps[0]]);
  assert.equal(sd.kind, 'adam');
  assert.equal(sd.step, 2);
  assert.deepEqual(Object.keys(sd.slots).sort(), ['m', 'v']);
  assert.deepEqual(sd.shapes, [[4], [3], [2, 3]]);
  assert.deepEqual(sd.slots.m.map((a) => a.length), [4, 3, 6]);
  assert.deepEqual(sd.slots.m[1], new Float32Array(3));
  assert.ok(sd.slots.v[2].every((x) => x > 0), 'v of a stepped param is positive');
  sd.slots.m[0].fill(123);
  assert.notEqual(opt.stateDict(ps).slots.m[1][0], 123, 'the dict holds copies');
  // SGD without momentum has no slots at all.
  assert.deepEqual(new SGD().stateDict(ps).slots, {});
});

test('loadStateDict rejects mismatched counts, shapes, sizes, kinds and slots, and changes nothing', () => {
  const ps = makeParams();
  const opt = new Adam({ lr: 0.01 });
  train(opt, ps, 2);
  const sd = opt.stateDict(ps);
  const target = new Adam({ lr: 0.5 });
  const reject = (params: Param[], state: OptimizerStateDict, re: RegExp): void => {
    assert.throws(() => target.loadStateDict(params, state), re);
    assert.equal(target.stepCount, 0, 'nothing was loaded');
    assert.equal(target.lr, 0.5, 'nothing was loaded');
  };
  reject([ps[0]], sd, /Adam\.loadStateDict: the state was saved for 2 params, got 1 params/);
  const transposed = [new Param('weight', Tensor.zeros([3, 2])), ps[1]];
  reject(transposed, sd, /Adam\.loadStateDict: params\[0\] \('weight'\) has shape \[3, 2\] but the state was saved for shape \[2, 3\]/);
  // Without the shapes field, element counts are still checked.
  const { shapes: _shapes, ...noShapes } = sd;
  reject([ps[0]], noShapes, /Adam\.loadStateDict: state\.slots\.m has 2 arrays, expected 1 \(one per param\)/);
  reject([ps[0], param([1, 2, 3], false)], noShapes, /state\.slots\.m\[1\] has 4 elements, but params\[1\] \('bias', shape \[3\]\) has 3/);
  reject(ps, { ...sd, kind: 'sgd' }, /Adam\.loadStateDict: state\.kind is 'sgd', expected 'adam'/);
  reject(ps, { ...sd, slots: { m: sd.slots.m } }, /state\.slots has \[m\], expected \[m, v\]/);
  reject(ps, { ...sd, step: -1 }, /state\.step must be a non-negative integer, got -1/);
  reject(ps, { ...sd, hyper: { ...sd.hyper, beta1: 2 } }, /Adam: beta1 must be a number in \[0, 1\), got 2/);
  reject([ps[0], ps[0]], sd, /params\[1\] \('weight'\) is the same Param as params\[0\]/);
  // SGD: the slots expected follow the loaded hyperparameters (momentum 0.9 needs a momentum buffer).
  const sgd = new SGD({ lr: 0.1, momentum: 0.9 });
  train(sgd, ps, 1);
  const sgdSd = sgd.stateDict(ps);
  assert.throws(() => new SGD().loadStateDict(ps, { ...sgdSd, slots: {} }), /SGD\.loadStateDict: state\.slots has \[\], expected \[momentumBuffer\]/);
});

test('zeroGrad zeroes the gradients of the given params only, keeping the tensors', () => {
  const [a, b] = makeParams();
  a.grad.data.fill(3);
  b.grad.data.fill(4);
  const gradA = a.grad;
  new SGD().zeroGrad([a]);
  assert.equal(a.grad, gradA);
  assert.deepEqual(a.grad.data, new Float32Array(6));
  assert.deepEqual(b.grad.data, new Float32Array(4).fill(4));
});

test('step leaves gradients alone and counts steps', () => {
  const p = param([1, 2]);
  p.grad.data.set([1, 1]);
  const opt = new SGD({ lr: 0.5 });
  opt.step([p]);
  opt.step([p]);
  assert.deepEqual(p.grad.data, Float32Array.of(1, 1));
  assert.deepEqual(p.value.data, Float32Array.of(0, 1));
  assert.equal(opt.stepCount, 2);
});

test('step rejects a param whose grad or state no longer matches its value', () => {
  const p = param([1, 2]);
  const opt = new Adam();
  opt.step([p]);
  p.value = Tensor.zeros([3]);
  assert.throws(() => opt.step([p]), /Adam\.step: params\[0\] \('weight'\) has a grad of 2 elements but a value of 3/);
  p.grad = Tensor.zeros([3]);
  assert.throws(() => opt.step([p]), /Adam\.step: params\[0\] \('weight'\) now has 3 elements but its optimizer state has 2/);
  assert.throws(() => opt.step([{} as Param]), /Adam\.step: params\[0\] must be a Param/);
});

test('bad hyperparameters throw naming the optimizer, the argument and the value', () => {
  const cases: [() => unknown, RegExp][] = [
    [() => new SGD({ lr: -0.1 }), /^Error: SGD: lr must be a finite number >= 0, got -0\.1$/],
    [() => new SGD({ lr: NaN }), /SGD: lr must be a finite number >= 0, got NaN/],
    [() => new SGD({ momentum: 1 }), /SGD: momentum must be a number in \[0, 1\), got 1/],
    [() => new SGD({ nesterov: true }), /SGD: nesterov requires momentum > 0, got momentum 0/],
    [() => new SGD({ weightDecay: -1 }), /SGD: weightDecay must be a finite number >= 0, got -1/],
    [() => new Adam({ beta1: 1 }), /Adam: beta1 must be a number in \[0, 1\), got 1/],
    [() => new Adam({ beta2: -0.1 }), /Adam: beta2 must be a number in \[0, 1\), got -0\.1/],
    [() => new Adam({ eps: 0 }), /Adam: eps must be a finite number > 0, got 0/],
    [() => new AdamW({ lr: -1 }), /AdamW: lr must be a finite number >= 0, got -1/],
    [() => new AdamW({ beta1: 1.5 }), /AdamW: beta1 must be a number in \[0, 1\), got 1\.5/],
    [() => new RMSProp({ alpha: 1 }), /RMSProp: alpha must be a number in \[0, 1\), got 1/],
    [() => new RMSProp({ rho: -0.5 }), /RMSProp: rho must be a number in \[0, 1\), got -0\.5/],
    [() => new RMSProp({ alpha: 0.9, rho: 0.9 }), /RMSProp: give alpha or rho/],
    [() => new RMSProp({ momentum: -0.1 }), /RMSProp: momentum must be a number in \[0, 1\), got -0\.1/],
    [() => createOptimizer('adam', { lr: '0.1' }), /Adam: lr must be a finite number >= 0, got '0\.1'/],
    [() => createOptimizer('adam', { beta: 0.9 }), /Adam: unknown option 'beta', expected one of lr, beta1, beta2, eps, weightDecay, decayAll/],
    [() => createOptimizer('adagrad'), /createOptimizer: unknown optimizer 'adagrad', expected one of sgd, adam, adamw, rmsprop/],
  ];
  for (const [make, re] of cases) assert.throws(make, re);
  // lr is settable, and validated when set.
  const opt = new Adam();
  opt.lr = 0.25;
  assert.equal(opt.lr, 0.25);
  assert.equal(opt.toSpec().hyper.lr, 0.25);
  assert.throws(() => {
    opt.lr = -1;
  }, /Adam: lr must be a finite number >= 0, got -1/);
  assert.equal(opt.lr, 0.25);
});

test('registry, toSpec/fromSpec and toString', () => {
  assert.deepEqual(optimizerNames, ['sgd', 'adam', 'adamw', 'rmsprop']);
  const classes = { sgd: SGD, adam: Adam, adamw: AdamW, rmsprop: RMSProp };
  for (const { kind, opts } of CONFIGS) {
    const opt = createOptimizer(kind.toUpperCase(), opts);
    assert.ok(opt instanceof classes[kind as keyof typeof classes], kind);
    assert.equal(opt.kind, kind);
    const spec = opt.toSpec();
    assert.deepEqual({ ...opt.hyper }, spec.hyper);
    for (const [k, v] of Object.entries(opts)) assert.equal(spec.hyper[k], v, `${kind}.${k}`);
    const again = optimizerFromSpec(JSON.parse(JSON.stringify(spec)));
    assert.deepEqual(again.toSpec(), spec);
    assert.deepEqual(classes[kind as keyof typeof classes].fromSpec(spec).toSpec(), spec);
  }
  assert.throws(() => Adam.fromSpec(new SGD().toSpec()), /Adam\.fromSpec: spec\.kind must be 'adam', got sgd/);
  assert.equal(new SGD({ lr: 0.1, momentum: 0.9 }).toString(), 'SGD(lr=0.1, momentum=0.9)');
  assert.equal(new AdamW().toString(), 'AdamW(lr=0.001)');
  assert.equal(new RMSProp({ rho: 0.9 }).toString(), 'RMSProp(lr=0.01, alpha=0.9)');
});

test('step with one bad param changes nothing', () => {
  const good = param([1, 2]);
  const bad = param([1, 2]);
  good.grad.data.set([1, 1]);
  bad.grad = Tensor.zeros([3]);
  const opt = new SGD({ lr: 0.5 });
  assert.throws(() => opt.step([good, bad]), /SGD\.step: params\[1\] \('weight'\) has a grad of 3 elements but a value of 2/);
  assert.deepEqual(good.value.data, Float32Array.of(1, 2));
  assert.equal(opt.stepCount, 0);
});
