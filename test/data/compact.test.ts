/**
 * The compact dataset file (src/data/compact.ts): round trip, strict decoding (magic, version,
 * truncation, checksum, labels), gzip through DecompressionStream, the fetch loader, and
 * `stride pack-data` writing the same images the CLI's loader gives.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Dataset } from '../../src/data/dataset.js';
import { Rng } from '../../src/tensor/random.js';
import { crc32Update } from '../../src/model/crc32.js';
import {
  COMPACT_MAGIC,
  CompactDatasetError,
  decodeCompactDataset,
  encodeCompactDataset,
  loadCompactDataset,
  readCompactDataset,
} from '../../src/data/compact.js';
import { run } from '../../src/cli/program.js';
import { loadData } from '../../src/cli/data.js';
import { packOrder } from '../../src/cli/commands/pack-data.js';

/** A seeded random uint8 dataset of n images, h x w x c, labels in [0, k). */
function randomDataset(n: number, h: number, w: number, c: number, k: number, seed: number, classNames?: string[]): Dataset {
  const rng = new Rng(seed);
  const images = Uint8Array.from({ length: n * h * w * c }, () => rng.int(256));
  const labels = Uint8Array.from({ length: n }, (_, i) => (i < k ? i : rng.int(k)));
  return new Dataset({ images, labels, height: h, width: w, channels: c, classNames: classNames ?? Array.from({ length: k }, (_, i) => `c${i}`) });
}

/** Pixels and labels of a dataset in view order. */
function contents(ds: Dataset): { pixels: number[]; labels: number[] } {
  const per = ds.height * ds.width * ds.channels;
  const pixels: number[] = [];
  const labels: number[] = [];
  for (let i = 0; i < ds.length; i++) {
    const s = ds.indices[i];
    for (let j = 0; j < per; j++) pixels.push(ds.images[s * per + j] / ds.divisor);
    labels.push(ds.labels[s]);
  }
  return { pixels, labels };
}

const sample = (): { train: Dataset; test: Dataset } => {
  const all = randomDataset(30, 5, 4, 3, 4, 7, ['zero', 'één', 'two', '三']);
  // Views in a non-trivial order: the writer must follow the view, not the storage.
  return { train: all.shuffled(new Rng(3)).take(21), test: all.slice(21) };
};

test('encode → decode gives back both splits in view order, with shape and UTF-8 class names', () => {
  const { train, test: testSet } = sample();
  const bytes = encodeCompactDataset({ train, test: testSet });
  const ds = decodeCompactDataset(bytes);
  assert.deepEqual([ds.height, ds.width, ds.channels, ds.version], [5, 4, 3, 1]);
  assert.deepEqual(ds.classNames, ['zero', 'één', 'two', '三']);
  assert.equal(ds.train.length, 21);
  assert.equal(ds.test.length, 9);
  assert.deepEqual(contents(ds.train), contents(train));
  assert.deepEqual(contents(ds.test), contents(testSet));
  assert.deepEqual(ds.train.classNames, ds.classNames);
  // Views of the file's bytes, not copies; and the exact size the header promises.
  assert.equal(ds.train.images.buffer, bytes.buffer);
  const header = new DataView(bytes.buffer).getUint32(12, true);
  assert.equal(bytes.length, header + 30 * (5 * 4 * 3 + 1));
  assert.equal(new TextDecoder().decode(bytes.subarray(0, 8)), COMPACT_MAGIC);
});

test('the writer is deterministic, and float [0, 1] storage is stored as round(v * 255)', () => {
  const { train, test: testSet } = sample();
  assert.deepEqual(encodeCompactDataset({ train, test: testSet }), encodeCompactDataset({ train, test: testSet }));
  const f = new Float32Array([0, 1, 0.5, 0.2, 1 / 255, 0.999]);
  const fds = new Dataset({ images: f, labels: new Int32Array([0, 1, 1]), height: 1, width: 2, channels: 1 });
  const back = decodeCompactDataset(encodeCompactDataset({ train: fds, test: fds.take(0) }));
  assert.deepEqual(Array.from(back.train.images), [0, 255, 128, 51, 1, 255]);
  const bad = new Dataset({ images: new Float32Array([0, 1.5]), labels: new Int32Array([0]), height: 1, width: 2, channels: 1 });
  assert.throws(() => encodeCompactDataset({ train: bad, test: bad }), /encodeCompactDataset: input\.train sample 0 holds the value 1\.5; float images must be in \[0, 1\]/);
});

