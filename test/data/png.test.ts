import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { writePng } from '../../src/node/png.js';
import { Tensor } from '../../src/tensor/tensor.js';

let tmp = '';
before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'stride-png-'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Decodes a PNG to its raw bytes, in the channel count stored in the file. */
async function readRaw(path: string): Promise<{ data: number[]; width: number; height: number; channels: number }> {
  const meta = await sharp(path).metadata();
  const img = sharp(path);
  const { data, info } = await (meta.channels === 1 ? img.toColourspace('b-w') : img).raw().toBuffer({ resolveWithObject: true });
  assert.equal(info.channels, meta.channels);
  return { data: [...data], width: info.width, height: info.height, channels: meta.channels! };
}

test('writePng: a grayscale float array in [0, 1] becomes round(v * 255), clamped', async () => {
  const values = Float32Array.of(0, 0.5, 1, 0.25, -0.3, 1.7);
  const file = join(tmp, 'grey.png');
  await writePng(file, values, { height: 2, width: 3 });
  const r = await readRaw(file);
  assert.deepEqual([r.width, r.height, r.channels], [3, 2, 1]);
  assert.deepEqual(r.data, [0, 128, 255, 64, 0, 255]);
});

test('writePng: an RGB tensor [1, H, W, 3] keeps its colours; a [H, W] tensor is grey', async () => {
  const t = Tensor.fromArray([[[[1, 0, 0], [0, 1, 0]], [[0, 0, 1], [0.2, 0.4, 0.6]]]]);
  const file = join(tmp, 'rgb.png');
  await writePng(file, t);
  const r = await readRaw(file);
  assert.deepEqual([r.width, r.height, r.channels], [2, 2, 3]);
  assert.deepEqual(r.data, [255, 0, 0, 0, 255, 0, 0, 0, 255, 51, 102, 153]);
  await writePng(join(tmp, 'hw.png'), Tensor.fromArray([[0, 1], [1, 0]]));
  assert.deepEqual((await readRaw(join(tmp, 'hw.png'))).data, [0, 255, 255, 0]);
  await assert.rejects(writePng(join(tmp, 'x.png'), t, { channels: 1 }), /encodePng: channels 1 does not match the tensor shape \[1, 2, 2, 3\] \(3\)/);
});

test('writePng ranges: minmax stretches any values to 0..255, [low, high] maps linearly', async () => {
  const edges = Float32Array.of(-2, 0, 2, 6);
  await writePng(join(tmp, 'mm.png'), edges, { height: 2, width: 2, range: 'minmax' });
  assert.deepEqual((await readRaw(join(tmp, 'mm.png'))).data, [0, 64, 128, 255]);
  await writePng(join(tmp, 'lh.png'), edges, { height: 2, width: 2, range: [0, 4] });
  assert.deepEqual((await readRaw(join(tmp, 'lh.png'))).data, [0, 0, 128, 255]);
  await writePng(join(tmp, 'const.png'), Float32Array.of(3, 3), { height: 1, width: 2, range: 'minmax' });
  assert.deepEqual((await readRaw(join(tmp, 'const.png'))).data, [0, 0]);
  await writePng(join(tmp, 'bytes.png'), Uint8Array.of(1, 2, 3, 250), { height: 2, width: 2 });
  assert.deepEqual((await readRaw(join(tmp, 'bytes.png'))).data, [1, 2, 3, 250]);
});

test('writePng replaces a file atomically and leaves no temporary files; bad sizes are errors', async () => {
  const dir = join(tmp, 'atomic');
  const file = join(dir, 'out.png');
  await writePng(file, Float32Array.of(1), { height: 1, width: 1 }); // creates the folder
  writeFileSync(join(dir, 'other.txt'), 'x');
  await writePng(file, Float32Array.of(0, 0), { height: 1, width: 2 });
  assert.deepEqual((await readRaw(file)).data, [0, 0]);
  assert.deepEqual(readdirSync(dir).sort(), ['other.txt', 'out.png']);
  await assert.rejects(writePng(file, Float32Array.of(0, 0, 0), { height: 1, width: 2 }), /encodePng: data has 3 values, expected height \* width \* channels = 1 \* 2 \* 1 = 2/);
  await assert.rejects(writePng(file, Float32Array.of(0, 0)), /encodePng: height must be a positive integer, got undefined/);
  assert.deepEqual((await readRaw(file)).data, [0, 0]); // unchanged by the failed writes
});
