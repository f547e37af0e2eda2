import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { decodeImage, loadImage, loadImageFolder, listImageFolder } from '../../src/node/image-folder.js';

let tmp = '';

/** Encodes raw HWC bytes with sharp. */
async function encode(pixels: number[], width: number, height: number, channels: 1 | 3 | 4, format: 'png' | 'jpeg' | 'webp'): Promise<Buffer> {
  const raw = sharp(Buffer.from(pixels), { raw: { width, height, channels } });
  const img = channels === 1 ? raw.toColourspace('b-w') : raw; // a real one-channel file
  if (format === 'png') return img.png().toBuffer();
  if (format === 'jpeg') return img.jpeg({ quality: 95 }).toBuffer();
  return img.webp({ lossless: true }).toBuffer();
}

async function put(path: string, data: Buffer | Promise<Buffer>): Promise<void> {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, await data);
}

// 4 x 4 grey ramp: value 16 * i at pixel i.
const ramp = Array.from({ length: 16 }, (_, i) => 16 * i);
// 4 x 4 RGB: pure red, green and blue rows, then white and three mixed colours.
const rgbRows = [[255, 0, 0], [0, 255, 0], [0, 0, 255]];
const mixed = [255, 255, 255, 90, 200, 255, 10, 250, 30, 133, 77, 201];
const rgb = [...rgbRows.flatMap((c) => [...c, ...c, ...c, ...c]), ...mixed];

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'stride-imgfolder-'));
  const root = join(tmp, 'good');
  // Class folders created out of order; files named so string order differs from numeric order.
  await put(join(root, 'zebra', '2.png'), encode(ramp, 4, 4, 1, 'png'));
  await put(join(root, 'zebra', '10.webp'), encode(ramp.map((v) => 255 - v), 4, 4, 1, 'webp'));
  await put(join(root, 'apple', 'red-green-blue-white.PNG'), encode(rgb, 4, 4, 3, 'png'));
  await put(join(root, 'apple', 'grey.jpg'), encode(new Array(16 * 3).fill(128), 4, 4, 3, 'jpeg'));
  await put(join(root, 'apple', 'notes.txt'), Promise.resolve(Buffer.from('not an image')));
  await put(join(root, 'apple', '.hidden.png'), Promise.resolve(Buffer.from('ignored')));
  await put(join(root, '.ipynb_checkpoints', 'x.png'), encode(ramp, 4, 4, 1, 'png'));
  writeFileSync(join(root, 'README.md'), 'a file at the top level is not a class');
});

after(() => rmSync(tmp, { recursive: true, force: true }));

test('classes are the folders sorted by name, files sorted by name; other files ignored', () => {
  const { classes, files, labels } = listImageFolder(join(tmp, 'good'));
  assert.deepEqual(classes, ['apple', 'zebra']);
  assert.deepEqual(files.map((f) => f.slice(tmp.length + 6)), ['apple/grey.jpg', 'apple/red-green-blue-white.PNG', 'zebra/10.webp', 'zebra/2.png']);
  assert.deepEqual(labels, [0, 0, 1, 1]);
});

test('grayscale loading: exact bytes for PNG and lossless WebP, BT.601 luma for RGB, near-exact JPEG', async () => {
  const { dataset, files, warnings } = await loadImageFolder(join(tmp, 'good'), { height: 4, width: 4, channels: 1 });
  assert.deepEqual(warnings, []);
  assert.equal(files.length, 4);
  assert.deepEqual(dataset.classNames, ['apple', 'zebra']);
  assert.deepEqual(dataset.imageShape, [4, 4, 1]);
  assert.deepEqual([0, 1, 2, 3].map((i) => dataset.label(i)), [0, 0, 1, 1]);
  const px = (i: number): number[] => [...dataset.images.subarray(i * 16, (i + 1) * 16)];
  // grey.jpg: every pixel 128, up to JPEG error.
  for (const v of px(0)) assert.ok(Math.abs(v - 128) <= 2, `jpeg pixel ${v}`);
  // Red, green, blue rows: 0.299 * 255 = 76.2, 0.587 * 255 = 149.7, 0.114 * 255 = 29.1. Then white,
  // 0.299*90 + 0.587*200 + 0.114*255 = 173.38, 0.299*10 + 0.587*250 + 0.114*30 = 153.16,
  // 0.299*133 + 0.587*77 + 0.114*201 = 107.88.
  assert.deepEqual(px(1), [76, 76, 76, 76, 150, 150, 150, 150, 29, 29, 29, 29, 255, 173, 153, 108]);
  assert.deepEqual(px(2), ramp.map((v) => 255 - v)); // 10.webp before 2.png
  assert.deepEqual(px(3), ramp);
  // The batch values are p / 255.
  const [batch] = dataset.batches(4);
  assert.equal(batch.x.data[3 * 16 + 5], Math.fround(80 / 255));
});

