/**
 * The DepthwiseConv2D layer: numeric gradient check (dx and every param.grad) over several
 * configurations, the registry and the model file (save, load, identical outputs and bytes),
 * plan() against build(), summary and FLOPs, and bad options.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Tensor,
  Rng,
  Sequential,
  DepthwiseConv2D,
  Conv2D,
  ReLU,
  BatchNorm,
  GlobalAvgPool2D,
  Dense,
  layerFromSpec,
  layerTypes,
  builtinLayerType,
  serializeModel,
  deserializeModel,
} from '../../src/index.js';
import { gradcheckLayer } from '../../src/gradcheck.js';

const cases: { name: string; make: () => DepthwiseConv2D; shape: number[] }[] = [
  { name: '3x3 same', make: () => new DepthwiseConv2D({ kernelSize: 3, padding: 'same' }), shape: [2, 5, 4, 3] },
  { name: 'M=2 2x3 s=2 d=[1,2] p=[1,0,2,1]', make: () => new DepthwiseConv2D({ kernelSize: [2, 3], depthMultiplier: 2, stride: 2, dilation: [1, 2], padding: [1, 0, 2, 1] }), shape: [1, 6, 7, 2] },
  { name: 'C=1 M=3 no bias glorot', make: () => new DepthwiseConv2D({ kernelSize: 2, depthMultiplier: 3, bias: false, init: 'glorot' }), shape: [3, 4, 3, 1] },
  { name: '3x3 s=3 d=3 same', make: () => new DepthwiseConv2D({ kernelSize: 3, stride: 3, dilation: 3, padding: 'same' }), shape: [1, 8, 7, 2] },
];

for (const c of cases) {
  test(`gradcheck DepthwiseConv2D ${c.name} x=[${c.shape.join(',')}]`, () => {
    const layer = c.make();
    const report = gradcheckLayer(layer, c.shape, { seed: 5 });
    assert.ok(report.ok, report.message);
    assert.equal(report.tensors.length, 1 + layer.params().length, 'dx and every param were checked');
  });

  test(`DepthwiseConv2D ${c.name}: plan = build; spec round trip rebuilds the same layer`, () => {
    const layer = c.make();
    const plan = layer.plan(c.shape.slice(1));
    const out = layer.build(c.shape.slice(1), new Rng(1));
    assert.deepEqual(plan.output, out);
    assert.deepEqual(plan.tensors, layer.params().map((p) => ({ name: p.name, shape: p.value.shape })));
    const x = Tensor.randn(c.shape, { seed: 2 });
    const y = layer.forward(x, false);
    assert.deepEqual(y.shape, [c.shape[0], ...out]);
    const again = layerFromSpec(JSON.parse(JSON.stringify(layer.toSpec())));
    assert.ok(again instanceof DepthwiseConv2D);
    assert.deepEqual(again.build(c.shape.slice(1), new Rng(1)), out);
    assert.equal(again.toString(), layer.toString());
    assert.deepEqual(Array.from(again.forward(x, false).data), Array.from(y.data));
  });
}

test('DepthwiseConv2D is a registered layer type', () => {
  assert.ok(layerTypes().includes('DepthwiseConv2D'));
  assert.equal(builtinLayerType(new DepthwiseConv2D({ kernelSize: 3 })), 'DepthwiseConv2D');
});

/** A MobileNet-style block: depthwise 3x3 (M = 2), BatchNorm, ReLU, pointwise 1x1, pooled head. */
function mobileBlock(seed: number): Sequential {
  const model = new Sequential(
    [
      new DepthwiseConv2D({ kernelSize: 3, depthMultiplier: 2, stride: 2, padding: 'same' }),
      new BatchNorm(),
      new ReLU(),
      new Conv2D({ outChannels: 4, kernelSize: 1 }),
      new DepthwiseConv2D({ kernelSize: [2, 3], dilation: [2, 1], padding: [1, 0, 0, 1], bias: false }),
      new GlobalAvgPool2D(),
      new Dense({ units: 3 }),
    ],
    { inputShape: [9, 8, 3], seed },
  );
  const rng = new Rng(seed + 1);
  for (const p of model.params()) if (p.name === 'bias') for (let i = 0; i < p.value.size; i++) p.value.data[i] = rng.uniform(-1, 1);
  for (const b of model.buffers()) for (let i = 0; i < b.value.size; i++) b.value.data[i] = rng.uniform(0.5, 1.5);
  return model;
}

