/**
 * `stride train --data FILE`: a compact dataset file written by `stride pack-data` (the playground's
 * digits are one). The run trains on the file's train split in the file's order and tests on its test
 * split: its first batches are a plain trainStep loop over `train.batches` with the command line's
 * generator (the second fork of new Rng(seed)), and `eval` finds the recorded test split again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCompactDataset } from '../../src/data/compact.js';
import { createPreset } from '../../src/model/presets.js';
import { createOptimizer } from '../../src/optim/registry.js';
import { Rng } from '../../src/tensor/random.js';
import { fails, jsonLines, ok, stride } from './run-stride.js';

test('train --data <pack-data file>: the file\'s splits, the command line\'s generator; eval uses its test split', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'stride-data-file-'));
  try {
    ok(await stride(dir, ['pack-data', '--data', 'mnist-10k', '--limit', '96', '--test-limit', '40', '--gzip', '-o', 'd.bin.gz']), 'pack-data');
    const r = ok(
      await stride(dir, ['train', '-m', 'small', '--data', 'd.bin.gz', '--epochs', '1', '--batch-size', '32', '--optimizer', 'sgd', '--lr', '0.05', '--momentum', '0', '--weight-decay', '0',
        '--schedule', 'constant', '--no-augment', '--seed', '3', '--backend', 'reference', '--json', '-o', 'm.safetensors']),
      'train',
    );
    const events = jsonLines(r);
    const start = events.find((e) => e.event === 'start')!;
    assert.deepEqual([start.train, start.test], [96, 40]);
    const losses = events.filter((e) => e.event === 'batch').map((e) => e.loss as number);

    const { train } = await readCompactDataset(await readFile(join(dir, 'd.bin.gz')));
    const model = createPreset('small', { inputShape: [28, 28, 1], numClasses: 10, seed: 3 });
    const root = new Rng(3);
    root.fork();
    const rng = root.fork();
    const opt = createOptimizer('sgd', { lr: 0.05 });
    const want = [...train.batches(32, { shuffle: true, rng })].map(({ x, y }) => model.trainStep(x, y, opt).loss);
    assert.deepEqual(losses, want);

    const e = jsonLines(ok(await stride(dir, ['eval', 'm.safetensors', '--backend', 'reference', '--json']), 'eval'))[0];
    assert.equal(e.count ?? (e as { images?: number }).images, 40, JSON.stringify(e));
    fails(await stride(dir, ['train', '-m', 'small', '--data', 'd.bin.gz', '--image-size', '32x32', '--epochs', '1']), 1, /--data 'd\.bin\.gz' holds 28x28x1 images, but the model takes 32x32x1/, 'wrong size');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
