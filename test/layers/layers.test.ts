/**
 * Every layer passes a numeric gradient check (dx and every param.grad, via gradcheckLayer) over
 * several configurations, caches nothing in inference mode, and rebuilds from its spec.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Tensor, Rng, Conv2D, Dense, MaxPool2D, AvgPool2D, GlobalAvgPool2D, Flatten, ReLU, LeakyReLU, Sigmoid, Tanh, Softmax,
  Dropout, BatchNorm, layerFromSpec, type Layer,
} from '../../src/index.js';
import { gradcheckLayer } from '../../src/gradcheck.js';

/** Inputs for kinked layers (ReLU, max-pool): distinct values, all at least 0.05 from 0 and from each other. */
function spreadInput(shape: number[], seed: number): Tensor {
  const rng = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const values = Array.from({ length: n }, (_, i) => (i - n / 2 + 0.5) * 0.1 + (i >= n / 2 ? 0.05 : -0.05));
  rng.shuffle(values);
  return new Tensor(Float32Array.from(values), shape);
}

interface Case {
  name: string;
  make: () => Layer;
  shape: number[];
  kinked?: boolean;
}

const cases: Case[] = [
  { name: 'Conv2D 3x3 same', make: () => new Conv2D({ outChannels: 3, kernelSize: 3, padding: 'same' }), shape: [2, 5, 4, 2] },
  { name: 'Conv2D 2x3 s=2 d=[1,2] p=[1,0,2,1]', make: () => new Conv2D({ outChannels: 2, kernelSize: [2, 3], stride: 2, dilation: [1, 2], padding: [1, 0, 2, 1] }), shape: [1, 6, 7, 1] },
  { name: 'Conv2D 1x1 no bias glorot', make: () => new Conv2D({ outChannels: 4, kernelSize: 1, bias: false, init: 'glorot' }), shape: [3, 2, 2, 3] },
  { name: 'Conv2D 3x3 s=3 d=3 same', make: () => new Conv2D({ outChannels: 2, kernelSize: 3, stride: 3, dilation: 3, padding: 'same' }), shape: [1, 8, 7, 2] },
  { name: 'Dense', make: () => new Dense({ units: 5 }), shape: [3, 7] },
  { name: 'Dense no bias', make: () => new Dense({ units: 2, bias: false, init: 'glorot-normal' }), shape: [1, 4] },
  { name: 'MaxPool2D 2', make: () => new MaxPool2D({ kernelSize: 2 }), shape: [2, 4, 5, 3], kinked: true },
  { name: 'MaxPool2D 3 s=2 same', make: () => new MaxPool2D({ kernelSize: 3, stride: 2, padding: 'same' }), shape: [1, 5, 6, 2], kinked: true },
  { name: 'AvgPool2D 2 same', make: () => new AvgPool2D({ kernelSize: 2, padding: 'same' }), shape: [2, 5, 3, 2] },
  { name: 'AvgPool2D [3,2] s=[1,2] p=[1,2,1,1]', make: () => new AvgPool2D({ kernelSize: [3, 2], stride: [1, 2], padding: [1, 2, 1, 1] }), shape: [1, 4, 5, 1] },
  { name: 'GlobalAvgPool2D', make: () => new GlobalAvgPool2D(), shape: [2, 3, 4, 5] },
  { name: 'Flatten', make: () => new Flatten(), shape: [2, 3, 2, 2] },
  { name: 'ReLU', make: () => new ReLU(), shape: [2, 3, 3, 2], kinked: true },
  { name: 'LeakyReLU', make: () => new LeakyReLU({ alpha: 0.2 }), shape: [2, 6], kinked: true },
  { name: 'Sigmoid', make: () => new Sigmoid(), shape: [2, 3, 2, 1] },
  { name: 'Tanh', make: () => new Tanh(), shape: [3, 4] },
  { name: 'Softmax', make: () => new Softmax(), shape: [3, 5] },
  { name: 'Dropout 0.5', make: () => new Dropout({ rate: 0.5 }), shape: [2, 10] },
  { name: 'BatchNorm NHWC', make: () => new BatchNorm(), shape: [3, 2, 3, 4] },
  { name: 'BatchNorm [N, F]', make: () => new BatchNorm({ eps: 1e-3 }), shape: [5, 3] },
];

