/**
 * ONNX export, checked by running the exported bytes in onnxruntime (CPU) and comparing with
 * Stride's own inference forward on random inputs, batch sizes 1 and 3, several opsets.
 * Every parameter and buffer is randomised first (biases and BatchNorm statistics are not left at
 * their trivial initial values), so a wrong layout, weight order, padding or epsilon shows up.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import {
  Sequential,
  Conv2D,
  Dense,
  MaxPool2D,
  AvgPool2D,
  GlobalAvgPool2D,
  Flatten,
  ReLU,
  LeakyReLU,
  Sigmoid,
  Tanh,
  Softmax,
  Dropout,
  BatchNorm,
  Tensor,
  Rng,
  type Layer,
} from '../../src/index.js';
import { exportOnnx } from '../../src/onnx/export.js';
import { readFields } from '../helpers/protobuf-reader.js';
import { StatelessLayer } from '../../src/layers/stateless.js';
import type { Shape } from '../../src/tensor/tensor.js';
import { assertClose } from '../helpers/index.js';

/** Sets every parameter to U(-1, 1) and BatchNorm statistics to non-trivial values. */
function randomize(model: Sequential, seed: number): void {
  const rng = new Rng(seed);
  for (const p of model.params()) for (let i = 0; i < p.value.size; i++) p.value.data[i] = rng.uniform(-1, 1);
  for (const b of model.buffers()) {
    const isVar = b.name.endsWith('runningVar');
    for (let i = 0; i < b.value.size; i++) b.value.data[i] = isVar ? rng.uniform(0.2, 2) : rng.uniform(-0.5, 0.5);
  }
}

async function runOrt(bytes: Uint8Array, x: Tensor): Promise<{ data: Float32Array; dims: readonly number[]; output: string }> {
  const session = await ort.InferenceSession.create(bytes);
  assert.deepEqual(session.inputNames, ['input']);
  const result = await session.run({ input: new ort.Tensor('float32', x.data, [...x.shape]) });
  const output = session.outputNames[0];
  const t = result[output];
  return { data: t.data as Float32Array, dims: t.dims, output };
}

interface Arch {
  title: string;
  inputShape: number[];
  layers: () => Layer[];
}

const archs: Arch[] = [
  {
    title: "conv stride 2 'same' (odd total padding 3 → 1 top, 2 bottom) + relu + maxpool 'same' + flatten + dense",
    inputShape: [9, 9, 2],
    layers: () => [
      new Conv2D({ outChannels: 4, kernelSize: 4, stride: 2, padding: 'same' }),
      new ReLU(),
      new MaxPool2D({ kernelSize: 3, stride: 2, padding: 'same' }),
      new Flatten(),
      new Dense({ units: 5 }),
    ],
  },
  {
    title: 'explicit asymmetric padding [0,2,1,0] + dilation [2,1] + stride [1,2] + batchnorm + leaky relu + avgpool at same borders + 1x1 conv without bias + global avg pool + softmax',
    inputShape: [8, 7, 3],
    layers: () => [
      new Conv2D({ outChannels: 5, kernelSize: [3, 2], stride: [1, 2], padding: [0, 2, 1, 0], dilation: [2, 1] }),
      new BatchNorm({ eps: 1e-3 }),
      new LeakyReLU({ alpha: 0.2 }),
      new AvgPool2D({ kernelSize: 3, stride: 2, padding: 'same' }),
      new Conv2D({ outChannels: 4, kernelSize: 1, bias: false }),
      new GlobalAvgPool2D(),
      new Dense({ units: 3 }),
      new Softmax(),
    ],
  },
  {
    title: 'mlp: dense + batchnorm on features + tanh + dropout + dense without bias + sigmoid',
    inputShape: [10],
    layers: () => [new Dense({ units: 6 }), new BatchNorm({ eps: 0.05 }), new Tanh(), new Dropout({ rate: 0.5 }), new Dense({ units: 3, bias: false }), new Sigmoid()],
  },
  {
    title: 'fully convolutional: NHWC output, softmax over channels, dilated conv with pad [1,0]',
    inputShape: [5, 6, 2],
    layers: () => [
      new Conv2D({ outChannels: 3, kernelSize: 3, padding: 'same' }),
      new Sigmoid(),
      new Dropout({ rate: 0.3 }),
      new Conv2D({ outChannels: 4, kernelSize: 2, stride: [2, 1], padding: [1, 0], dilation: [1, 2] }),
      new Softmax(),
    ],
  },
  {
    title: 'avgpool padding [1,1] stride [1,2], dilated conv, maxpool explicit [1,0,0,1] + tanh + flatten + dense',
    inputShape: [6, 6, 1],
    layers: () => [
      new AvgPool2D({ kernelSize: [2, 3], stride: [1, 2], padding: [1, 1] }),
      new Conv2D({ outChannels: 2, kernelSize: 2, dilation: 2, padding: 1 }),
      new MaxPool2D({ kernelSize: [3, 2], stride: [2, 1], padding: [1, 0, 0, 1] }),
      new Tanh(),
      new Flatten(),
      new Dense({ units: 3 }),
    ],
  },
  {
    title: 'rank-3 input [4, 5]: batchnorm over the last axis (transposed around ONNX axis 1) + flatten + dense',
    inputShape: [4, 5],
    layers: () => [new BatchNorm({ eps: 0.01 }), new ReLU(), new Flatten(), new Dense({ units: 2 })],
  },
];