test('model file round trip with DepthwiseConv2D: same architecture, weights, outputs and bytes', () => {
  const model = mobileBlock(3);
  const bytes = serializeModel(model);
  const loaded = deserializeModel(bytes);
  assert.equal(loaded.toString(), model.toString());
  assert.ok(loaded.layers[0] instanceof DepthwiseConv2D && loaded.layers[4] instanceof DepthwiseConv2D);
  assert.deepEqual((loaded.layers[0] as DepthwiseConv2D).opts, (model.layers[0] as DepthwiseConv2D).opts);
  const x = Tensor.randn([2, 9, 8, 3], { seed: 9 });
  assert.deepEqual(Array.from(loaded.forward(x, false).data), Array.from(model.forward(x, false).data));
  assert.deepEqual(serializeModel(loaded), bytes);
});

test('summary and FLOPs: 2 · Ho · Wo · C·M · kH · kW per example', () => {
  const model = new Sequential([new DepthwiseConv2D({ kernelSize: 3, depthMultiplier: 2, padding: 'same' })], { inputShape: [8, 8, 3] });
  assert.equal(model.flops(), 2 * 8 * 8 * 6 * 3 * 3);
  assert.equal(model.paramCount(), 3 * 3 * 3 * 2 + 6);
  const s = model.summary();
  assert.match(s, /DepthwiseConv2D\(kernelSize=3, depthMultiplier=2, padding="same"\)/);
  assert.match(s, /\[N, 8, 8, 6\]/);
  assert.match(s, /6,912/);
});

test('DepthwiseConv2D rejects bad options and wrong inputs with messages that name them', () => {
  assert.throws(() => new DepthwiseConv2D({} as never), /DepthwiseConv2D: kernelSize is required/);
  assert.throws(() => new DepthwiseConv2D(null as never), /DepthwiseConv2D: options/);
  assert.throws(() => new DepthwiseConv2D({ kernelSize: 3, depthMultiplier: 0 }), /DepthwiseConv2D: depthMultiplier must be a positive integer, got 0/);
  assert.throws(() => new DepthwiseConv2D({ kernelSize: 3, depthMultiplier: 1.5 }), /DepthwiseConv2D: depthMultiplier must be a positive integer, got 1.5/);
  assert.throws(() => new DepthwiseConv2D({ kernelSize: 0 }), /DepthwiseConv2D: kernelSize/);
  assert.throws(() => new DepthwiseConv2D({ kernelSize: 3, stride: -1 }), /DepthwiseConv2D: stride/);
  assert.throws(() => new DepthwiseConv2D({ kernelSize: 3, padding: 'full' as never }), /DepthwiseConv2D: padding/);
  assert.throws(() => new DepthwiseConv2D({ kernelSize: 3, bias: 1 as never }), /DepthwiseConv2D: bias must be true or false, got 1/);
  assert.throws(() => new DepthwiseConv2D({ kernelSize: 3, init: 'zeros' as never }), /DepthwiseConv2D: init must be one of/);
  const dw = new DepthwiseConv2D({ kernelSize: 3 });
  dw.build([5, 5, 3], new Rng(0));
  assert.throws(() => dw.forward(Tensor.zeros([1, 5, 5, 2]), false), /DepthwiseConv2D.forward: x has shape \[1, 5, 5, 2\], expected \[N, 5, 5, 3\]/);
  assert.throws(() => new DepthwiseConv2D({ kernelSize: 3 }).build([5, 5], new Rng(0)), /DepthwiseConv2D.build: input must be \[H, W, C\]/);
  assert.throws(() => new DepthwiseConv2D({ kernelSize: 7 }).build([5, 5, 1], new Rng(0)), /DepthwiseConv2D: kernel larger than the padded input/);
  assert.throws(() => dw.backward(Tensor.zeros([1, 3, 3, 3])), /DepthwiseConv2D.backward: call forward\(x, true\) first/);
});
