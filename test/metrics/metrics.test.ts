/** src/metrics.ts on hand-made cases: arg max ties and NaN, accuracy, the confusion matrix, precision/recall. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/tensor.js';
import { argmax, accuracy, countCorrect, countMatches, confusionMatrix, classificationMetrics } from '../../src/metrics.js';
import { Rng } from '../../src/tensor/random.js';
import { Dataset } from '../../src/data/dataset.js';
import { Sequential } from '../../src/model/sequential.js';
import { Dense } from '../../src/layers/dense.js';
import { Flatten } from '../../src/layers/pooling.js';
import { evaluateDataset } from '../../src/model/evaluate.js';

test('argmax: one class per row over the last axis, the first maximum on ties', () => {
  const s = Tensor.fromArray([
    [1, 3, 3],
    [2, 2, 2],
    [-1, -5, -1],
    [0, 0, 7],
  ]);
  assert.deepEqual([...argmax(s)], [1, 0, 0, 2]);
  // Rank 3: rows are still the last axis (2 x 2 rows of 2).
  const r3 = new Tensor(new Float32Array([0, 1, 1, 0, 5, 5, -2, -3]), [2, 2, 2]);
  assert.deepEqual([...argmax(r3)], [1, 0, 0, 0]);
});

test('argmax: a NaN never beats an earlier value, and a row starting with NaN keeps index 0 (as documented)', () => {
  const s = new Tensor(new Float32Array([0, NaN, 1, NaN, 5, 9]), [2, 3]);
  assert.deepEqual([...argmax(s)], [2, 0]);
});

test('argmax refuses what is not a live tensor, naming the op', () => {
  assert.throws(() => argmax([[1, 2]] as unknown as Tensor), /^Error: argmax: scores must be a Tensor, got Array/);
  const t = Tensor.fromArray([[1, 2]]);
  t.dispose();
  assert.throws(() => argmax(t), /argmax: scores was disposed/);
  assert.throws(() => argmax(new Tensor(new Float32Array(0), [3, 0])), /argmax: scores has no columns \(shape \[3, 0\]\)/);
});

test('accuracy and countMatches: hand values; lengths must agree; 0/0 is refused', () => {
  assert.equal(countMatches([0, 1, 2, 2], [0, 2, 2, 1]), 2);
  assert.equal(accuracy([0, 1, 2, 2], [0, 2, 2, 1]), 0.5);
  assert.equal(accuracy(new Int32Array([3]), new Uint8Array([3])), 1);
  assert.throws(() => accuracy([0, 1], [0, 1, 2]), /^Error: accuracy: predicted has 2 entries but labels has 3; expected one prediction per label/);
  assert.throws(() => accuracy([], []), /^Error: accuracy: no samples \(0 labels\)/);
  assert.throws(() => countMatches(null as unknown as number[], [1]), /^Error: countMatches: predicted must be an array of classes, got null/);
});

test('countCorrect counts arg max hits, ties to the first maximum', () => {
  const logits = Tensor.fromArray([
    [1, 1],
    [0, 2],
    [3, 1],
  ]);
  // Row 0 ties: class 0 is predicted, so label 1 is wrong.
  assert.equal(countCorrect(logits, [1, 1, 0]), 2);
  assert.equal(countCorrect(logits, [0, 1, 0]), 3);
});

test('confusionMatrix: rows true, columns predicted; accumulates into a given matrix; refuses classes out of range', () => {
  const m = confusionMatrix([0, 1, 1, 2, 0], [0, 1, 2, 2, 1], 3);
  assert.deepEqual([...m], [1, 0, 0, 1, 1, 0, 0, 1, 1]);
  confusionMatrix([2], [0], 3, m);
  assert.deepEqual([...m], [1, 0, 1, 1, 1, 0, 0, 1, 1]);
  assert.throws(() => confusionMatrix([0], [3], 3), /^Error: confusionMatrix: labels\[0\] must be an integer class in \[0, 3\), got 3/);
  assert.throws(() => confusionMatrix([0, -1], [0, 0], 3), /^Error: confusionMatrix: predicted\[1\] must be an integer class in \[0, 3\), got -1/);
  assert.throws(() => confusionMatrix([0], [0], 2, new Int32Array(9)), /confusionMatrix: into has 9 entries, expected numClasses\^2 = 4/);
  assert.throws(() => confusionMatrix([0], [0], 0), /confusionMatrix: numClasses must be an integer >= 1, got 0/);
});

test('classificationMetrics: a class never predicted has precision 0, a class never present recall 0, both in the macro mean', () => {
  // 3 classes. Class 2 is never predicted (column 2 all zero) but has 2 samples; class 1 has no samples but is predicted once.
  //            pred 0  1  2
  const conf = [3, 1, 0, //  true 0
    0, 0, 0, //                true 1
    1, 1, 0]; //               true 2
  const m = classificationMetrics(conf, 3);
  assert.deepEqual(m.perClass[0], { precision: 3 / 4, recall: 3 / 4, f1: 3 / 4, support: 4 });
  assert.deepEqual(m.perClass[1], { precision: 0, recall: 0, f1: 0, support: 0 });
  assert.deepEqual(m.perClass[2], { precision: 0, recall: 0, f1: 0, support: 2 });
  assert.equal(m.macro.precision, 0.25);
  assert.equal(m.macro.recall, 0.25);
  assert.equal(m.accuracy, 3 / 6);
  assert.ok(Number.isNaN(classificationMetrics([0, 0, 0, 0], 2).accuracy), 'an empty matrix has no accuracy');
});

test('evaluateDataset uses the one arg max: its predictions and confusion equal argmax and confusionMatrix of predict', () => {
  const rng = new Rng(5);
  const n = 23;
  const images = new Float32Array(n * 12);
  for (let i = 0; i < images.length; i++) images[i] = rng.next();
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) labels[i] = rng.int(3);
  const data = new Dataset({ images, labels, height: 2, width: 2, channels: 3 });
  const model = new Sequential([new Flatten(), new Dense({ units: 3 })], { inputShape: [2, 2, 3], seed: 2 });
  const ev = evaluateDataset(model, data, { batchSize: 5 });
  const predicted = argmax(model.predict(new Tensor(images, [n, 2, 2, 3])));
  assert.deepEqual([...ev.predictions], [...predicted]);
  assert.deepEqual([...ev.confusion], [...confusionMatrix(predicted, labels, 3)]);
  assert.equal(ev.accuracy, accuracy(predicted, labels));
});