archs.forEach((arch, k) => {
  for (const opset of k < 2 ? [13, 17, 21] : [13]) {
    test(`${arch.title} (opset ${opset})`, async () => {
      const model = new Sequential(arch.layers(), { inputShape: arch.inputShape, seed: 10 + k });
      randomize(model, 100 + k);
      const bytes = exportOnnx(model, { opset });
      for (const n of [1, 3]) {
        const x = Tensor.rand([n, ...arch.inputShape], { seed: 1000 * k + n, low: -2, high: 2 });
        const want = model.forward(x, false);
        const got = await runOrt(bytes, x);
        assert.deepEqual(got.dims, want.shape, `batch ${n}: output dims`);
        assertClose(got.data, want, { atol: 1e-4, rtol: 1e-4, label: `${arch.title}, opset ${opset}, batch ${n}` });
      }
    });
  }
});

test('the output is named after the last op: probabilities after Softmax, logits otherwise; names can be set', async () => {
  const soft = new Sequential([new Flatten(), new Dense({ units: 2 }), new Softmax(), new Dropout({ rate: 0.1 })], { inputShape: [2, 2, 1] });
  const plain = new Sequential([new Flatten(), new Dense({ units: 2 })], { inputShape: [2, 2, 1] });
  const x = Tensor.rand([1, 2, 2, 1], { seed: 3 });
  assert.equal((await runOrt(exportOnnx(soft), x)).output, 'probabilities');
  assert.equal((await runOrt(exportOnnx(plain), x)).output, 'logits');
  const named = await ort.InferenceSession.create(exportOnnx(plain, { inputName: 'images', outputName: 'scores' }));
  assert.deepEqual([named.inputNames, named.outputNames], [['images'], ['scores']]);
});

/** The op types of the exported graph, in order, decoded from the protobuf. */
function opTypes(bytes: Uint8Array): string[] {
  const graph = readFields(bytes).find((f) => f.field === 7)!.bytes!;
  const dec = new TextDecoder();
  return readFields(graph)
    .filter((f) => f.field === 1)
    .map((node) => dec.decode(readFields(node.bytes!).find((f) => f.field === 4)!.bytes));
}

test('transposes go only where the layout changes, and Dropout leaves no node', () => {
  const model = new Sequential(
    [
      new Conv2D({ outChannels: 2, kernelSize: 3 }),
      new ReLU(),
      new Dropout({ rate: 0.5 }),
      new MaxPool2D({ kernelSize: 2 }),
      new Flatten(),
      new Dense({ units: 3 }),
      new Dropout({ rate: 0.5 }),
    ],
    { inputShape: [8, 8, 1] },
  );
  assert.deepEqual(opTypes(exportOnnx(model)), ['Transpose', 'Conv', 'Relu', 'MaxPool', 'Transpose', 'Flatten', 'Gemm']);
});

test('opset and IR version are written as asked', () => {
  const model = new Sequential([new Dense({ units: 1 })], { inputShape: [2] });
  for (const [opset, ir] of [
    [13, 7],
    [15, 8],
    [19, 9],
    [21, 10],
  ]) {
    const fields = readFields(exportOnnx(model, { opset }));
    assert.equal(fields.find((f) => f.field === 1)!.varint, BigInt(ir), `ir_version for opset ${opset}`);
    const opsetId = readFields(fields.find((f) => f.field === 8)!.bytes!);
    assert.equal(opsetId.find((f) => f.field === 2)!.varint, BigInt(opset));
  }
});

test('a model of only Dropout exports an Identity', async () => {
  const model = new Sequential([new Dropout({ rate: 0.5 })], { inputShape: [3] });
  const x = Tensor.rand([2, 3], { seed: 1 });
  const got = await runOrt(exportOnnx(model), x);
  assertClose(got.data, x, { atol: 0, rtol: 0 });
});

test('a fixed batch size can be exported instead of the symbolic N', async () => {
  const model = new Sequential([new Dense({ units: 2 })], { inputShape: [3] });
  const session = await ort.InferenceSession.create(exportOnnx(model, { batchDim: 2 }));
  await assert.rejects(() => session.run({ input: new ort.Tensor('float32', new Float32Array(3), [1, 3]) }), /dimension|Got invalid dimensions|Expected/i);
  await session.run({ input: new ort.Tensor('float32', new Float32Array(6), [2, 3]) });
});

test('bad options and unsupported layers are rejected with the reason', () => {
  const model = new Sequential([new Dense({ units: 1 })], { inputShape: [2] });
  assert.throws(() => exportOnnx(model, { opset: 12 }), /opset must be an integer from 13 to 21, got 12/);
  assert.throws(() => exportOnnx(model, { opset: 22 }), /opset must be an integer from 13 to 21, got 22/);
  assert.throws(() => exportOnnx(model, { batchDim: 0 }), /batchDim/);
  assert.throws(() => exportOnnx(model, { inputName: 'x', outputName: 'x' }), /distinct/);
  assert.throws(() => exportOnnx({} as Sequential), /model must be a Sequential/);
  // A layer type the exporter does not know: a user's custom layer (here a ReLU under another tag).
  class Swish extends StatelessLayer {
    readonly type: string = 'Swish';
    protected outShape = (s: Shape) => s;
    protected compute(x: Tensor) {
      return { y: x, cache: { x, y: x } };
    }
    protected gradient = (dy: Tensor) => dy;
  }
  const withCustom = new Sequential([new Dense({ units: 2 }), new Swish()], { inputShape: [2] });
  assert.throws(() => exportOnnx(withCustom), /layer 1 \(Swish\) has no ONNX mapping/);
  // A custom layer that borrows a built-in's tag is not exported as that built-in: dispatch checks the class too.
  class FakeRelu extends Swish {
    override readonly type: string = 'ReLU';
  }
  const borrowed = new Sequential([new Dense({ units: 2 }), new FakeRelu()], { inputShape: [2] });
  assert.throws(() => exportOnnx(borrowed), /layer 1 \(ReLU\) has no ONNX mapping; supported: Conv2D, /);
});
