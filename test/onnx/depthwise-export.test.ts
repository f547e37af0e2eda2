/**
 * ONNX export of DepthwiseConv2D as a grouped Conv (group = C, weight [C*M, 1, kH, kW]), checked by
 * running the exported bytes in onnxruntime (CPU) against Stride's own forward, with every
 * parameter and buffer randomised, on strides, 'same', dilation, asymmetric pads, M > 1, C = 1.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { Sequential, DepthwiseConv2D, Conv2D, BatchNorm, ReLU, Flatten, Dense, GlobalAvgPool2D, MaxPool2D, Tensor, Rng, type Layer } from '../../src/index.js';
import { exportOnnx } from '../../src/onnx/export.js';
import { readFields } from '../helpers/protobuf-reader.js';
import { assertClose } from '../helpers/index.js';

function randomize(model: Sequential, seed: number): void {
  const rng = new Rng(seed);
  for (const p of model.params()) for (let i = 0; i < p.value.size; i++) p.value.data[i] = rng.uniform(-1, 1);
  for (const b of model.buffers()) {
    const isVar = b.name.endsWith('runningVar');
    for (let i = 0; i < b.value.size; i++) b.value.data[i] = isVar ? rng.uniform(0.2, 2) : rng.uniform(-0.5, 0.5);
  }
}

async function runOrt(bytes: Uint8Array, x: Tensor): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const session = await ort.InferenceSession.create(bytes);
  const result = await session.run({ input: new ort.Tensor('float32', x.data, [...x.shape]) });
  const t = result[session.outputNames[0]];
  return { data: t.data as Float32Array, dims: t.dims };
}

const archs: { title: string; inputShape: number[]; layers: () => Layer[] }[] = [
  {
    title: "depthwise M=1 3x3 stride 2 'same' (odd total padding) + batchnorm + relu + pointwise conv + flatten + dense",
    inputShape: [9, 9, 3],
    layers: () => [
      new DepthwiseConv2D({ kernelSize: 3, stride: 2, padding: 'same' }),
      new BatchNorm({ eps: 1e-3 }),
      new ReLU(),
      new Conv2D({ outChannels: 4, kernelSize: 1 }),
      new Flatten(),
      new Dense({ units: 3 }),
    ],
  },
  {
    title: 'depthwise M=2 [2,3] dilation [2,1] stride [1,2] pads [0,2,1,0], then depthwise M=3 without bias, fully convolutional output',
    inputShape: [8, 7, 2],
    layers: () => [
      new DepthwiseConv2D({ kernelSize: [2, 3], depthMultiplier: 2, dilation: [2, 1], stride: [1, 2], padding: [0, 2, 1, 0] }),
      new DepthwiseConv2D({ kernelSize: 2, depthMultiplier: 3, bias: false }),
    ],
  },
  {
    title: 'C=1 input, depthwise M=4 5x5 pad 2 + maxpool + global avg pool + dense',
    inputShape: [7, 6, 1],
    layers: () => [
      new DepthwiseConv2D({ kernelSize: 5, depthMultiplier: 4, padding: 2 }),
      new MaxPool2D({ kernelSize: 2 }),
      new GlobalAvgPool2D(),
      new Dense({ units: 2 }),
    ],
  },
];

archs.forEach((arch, k) => {
  for (const opset of [13, 21]) {
    test(`${arch.title} (opset ${opset})`, async () => {
      const model = new Sequential(arch.layers(), { inputShape: arch.inputShape, seed: 20 + k });
      randomize(model, 200 + k);
      const bytes = exportOnnx(model, { opset });
      for (const n of [1, 3]) {
        const x = Tensor.rand([n, ...arch.inputShape], { seed: 2000 * k + n, low: -2, high: 2 });
        const want = model.forward(x, false);
        const got = await runOrt(bytes, x);
        assert.deepEqual(got.dims, want.shape, `batch ${n}: output dims`);
        assertClose(got.data, want, { atol: 1e-4, rtol: 1e-4, label: `${arch.title}, opset ${opset}, batch ${n}` });
      }
    });
  }
});

test('DepthwiseConv2D becomes one Conv node with group = C and a [C*M, 1, kH, kW] weight', () => {
  const model = new Sequential([new DepthwiseConv2D({ kernelSize: [3, 2], depthMultiplier: 2 })], { inputShape: [6, 5, 3] });
  const graph = readFields(exportOnnx(model)).find((f) => f.field === 7)!.bytes!;
  const dec = new TextDecoder();
  const nodes = readFields(graph).filter((f) => f.field === 1).map((n) => readFields(n.bytes!));
  const ops = nodes.map((n) => dec.decode(n.find((f) => f.field === 4)!.bytes));
  assert.deepEqual(ops, ['Transpose', 'Conv', 'Transpose']);
  const attrs = nodes[1].filter((f) => f.field === 5).map((a) => readFields(a.bytes!));
  const group = attrs.find((a) => dec.decode(a.find((f) => f.field === 1)!.bytes) === 'group')!;
  assert.equal(group.find((f) => f.field === 3)!.varint, BigInt(3));
  const weight = readFields(graph)
    .filter((f) => f.field === 5)
    .map((t) => readFields(t.bytes!))
    .find((t) => dec.decode(t.find((f) => f.field === 8)!.bytes).endsWith('.weight'))!;
  assert.deepEqual(weight.filter((f) => f.field === 1).map((f) => Number(f.varint)), [6, 1, 3, 2]);
});
