/**
 * The trainer protocol (src/worker) in Node: `serveTrainer` on one end of a MessageChannel (and in
 * a real worker_threads Worker), `TrainerClient` on the other. Training through it must give the
 * same weights, bit for bit, as a plain trainStep loop and as `fit` with the same seed; pause,
 * step, resume and stop must act between batches; failures come back as rejected promises that
 * carry the trainer's message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageChannel, Worker } from 'node:worker_threads';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sequential, type SequentialSpec } from '../../src/model/sequential.js';
import { Conv2D } from '../../src/layers/conv2d.js';
import { Dense } from '../../src/layers/dense.js';
import { Dropout } from '../../src/layers/dropout.js';
import { Flatten, MaxPool2D } from '../../src/layers/pooling.js';
import { ReLU } from '../../src/layers/activations.js';
import { Rng } from '../../src/tensor/random.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { createOptimizer } from '../../src/optim/registry.js';
import { serializeModel, deserializeModel } from '../../src/model/serialize.js';
import { fit } from '../../src/model/fit.js';
import { evaluateDataset } from '../../src/model/evaluate.js';
import { decodeCompactDataset, encodeCompactDataset } from '../../src/data/compact.js';
import { loadMnistSplits } from '../../src/node/mnist.js';
import { saveModel, loadModel } from '../../src/node/model-file.js';
import { packOrder } from '../../src/cli/commands/pack-data.js';
import { serveTrainer, TrainerClient, TrainerError, type BatchProgress, type EpochProgress } from '../../src/worker/index.js';
import { createSchedule } from '../../src/optim/schedule.js';
import { oneHotMseLoss, oneHotMeanSquaredError } from '../../src/losses/registry.js';
import { meanSquaredError } from '../../src/losses/mse.js';

/** A small net with dropout (so the model's own generator matters too). */
const SPEC: SequentialSpec = new Sequential(
  [new Conv2D({ outChannels: 4, kernelSize: 3, padding: 'same' }), new ReLU(), new MaxPool2D({ kernelSize: 2 }), new Flatten(), new Dropout({ rate: 0.25 }), new Dense({ units: 10 })],
  { inputShape: [28, 28, 1] },
).toSpec();

/** 120 train + 40 test MNIST digits as a compact file, class-balanced. */
const { train: mnistTrain, test: mnistTest } = loadMnistSplits();
const BYTES = encodeCompactDataset({ train: packOrder(mnistTrain, 120, undefined), test: packOrder(mnistTest, 40, undefined) });

function connect(): { client: TrainerClient; done: () => void } {
  const { port1, port2 } = new MessageChannel();
  serveTrainer(port1);
  const client = new TrainerClient(port2);
  return {
    client,
    done: () => {
      client.close();
      port1.close();
    },
  };
}

/** The reference: the same run as a plain trainStep loop, in this thread. */
function direct(opts: { seed: number; shuffleSeed: number; epochs: number; batchSize: number; lr: number; maxBatches?: number; augment?: { shift: number } }): { model: Sequential; losses: number[] } {
  const { train } = decodeCompactDataset(BYTES.slice());
  const model = Sequential.fromSpec(SPEC, opts.seed);
  const optimizer = createOptimizer('adam', { lr: opts.lr });
  const rng = new Rng(opts.shuffleSeed);
  const losses: number[] = [];
  for (let e = 0; e < opts.epochs; e++) {
    const augment = opts.augment ? { ...opts.augment, rng } : undefined;
    for (const { x, y } of train.batches(opts.batchSize, { shuffle: true, rng, augment })) {
      if (opts.maxBatches !== undefined && losses.length === opts.maxBatches) return { model, losses };
      losses.push(model.trainStep(x, y, optimizer).loss);
    }
  }
  return { model, losses };
}

