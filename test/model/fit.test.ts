/**
 * The training loop: it learns, it is bit-reproducible from its seeds, a run resumed from an
 * epoch-end snapshot equals the uninterrupted run, schedules, early stopping and callbacks work,
 * and the evaluation helpers count correctly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/tensor/random.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { Dataset } from '../../src/data/dataset.js';
import { Sequential } from '../../src/model/sequential.js';
import { Conv2D } from '../../src/layers/conv2d.js';
import { Dense } from '../../src/layers/dense.js';
import { Dropout } from '../../src/layers/dropout.js';
import { Flatten, MaxPool2D } from '../../src/layers/pooling.js';
import { ReLU } from '../../src/layers/activations.js';
import { createOptimizer } from '../../src/optim/registry.js';
import type { Optimizer } from '../../src/optim/optimizer.js';
import { createPreset, presetNames } from '../../src/model/presets.js';
import { evaluateDataset } from '../../src/model/evaluate.js';
import { classificationMetrics } from '../../src/metrics.js';
import { fit, earlyStoppingState, firstNonFinite, TrainingDivergedError, type EpochInfo, type EpochMetrics } from '../../src/model/fit.js';

/** 8x8 images with one bright vertical (class 0) or horizontal (class 1) line, plus noise. */
function linesDataset(n: number, seed: number): Dataset {
  const rng = new Rng(seed);
  const images = new Float32Array(n * 64);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const cls = rng.int(2);
    const at = rng.int(8);
    labels[i] = cls;
    for (let k = 0; k < 8; k++) images[i * 64 + (cls === 0 ? k * 8 + at : at * 8 + k)] = 1;
    for (let p = 0; p < 64; p++) images[i * 64 + p] += rng.normal(0, 0.2);
  }
  return new Dataset({ images, labels, height: 8, width: 8, channels: 1 });
}

function makeModel(seed: number, dropout = false): Sequential {
  return new Sequential(
    [
      new Conv2D({ outChannels: 4, kernelSize: 3, padding: 'same' }),
      new ReLU(),
      new MaxPool2D({ kernelSize: 2 }),
      new Flatten(),
      ...(dropout ? [new Dropout({ rate: 0.3 })] : []),
      new Dense({ units: 2 }),
    ],
    { inputShape: [8, 8, 1], seed },
  );
}

const weights = (m: Sequential): Float32Array[] => m.params().map((p) => p.value.data.slice());
const strip = (h: readonly EpochMetrics[]) => h.map(({ seconds: _s, ...rest }) => rest);

test('fit learns the lines task and reports 1-based epochs with train and validation metrics', async () => {
  const train = linesDataset(96, 1);
  const validation = linesDataset(48, 2);
  const model = makeModel(3);
  const before = evaluateDataset(model, validation);
  const { history, stopReason, lastEpoch } = await fit(model, train, {
    epochs: 6,
    batchSize: 16,
    optimizer: createOptimizer('sgd', { lr: 0.1, momentum: 0.9 }),
    validation,
    shuffleSeed: 4,
  });
  assert.equal(stopReason, 'completed');
  assert.equal(lastEpoch, 6);
  assert.deepEqual(history.map((r) => r.epoch), [1, 2, 3, 4, 5, 6]);
  assert.ok(history.every((r) => r.samples === 96 && r.lr === 0.1));
  const last = history[5];
  assert.ok(last.loss < history[0].loss, `training loss fell: ${history[0].loss} → ${last.loss}`);
  assert.ok(last.valAccuracy! >= 0.9, `validation accuracy ${last.valAccuracy}`);
  assert.ok(last.valLoss! < before.loss);
  // The recorded validation numbers are what evaluateDataset reports for the final model.
  const after = evaluateDataset(model, validation);
  assert.equal(last.valAccuracy, after.accuracy);
  assert.equal(last.valLoss, after.loss);
});

