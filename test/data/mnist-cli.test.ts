/**
 * The CLI's data names (src/cli/data.ts): `mnist` is the standard MNIST (60,000 train, 10,000 test),
 * `mnist-10k` the `mnist` package's 10,000 digits split 80/20 (the benchmark's W3 data).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadData, loadEvalData } from '../../src/cli/data.js';

const image = { height: 28, width: 28, channels: 1 as const };
const quiet = { onWarning: () => {} };

test('--data mnist trains on the 60,000 standard training images and tests on the 10,000 standard test images', async () => {
  const d = await loadData({ data: 'mnist', image, ...quiet });
  assert.equal(d.name, 'mnist');
  assert.equal(d.train.length, 60000);
  assert.equal(d.test.length, 10000);
  assert.deepEqual([...d.test.classCounts()], [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
  assert.match(d.testSource, /standard MNIST test set/);
  const upper = await loadData({ data: 'MNIST', image, limit: 100, testLimit: 50, ...quiet });
  assert.deepEqual([upper.train.length, upper.test.length], [100, 50]);
  assert.deepEqual([...upper.test.classCounts()], new Array(10).fill(5), '--test-limit takes a class-balanced prefix');
});

test('--data mnist-10k is the mnist package split: 7,996 train, 2,004 test', async () => {
  const d = await loadData({ data: 'mnist-10k', image, ...quiet });
  assert.equal(d.name, 'mnist-10k');
  assert.deepEqual([d.train.length, d.test.length], [7996, 2004]);
  assert.match(d.testSource, /mnist-10k: per digit, the last 20%/);
});

test('eval data: the standard test, train and all (70,000) sets; mnist-10k likewise', async () => {
  assert.equal((await loadEvalData('mnist', 'test', image, undefined, undefined)).length, 10000);
  assert.equal((await loadEvalData('mnist', 'train', image, undefined, undefined)).length, 60000);
  const all = await loadEvalData('mnist', 'all', image, undefined, undefined);
  assert.equal(all.length, 70000);
  assert.deepEqual([...all.classCounts()], [6903, 7877, 6990, 7141, 6824, 6313, 6876, 7293, 6825, 6958]);
  assert.equal((await loadEvalData('mnist-10k', 'test', image, undefined, undefined)).length, 2004);
  assert.equal((await loadEvalData('mnist-10k', 'all', image, undefined, undefined)).length, 10000);
});

test('MNIST data names refuse other image shapes and --test-data, naming the data', async () => {
  await assert.rejects(loadData({ data: 'mnist', image: { height: 32, width: 32, channels: 3 }, ...quiet }), /--data mnist holds 28x28 grey images, but the model takes 32x32x3/);
  await assert.rejects(loadEvalData('mnist-10k', 'test', { height: 28, width: 28, channels: 3 }, undefined, undefined), /--data mnist-10k holds 28x28 grey images, but the model takes 28x28x3/);
  await assert.rejects(loadData({ data: 'mnist-10k', testData: 'x', image, ...quiet }), /--test-data applies to image folders, not to --data mnist-10k/);
  await assert.rejects(loadData({ data: 'no-such-folder-here', image, ...quiet }), /--data 'no-such-folder-here': no such folder \(expected 'mnist', 'mnist-10k', a folder of class sub-folders or a `stride pack-data` file\)/);
});
