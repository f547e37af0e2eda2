/**
 * The loss is a parameter (issue 10 item 1): trainStep, fit, evaluate and evaluateDataset take
 * `{ loss }`. A regression learns with MSE and a target Tensor (and reports no accuracy), a
 * user-written Loss is the one used, cross-entropy stays the default, and a loss that breaks the
 * contract is refused by name.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/tensor/random.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { Dataset } from '../../src/data/dataset.js';
import { Sequential } from '../../src/model/sequential.js';
import { Conv2D } from '../../src/layers/conv2d.js';
import { Dense } from '../../src/layers/dense.js';
import { Flatten } from '../../src/layers/pooling.js';
import { ReLU } from '../../src/layers/activations.js';
import { SGD } from '../../src/optim/sgd.js';
import { createOptimizer } from '../../src/optim/registry.js';
import { fit } from '../../src/model/fit.js';
import { evaluateDataset } from '../../src/model/evaluate.js';
import { crossEntropyLoss, mseLoss, type LabelLoss, type TensorLoss } from '../../src/losses/loss.js';
import { meanSquaredError } from '../../src/losses/mse.js';
import { softmaxCrossEntropy } from '../../src/losses/softmax-cross-entropy.js';

/** n random 4x4x1 images and y = w·x + b for fixed w, b (a linear function of the image). */
function linearTask(n: number, seed: number): { images: Float32Array; x: Tensor; y: Tensor; data: Dataset } {
  const rng = new Rng(seed);
  const w = Array.from({ length: 16 }, (_, i) => (i % 3 === 0 ? 0.5 : i % 3 === 1 ? -0.25 : 0.1));
  const images = new Float32Array(n * 16);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0.3;
    for (let p = 0; p < 16; p++) {
      const v = rng.next();
      images[i * 16 + p] = v;
      s += w[p] * v;
    }
    y[i] = s;
  }
  // The labels are unused by a tensor loss; the Dataset needs some.
  const data = new Dataset({ images, labels: new Int32Array(n), height: 4, width: 4, channels: 1 });
  return { images, x: new Tensor(images, [n, 4, 4, 1]), y: new Tensor(y, [n, 1]), data };
}

const regressor = (seed: number): Sequential => new Sequential([new Flatten(), new Dense({ units: 1 })], { inputShape: [4, 4, 1], seed });
const weights = (m: Sequential): Float32Array[] => m.params().map((p) => p.value.data.slice());

/** 4x4 images with a bright column (class 0) or row (class 1). */
function linesData(n: number, seed: number): { x: Tensor; labels: Int32Array; data: Dataset } {
  const rng = new Rng(seed);
  const images = new Float32Array(n * 16);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = rng.int(2);
    const at = rng.int(4);
    labels[i] = c;
    for (let k = 0; k < 4; k++) images[i * 16 + (c === 0 ? k * 4 + at : at * 4 + k)] = 1;
    for (let p = 0; p < 16; p++) images[i * 16 + p] += rng.normal(0, 0.1);
  }
  return { x: new Tensor(images, [n, 4, 4, 1]), labels, data: new Dataset({ images, labels, height: 4, width: 4, channels: 1 }) };
}

const classifier = (seed: number): Sequential =>
  new Sequential([new Conv2D({ outChannels: 2, kernelSize: 3, padding: 'same' }), new ReLU(), new Flatten(), new Dense({ units: 2 })], { inputShape: [4, 4, 1], seed });

/** A user's classification loss: squared error of the logits against one-hot labels, (1/N) Σ (z - onehot)², with a call counter. */
function oneHotSquares(): LabelLoss & { calls: number; last: number } {
  const l = {
    name: 'oneHotSquares',
    targets: 'labels' as const,
    calls: 0,
    last: NaN,
    compute(pred: Tensor, labels: ArrayLike<number>) {
      l.calls++;
      const [n, k] = pred.shape;
      const g = new Float32Array(pred.size);
      let s = 0;
      for (let r = 0; r < n; r++) {
        for (let j = 0; j < k; j++) {
          const d = pred.data[r * k + j] - (labels[r] === j ? 1 : 0);
          s += d * d;
          g[r * k + j] = (2 * d) / n;
        }
      }
      l.last = s / n;
      return { loss: s / n, grad: new Tensor(g, pred.shape) };
    },
  };
  return l;
}