test('fit is bit-reproducible from its seeds, and the shuffle seed matters', async () => {
  const train = linesDataset(64, 5);
  const run = async (shuffleSeed: number): Promise<{ w: Float32Array[]; h: EpochMetrics[] }> => {
    const model = makeModel(7, true);
    const { history } = await fit(model, train, {
      epochs: 3,
      batchSize: 10,
      optimizer: createOptimizer('adam', { lr: 0.01 }),
      shuffleSeed,
      augment: { shift: 1 },
    });
    return { w: weights(model), h: history };
  };
  const a = await run(11);
  const b = await run(11);
  const c = await run(12);
  assert.deepEqual(a.w, b.w);
  assert.deepEqual(strip(a.h), strip(b.h));
  assert.notDeepEqual(a.w, c.w);
});

test('a run resumed from an epoch-end snapshot equals the uninterrupted run bit for bit', async () => {
  const train = linesDataset(50, 8);
  const validation = linesDataset(20, 9);
  const common = { batchSize: 8, validation, augment: { shift: 1 } };
  const schedule = (t: number): number => 0.02 * Math.pow(0.5, t);

  // Uninterrupted: 3 epochs.
  const straight = makeModel(21, true);
  const full = await fit(straight, train, { ...common, epochs: 3, optimizer: createOptimizer('adamw', { lr: 0.02 }), rng: new Rng(99), schedule });

  // Interrupted after epoch 1: snapshot everything in onEpoch, as a checkpoint does.
  const box: { snap?: { w: Float32Array[]; opt: ReturnType<Optimizer['stateDict']>; rng: number[]; modelRng: number[]; history: readonly EpochMetrics[] } } = {};
  const first = makeModel(21, true);
  const opt1 = createOptimizer('adamw', { lr: 0.02 });
  await fit(first, train, {
    ...common,
    epochs: 1,
    optimizer: opt1,
    rng: new Rng(99),
    schedule,
    onEpoch: (info: EpochInfo) => {
      box.snap = { w: weights(first), opt: opt1.stateDict(first.params()), rng: info.rng.getState(), modelRng: first.rng.getState(), history: info.history };
    },
  });
  const s = box.snap;
  assert.ok(s !== undefined);
  // Restore into fresh objects (a different init seed, so nothing leaks from construction).
  const resumed = makeModel(1234, true);
  resumed.params().forEach((p, i) => p.value.data.set(s.w[i]));
  resumed.rng.setState(s.modelRng);
  const opt2 = createOptimizer('adamw', { lr: 0.5 });
  opt2.loadStateDict(resumed.params(), s.opt);
  const rng = new Rng(0);
  rng.setState(s.rng);
  const rest = await fit(resumed, train, { ...common, epochs: 3, optimizer: opt2, rng, schedule, startEpoch: 1, history: s.history });

  assert.deepEqual(strip(rest.history), strip(full.history));
  assert.deepEqual(weights(resumed), weights(straight));
  assert.deepEqual(strip(rest.history), strip(full.history));
  assert.deepEqual(rest.history.map((r) => r.lr), [0.02, 0.01, 0.005]);
});

test('fit: early stopping, the stop verdict of onEpoch, and onBatch counts', async () => {
  const train = linesDataset(30, 10);
  const validation = linesDataset(10, 11);
  // lr 0: the validation loss never improves after epoch 1, so patience 2 stops after epoch 3.
  const model = makeModel(1);
  const seen: number[] = [];
  const sums = [0, 0, 0];
  const r = await fit(model, train, {
    epochs: 10,
    batchSize: 8,
    optimizer: createOptimizer('sgd', { lr: 0 }),
    validation,
    earlyStopping: { patience: 2 },
    onBatch: (b) => {
      seen.push(b.seen);
      sums[b.epoch - 1] += b.loss * b.size;
      assert.equal(b.batches, 4);
      assert.equal(b.total, 30);
    },
  });
  assert.equal(r.stopReason, 'earlyStopping');
  assert.equal(r.history.length, 3);
  // The epoch loss is the mean over samples (the last batch has 6, not 8).
  r.history.forEach((h, e) => assert.ok(Math.abs(h.loss - sums[e] / 30) < 1e-12, `${h.loss} vs ${sums[e] / 30}`));
  assert.equal(r.bestEpoch, 1);
  assert.deepEqual(seen, [8, 16, 24, 30, 8, 16, 24, 30, 8, 16, 24, 30]);

  const stopped = await fit(makeModel(1), train, {
    epochs: 10,
    batchSize: 8,
    optimizer: createOptimizer('sgd', { lr: 0.01 }),
    onEpoch: (e) => (e.epoch === 2 ? 'stop' : undefined),
  });
  assert.equal(stopped.stopReason, 'callback');
  assert.equal(stopped.lastEpoch, 2);
});