test('training through the protocol gives the weights of a trainStep loop and of fit, bit for bit', async () => {
  const { client, done } = connect();
  try {
    const built = await client.build(SPEC, 3);
    assert.deepEqual(built.shapes, [[28, 28, 4], [28, 28, 4], [14, 14, 4], [784], [784], [10]]);
    const data = await client.loadData({ bytes: BYTES.slice() });
    assert.deepEqual([data.train, data.test, data.height, data.classNames.length], [120, 40, 28, 10]);
    const batches: BatchProgress[] = [];
    const epochs: number[] = [];
    const result = await client.train(
      { epochs: 2, batchSize: 16, optimizer: { name: 'adam', lr: 0.003 }, seed: 5, augment: { shift: 2 } },
      { onBatch: (p) => batches.push(p), onEpoch: (p) => epochs.push(p.loss) },
    );
    const ref = direct({ seed: 3, shuffleSeed: 5, epochs: 2, batchSize: 16, lr: 0.003, augment: { shift: 2 } });
    assert.equal(result.stopReason, 'completed');
    assert.equal(result.batches, 16);
    assert.deepEqual(batches.map((b) => b.loss), ref.losses);
    assert.deepEqual(batches.map((b) => [b.epoch, b.batch, b.step]).slice(6, 10), [[1, 6, 7], [1, 7, 8], [2, 0, 9], [2, 1, 10]]);
    assert.ok(batches.every((b) => b.imagesPerSecond > 0 && b.batches === 8));
    assert.equal(epochs.length, 2);
    const bytes = await client.saveModel();
    assert.deepEqual(bytes, serializeModel(ref.model));

    // fit with the same seeds: the same file again.
    const { train } = decodeCompactDataset(BYTES.slice());
    const model = Sequential.fromSpec(SPEC, 3);
    await fit(model, train, { epochs: 2, batchSize: 16, optimizer: createOptimizer('adam', { lr: 0.003 }), rng: new Rng(5), augment: { shift: 2 } });
    assert.deepEqual(bytes, serializeModel(model));
  } finally {
    done();
  }
});

test('rngState: a run shuffles with that generator (the command line\'s second fork), not new Rng(seed)', async () => {
  const { client, done } = connect();
  try {
    await client.build(SPEC, 3);
    await client.loadData({ bytes: BYTES.slice() });
    const root = new Rng(11);
    root.fork();
    const state = root.fork().getState();
    const batches: BatchProgress[] = [];
    await client.train({ epochs: 1, batchSize: 16, optimizer: { name: 'adam', lr: 0.003 }, seed: 11, rngState: state }, { onBatch: (p) => batches.push(p) });
    const { train } = decodeCompactDataset(BYTES.slice());
    const model = Sequential.fromSpec(SPEC, 3);
    const rng = new Rng(0);
    rng.setState(state);
    const optimizer = createOptimizer('adam', { lr: 0.003 });
    const losses = [...train.batches(16, { shuffle: true, rng })].map(({ x, y }) => model.trainStep(x, y, optimizer).loss);
    assert.deepEqual(batches.map((b) => b.loss), losses);
    assert.notDeepEqual(losses, direct({ seed: 3, shuffleSeed: 11, epochs: 1, batchSize: 16, lr: 0.003 }).losses, 'new Rng(seed) would shuffle otherwise');
    await assert.rejects(client.train({ rngState: [0, 0, 0, 0] }), /train: rngState: Rng\.setState: the all-zero state is invalid/);
    await assert.rejects(client.train({ rngState: 7 as unknown as number[] }), /train: rngState must be four unsigned 32-bit integers \(Rng\.getState\(\)\), got number/);
  } finally {
    done();
  }
});

test('samples: the loaded data\'s images and labels, as Dataset.image and label give them', async () => {
  const { client, done } = connect();
  try {
    await client.build(SPEC, 0);
    await client.loadData({ bytes: BYTES.slice() });
    const { train, test: testSet } = decodeCompactDataset(BYTES.slice());
    const s = await client.samples([5, 0, 39]);
    assert.deepEqual(s.shape, [3, 28, 28, 1]);
    assert.deepEqual(Array.from(s.labels), [5, 0, 39].map((i) => testSet.label(i)));
    assert.deepEqual(s.images.subarray(784, 1568), testSet.image(0).data);
    assert.deepEqual(s.images.subarray(1568), testSet.image(39).data);
    const t = await client.samples([7], 'train');
    assert.deepEqual([t.labels[0], t.images], [train.label(7), train.image(7).data]);
    await assert.rejects(client.samples([40]), /samples: indices must hold integers in \[0, 40\), got 40/);
    await assert.rejects(client.samples('1' as unknown as number[]), /samples: indices must be an array of sample indices/);
  } finally {
    done();
  }
});