test('one-channel, 16-bit and RGBA files decode to 8-bit values; alpha is composited onto black', async () => {
  const grey = await encode(ramp, 4, 4, 1, 'png');
  assert.equal((await sharp(grey).metadata()).channels, 1);
  assert.deepEqual([...(await decodeImage(grey, { height: 4, width: 4, channels: 1 }))], ramp);
  const grey16 = await sharp(Uint16Array.from(ramp, (v) => v * 257), { raw: { width: 4, height: 4, channels: 1 } })
    .toColourspace('grey16')
    .png()
    .toBuffer();
  assert.equal((await sharp(grey16).metadata()).depth, 'ushort');
  assert.deepEqual([...(await decodeImage(grey16, { height: 4, width: 4, channels: 1 }))], ramp);
  // RGBA: red fully transparent, green half, blue opaque, grey 40 nearly transparent.
  const rgba = await encode([255, 0, 0, 0, 0, 255, 0, 128, 0, 0, 255, 255, 40, 40, 40, 10], 2, 2, 4, 'png');
  // What the image looks like on black: v * alpha / 255 (40 * 10 / 255 = 1.6 → 1); a transparent pixel's stored colour does not show.
  assert.deepEqual([...(await decodeImage(rgba, { height: 2, width: 2, channels: 3 }))], [0, 0, 0, 0, 128, 0, 0, 0, 255, 1, 1, 1]);
});

test('RGB loading keeps the colours; a grey image gives three equal channels', async () => {
  const { dataset } = await loadImageFolder(join(tmp, 'good'), { height: 4, width: 4, channels: 3 });
  assert.deepEqual(dataset.imageShape, [4, 4, 3]);
  assert.deepEqual([...dataset.images.subarray(48, 96)], rgb);
  assert.deepEqual([...dataset.images.subarray(3 * 48, 4 * 48)], ramp.flatMap((v) => [v, v, v]));
});

test('a non-square image: fill stretches, contain pads with black, cover crops the centre', async () => {
  // 8 wide x 4 high: left half 0, right half 200.
  const wide = await encode(Array.from({ length: 32 }, (_, i) => (i % 8 < 4 ? 0 : 200)), 8, 4, 1, 'png');
  const col = (img: Uint8Array, w: number, x: number): number[] => Array.from({ length: img.length / w }, (_, y) => img[y * w + x]);
  const fill = await decodeImage(wide, { height: 4, width: 4, channels: 1 });
  assert.equal(fill.length, 16);
  for (const v of col(fill, 4, 0)) assert.ok(v < 15, `fill left column ${v}`);
  for (const v of col(fill, 4, 3)) assert.ok(v > 185, `fill right column ${v}`);
  // contain 8x8: scale 1, two black rows above and below, the image in the middle.
  const contain = await decodeImage(wide, { height: 8, width: 8, channels: 1, fit: 'contain' });
  assert.deepEqual([...contain.subarray(0, 16)], new Array(16).fill(0));
  assert.deepEqual([...contain.subarray(48, 64)], new Array(16).fill(0));
  for (let y = 2; y < 6; y++) {
    assert.deepEqual([...contain.subarray(y * 8, y * 8 + 8)], [0, 0, 0, 0, 200, 200, 200, 200], `contain row ${y}`);
  }
  // cover 4x4: scale 1, the middle 4 columns (2..5) -> two dark and two bright columns.
  const cover = await decodeImage(wide, { height: 4, width: 4, channels: 1, fit: 'cover' });
  for (let y = 0; y < 4; y++) assert.deepEqual([...cover.subarray(y * 4, y * 4 + 4)], [0, 0, 200, 200], `cover row ${y}`);
  // Upscaling a non-square image with fill gives the requested size.
  const big = await loadImage(join(tmp, 'wide.png'), { height: 6, width: 5, channels: 3 }).catch((e: Error) => e);
  assert.ok(big instanceof Error && big.message.includes(join(tmp, 'wide.png')));
  writeFileSync(join(tmp, 'wide.png'), wide);
  const t = await loadImage(join(tmp, 'wide.png'), { height: 6, width: 5, channels: 3 });
  assert.deepEqual(t.shape, [1, 6, 5, 3]);
  // Lanczos resampling rings a little (a few levels below 0 and above 200 near the edge).
  assert.ok(t.data[0] < 0.03, `top-left ${t.data[0]}`);
  assert.ok(Math.abs(t.data[t.data.length - 1] - 200 / 255) < 0.1, `bottom-right ${t.data[t.data.length - 1]}`);
});