test('earlyStoppingState: best epoch, minDelta and direction per monitor', () => {
  const h = [0.5, 0.4, 0.45, 0.39, 0.395].map((v, i) => ({ epoch: i + 1, lr: 0.1, loss: v, accuracy: 1 - v, samples: 1, seconds: 0 }));
  assert.deepEqual(earlyStoppingState(h, 'loss'), { bestEpoch: 4, best: 0.39, wait: 1 });
  // 0.39 beats 0.4 by only 0.01, not more than minDelta 0.02.
  assert.deepEqual(earlyStoppingState(h, 'loss', 0.02), { bestEpoch: 2, best: 0.4, wait: 3 });
  assert.equal(earlyStoppingState(h, 'accuracy').bestEpoch, 4);
});

test('fit validates its options, naming the argument', async () => {
  const train = linesDataset(8, 1);
  const optimizer = createOptimizer('sgd');
  await assert.rejects(fit(makeModel(1), train, { epochs: -1, optimizer }), /fit: epochs must be an integer >= 0, got -1/);
  await assert.rejects(fit(makeModel(1), train, { epochs: 1, batchSize: 0, optimizer }), /batchSize/);
  await assert.rejects(fit(makeModel(1), train, { epochs: 1, optimizer, earlyStopping: { patience: 1, monitor: 'valLoss' } }), /needs validation data/);
  const wrong = new Dataset({ images: new Float32Array(2 * 25), labels: new Int32Array(2), height: 5, width: 5, channels: 1 });
  await assert.rejects(fit(makeModel(1), wrong, { epochs: 1, optimizer }), /images are \[5, 5, 1\] but the model takes \[8, 8, 1\]/);
  await assert.rejects(fit(makeModel(1), train, { epochs: 1, optimizer, schedule: () => NaN }), /schedule\(0\) returned NaN/);
});

test('evaluateDataset agrees with Sequential.evaluate and fills the confusion matrix', () => {
  const data = linesDataset(40, 12);
  const model = makeModel(13);
  const ev = evaluateDataset(model, data, { batchSize: 7 });
  const x = new Tensor(data.images as Float32Array, [40, 8, 8, 1]);
  const ref = model.evaluate(x, data.labels);
  assert.equal(ev.accuracy, ref.accuracy);
  assert.ok(Math.abs(ev.loss - ref.loss) < 1e-6, `${ev.loss} vs ${ref.loss}`);
  assert.equal(ev.confusion.reduce((a, b) => a + b, 0), 40);
  assert.equal((ev.confusion[0] + ev.confusion[3]) / 40, ev.accuracy);
  for (let i = 0; i < 40; i++) {
    const row = model.predict(data.image(i)).data;
    assert.equal(ev.predictions[i], row[1] > row[0] ? 1 : 0);
  }
});

test('classificationMetrics: precision, recall and F1 by hand', () => {
  // rows true, columns predicted
  const m = classificationMetrics([5, 1, 0, 2, 3, 0, 0, 0, 0], 3);
  assert.deepEqual(m.perClass[0], { precision: 5 / 7, recall: 5 / 6, f1: (2 * (5 / 7) * (5 / 6)) / (5 / 7 + 5 / 6), support: 6 });
  assert.deepEqual(m.perClass[1], { precision: 3 / 4, recall: 3 / 5, f1: (2 * 0.75 * 0.6) / 1.35, support: 5 });
  assert.deepEqual(m.perClass[2], { precision: 0, recall: 0, f1: 0, support: 0 });
  assert.equal(m.accuracy, 8 / 11);
  assert.throws(() => classificationMetrics([1, 2, 3], 2), /expected numClasses\^2 = 4/);
});