test('a schedule and per-epoch validation match fit with the same schedule and validation set', async () => {
  const { client, done } = connect();
  try {
    await client.build(SPEC, 2);
    await client.loadData({ bytes: BYTES.slice() });
    const epochs: EpochProgress[] = [];
    const schedule = { kind: 'cosine', lr: 0.004, tMax: 3 } as const;
    await client.train({ epochs: 3, batchSize: 24, optimizer: { name: 'sgd', lr: 0.1, momentum: 0.9 }, seed: 9, schedule, validate: true }, { onEpoch: (e) => epochs.push(e) });
    const { train, test: testSet } = decodeCompactDataset(BYTES.slice());
    const model = Sequential.fromSpec(SPEC, 2);
    const r = await fit(model, train, { epochs: 3, batchSize: 24, optimizer: createOptimizer('sgd', { lr: 0.1, momentum: 0.9 }), rng: new Rng(9), schedule: createSchedule(schedule), validation: testSet });
    assert.deepEqual(await client.saveModel(), serializeModel(model));
    assert.deepEqual(epochs.map((e) => [e.lr, e.loss, e.accuracy, e.valLoss, e.valAccuracy]), r.history.map((h) => [h.lr, h.loss, h.accuracy, h.valLoss, h.valAccuracy]));
  } finally {
    done();
  }
});

test("train and evaluate take the loss by name: 'mse' gives fit's weights with the one-hot MSE, not cross-entropy's", async () => {
  const { client, done } = connect();
  try {
    await client.build(SPEC, 4);
    await client.loadData({ bytes: BYTES.slice() });
    const epochs: EpochProgress[] = [];
    await client.train({ epochs: 2, batchSize: 20, optimizer: { name: 'sgd', lr: 0.5 }, seed: 3, validate: true, loss: 'mse' }, { onEpoch: (e) => epochs.push(e) });
    const { train, test: testSet } = decodeCompactDataset(BYTES.slice());
    const model = Sequential.fromSpec(SPEC, 4);
    const r = await fit(model, train, { epochs: 2, batchSize: 20, optimizer: createOptimizer('sgd', { lr: 0.5 }), rng: new Rng(3), validation: testSet, loss: oneHotMseLoss });
    assert.deepEqual(await client.saveModel(), serializeModel(model));
    assert.deepEqual(epochs.map((e) => [e.loss, e.accuracy, e.valLoss, e.valAccuracy]), r.history.map((h) => [h.loss, h.accuracy, h.valLoss, h.valAccuracy]));
    // The same run with the default loss trains to other weights: the option took effect.
    const ce = Sequential.fromSpec(SPEC, 4);
    await fit(ce, train, { epochs: 2, batchSize: 20, optimizer: createOptimizer('sgd', { lr: 0.5 }), rng: new Rng(3) });
    assert.notDeepEqual(serializeModel(ce), serializeModel(model));
    // evaluate: the named loss, and cross-entropy by default.
    const e = await client.evaluate({ loss: 'mse' });
    assert.equal(e.loss, evaluateDataset(model, testSet, { loss: oneHotMseLoss }).loss);
    assert.equal((await client.evaluate()).loss, evaluateDataset(model, testSet).loss);
    assert.notEqual((await client.evaluate()).loss, e.loss);
    await assert.rejects(client.train({ loss: 'l1' as 'mse' }), (err: Error) => err instanceof TrainerError && /train: loss must be one of 'cross-entropy', 'mse', got "l1"/.test(err.message));
    await assert.rejects(client.evaluate({ loss: 'hinge' as 'mse' }), (err: Error) => /evaluate: loss must be one of 'cross-entropy', 'mse', got "hinge"/.test(err.message));
  } finally {
    done();
  }
});

test('oneHotMeanSquaredError is meanSquaredError against the one-hot labels, and checks the labels', () => {
  const pred = Tensor.randn([3, 4], { seed: 8 });
  const onehot = Tensor.fromArray([0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 1], [3, 4]);
  const got = oneHotMeanSquaredError(pred, [2, 0, 3]);
  const want = meanSquaredError(pred, onehot);
  assert.equal(got.loss, want.loss);
  assert.deepEqual(got.grad.data, want.grad.data);
  assert.throws(() => oneHotMeanSquaredError(pred, [2, 0, 4]), /oneHotMeanSquaredError: labels\[2\] must be an integer class in \[0, 4\), got 4/);
  assert.throws(() => oneHotMeanSquaredError(pred, [2, 0]), /oneHotMeanSquaredError: labels must have one entry per row: expected 3, got 2/);
});