test('loadImage returns a normalised [1, H, W, C] tensor, with mean/std when given', async () => {
  const file = join(tmp, 'ramp.png');
  writeFileSync(file, await encode(ramp, 4, 4, 1, 'png'));
  const t = await loadImage(file, { height: 4, width: 4, channels: 1 });
  assert.deepEqual(t.shape, [1, 4, 4, 1]);
  assert.deepEqual([...t.data], ramp.map((v) => Math.fround(v / 255)));
  const n = await loadImage(file, { height: 4, width: 4, channels: 1, normalization: { mean: 0.5, std: 0.5 } });
  assert.deepEqual([...n.data], ramp.map((v) => Math.fround((v / 255 - 0.5) / 0.5)));
});

test('an unreadable image is an error naming the file; skipBad skips it with a warning', async () => {
  const root = join(tmp, 'bad');
  await put(join(root, 'a', '1.png'), encode(ramp, 4, 4, 1, 'png'));
  await put(join(root, 'a', '2.png'), Promise.resolve(Buffer.from('this is not a png at all')));
  await put(join(root, 'b', '1.webp'), encode(ramp, 4, 4, 1, 'webp'));
  await put(join(root, 'b', '2.jpg'), Promise.resolve(Buffer.alloc(0)));
  const bad = join(root, 'a', '2.png');
  await assert.rejects(loadImageFolder(root, { height: 4, width: 4, channels: 1, concurrency: 1 }), (e: Error) => {
    assert.ok(e.message.startsWith(`loadImageFolder: cannot read image '${bad}': `), e.message);
    assert.match(e.message, /unsupported image format/);
    return true;
  });
  const seen: string[] = [];
  const r = await loadImageFolder(root, { height: 4, width: 4, channels: 1, skipBad: true, onWarning: (w) => seen.push(w) });
  assert.equal(r.dataset.length, 2);
  assert.deepEqual(r.files, [join(root, 'a', '1.png'), join(root, 'b', '1.webp')]);
  assert.deepEqual([r.dataset.label(0), r.dataset.label(1)], [0, 1]);
  assert.deepEqual([...r.dataset.images.subarray(16, 32)], ramp);
  assert.equal(r.warnings.length, 2);
  assert.ok(r.warnings[0].startsWith(`loadImageFolder: skipped image '${bad}': `), r.warnings[0]);
  assert.ok(r.warnings[1].includes(`'${join(root, 'b', '2.jpg')}'`), r.warnings[1]);
  assert.deepEqual([...seen].sort(), [...r.warnings].sort());

  // A class whose only image is bad is an error even with skipBad.
  await put(join(root, 'c', 'x.png'), Promise.resolve(Buffer.from('garbage')));
  await assert.rejects(loadImageFolder(root, { height: 4, width: 4, channels: 1, skipBad: true }), /class 'c' has no readable images left/);
});

