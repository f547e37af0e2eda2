import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Dataset, type Batch } from '../../src/data/dataset.js';
import { Rng } from '../../src/tensor/random.js';

/** n samples of H x W x C bytes; sample i has every pixel = (i * 7 + j) % 256, label i % classes. */
function makeDataset(n: number, opts: { h?: number; w?: number; c?: number; classes?: number } = {}): Dataset {
  const h = opts.h ?? 3;
  const w = opts.w ?? 2;
  const c = opts.c ?? 1;
  const k = opts.classes ?? 3;
  const per = h * w * c;
  const images = new Uint8Array(n * per);
  for (let i = 0; i < n; i++) for (let j = 0; j < per; j++) images[i * per + j] = (i * 7 + j) % 256;
  const labels = Int32Array.from({ length: n }, (_, i) => i % k);
  return new Dataset({ images, labels, height: h, width: w, channels: c, classNames: Array.from({ length: k }, (_, j) => `class${j}`) });
}

/** The stored sample positions visited by a whole epoch of batches. */
function epochOrder(batches: Iterable<Batch>): number[] {
  const order: number[] = [];
  for (const b of batches) order.push(...b.indices);
  return order;
}

test('constructor validates sizes, labels and normalisation, naming what was expected', () => {
  const images = new Uint8Array(2 * 4);
  assert.throws(() => new Dataset({ images, labels: new Int32Array(3), height: 2, width: 2, channels: 1 }), /images has 8 values, expected .* = 12/);
  assert.throws(
    () => new Dataset({ images, labels: Int32Array.of(0, 2), height: 2, width: 2, channels: 1, classNames: ['a', 'b'] }),
    /labels\[1\] is 2, expected < classNames.length = 2/,
  );
  assert.throws(() => new Dataset({ images, labels: Int32Array.of(0, -1), height: 2, width: 2, channels: 1 }), /labels\[1\] is -1/);
  assert.throws(
    () => new Dataset({ images, labels: new Int32Array(2), height: 2, width: 2, channels: 1, normalization: { mean: 0, std: 0 } }),
    /normalization.std\[0\] must be a finite number > 0, got 0/,
  );
  assert.throws(
    () => new Dataset({ images, labels: new Int32Array(2), height: 2, width: 2, channels: 1, normalization: { mean: [0, 0], std: 1 } }),
    /normalization.mean must be a number or an array of 1 numbers/,
  );
  assert.throws(() => new Dataset({ images: [1, 2] as unknown as Uint8Array, labels: new Int32Array(1), height: 1, width: 2, channels: 1 }), /Uint8Array .* or Float32Array, got array/);
  const ds = new Dataset({ images, labels: Int32Array.of(0, 4), height: 2, width: 2, channels: 1 });
  assert.deepEqual(ds.classNames, ['0', '1', '2', '3', '4']);
});

test('a batch holds p / 255 for bytes, p for floats, and (p/255 - mean[c]) / std[c] when normalised', () => {
  const ds = makeDataset(5, { h: 2, w: 2, c: 2 });
  const [b] = ds.batches(5);
  assert.deepEqual(b.x.shape, [5, 2, 2, 2]);
  for (let i = 0; i < ds.images.length; i++) assert.equal(b.x.data[i], Math.fround(ds.images[i] / 255), `element ${i}`);

  const mean = [0.25, 0.5];
  const std = [0.5, 2];
  const [n] = ds.withNormalization({ mean, std }).batches(5);
  for (let i = 0; i < ds.images.length; i++) {
    assert.equal(n.x.data[i], Math.fround((ds.images[i] / 255 - mean[i % 2]) / std[i % 2]), `element ${i}`);
  }

  const floats = Float32Array.from({ length: 8 }, (_, i) => i / 10);
  const fds = new Dataset({ images: floats, labels: Int32Array.of(1, 0), height: 2, width: 2, channels: 1, normalization: { mean: 0.5, std: 0.25 } });
  const [f] = fds.batches(2);
  for (let i = 0; i < 8; i++) assert.equal(f.x.data[i], Math.fround((floats[i] - 0.5) / 0.25));
  assert.deepEqual([...f.y], [1, 0]);
  assert.equal(fds.image(1).data[2], Math.fround((floats[6] - 0.5) / 0.25));
});