test('saveModel gives the bytes saveModel writes; loadModel takes a model file and continues from it', async () => {
  const { client, done } = connect();
  const dir = await mkdtemp(join(tmpdir(), 'stride-worker-'));
  try {
    await client.loadData({ bytes: BYTES.slice() });
    const ref = direct({ seed: 1, shuffleSeed: 2, epochs: 1, batchSize: 20, lr: 0.01 });
    await saveModel(ref.model, join(dir, 'm.safetensors'));
    const file = new Uint8Array(await readFile(join(dir, 'm.safetensors')));
    const info = await client.loadModel(file);
    assert.equal(info.params, ref.model.paramCount());
    assert.deepEqual(await client.saveModel(), file);
    const evaluated = await client.evaluate({ split: 'test' });
    const expected = evaluateDataset(ref.model, decodeCompactDataset(BYTES.slice()).test);
    assert.equal(evaluated.loss, expected.loss);
    assert.deepEqual(evaluated.confusion, expected.confusion);
    // A page's model file is a model file: loadModel reads it.
    const again = await loadModel(join(dir, 'm.safetensors'));
    assert.deepEqual(serializeModel(again), await client.saveModel());
  } finally {
    done();
    await rm(dir, { recursive: true, force: true });
  }
});

test('pause, step, resume and stop act between batches; a paused run trains exactly the batches stepped', async () => {
  const { client, done } = connect();
  try {
    await client.build(SPEC, 3);
    await client.loadData({ bytes: BYTES.slice() });
    const seen: BatchProgress[] = [];
    const run = client.train({ epochs: 3, batchSize: 16, optimizer: { name: 'adam', lr: 0.003 }, seed: 5, startPaused: true }, (p) => seen.push(p));
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(seen.length, 0, 'startPaused: no batch before step');
    assert.equal((await client.info()).state, 'paused');
    const steps = [await client.step(), await client.step(), await client.step()];
    assert.deepEqual(steps.map((s) => s.step), [1, 2, 3]);
    const ref = direct({ seed: 3, shuffleSeed: 5, epochs: 3, batchSize: 16, lr: 0.003, maxBatches: 3 });
    assert.deepEqual(steps.map((s) => s.loss), ref.losses);
    assert.deepEqual(await client.saveModel(), serializeModel(ref.model), 'the model after 3 steps');
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(seen.length, 3, 'still paused after the steps');

    await client.resume();
    while (seen.length < 6) await new Promise((r) => setTimeout(r, 1));
    await client.pause();
    const at = seen.length;
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(seen.length, at, 'no batch while paused');
    await assert.rejects(client.build(SPEC), (e: Error) => e instanceof TrainerError && /build: a train request is running; stop it first/.test(e.message));
    await assert.rejects(client.train({ optimizer: { name: 'sgd' } }), /train: a train request is running; stop it first/);
    await client.resume();
    while (seen.length < at + 2) await new Promise((r) => setTimeout(r, 1));
    await assert.rejects(client.step(), /step: training is running; pause it first/);
    await client.stop();
    const result = await run;
    assert.equal(result.stopReason, 'stopped');
    assert.equal(result.batches, seen.length);
    assert.ok(result.batches < 24, `stopped before the end: ${result.batches} of 24 batches`);
    assert.equal((await client.info()).state, 'idle');
    await assert.rejects(client.step(), /step: no training in progress/);
  } finally {
    done();
  }
});

test('predict, activations and parameters match the model run directly', async () => {
  const { client, done } = connect();
  try {
    await client.build(SPEC, 4);
    await client.loadData({ bytes: BYTES.slice() });
    const model = Sequential.fromSpec(SPEC, 4);
    const { test: testSet } = decodeCompactDataset(BYTES.slice());
    const pixels = testSet.images.slice(testSet.indices[0] * 784, testSet.indices[0] * 784 + 784 * 2);
    const p = await client.predict({ pixels, count: 2 });
    const want = model.predict(new Tensor(Float32Array.from(pixels, (v) => v / 255), [2, 28, 28, 1]));
    assert.deepEqual(p.shape, [2, 10]);
    assert.deepEqual(p.logits, want.data);
    assert.ok(Math.abs(p.probabilities.slice(0, 10).reduce((a, b) => a + b, 0) - 1) < 1e-5);
    const a = await client.activations({ split: 'test', index: 3 });
    const made: Tensor[] = [];
    model.forward(testSet.image(3), false, made);
    assert.equal(a.layers.length, SPEC.config.layers.length);
    assert.deepEqual(a.layers.map((l) => l.shape), made.map((t) => [...t.shape]));
    a.layers.forEach((l, i) => assert.deepEqual(l.data, made[i].data, `layer ${i}`));
    assert.deepEqual(a.input.data, testSet.image(3).data);
    const { params } = await client.parameters();
    assert.deepEqual(params.map((q) => q.name), ['0.weight', '0.bias', '5.weight', '5.bias']);
    assert.deepEqual(params[0].shape, [3, 3, 1, 4]);
    assert.deepEqual(params[0].data, model.namedParams()[0].param.value.data);
  } finally {
    done();
  }
});