/** A user's regression loss: mean absolute error, d/dp = sign(p - t) / M. */
const l1: TensorLoss = {
  name: 'l1',
  targets: 'tensor',
  compute(pred, target) {
    const g = new Float32Array(pred.size);
    let s = 0;
    for (let i = 0; i < pred.size; i++) {
      const d = pred.data[i] - target.data[i];
      s += Math.abs(d);
      g[i] = Math.sign(d) / pred.size;
    }
    return { loss: s / pred.size, grad: new Tensor(g, pred.shape) };
  },
};

test('trainStep with mseLoss learns y = w·x + b from a target Tensor, and reports no accuracy', () => {
  const { x, y } = linearTask(64, 1);
  const model = regressor(2);
  const optimizer = new SGD({ lr: 0.1, momentum: 0.9 });
  const first = model.trainStep(x, y, optimizer, { loss: mseLoss });
  assert.ok(!('correct' in first), `a regression has no correct count, got ${JSON.stringify(first)}`);
  let last = first.loss;
  for (let i = 0; i < 300; i++) last = model.trainStep(x, y, optimizer, { loss: mseLoss }).loss;
  assert.ok(first.loss > 0.05, `starts far off: ${first.loss}`);
  assert.ok(last < 1e-3, `MSE after 300 steps: ${last}`);
  // evaluate agrees with the loss function itself, and has no accuracy either.
  const ev = model.evaluate(x, y, { loss: mseLoss });
  assert.deepEqual(Object.keys(ev), ['loss']);
  assert.equal(ev.loss, meanSquaredError(model.predict(x), y).loss);
  assert.ok(!x.isDisposed && !y.isDisposed, 'the caller\'s input and target are kept');
});

test('fit with mseLoss and targets: the loss falls below a threshold, records carry no accuracy, valLoss is evaluateDataset\'s', async () => {
  const train = linearTask(96, 3);
  const val = linearTask(32, 4);
  const model = regressor(5);
  const batches: string[][] = [];
  const { history } = await fit(model, train.data, {
    epochs: 40,
    batchSize: 16,
    optimizer: new SGD({ lr: 0.05, momentum: 0.9 }),
    rng: new Rng(6),
    loss: mseLoss,
    targets: train.y,
    validation: val.data,
    validationTargets: val.y,
    onBatch: (b) => {
      batches.push(Object.keys(b));
    },
  });
  assert.equal(history.length, 40);
  for (const r of history) assert.ok(!('accuracy' in r) && !('valAccuracy' in r), `no accuracy in ${JSON.stringify(r)}`);
  assert.ok(batches.every((k) => !k.includes('accuracy') && !k.includes('epochAccuracy')));
  assert.ok(history[0].loss > 0.05, `first epoch ${history[0].loss}`);
  assert.ok(history[39].loss < 2e-3, `last epoch ${history[39].loss}`);
  const ev = evaluateDataset(model, val.data, { loss: mseLoss, targets: val.y, batchSize: 7 });
  assert.deepEqual(Object.keys(ev).sort(), ['count', 'loss']);
  assert.ok(Math.abs(ev.loss - history[39].valLoss!) < 1e-7, `${ev.loss} vs ${history[39].valLoss}`);
  assert.ok(Math.abs(ev.loss - meanSquaredError(model.predict(val.x), val.y).loss) < 1e-7);
});

test('fit shuffles a tensor loss\'s targets with their samples (row i stays the target of sample i)', async () => {
  // Targets equal to the mean pixel: learnable only if each batch gets its own samples' rows.
  const { images, data } = linearTask(64, 7);
  const t = new Float32Array(64);
  for (let i = 0; i < 64; i++) for (let p = 0; p < 16; p++) t[i] += images[i * 16 + p] / 16;
  const model = regressor(8);
  const targets = new Tensor(t, [64, 1]);
  const { history } = await fit(model, data, { epochs: 60, batchSize: 8, optimizer: new SGD({ lr: 0.1, momentum: 0.9 }), rng: new Rng(9), loss: mseLoss, targets });
  assert.ok(history[59].loss < 1e-4, `last epoch ${history[59].loss}`);
  const mse = meanSquaredError(model.predict(new Tensor(images, [64, 4, 4, 1])), targets).loss;
  assert.ok(mse < 1e-4, `the model fits the mean pixel: MSE ${mse}`);
});