test('encode refuses mismatched shapes and unstorable class counts', () => {
  const a = randomDataset(4, 2, 2, 1, 2, 1);
  const b = randomDataset(4, 3, 2, 1, 2, 1);
  assert.throws(() => encodeCompactDataset({ train: a, test: b }), /encodeCompactDataset: train images are 2x2x1 but test images are 3x2x1/);
  assert.throws(() => encodeCompactDataset({ train: a, test: a, classNames: Array.from({ length: 257 }, String) }), /257 entries, expected 1 to 256/);
  assert.throws(() => encodeCompactDataset({ train: a, test: a, classNames: ['only'] }), /input\.train has 2 classes, more than the 1 class names/);
  assert.throws(() => encodeCompactDataset({ train: a, test: null as unknown as Dataset }), /input\.test must be a Dataset, got null/);
});

test('decode names what is wrong: magic, version, truncation, extra bytes, checksum, labels, gzip', () => {
  const { train, test: testSet } = sample();
  const good = encodeCompactDataset({ train, test: testSet });
  const copy = (): Uint8Array => good.slice();
  const resum = (b: Uint8Array): Uint8Array => {
    new DataView(b.buffer).setUint32(40, crc32Update(0, b.subarray(44)), true);
    return b;
  };

  const magic = copy();
  magic[0] = 0x58;
  assert.throws(() => decodeCompactDataset(magic), (e: Error) => e instanceof CompactDatasetError && /bad magic "XTRIDEDS", expected "STRIDEDS"/.test(e.message));
  const version = copy();
  new DataView(version.buffer).setUint32(8, 2, true);
  assert.throws(() => decodeCompactDataset(version), /version 2, expected 1/);
  assert.throws(() => decodeCompactDataset(good.subarray(0, 20)), /truncated: 20 bytes, shorter than the 48-byte header/);
  for (const cut of [1, 9, good.length - 100]) {
    assert.throws(() => decodeCompactDataset(good.subarray(0, good.length - cut)), new RegExp(`truncated: ${good.length - cut} bytes, expected ${good.length} for 30 images of 5x4x3 \\(21 train \\+ 9 test\\)`));
  }
  const padded = new Uint8Array(good.length + 3);
  padded.set(good);
  assert.throws(() => decodeCompactDataset(padded), /3 extra bytes after the labels/);
  // One flipped bit anywhere after the checksum field: a pixel, a label, a class name.
  for (const at of [60, 200, good.length - 1]) {
    const flipped = copy();
    flipped[at] ^= 1;
    assert.throws(() => decodeCompactDataset(flipped), /checksum mismatch: the file says crc32 [0-9a-f]{8}, its content has [0-9a-f]{8}/, `byte ${at}`);
  }
  const label = copy();
  label[good.length - 1] = 4;
  assert.throws(() => decodeCompactDataset(resum(label)), /label 4 of image 29, expected < 4 classes/);
  const classes = copy();
  new DataView(classes.buffer).setUint32(36, 0, true);
  assert.throws(() => decodeCompactDataset(classes), /0 classes, expected 1 to 256/);
  assert.throws(() => decodeCompactDataset(new Uint8Array(gzipSync(good))), /gzip-compressed; use readCompactDataset/);
  assert.throws(() => decodeCompactDataset('nope' as unknown as Uint8Array), /expected a Uint8Array or ArrayBuffer, got string/);
});