test('structural errors: missing root, no class folders, a class without images, classes option', async () => {
  const opts = { height: 4, width: 4, channels: 1 } as const;
  await assert.rejects(loadImageFolder(join(tmp, 'nope'), opts), /loadImageFolder: root folder '.*nope' does not exist/);
  const flat = join(tmp, 'flat');
  await put(join(flat, 'only.png'), encode(ramp, 4, 4, 1, 'png'));
  await assert.rejects(loadImageFolder(flat, opts), /'.*flat' has no class folders; expected .*<class name>/);
  await assert.rejects(loadImageFolder(join(flat, 'only.png'), opts), /is not a folder/);
  const empty = join(tmp, 'empty-class');
  await put(join(empty, 'a', '1.png'), encode(ramp, 4, 4, 1, 'png'));
  await put(join(empty, 'b', 'readme.txt'), Promise.resolve(Buffer.from('x')));
  await assert.rejects(loadImageFolder(empty, opts), /class folder '.*empty-class\/b' has no images \(.png, .jpg, .jpeg, .webp\)/);

  const good = join(tmp, 'good');
  const r = await loadImageFolder(good, { ...opts, classes: ['zebra', 'apple'] });
  assert.deepEqual(r.dataset.classNames, ['zebra', 'apple']);
  assert.deepEqual([0, 1, 2, 3].map((i) => r.dataset.label(i)), [0, 0, 1, 1]);
  assert.ok(r.files[0].endsWith('10.webp'));
  await assert.rejects(loadImageFolder(good, { ...opts, classes: ['apple'] }), /folder\(s\) '.*zebra' are not in classes \[apple\]/);
  await assert.rejects(loadImageFolder(good, { ...opts, classes: ['apple', 'zebra', 'kiwi'] }), /class folder\(s\) '.*kiwi' not found/);
  await assert.rejects(loadImageFolder(good, { height: 4, width: 4, channels: 2 as 1 }), /channels must be 1 or 3, got 2/);
  await assert.rejects(loadImageFolder(good, { ...opts, fit: 'stretch' as 'fill' }), /fit must be 'fill', 'contain' or 'cover', got stretch/);
});

test('a folder, a symbolic-link loop or a missing file given as an image is named as such, not "unsupported image format"', async () => {
  const opts = { height: 4, width: 4, channels: 1 } as const;
  const base = join(tmp, 'odd');
  mkdirSync(join(base, 'a.png'), { recursive: true });
  symlinkSync('loop2', join(base, 'loop1'));
  symlinkSync('loop1', join(base, 'loop2'));
  await assert.rejects(loadImage(join(base, 'a.png'), opts), /loadImage: image '.*a\.png' is a folder, not an image file/);
  await assert.rejects(loadImage(join(base, 'loop1'), opts), /loadImage: image '.*loop1' is a loop of symbolic links/);
  await assert.rejects(loadImage(join(base, 'gone.png'), opts), /loadImage: image '.*gone\.png' does not exist/);
  await assert.rejects(loadImageFolder(join(base, 'loop1'), opts), /loadImageFolder: root folder '.*loop1' is a loop of symbolic links/);
  // A looping entry inside a class folder.
  const cls = join(tmp, 'looped', 'c');
  await put(join(tmp, 'looped', 'b', '1.png'), encode(ramp, 4, 4, 1, 'png'));
  mkdirSync(cls, { recursive: true });
  symlinkSync('y.png', join(cls, 'x.png'));
  symlinkSync('x.png', join(cls, 'y.png'));
  await assert.rejects(loadImageFolder(join(tmp, 'looped'), opts), /cannot read image '.*x\.png': is a loop of symbolic links/);
  // Several bad files decoded at once: the error always names the first in dataset order, whichever
  // decode failed first in time.
  for (const k of [0, 1, 2, 3, 4, 5]) symlinkSync(`z${k}.png`, join(cls, `z${k}.png`));
  for (let run = 0; run < 20; run++) {
    await assert.rejects(loadImageFolder(join(tmp, 'looped'), { ...opts, concurrency: 8 }), /cannot read image '[^']*[/\\]c[/\\]x\.png': is a loop/);
  }
});