test('a user-written label loss is the one trainStep uses: same weights as forward + its gradient + backward by hand, not those of cross-entropy', () => {
  const { x, labels } = linesData(12, 10);
  const mine = oneHotSquares();
  const a = classifier(11);
  const step = a.trainStep(x, labels, new SGD({ lr: 0.1 }), { loss: mine });
  assert.equal(mine.calls, 1);
  assert.equal(step.loss, mine.last);
  assert.equal(typeof step.correct, 'number', 'a loss on labels reports correct');

  const b = classifier(11);
  const opt = new SGD({ lr: 0.1 });
  opt.zeroGrad(b.params());
  const out = b.forward(x, true);
  const { grad } = mine.compute(out, labels);
  b.backwardToParams(grad);
  opt.step(b.params());
  assert.deepEqual(weights(a), weights(b));

  const c = classifier(11);
  c.trainStep(x, labels, new SGD({ lr: 0.1 }));
  assert.notDeepEqual(weights(a), weights(c), 'cross-entropy gives other weights, so the loss was not ignored');
});

test('cross-entropy stays the default: no loss and { loss: crossEntropyLoss } train bit-identically', async () => {
  const { x, labels, data } = linesData(24, 12);
  const a = classifier(13);
  const b = classifier(13);
  const sa = a.trainStep(x, labels, new SGD({ lr: 0.1 }));
  const sb = b.trainStep(x, labels, new SGD({ lr: 0.1 }), { loss: crossEntropyLoss });
  assert.deepEqual(sa, sb);
  assert.equal(sa.loss, softmaxCrossEntropy(classifier(13).predict(x), labels).loss);
  assert.deepEqual(weights(a), weights(b));
  const run = async (withLoss: boolean) => {
    const m = classifier(14);
    const r = await fit(m, data, { epochs: 2, batchSize: 5, optimizer: createOptimizer('adam', { lr: 0.01 }), rng: new Rng(15), validation: data, ...(withLoss ? { loss: crossEntropyLoss } : {}) });
    return { history: r.history.map(({ seconds: _s, ...rest }) => rest), w: weights(m) };
  };
  assert.deepEqual(await run(true), await run(false));
});

test('fit trains with a user-written label loss, calls it for every batch and validation batch, and still reports accuracy', async () => {
  const { data } = linesData(40, 16);
  const mine = oneHotSquares();
  const model = classifier(17);
  const seen: number[] = [];
  const { history } = await fit(model, data, {
    epochs: 8,
    batchSize: 10,
    optimizer: createOptimizer('adam', { lr: 0.05 }),
    rng: new Rng(18),
    loss: mine,
    validation: data,
    evalBatchSize: 20,
    onBatch: (b) => {
      seen.push(b.loss);
      assert.equal(b.loss, mine.last, 'the batch loss is the user loss\'s value');
    },
  });
  // 8 epochs x 4 batches of training, plus 2 validation batches per epoch.
  assert.equal(mine.calls, 8 * 4 + 8 * 2);
  assert.equal(seen.length, 32);
  assert.ok(history.every((r) => typeof r.accuracy === 'number' && typeof r.valAccuracy === 'number'));
  assert.ok(history[7].valAccuracy! >= 0.9, `learns the lines with its own loss: ${history[7].valAccuracy}`);
  const ev = evaluateDataset(model, data, { loss: mine });
  assert.ok(Math.abs(ev.loss - history[7].valLoss!) < 1e-6);
});

test('a user-written tensor loss (L1) trains through trainStep and fit', async () => {
  const { x, y, data } = linearTask(64, 19);
  const model = regressor(20);
  const opt = createOptimizer('adam', { lr: 0.02 });
  const start = model.trainStep(x, y, opt, { loss: l1 }).loss;
  const { history } = await fit(model, data, { epochs: 100, batchSize: 16, optimizer: opt, rng: new Rng(21), loss: l1, targets: y });
  const end = model.evaluate(x, y, { loss: l1 }).loss;
  assert.ok(start > 0.2 && end < 0.05, `L1 from ${start} to ${end}`);
  assert.ok(history[99].loss < history[0].loss);
});