test('failures are rejected promises with the trainer\'s message', async () => {
  const { client, done } = connect();
  try {
    await assert.rejects(client.train({ optimizer: { name: 'adam' } }), (e: Error) => e instanceof TrainerError && e.request === 'train' && /train: no model; send build or loadModel first/.test(e.message));
    await assert.rejects(client.build({ type: 'Dense' } as unknown as SequentialSpec), /Sequential\.fromSpec: expected type 'Sequential', got "Dense"/);
    await assert.rejects(client.loadData({ bytes: new Uint8Array(100) }), (e: TrainerError) => e.remoteName === 'CompactDatasetError' && /bad magic/.test(e.message));
    await assert.rejects(client.loadModel(new Uint8Array([1, 2, 3])), /loadModel/);
    await client.build(SPEC, 0);
    await assert.rejects(client.train({ optimizer: { name: 'adam' } }), /train: no data; send loadData first/);
    await client.loadData({ bytes: BYTES.slice() });
    await assert.rejects(client.train({}), /train: options\.optimizer is required for the first run/);
    await assert.rejects(client.train({ optimizer: { name: 'nesterov' as 'sgd' } }), /createOptimizer: unknown optimizer 'nesterov'/);
    await assert.rejects(client.train({ batchSize: 0, optimizer: { name: 'sgd' } }), /train: batchSize must be an integer >= 1, got 0/);
    await assert.rejects(client.predict({ pixels: new Uint8Array(700) }), /predict: input\.pixels has 700 values, expected count \* 28 \* 28 \* 1/);
    await assert.rejects(client.activations({ split: 'test', index: 40 }), /activations: input\.index must be an integer in \[0, 40\), got 40/);
    await assert.rejects(client.evaluate({ split: 'validation' as 'test' }), /evaluate: split must be 'train' or 'test'/);
    await assert.rejects(client.request({ type: 'fly' } as never), /trainer: unknown request type "fly"/);
    await assert.rejects(client.setLearningRate(0.1), /setLearningRate: no optimizer yet/);
    await client.build(new Sequential([new Flatten(), new Dense({ units: 10 })], { inputShape: [32, 32, 3] }).toSpec());
    await assert.rejects(client.train({ optimizer: { name: 'sgd' } }), /train: the data's images are \[28, 28, 1\] but the model takes \[32, 32, 3\]/);
    await client.build(SPEC, 0);
    await assert.rejects(client.train({ optimizer: { name: 'sgd', lr: 1e30 }, epochs: 3 }), /train: the training loss became (NaN|Infinity) at epoch \d, batch \d+; try a lower learning rate/);
    // After every failure the trainer still works (a diverged model is rebuilt).
    await client.build(SPEC, 0);
    const r = await client.train({ optimizer: { name: 'sgd', lr: 0.01 }, limit: 32, batchSize: 16 });
    assert.equal(r.batches, 2);
  } finally {
    done();
  }
});

test('the same protocol across a real worker_threads Worker', async () => {
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(new URL('./node-trainer.mjs', import.meta.url), { workerData: { port: port1 }, transferList: [port1] });
  const client = new TrainerClient(port2);
  try {
    await client.build(SPEC, 3);
    await client.loadData({ bytes: BYTES.slice() });
    const losses: number[] = [];
    await client.train({ epochs: 1, batchSize: 16, optimizer: { name: 'adam', lr: 0.003 }, seed: 5 }, (p) => losses.push(p.loss));
    const ref = direct({ seed: 3, shuffleSeed: 5, epochs: 1, batchSize: 16, lr: 0.003 });
    assert.deepEqual(losses, ref.losses);
    assert.deepEqual(deserializeModel(await client.saveModel()).toSpec(), SPEC);
    assert.deepEqual(await client.saveModel(), serializeModel(ref.model));
  } finally {
    client.close();
    await worker.terminate();
  }
});

test("TrainerClient takes Node's Worker itself (the trainer on parentPort); a worker that dies fails what is pending", async () => {
  const worker = new Worker(new URL('./node-trainer.mjs', import.meta.url));
  const client = new TrainerClient(worker);
  try {
    const info = await client.build(SPEC, 3);
    assert.equal(info.params, Sequential.fromSpec(SPEC, 3).paramCount());
    await client.loadData({ bytes: BYTES.slice() });
    const pending = client.train({ epochs: 50, batchSize: 8, optimizer: { name: 'sgd' }, startPaused: true });
    await worker.terminate();
    await assert.rejects(pending, /train: the trainer worker exited \(code 1\)/);
  } finally {
    client.close();
    await worker.terminate();
  }
});