test('readCompactDataset unpacks gzip with DecompressionStream; a broken gzip stream is an error', async () => {
  const { train, test: testSet } = sample();
  const raw = encodeCompactDataset({ train, test: testSet });
  const gz = new Uint8Array(gzipSync(raw));
  const ds = await readCompactDataset(gz);
  assert.deepEqual(contents(ds.train), contents(train));
  assert.deepEqual(contents((await readCompactDataset(raw.buffer as ArrayBuffer)).test), contents(testSet));
  await assert.rejects(readCompactDataset(gz.subarray(0, gz.length - 20)), /readCompactDataset: cannot gunzip the file/);
});

test('loadCompactDataset fetches the file; HTTP errors and bad bodies name the URL', async () => {
  const { train, test: testSet } = sample();
  const raw = encodeCompactDataset({ train, test: testSet });
  const asked: string[] = [];
  const serve = (status: number, body: Uint8Array) => async (url: string): Promise<Response> => {
    asked.push(url);
    return new Response(body as Uint8Array<ArrayBuffer>, { status, statusText: status === 200 ? 'OK' : 'Not Found' });
  };
  const ds = await loadCompactDataset('/digits.bin', { fetch: serve(200, new Uint8Array(gzipSync(raw))) });
  assert.deepEqual(contents(ds.test), contents(testSet));
  assert.deepEqual(asked, ['/digits.bin']);
  await assert.rejects(loadCompactDataset('/missing.bin', { fetch: serve(404, new Uint8Array()) }), /loadCompactDataset: \/missing\.bin answered HTTP 404 Not Found/);
  await assert.rejects(loadCompactDataset('/short.bin', { fetch: serve(200, raw.subarray(0, 100)) }), /loadCompactDataset: \/short\.bin: decodeCompactDataset: truncated/);
  await assert.rejects(
    loadCompactDataset('/down.bin', { fetch: () => Promise.reject(new Error('connection refused')) }),
    /loadCompactDataset: cannot fetch \/down\.bin: connection refused/,
  );
});

test('stride pack-data writes what the CLI loads for --data mnist (class-balanced first n); --seed reorders reproducibly; --gzip', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'stride-pack-'));
  try {
    const quiet = process.stdout.write;
    process.stdout.write = (() => true) as typeof process.stdout.write;
    let codes: number[];
    try {
      codes = [
        await run(['pack-data', '-o', join(dir, 'a.bin'), '--limit', '50', '--test-limit', '20']),
        await run(['pack-data', '-o', join(dir, 's1.bin'), '--limit', '50', '--test-limit', '20', '--seed', '5']),
        await run(['pack-data', '-o', join(dir, 's2.bin'), '--limit', '50', '--test-limit', '20', '--seed', '5']),
        await run(['pack-data', '-o', join(dir, 'a.bin.gz'), '--limit', '50', '--test-limit', '20', '--gzip']),
      ];
    } finally {
      process.stdout.write = quiet;
    }
    assert.deepEqual(codes, [0, 0, 0, 0]);
    // What the CLI's loader gives for --data mnist (whichever MNIST that is).
    const { train, test: testSet } = await loadData({ data: 'mnist', image: { height: 28, width: 28, channels: 1 } });
    const a = decodeCompactDataset(await readFile(join(dir, 'a.bin')));
    assert.deepEqual(contents(a.train), contents(packOrder(train, 50, undefined)));
    assert.deepEqual(contents(a.test), contents(packOrder(testSet, 20, undefined)));
    // Class-balanced: 5 of each digit in the first 50.
    assert.deepEqual(Array.from(a.train.classCounts()), Array(10).fill(5));
    const s1 = await readFile(join(dir, 's1.bin'));
    assert.deepEqual(s1, await readFile(join(dir, 's2.bin')));
    const s = decodeCompactDataset(s1);
    assert.notDeepEqual(contents(s.train).labels, contents(a.train).labels);
    assert.deepEqual(contents(s.train), contents(packOrder(train, 50, 5)));
    assert.deepEqual(contents((await readCompactDataset(await readFile(join(dir, 'a.bin.gz')))).train), contents(a.train));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
