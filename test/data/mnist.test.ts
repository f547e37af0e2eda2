import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, mkdirSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { crc32 } from 'node:zlib';
import { digitFileBytes, loadMnist, loadMnistSplits, loadMnistWithInfo, mnistCacheDir, verifyMnistCache, MNIST_CACHE_FILE } from '../../src/node/mnist.js';

const PIX = 784;
let tmp = '';
/** The package's samples per digit, read straight from its JSON (independently of the loader). */
let jsonDigits: number[][] = [];
/** A cache directory holding a valid cache, built once. */
let goodDir = '';
let goodBytes: Buffer;

const quiet = { onWarning: () => {} };

before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'stride-mnist-'));
  const root = join(createRequire(import.meta.url).resolve('mnist/package.json'), '..');
  jsonDigits = Array.from({ length: 10 }, (_, d) => (JSON.parse(readFileSync(join(root, 'src', 'digits', `${d}.json`), 'utf8')) as { data: number[] }).data);
  goodDir = join(tmp, 'good');
  const cold = loadMnistWithInfo({ cacheDir: goodDir, split: 'all', fresh: true, ...quiet });
  assert.equal(cold.source, 'json');
  console.log(`# mnist cold load (JSON -> cache): ${cold.ms.toFixed(0)} ms`);
  goodBytes = readFileSync(join(goodDir, MNIST_CACHE_FILE));
});

after(() => rmSync(tmp, { recursive: true, force: true }));

/** Asserts sample `pos` of ds equals JSON sample `k` of digit `d` (byte = round(v * 255)). */
function sameSample(images: ArrayLike<number>, storagePos: number, d: number, k: number): boolean {
  const src = jsonDigits[d];
  for (let j = 0; j < PIX; j++) if (images[storagePos * PIX + j] !== Math.round(src[k * PIX + j] * 255)) return false;
  return true;
}

test('the cache holds all 10,000 digits with a 40-byte header, written without leftover temp files', () => {
  const total = jsonDigits.reduce((s, a) => s + a.length / PIX, 0);
  assert.equal(total, 10000);
  assert.equal(goodBytes.length, 40 + total * (PIX + 1));
  assert.equal(goodBytes.toString('latin1', 0, 8), 'STRDMNST');
  assert.deepEqual(readdirSync(goodDir), [MNIST_CACHE_FILE]);
});

test('warm load reads the cache quickly and gives the same pixels as the JSON (byte = round(v * 255))', () => {
  const warm = loadMnistWithInfo({ cacheDir: goodDir, split: 'all', fresh: true, ...quiet });
  assert.equal(warm.source, 'cache');
  console.log(`# mnist warm load (cache): ${warm.ms.toFixed(1)} ms`);
  assert.ok(warm.ms < 1000, `warm load took ${warm.ms} ms`);
  const ds = warm.dataset;
  assert.equal(ds.length, 10000);
  assert.deepEqual(ds.imageShape, [28, 28, 1]);
  let pos = 0;
  for (let d = 0; d < 10; d++) {
    const n = jsonDigits[d].length / PIX;
    for (let k = 0; k < n; k++, pos++) {
      assert.equal(ds.label(pos), d);
      if (!sameSample(ds.images, ds.indices[pos], d, k)) assert.fail(`digit ${d} sample ${k} differs from the JSON`);
    }
  }
  // Normalised values are within 0.0005 of the JSON's 3-decimal values.
  const x = ds.image(1234).data;
  const d = ds.label(1234);
  const k = 1234 - Array.from({ length: d }, (_, j) => jsonDigits[j].length / PIX).reduce((a, b) => a + b, 0);
  for (let j = 0; j < PIX; j++) assert.ok(Math.abs(x[j] - jsonDigits[d][k * PIX + j]) <= 0.0005 + 1e-7);
});