test('presets build for MNIST and other image shapes', () => {
  assert.deepEqual(presetNames().slice(0, 2), ['lenet', 'small']);
  const lenet = createPreset('lenet');
  assert.deepEqual(lenet.outputShape, [10]);
  assert.deepEqual(lenet.shapes.map((s) => s.join('x')), ['28x28x32', '28x28x32', '14x14x32', '14x14x64', '14x14x64', '7x7x64', '3136', '256', '256', '10']);
  assert.equal(lenet.paramCount(), 5 * 5 * 32 + 32 + 5 * 5 * 32 * 64 + 64 + 3136 * 256 + 256 + 256 * 10 + 10);
  const small = createPreset('small', { inputShape: [32, 32, 3], numClasses: 4 });
  assert.deepEqual(small.outputShape, [4]);
  assert.deepEqual(small.shapes[5], [5, 5, 16]);
  assert.throws(() => createPreset('resnet'), /unknown preset 'resnet', expected one of lenet, small, tiny/);
});

test('fit: transform sees every training batch after augmentation, and the model trains on what it returns', async () => {
  const train = linesDataset(40, 6);
  const seen: number[] = [];
  // Transform that zeroes every image: the model then learns nothing from the pixels, so its weights
  // must differ from a run without the transform (which learns the lines).
  const zero = (x: Tensor, rng: Rng): Tensor => {
    seen.push(x.shape[0]);
    assert.ok(rng instanceof Rng);
    return Tensor.zeros(x.shape);
  };
  const run = async (transform?: (x: Tensor, rng: Rng) => Tensor): Promise<Float32Array[]> => {
    const model = makeModel(2);
    await fit(model, train, { epochs: 2, batchSize: 16, optimizer: createOptimizer('sgd', { lr: 0.1 }), shuffleSeed: 1, transform });
    return weights(model);
  };
  const plain = await run();
  const zeroed = await run(zero);
  assert.deepEqual(seen, [16, 16, 8, 16, 16, 8], 'one call per batch, in order');
  assert.notDeepEqual(plain, zeroed);
  // With all-zero inputs the first conv's kernel gets no gradient (dW = Σ x·dZ = 0), only weight decay (none here).
  const fresh = weights(makeModel(2));
  assert.deepEqual(zeroed[0], fresh[0], 'conv kernel unchanged when every input is zero');
  // The identity transform changes nothing.
  assert.deepEqual(await run((x) => x), plain);
  // Transforms draw from the loop's generator: a draw changes the next epoch's shuffle, reproducibly.
  const drawing = (x: Tensor, rng: Rng): Tensor => (rng.uniform(), x);
  const d1 = await run(drawing);
  assert.deepEqual(await run(drawing), d1);
  assert.notDeepEqual(d1, plain);
  const optimizer = createOptimizer('sgd');
  await assert.rejects(
    fit(makeModel(1), train, { epochs: 1, optimizer, transform: (x) => x.reshape([x.shape[0], 64, 1, 1]) }),
    /fit: transform returned shape \[\d+, 64, 1, 1\], expected the batch's shape \[\d+, 8, 8, 1\]/,
  );
  await assert.rejects(fit(makeModel(1), train, { epochs: 1, optimizer, transform: 3 as never }), /fit: transform must be a function/);
});

test('fit: an update that overflows the weights stops the epoch before onEpoch sees them, naming epoch and parameter', async () => {
  // One batch per epoch, so the overflowing update is the epoch's last: its loss (computed before the update) is finite.
  const train = linesDataset(8, 1);
  const model = makeModel(3);
  const optimizer = createOptimizer('sgd', { lr: 0.1 });
  const seen: number[] = [];
  const onEpoch = (e: EpochInfo) => {
    seen.push(e.epoch);
    if (e.epoch === 1) optimizer.lr = 1e300;
  };
  await assert.rejects(
    fit(model, train, { epochs: 3, batchSize: 8, optimizer, onEpoch }),
    (e: Error) => {
      assert.ok(e instanceof TrainingDivergedError, `a TrainingDivergedError, got ${e.name}: ${e.message}`);
      assert.equal(e.epoch, 2);
      assert.match(e.message, /^fit: the weights became non-finite in epoch 2 \(parameter layers\.\d\.(weight|bias) holds [-\d.e+]*(Infinity|NaN)/);
      assert.match(e.message, /try a lower learning rate/);
      return true;
    },
  );
  assert.deepEqual(seen, [1], 'onEpoch never sees the diverged weights');
  assert.ok(firstNonFinite(model) !== null);
});
