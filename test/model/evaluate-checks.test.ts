/**
 * `evaluateDataset` and `fit` refuse what would give a meaningless figure: an empty dataset (no
 * accuracy of 0/0) and a model whose outputs are not finite (no "loss NaN, accuracy 10%").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Dataset } from '../../src/data/dataset.js';
import { Sequential } from '../../src/model/sequential.js';
import { Dense } from '../../src/layers/dense.js';
import { Flatten } from '../../src/layers/pooling.js';
import { createOptimizer } from '../../src/optim/registry.js';
import { fit } from '../../src/model/fit.js';
import { evaluateDataset } from '../../src/model/evaluate.js';

function data(n: number): Dataset {
  const images = new Float32Array(n * 4).map((_, i) => (i % 3) / 2);
  const labels = Int32Array.from({ length: n }, (_, i) => i % 2);
  return new Dataset({ images, labels, height: 2, width: 2, channels: 1, classNames: ['a', 'b'] });
}

const model = (): Sequential => new Sequential([new Flatten(), new Dense({ units: 2 })], { inputShape: [2, 2, 1], seed: 1 });

test('evaluateDataset: an empty dataset is an error, not NaN/0', () => {
  assert.throws(() => evaluateDataset(model(), data(4).take(0)), /evaluateDataset: the dataset is empty \(0 images\)/);
  // A non-empty one still evaluates.
  assert.equal(evaluateDataset(model(), data(4)).count, 4);
});

test('evaluateDataset: non-finite outputs are an error naming the sample and pointing at the weights', () => {
  for (const bad of [NaN, Infinity]) {
    const m = model();
    m.params()[0].value.data[1] = bad;
    assert.throws(() => evaluateDataset(m, data(6)), (e: Error) => {
      assert.match(e.message, /^evaluateDataset: the model's outputs are not finite/);
      assert.match(e.message, /sample 0/);
      assert.match(e.message, /weights/);
      assert.match(e.message, /and 5 more in its batch/);
      return true;
    });
  }
});

test('fit: an empty training set or an empty validation set is an error before any epoch', async () => {
  const optimizer = createOptimizer('sgd', { lr: 0.1 });
  let epochs = 0;
  await assert.rejects(
    fit(model(), data(4).take(0), { epochs: 2, optimizer, onEpoch: () => void epochs++ }),
    /fit: the training set is empty \(0 images\)/,
  );
  await assert.rejects(
    fit(model(), data(4), { epochs: 2, optimizer, validation: data(4).take(0), onEpoch: () => void epochs++ }),
    /fit: the validation set is empty \(0 images\)/,
  );
  // dropLast with fewer images than one batch would also train nothing.
  await assert.rejects(fit(model(), data(3), { epochs: 1, optimizer, batchSize: 4, dropLast: true }), /fit: dropLast with batchSize 4 leaves no batch of the 3 training images/);
  assert.equal(epochs, 0);
});
