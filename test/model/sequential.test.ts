/**
 * The seeds' complete CNN (CONV → RELU → POOL → FC) as a Sequential: it learns a synthetic image task,
 * training is bit-reproducible from the seed, shapes are inferred at construction, and a whole model
 * passes the gradient check.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, Rng, Sequential, Conv2D, ReLU, MaxPool2D, AvgPool2D, Flatten, Dense, Dropout, BatchNorm } from '../../src/index.js';
import { SGD } from '../../src/optim/sgd.js';
import { gradcheckLayer } from '../../src/gradcheck.js';

/** 8x8 images holding one bright vertical (class 0) or horizontal (class 1) line at a random place, plus noise. */
function edgesTask(n: number, seed: number): { x: Tensor; y: Int32Array } {
  const rng = new Rng(seed);
  const x = Tensor.zeros([n, 8, 8, 1]);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const cls = rng.int(2);
    const at = rng.int(8);
    y[i] = cls;
    for (let k = 0; k < 8; k++) x.data[i * 64 + (cls === 0 ? k * 8 + at : at * 8 + k)] = 1;
    for (let p = 0; p < 64; p++) x.data[i * 64 + p] += rng.normal(0, 0.2);
  }
  return { x, y };
}

function makeModel(seed: number): Sequential {
  return new Sequential(
    [
      new Conv2D({ outChannels: 4, kernelSize: 3, padding: 'same' }),
      new ReLU(),
      new MaxPool2D({ kernelSize: 2 }),
      new Flatten(),
      new Dense({ units: 2 }),
    ],
    { inputShape: [8, 8, 1], seed },
  );
}

function train(seed: number): { model: Sequential; losses: number[] } {
  const model = makeModel(seed);
  const { x, y } = edgesTask(64, 100);
  const opt = new SGD({ lr: 0.1, momentum: 0.9 });
  const losses: number[] = [];
  for (let epoch = 0; epoch < 40; epoch++) {
    for (let s = 0; s < 64; s += 16) {
      const xb = new Tensor(x.data.slice(s * 64, (s + 16) * 64), [16, 8, 8, 1]);
      losses.push(model.trainStep(xb, y.subarray(s, s + 16), opt).loss);
    }
  }
  return { model, losses };
}

test('a small CNN (conv-relu-pool-dense) learns vertical vs horizontal lines to 100% on unseen images', () => {
  const { model, losses } = train(1);
  assert.ok(losses[losses.length - 1] < losses[0] / 10, `loss fell from ${losses[0]} to ${losses[losses.length - 1]}`);
  const test = edgesTask(200, 999);
  const { accuracy } = model.evaluate(test.x, test.y);
  assert.equal(accuracy, 1);
});

test('two runs with the same seed give bit-identical weights; another seed does not', () => {
  const a = train(7).model.params();
  const b = train(7).model.params();
  const c = train(8).model.params();
  a.forEach((p, i) => assert.deepEqual(p.value.data, b[i].value.data, `param ${i}`));
  assert.notDeepEqual(a[0].value.data, c[0].value.data);
});

test('shapes are inferred at construction; a bad stack names the layer', () => {
  const m = new Sequential(
    [new Conv2D({ outChannels: 6, kernelSize: 5, stride: 2 }), new AvgPool2D({ kernelSize: 2, padding: 'same' }), new Flatten(), new Dense({ units: 3 })],
    { inputShape: [17, 12, 3] },
  );
  // conv: floor((17 - 5) / 2) + 1 = 7, floor((12 - 5) / 2) + 1 = 4; pool same: ceil(7/2) = 4, ceil(4/2) = 2.
  assert.deepEqual(m.shapes, [[7, 4, 6], [4, 2, 6], [48], [3]]);
  assert.equal(m.paramCount(), 5 * 5 * 3 * 6 + 6 + 48 * 3 + 3);
  assert.throws(
    () => new Sequential([new Conv2D({ outChannels: 2, kernelSize: 3 }), new Dense({ units: 2 })], { inputShape: [5, 5, 1] }),
    /Sequential: layer 1 \(Dense\) cannot take input \[3, 3, 2\]/,
  );
  assert.throws(() => m.forward(Tensor.zeros([2, 17, 12, 1])), /expected \[N, 17, 12, 3\]/);
});

test('summary lists every layer with its output shape and parameter count', () => {
  const s = makeModel(0).summary();
  const lines = s.split('\n');
  assert.match(s, /Conv2D\(4, kernelSize=3, padding="same"\)\s+\[N, 8, 8, 4\]\s+40\b/);
  assert.match(s, /MaxPool2D\(kernelSize=2\)\s+\[N, 4, 4, 4\]\s+0\b/);
  assert.match(s, /Dense\(2\)\s+\[N, 2\]\s+130\b/);
  assert.match(s, /Total params: 170/);
  assert.equal(lines.filter((l) => /^\d+\s/.test(l)).length, 5);
});

test('a whole model (with BatchNorm and Dropout) passes the gradient check', () => {
  const model = new Sequential(
    [
      new Conv2D({ outChannels: 3, kernelSize: 3, padding: 'same' }),
      new BatchNorm(),
      new AvgPool2D({ kernelSize: 2 }),
      new Flatten(),
      new Dropout({ rate: 0.3 }),
      new Dense({ units: 4 }),
    ],
    { inputShape: [6, 6, 2], seed: 4 },
  );
  const report = gradcheckLayer(model, [3, 6, 6, 2], { build: false, rng: model.rng, seed: 5 });
  assert.ok(report.ok, report.message);
});

test('spec round trip rebuilds the same architecture; the same seed gives the same weights', () => {
  const m = makeModel(3);
  const again = Sequential.fromSpec(JSON.parse(JSON.stringify(m.toSpec())), 3);
  assert.equal(again.toString(), m.toString());
  m.params().forEach((p, i) => assert.deepEqual(p.value.data, again.params()[i].value.data));
});

test('predict in batches equals one forward pass', () => {
  const m = makeModel(2);
  const { x } = edgesTask(37, 5);
  assert.deepEqual(m.predict(x, 8).data, m.forward(x, false).data);
});
