/**
 * Transparency, inversion and padding when an image becomes a model input, on real PNG files made
 * here with sharp: a drawing exported from a canvas or a paint program is dark ink on transparent
 * pixels, and `contain` pads. The prepared image must show the ink (white on black, MNIST style)
 * and the padding must be background, whatever the order of the steps.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { decodeImage, loadImage, loadImageFolder } from '../../src/node/image-folder.js';
import { mkdirSync } from 'node:fs';

let dir = '';

/** A `width x height` RGBA PNG: `ink` where a 4-pixel-wide vertical stroke runs down the middle, `paper` elsewhere. */
async function strokePng(name: string, width: number, height: number, ink: number[], paper: number[]): Promise<string> {
  const px = Buffer.alloc(width * height * 4);
  const x0 = Math.floor(width / 2) - 2;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) px.set(x >= x0 && x < x0 + 4 && y >= 4 && y < height - 4 ? ink : paper, (y * width + x) * 4);
  }
  const file = join(dir, name);
  await sharp(px, { raw: { width, height, channels: 4 } }).png().toFile(file);
  return file;
}

const BLACK_INK = [0, 0, 0, 255];
const WHITE_INK = [255, 255, 255, 255];
const CLEAR = [0, 0, 0, 0];
const CLEAR_WHITE = [255, 255, 255, 0];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stride-alpha-'));
});
after(() => rm(dir, { recursive: true, force: true }));

const at = (img: { data: Float32Array }, x: number, y: number, w = 28): number => img.data[y * w + x];

test('black ink on transparent, --invert, contain: a white stroke on black, and black padding bars', async () => {
  // 20 wide, 40 tall: 'contain' into 28x28 scales to 14x28 and pads 7 columns each side.
  const file = await strokePng('black-on-clear.png', 20, 40, BLACK_INK, CLEAR);
  const img = await loadImage(file, { height: 28, width: 28, channels: 1, fit: 'contain', invert: true });
  assert.ok(at(img, 14, 14) > 0.9, `stroke ${at(img, 14, 14)}`);
  assert.ok(at(img, 9, 14) < 0.05, `paper ${at(img, 9, 14)}`);
  for (const x of [0, 3, 6, 21, 24, 27]) for (const y of [0, 14, 27]) assert.ok(at(img, x, y) < 0.01, `padding (${x}, ${y}) = ${at(img, x, y)}`);
});

test('transparent pixels that store white (other programs) or black give the same input, also without resizing', async () => {
  for (const size of [28, 40]) {
    const opts = { height: 28, width: 28, channels: 1 as const, fit: 'contain' as const, invert: true };
    const a = await loadImage(await strokePng(`black-on-clear-${size}.png`, size, size, BLACK_INK, CLEAR), opts);
    const b = await loadImage(await strokePng(`black-on-clearwhite-${size}.png`, size, size, BLACK_INK, CLEAR_WHITE), opts);
    assert.deepEqual(Array.from(a.data), Array.from(b.data), `size ${size}`);
    assert.ok(at(a, 14, 14) > 0.9 && at(a, 4, 14) < 0.05, `size ${size}: white stroke on black`);
  }
});

test('without --invert: white ink on transparent is a white stroke on black (transparency composited onto black)', async () => {
  // 28x28: no resize, so nothing but the compositing can turn the stored white of transparent pixels black.
  const file = await strokePng('white-on-clear.png', 28, 28, WHITE_INK, CLEAR_WHITE);
  const img = await loadImage(file, { height: 28, width: 28, channels: 1, fit: 'contain' });
  assert.ok(at(img, 14, 14) > 0.9);
  assert.ok(at(img, 4, 14) < 0.05, `transparent white pixels are composited onto black: ${at(img, 4, 14)}`);
});

test('--invert on an opaque dark-on-white photo with contain: padding is black after inverting (pad with paper, then invert)', async () => {
  const file = await strokePng('paper.png', 20, 40, [30, 30, 30, 255], [250, 250, 250, 255]);
  const img = await loadImage(file, { height: 28, width: 28, channels: 1, fit: 'contain', invert: true });
  assert.ok(at(img, 14, 14) > 0.85);
  assert.ok(at(img, 9, 14) < 0.05);
  assert.ok(at(img, 2, 14) < 0.01, `padding ${at(img, 2, 14)}`);
});

test('half-transparent white is composited onto black (about 50% grey), not taken at full brightness', async () => {
  const px = Buffer.alloc(4 * 4 * 4);
  for (let p = 0; p < 16; p++) px.set([255, 255, 255, 128], p * 4);
  const file = join(dir, 'half.png');
  await sharp(px, { raw: { width: 4, height: 4, channels: 4 } }).png().toFile(file);
  const bytes = await decodeImage(file, { height: 4, width: 4, channels: 1 });
  assert.ok(bytes.every((v) => Math.abs(v - 128) <= 2), `got ${Array.from(bytes)}`);
  const inv = await decodeImage(file, { height: 4, width: 4, channels: 1, invert: true });
  // On white paper half-transparent white is white; inverted: black.
  assert.ok(inv.every((v) => v <= 2), `got ${Array.from(inv)}`);
});

test('loadImageFolder takes the same invert option (dark-on-light datasets)', async () => {
  for (const c of ['a', 'b']) mkdirSync(join(dir, 'folder', c), { recursive: true });
  await strokePng(join('folder', 'a', '1.png'), 20, 40, BLACK_INK, CLEAR);
  await strokePng(join('folder', 'b', '1.png'), 40, 20, BLACK_INK, CLEAR);
  const { dataset } = await loadImageFolder(join(dir, 'folder'), { height: 28, width: 28, channels: 1, fit: 'contain', invert: true });
  const img = await loadImage(join(dir, 'folder', 'a', '1.png'), { height: 28, width: 28, channels: 1, fit: 'contain', invert: true });
  assert.deepEqual(Array.from(dataset.image(0).data), Array.from(img.data));
  assert.ok(at(dataset.image(0), 14, 14) > 0.9 && at(dataset.image(0), 2, 14) < 0.01, 'white stroke, black padding');
  assert.ok(at(dataset.image(1), 14, 14) > 0.9 && at(dataset.image(1), 14, 2) < 0.01, 'white stroke, black padding (rows)');
});
