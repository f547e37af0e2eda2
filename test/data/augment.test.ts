import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Dataset } from '../../src/data/dataset.js';
import { Rng } from '../../src/tensor/random.js';

const H = 7;
const W = 9;

/** One image per entry of `dots`: black, with one white pixel at [y, x] (channel 0) and 128 in channel 1 there. */
function dotDataset(dots: [number, number][], channels = 1): Dataset {
  const per = H * W * channels;
  const images = new Uint8Array(dots.length * per);
  dots.forEach(([y, x], i) => {
    images[i * per + (y * W + x) * channels] = 255;
    if (channels > 1) images[i * per + (y * W + x) * channels + 1] = 128;
  });
  return new Dataset({ images, labels: new Int32Array(dots.length), height: H, width: W, channels });
}

/** Coordinates of every value of `v` in image b of channel c. */
function find(x: Float32Array, b: number, v: number, channels = 1, c = 0): [number, number][] {
  const out: [number, number][] = [];
  for (let y = 0; y < H; y++) for (let xx = 0; xx < W; xx++) if (x[((b * H + y) * W + xx) * channels + c] === v) out.push([y, xx]);
  return out;
}

test('shift moves the content by (dy, dx) drawn as documented: dy = rng.int(2s+1) - s, then dx', () => {
  const s = 2;
  const n = 40;
  const ds = dotDataset(Array.from({ length: n }, () => [3, 4]));
  const [batch] = ds.batches(n, { augment: { shift: s }, rng: new Rng(11) });
  const mirror = new Rng(11);
  const seen = new Set<string>();
  for (let b = 0; b < n; b++) {
    const dy = mirror.int(2 * s + 1) - s;
    const dx = mirror.int(2 * s + 1) - s;
    seen.add(`${dy},${dx}`);
    // Positive dy moves the dot down, positive dx moves it right.
    assert.deepEqual(find(batch.x.data, b, 1), [[3 + dy, 4 + dx]], `sample ${b}, dy=${dy} dx=${dx}`);
    assert.equal(find(batch.x.data, b, 0).length, H * W - 1);
  }
  assert.ok(seen.size >= 15, `only ${seen.size} of 25 shifts drawn in ${n} samples`);
});

test('a dot shifted past the edge disappears and the border fills with normalised black', () => {
  // Dot in the top-left corner: any shift with dy < 0 or dx < 0 pushes it out.
  const ds = dotDataset(Array.from({ length: 30 }, () => [0, 0])).withNormalization({ mean: 0.5, std: 0.25 });
  const black = Math.fround((0 - 0.5) / 0.25);
  const white = Math.fround((1 - 0.5) / 0.25);
  const [batch] = ds.batches(30, { augment: { shift: 1 }, rng: new Rng(3) });
  const mirror = new Rng(3);
  let gone = 0;
  for (let b = 0; b < 30; b++) {
    const dy = mirror.int(3) - 1;
    const dx = mirror.int(3) - 1;
    const whites = find(batch.x.data, b, white);
    if (dy < 0 || dx < 0) {
      gone++;
      assert.deepEqual(whites, []);
    } else {
      assert.deepEqual(whites, [[dy, dx]]);
    }
    assert.equal(find(batch.x.data, b, black).length, H * W - whites.length, `sample ${b}: every other pixel is black`);
  }
  assert.ok(gone > 0);
});

test('flip mirrors left-right (x -> W-1-x) with probability 1/2, in every channel, then shifts', () => {
  const n = 40;
  const ds = dotDataset(Array.from({ length: n }, () => [2, 1]), 2);
  const [batch] = ds.batches(n, { augment: { flip: true }, rng: new Rng(5) });
  const mirror = new Rng(5);
  let flips = 0;
  for (let b = 0; b < n; b++) {
    const flip = mirror.next() < 0.5;
    flips += flip ? 1 : 0;
    const expected: [number, number][] = [[2, flip ? W - 2 : 1]];
    assert.deepEqual(find(batch.x.data, b, 1, 2, 0), expected);
    assert.deepEqual(find(batch.x.data, b, Math.fround(128 / 255), 2, 1), expected);
  }
  assert.ok(flips > 5 && flips < n - 5, `${flips} flips of ${n}`);

  const [both] = ds.batches(n, { augment: { flip: true, shift: 1 }, rng: new Rng(8) });
  const m2 = new Rng(8);
  for (let b = 0; b < n; b++) {
    const dy = m2.int(3) - 1;
    const dx = m2.int(3) - 1;
    const flip = m2.next() < 0.5;
    assert.deepEqual(find(both.x.data, b, 1, 2, 0), [[2 + dy, (flip ? W - 2 : 1) + dx]]);
  }
});

test('augmentation is off by default (no flips) and reproducible from its seed', () => {
  const ds = dotDataset(Array.from({ length: 20 }, (_, i) => [i % H, i % W]));
  const plain = [...ds.batches(20)][0].x.data;
  const zero = [...ds.batches(20, { augment: { shift: 0 }, rng: new Rng(1) })][0].x.data;
  assert.deepEqual(zero, plain);
  const a = [...ds.batches(6, { shuffle: true, rng: new Rng(4), augment: { shift: 2, flip: true } })];
  const b = [...ds.batches(6, { shuffle: true, rng: new Rng(4), augment: { shift: 2, flip: true } })];
  const c = [...ds.batches(6, { shuffle: true, rng: new Rng(4), augment: { shift: 2, flip: true, rng: new Rng(99) } })];
  a.forEach((batch, k) => assert.deepEqual(batch.x.data, b[k].x.data));
  assert.deepEqual(a.map((x) => [...x.indices]), c.map((x) => [...x.indices])); // same shuffle
  assert.notDeepEqual(a.map((x) => [...x.x.data]), c.map((x) => [...x.x.data])); // other augmentation
  assert.throws(() => ds.batches(4, { augment: { shift: 1 } }), /augmentation needs an rng/);
  assert.throws(() => ds.batches(4, { augment: { shift: 1.5 }, rng: new Rng(1) }), /augment.shift must be a non-negative integer number of pixels, got 1.5/);
});