test('split: for each digit the first floor(0.8 n) samples in package order train, the rest test', () => {
  const train = loadMnist({ cacheDir: goodDir, split: 'train', ...quiet });
  const test_ = loadMnist({ cacheDir: goodDir, split: 'test', ...quiet });
  const n = jsonDigits.map((a) => a.length / PIX);
  const nTrain = n.map((c) => Math.floor(c * 0.8));
  assert.deepEqual([...train.classCounts()], nTrain);
  assert.deepEqual([...test_.classCounts()], n.map((c, d) => c - nTrain[d]));
  assert.equal(train.length, 7996);
  assert.equal(test_.length, 2004);
  for (const [ds, offset] of [[train, 0], [test_, 1]] as const) {
    const seen = new Array<number>(10).fill(0);
    for (let i = 0; i < ds.length; i++) {
      const d = ds.label(i);
      const k = (offset === 0 ? 0 : nTrain[d]) + seen[d]++;
      if (!sameSample(ds.images, ds.indices[i], d, k)) assert.fail(`${offset === 0 ? 'train' : 'test'} sample ${i} is not digit ${d} sample ${k}`);
    }
  }
});

test('no duplicate copies: splits share one storage, which is a view of the single file buffer', () => {
  const { train, test: t } = loadMnistSplits({ cacheDir: goodDir, ...quiet });
  assert.equal(train.images, t.images);
  assert.equal(train.images.buffer, train.labels.buffer);
  // Separate calls reuse the in-process storage while a dataset still holds it.
  const again = loadMnistWithInfo({ cacheDir: goodDir, split: 'test', ...quiet });
  assert.equal(again.source, 'memory');
  assert.equal(again.dataset.images, train.images);

  // A fresh load keeps exactly one buffer: the file's bytes, with images and labels as views of it.
  // (Checked on the objects, not on process.memoryUsage(): the garbage collector frees other tests'
  // buffers at unpredictable times, which made a byte-count check flaky.)
  const fresh = loadMnist({ cacheDir: goodDir, split: 'all', fresh: true, ...quiet });
  assert.notEqual(fresh.images, train.images, 'fresh: true must not reuse the memoised storage');
  assert.equal(fresh.images.buffer, fresh.labels.buffer, 'images and labels must be views of one buffer');
  assert.equal(fresh.images.buffer.byteLength, goodBytes.length, 'the buffer must be the file, not a larger copy');
  assert.deepEqual(new Uint8Array(fresh.images.buffer), new Uint8Array(goodBytes.buffer, goodBytes.byteOffset, goodBytes.length));
  assert.equal(fresh.length, 10000);
});

/** A copy of the good cache in a new dir, damaged by `damage`; returns the file. */
function damagedCopy(name: string, damage: (file: string) => void): string {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, MNIST_CACHE_FILE);
  writeFileSync(file, goodBytes);
  damage(file);
  return file;
}

const damages: [string, (file: string) => void, RegExp][] = [
  ['flipped-pixel', (f) => {
    const b = readFileSync(f);
    b[40 + 500_000] ^= 0x01;
    writeFileSync(f, b);
  }, /^checksum mismatch$/],
  ['truncated', (f) => truncateSync(f, statSync(f).size - 1000), /^7849040 bytes, expected 7850040 for 10000 images \(truncated or padded\)$/],
  ['padded', (f) => writeFileSync(f, Buffer.concat([goodBytes, Buffer.alloc(1)])), /truncated or padded/],
  ['header-only', (f) => truncateSync(f, 20), /^truncated: 20 bytes/],
  ['empty', (f) => writeFileSync(f, ''), /^truncated: 0 bytes/],
  ['garbage', (f) => writeFileSync(f, Buffer.alloc(goodBytes.length, 0x5a)), /^bad magic bytes$/],
  ['other-version', (f) => {
    const b = readFileSync(f);
    b.writeUInt32LE(2, 8);
    writeFileSync(f, b);
  }, /^version 2, expected 1$/],
  ['other-package', (f) => {
    const b = readFileSync(f);
    b.writeUInt32LE((b.readUInt32LE(32) + 1) >>> 0, 32);
    writeFileSync(f, b);
  }, /different version of the mnist package/],
  ['bad-label', (f) => {
    // A label out of range under a matching checksum: only the label check catches it.
    const b = readFileSync(f);
    b[b.length - 1] = 77;
    b.writeUInt32LE(crc32(b.subarray(40)), 36);
    writeFileSync(f, b);
  }, /^label 77 at 9999$/],
];

test('cache verification names what is wrong with a damaged file', () => {
  assert.equal(verifyMnistCache(join(goodDir, MNIST_CACHE_FILE)), null);
  assert.equal(verifyMnistCache(join(tmp, 'nowhere', MNIST_CACHE_FILE)), 'missing');
  for (const [name, damage, reason] of damages) {
    const got = verifyMnistCache(damagedCopy(`verify-${name}`, damage));
    assert.match(String(got), reason, name);
  }
});