for (const c of cases) {
  test(`gradcheck ${c.name} x=[${c.shape.join(',')}]`, () => {
    const layer = c.make();
    const input = c.kinked ? spreadInput(c.shape, 7) : undefined;
    const report = gradcheckLayer(layer, c.shape, { seed: 3, input });
    assert.ok(report.ok, report.message);
    if (layer.params().length > 0) assert.ok(report.tensors.length === 1 + layer.params().length, 'every param was checked');
  });

  test(`${c.name}: inference caches nothing; spec round trip rebuilds the same layer`, () => {
    const layer = c.make();
    const out = layer.build(c.shape.slice(1), new Rng(1));
    const x = Tensor.randn(c.shape, { seed: 2 });
    const y = layer.forward(x, false);
    assert.deepEqual(y.shape, [c.shape[0], ...out]);
    assert.throws(() => layer.backward(y), /call forward\(x, true\) first/);
    const again = layerFromSpec(JSON.parse(JSON.stringify(layer.toSpec())));
    assert.deepEqual(again.build(c.shape.slice(1), new Rng(1)), out);
    assert.equal(again.toString(), layer.toString());
    // Same seed, same init: the rebuilt layer computes the same thing.
    assert.deepEqual(Array.from(again.forward(x, false).data), Array.from(y.data));
  });
}

test('Dropout: inverted scaling, identity in inference, mask fixed by the seed', () => {
  const make = () => {
    const d = new Dropout({ rate: 0.25 });
    d.build([1000], new Rng(9));
    return d;
  };
  const x = Tensor.ones([4, 1000]);
  const a = make().forward(x, true);
  const b = make().forward(x, true);
  assert.deepEqual(a.data, b.data);
  const kept = a.data.filter((v) => v !== 0);
  for (const v of kept) assert.equal(v, Math.fround(1 / 0.75));
  const frac = kept.length / a.size;
  assert.ok(Math.abs(frac - 0.75) < 0.03, `kept fraction ${frac}`);
  assert.equal(make().forward(x, false), x);
});

test('BatchNorm: normalises in training, uses running statistics in inference', () => {
  const bn = new BatchNorm({ momentum: 0.5 });
  bn.build([2], new Rng(0));
  const x = Tensor.fromArray([[1, 10], [3, 20], [5, 60]]);
  const y = bn.forward(x, true);
  // Column 0: mean 3, biased variance 8/3.
  const s = Math.sqrt(8 / 3 + 1e-5);
  assert.ok(Math.abs(y.get(0, 0) - (1 - 3) / s) < 1e-5);
  assert.ok(Math.abs(y.get(2, 0) - (5 - 3) / s) < 1e-5);
  // running = 0.5 * initial + 0.5 * batch (unbiased variance 4 for column 0).
  assert.ok(Math.abs(bn.runningMean!.data[0] - 1.5) < 1e-6);
  assert.ok(Math.abs(bn.runningVar!.data[0] - (0.5 * 1 + 0.5 * 4)) < 1e-6);
  const yi = bn.forward(Tensor.fromArray([[1.5, 0]]), false);
  assert.ok(Math.abs(yi.get(0, 0)) < 1e-6, 'the running mean maps to 0');
});

test('layers reject bad options and wrong inputs with messages that name them', () => {
  assert.throws(() => new Conv2D({ outChannels: 0, kernelSize: 3 }), /Conv2D: outChannels must be a positive integer, got 0/);
  assert.throws(() => new Conv2D({ outChannels: 2, kernelSize: 2.5 }), /Conv2D: kernelSize/);
  assert.throws(() => new Conv2D({ outChannels: 2, kernelSize: 3, init: 'bogus' as never }), /Conv2D: init must be one of/);
  assert.throws(() => new Dense({ units: -1 }), /Dense: units must be a positive integer/);
  assert.throws(() => new MaxPool2D({ kernelSize: 0 }), /MaxPool2D: kernelSize/);
  assert.throws(() => new Dropout({ rate: 1 }), /Dropout: rate must be in \[0, 1\)/);
  const conv = new Conv2D({ outChannels: 2, kernelSize: 3 });
  conv.build([5, 5, 3], new Rng(0));
  assert.throws(() => conv.forward(Tensor.zeros([1, 5, 5, 2]), false), /Conv2D.forward: x has shape \[1, 5, 5, 2\], expected \[N, 5, 5, 3\]/);
  assert.throws(() => new Dense({ units: 2 }).build([4, 4, 1], new Rng(0)), /Dense.build: input must be \[features\]/);
  assert.throws(() => new Conv2D({ outChannels: 2, kernelSize: 7 }).build([5, 5, 1], new Rng(0)), /kernel larger than the padded input/);
});