test('bad losses and targets are refused, naming the op, the loss and expected vs actual', async () => {
  const { x, labels, data } = linesData(4, 22);
  const model = classifier(23);
  const opt = new SGD({ lr: 0.1 });
  const wrongGrad: LabelLoss = { name: 'shrunk', targets: 'labels', compute: (p, l) => ({ loss: softmaxCrossEntropy(p, l).loss, grad: new Tensor(new Float32Array(2), [2]) }) };
  assert.throws(() => model.trainStep(x, labels, opt, { loss: wrongGrad }), /^Error: Sequential\.trainStep: loss 'shrunk' returned a gradient of shape \[2\], expected the prediction's shape \[4, 2\]/);
  await assert.rejects(fit(model, data, { epochs: 1, optimizer: opt, loss: wrongGrad }), /loss 'shrunk' returned a gradient of shape \[2\], expected the prediction's shape \[4, 2\]/);
  assert.throws(() => evaluateDataset(model, data, { loss: wrongGrad }), /^Error: evaluateDataset: loss 'shrunk' returned a gradient of shape \[2\]/);
  const noNumber = { name: 'nan-less', targets: 'labels', compute: (p: Tensor) => ({ loss: '1', grad: p }) } as unknown as LabelLoss;
  assert.throws(() => model.evaluate(x, labels, { loss: noNumber }), /^Error: Sequential\.evaluate: loss 'nan-less' returned a loss of type string 1, expected a number/);
  assert.throws(() => model.trainStep(x, labels, opt, { loss: { name: 'x', compute: softmaxCrossEntropy } as unknown as LabelLoss }), /^Error: Sequential\.trainStep: loss 'x' has targets undefined, expected 'labels' or 'tensor'/);
  assert.throws(() => model.trainStep(x, labels, opt, { loss: softmaxCrossEntropy as unknown as LabelLoss }), /^Error: Sequential\.trainStep: loss must be a Loss \{ name, targets, compute \} \(e.g. crossEntropyLoss, mseLoss\), got function softmaxCrossEntropy/);
  // Targets of the wrong kind.
  assert.throws(() => model.trainStep(x, labels as unknown as Tensor, opt, { loss: mseLoss }), /^Error: Sequential\.trainStep: loss 'meanSquaredError' takes a target Tensor shaped like the output \[4, 2\], got Int32Array/);
  assert.throws(() => model.trainStep(x, Tensor.zeros([4, 2]) as unknown as Int32Array, opt), /^Error: Sequential\.trainStep: loss 'softmaxCrossEntropy' takes labels \(one class index per row/);
  // fit and evaluateDataset: a tensor loss needs targets of one row per sample; a label loss takes none.
  const reg = linearTask(8, 24);
  const r = regressor(25);
  await assert.rejects(fit(r, reg.data, { epochs: 1, optimizer: opt, loss: mseLoss } as never), /^Error: fit: targets must be a Tensor \[8, 1\] \(one target per sample\) for a tensor loss, got undefined/);
  await assert.rejects(fit(r, reg.data, { epochs: 1, optimizer: opt, loss: mseLoss, targets: Tensor.zeros([7, 1]) }), /^Error: fit: targets has shape \[7, 1\], expected \[8, 1\]/);
  await assert.rejects(fit(r, reg.data, { epochs: 1, optimizer: opt, loss: mseLoss, targets: reg.y, validation: reg.data }), /^Error: fit: validationTargets must be a Tensor \[8, 1\]/);
  await assert.rejects(
    fit(r, reg.data, { epochs: 1, optimizer: opt, loss: mseLoss, targets: reg.y, earlyStopping: { patience: 1, monitor: 'accuracy' as 'loss' } }),
    /^Error: fit: earlyStopping\.monitor 'accuracy' needs a loss on labels; loss 'meanSquaredError' has no accuracy/,
  );
  await assert.rejects(fit(model, data, { epochs: 1, optimizer: opt, targets: reg.y } as never), /^Error: fit: targets is only for a loss whose targets are tensors; loss 'softmaxCrossEntropy' trains on the dataset's labels/);
  assert.throws(() => evaluateDataset(r, reg.data, { loss: mseLoss } as never), /^Error: evaluateDataset: targets must be a Tensor \[8, 1\]/);
});