test('a corrupt or truncated cache is rebuilt (same bytes as a good one), with a warning', () => {
  for (const [name, damage, reason] of [damages[0], damages[1]]) {
    const file = damagedCopy(`rebuild-${name}`, damage);
    const warnings: string[] = [];
    const r = loadMnistWithInfo({ cacheDir: join(file, '..'), split: 'train', fresh: true, onWarning: (m) => warnings.push(m) });
    assert.equal(r.source, 'json', name);
    assert.equal(warnings.length, 1, name);
    assert.match(warnings[0], /loadMnist: cache .* is invalid \(/);
    assert.match(warnings[0].replace(/^.*is invalid \((.*)\); rebuilding.*$/, '$1'), reason);
    assert.equal(r.dataset.length, 7996);
    assert.ok(readFileSync(file).equals(goodBytes), `${name}: the rebuilt cache equals a good one`);
    assert.deepEqual(readdirSync(join(file, '..')), [MNIST_CACHE_FILE]);
    assert.equal(loadMnistWithInfo({ cacheDir: join(file, '..'), fresh: true, ...quiet }).source, 'cache');
  }
});

test('a cache that cannot be read or written is a warning, never an error', () => {
  const dir = join(tmp, 'is-a-dir');
  mkdirSync(join(dir, MNIST_CACHE_FILE), { recursive: true }); // the cache path is a directory
  const warnings: string[] = [];
  const r = loadMnistWithInfo({ cacheDir: dir, split: 'test', fresh: true, onWarning: (m) => warnings.push(m) });
  assert.equal(r.dataset.length, 2004);
  assert.equal(r.source, 'json');
  assert.equal(warnings.length, 2);
  assert.match(warnings[0], /is invalid \(unreadable/);
  assert.match(warnings[1], /could not write cache/);
  assert.deepEqual(readdirSync(dir), [MNIST_CACHE_FILE]); // no temp file left behind
});

test('cache directory: option, then STRIDE_CACHE_DIR, then <cwd>/node_modules/.cache/stride', () => {
  const saved = process.env.STRIDE_CACHE_DIR;
  try {
    delete process.env.STRIDE_CACHE_DIR;
    assert.equal(mnistCacheDir(), join(process.cwd(), 'node_modules', '.cache', 'stride'));
    process.env.STRIDE_CACHE_DIR = goodDir;
    assert.equal(mnistCacheDir(), goodDir);
    assert.equal(mnistCacheDir(join(tmp, 'x')), join(tmp, 'x'));
    const r = loadMnistWithInfo({ fresh: true, ...quiet });
    assert.equal(r.cachePath, join(goodDir, MNIST_CACHE_FILE));
    assert.equal(r.source, 'cache');
  } finally {
    if (saved === undefined) delete process.env.STRIDE_CACHE_DIR;
    else process.env.STRIDE_CACHE_DIR = saved;
  }
  assert.throws(() => loadMnist({ split: 'validation' as 'train', cacheDir: goodDir }), /split must be 'train', 'test' or 'all', got "validation"/);
});

test('the fast digit-file scanner and the JSON.parse fallback give the same bytes', () => {
  const values = [0, 1, 0.5, 0.002, 0.998, 0.624, 0.196, 0.12345678901234];
  const plain = `{ "data": [${values.join(',')}] }`;
  const odd = `{"data":[${values.map((v) => v.toExponential()).join(', ')}],"x":1}`; // exponents: fallback path
  const expected = values.map((v) => Math.round(v * 255));
  const enc = (t: string): Uint8Array => new TextEncoder().encode(t);
  assert.deepEqual([...digitFileBytes(enc(plain), 'plain.json')], expected);
  assert.deepEqual([...digitFileBytes(enc(odd), 'odd.json')], expected);
  assert.throws(() => digitFileBytes(enc('{"data": [0.5, 1.5]}'), 'big.json'), /big.json: data\[1\] is 1.5, expected a number in \[0, 1\]/);
  assert.throws(() => digitFileBytes(enc('{"data": [0.5,'), 'cut.json'), /cannot parse cut.json/);
});