test('batches in dataset order: sizes, labels, a partial last batch, dropLast', () => {
  const ds = makeDataset(10);
  const batches = [...ds.batches(4)];
  assert.deepEqual(batches.map((b) => b.x.shape[0]), [4, 4, 2]);
  assert.equal(ds.numBatches(4), 3);
  assert.deepEqual(epochOrder(batches), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const per = 6;
  for (const b of batches) {
    b.indices.forEach((pos, j) => {
      assert.equal(b.y[j], pos % 3);
      assert.equal(b.x.data[j * per + 1], Math.fround(((pos * 7 + 1) % 256) / 255));
    });
  }
  assert.deepEqual([...ds.batches(4, { dropLast: true })].map((b) => b.x.shape[0]), [4, 4]);
  assert.equal(ds.numBatches(4, true), 2);
  assert.throws(() => ds.batches(0), /Dataset.batches: batchSize must be a positive integer, got 0/);
});

test('shuffle: the same seed gives the same batches bit for bit, another seed another order', () => {
  const ds = makeDataset(50);
  const a = [...ds.batches(8, { shuffle: true, rng: new Rng(42) })];
  const b = [...ds.batches(8, { shuffle: true, rng: new Rng(42) })];
  const c = [...ds.batches(8, { shuffle: true, rng: new Rng(43) })];
  assert.deepEqual(epochOrder(a), epochOrder(b));
  a.forEach((batch, k) => {
    assert.deepEqual(batch.x.data, b[k].x.data);
    assert.deepEqual(batch.y, b[k].y);
  });
  assert.notDeepEqual(epochOrder(a), epochOrder(c));
  // Every sample exactly once, and the documented order: one rng.permutation(length).
  assert.deepEqual([...epochOrder(a)].sort((x, y) => x - y), Array.from({ length: 50 }, (_, i) => i));
  assert.deepEqual(epochOrder(a), [...new Rng(42).permutation(50)]);
  // Successive epochs from one generator differ.
  const rng = new Rng(7);
  assert.notDeepEqual(epochOrder(ds.batches(8, { shuffle: true, rng })), epochOrder(ds.batches(8, { shuffle: true, rng })));
  assert.throws(() => ds.batches(8, { shuffle: true }), /shuffle: true needs an rng/);
});

test('subset, slice, take and shuffled are views that share the storage', () => {
  const ds = makeDataset(12);
  const sub = ds.subset([5, 2, 9]);
  assert.equal(sub.images, ds.images);
  assert.equal(sub.labels, ds.labels);
  assert.deepEqual([...sub.indices], [5, 2, 9]);
  assert.deepEqual([sub.label(0), sub.label(1), sub.label(2)], [2, 2, 0]);
  const nested = sub.subset([2, 0]);
  assert.deepEqual([...nested.indices], [9, 5]);
  assert.deepEqual(nested.image(0).data, ds.image(9).data);
  assert.deepEqual([...ds.take(3).indices], [0, 1, 2]);
  assert.equal(ds.take(100).length, 12);
  assert.deepEqual([...ds.slice(10, 20).indices], [10, 11]);
  const sh = ds.shuffled(new Rng(3));
  assert.equal(sh.images, ds.images);
  assert.deepEqual([...sh.indices], [...new Rng(3).permutation(12)]);
  assert.throws(() => ds.subset([12]), /Dataset.subset: positions\[0\] is 12, expected an integer in \[0, 12\)/);
  assert.throws(() => ds.take(-1), /Dataset.take: n must be a non-negative integer, got -1/);
});

test('splitValidation: stratified counts per class, disjoint and complete, seeded and reproducible', () => {
  // 3 classes with 10, 20 and 33 samples.
  const labels = Int32Array.from([...Array(10).fill(0), ...Array(20).fill(1), ...Array(33).fill(2)]);
  new Rng(5).shuffle(labels);
  const ds = new Dataset({ images: new Uint8Array(labels.length), labels, height: 1, width: 1, channels: 1 });
  const { train, validation } = ds.splitValidation(0.2, { rng: new Rng(9) });
  assert.deepEqual([...validation.classCounts()], [2, 4, 7]); // round(0.2 * 33) = round(6.6) = 7
  assert.deepEqual([...train.classCounts()], [8, 16, 26]);
  const all = [...train.indices, ...validation.indices].sort((a, b) => a - b);
  assert.deepEqual(all, Array.from({ length: labels.length }, (_, i) => i));
  // Both parts keep the dataset order.
  assert.deepEqual([...validation.indices], [...validation.indices].sort((a, b) => a - b));
  const again = ds.splitValidation(0.2, new Rng(9)); // shorthand for { rng }
  assert.deepEqual([...again.validation.indices], [...validation.indices]);
  const other = ds.splitValidation(0.2, { rng: new Rng(10) });
  assert.notDeepEqual([...other.validation.indices], [...validation.indices]);

  // Without an rng: the last round(f * n) samples of each class.
  const last = ds.splitValidation(0.2);
  for (let k = 0; k < 3; k++) {
    const positions = [...labels.keys()].filter((i) => labels[i] === k);
    const nVal = Math.round(0.2 * positions.length);
    assert.deepEqual([...last.validation.indices].filter((i) => labels[i] === k), positions.slice(positions.length - nVal));
  }

  const flat = ds.splitValidation(0.25, { stratified: false });
  assert.equal(flat.validation.length, Math.round(0.25 * labels.length));
  assert.deepEqual([...flat.validation.indices], Array.from({ length: 16 }, (_, i) => 47 + i)); // round(15.75) = 16
  assert.throws(() => ds.splitValidation(1.5), /fraction must be a number in \[0, 1\], got 1.5/);
});

test('computeNormalization gives the per-channel mean and population std of p / 255', () => {
  const ds = makeDataset(6, { h: 2, w: 3, c: 3 });
  const sub = ds.subset([1, 4]);
  const { mean, std } = sub.computeNormalization();
  for (let c = 0; c < 3; c++) {
    const vals: number[] = [];
    for (const s of [1, 4]) for (let p = 0; p < 6; p++) vals.push(ds.images[s * 18 + p * 3 + c] / 255);
    const m = vals.reduce((a, b) => a + b, 0) / vals.length;
    const sd = Math.sqrt(vals.reduce((a, b) => a + (b - m) ** 2, 0) / vals.length);
    assert.ok(Math.abs(mean[c] - m) < 1e-12, `mean[${c}] ${mean[c]} vs ${m}`);
    assert.ok(Math.abs(std[c] - sd) < 1e-9, `std[${c}] ${std[c]} vs ${sd}`);
  }
});

test('iterating does not copy the dataset: memory grows by about one batch, not by the float32 size of the data', () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const n = 20000;
  const ds = makeDataset(n, { h: 28, w: 28 }); // 15.7 MB of bytes; a float32 copy would be 62.7 MB
  gc();
  const before = process.memoryUsage().arrayBuffers;
  let peak = 0;
  let seen = 0;
  for (const b of ds.batches(500, { shuffle: true, rng: new Rng(1) })) {
    seen += b.x.shape[0];
    if (seen === 500) peak = process.memoryUsage().arrayBuffers - before;
  }
  assert.equal(seen, n);
  assert.ok(peak < 10e6, `arrayBuffers grew by ${(peak / 1e6).toFixed(1)} MB during the first batch`);
});

test('src/data is browser-safe: no node: imports', () => {
  const dir = new URL('../../src/data/', import.meta.url);
  for (const f of readdirSync(dir)) {
    const text = readFileSync(new URL(f, dir), 'utf8');
    assert.doesNotMatch(text, /from '(node:|fs|path|sharp|mnist)/, `src/data/${f}`);
  }
});
