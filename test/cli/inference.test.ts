/**
 * `eval`, `predict`, `export` as a person meets them, each a real `stride` process on small image
 * folders and hand-made models in a temporary directory (no MNIST): what `eval` evaluates on
 * (never training images called a test set), NaN and empty data refused with a reason, drawings
 * on transparent canvases, and messages (no op prefixes, no raw terminal escapes).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, symlinkSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { Sequential } from '../../src/model/sequential.js';
import { Dense } from '../../src/layers/dense.js';
import { Flatten } from '../../src/layers/pooling.js';
import { readModel } from '../../src/model/serialize.js';
import { modelFileBytes, CLI_META_KEY } from '../../src/cli/models.js';
import { onnxMetadata } from '../onnx/read-metadata.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');
const TSX = import.meta.resolve('tsx');

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

let dir = '';
let env: NodeJS.ProcessEnv = {};

function stride(args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', TSX, MAIN, ...args], { cwd: dir, env, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

const ok = (r: Result, what: string): Result => {
  assert.equal(r.code, 0, `${what} exited ${r.code}\nstderr: ${r.stderr}\nstdout: ${r.stdout.slice(-2000)}`);
  return r;
};

/** Fails with exit code 1 and one line on stderr matching `pattern`. */
function fails(r: Result, pattern: RegExp, what: string): string {
  assert.notEqual(r.code, 0, `${what} should fail; stdout: ${r.stdout}`);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `${what}: one line on stderr, got:\n${r.stderr}`);
  assert.match(lines[0], pattern, what);
  assert.doesNotMatch(lines[0], /\b(loadModel|loadImage|loadImageFolder|deserializeModel|evaluateDataset|createPreset|fit): /, `${what}: no internal op prefix`);
  return lines[0];
}

const json = (r: Result): Record<string, unknown> => JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;

/** `root/<class>/<i>.png`: class 0 has a horizontal line, class 1 a vertical one (28x28 grey). */
async function folder(root: string, n: number, classes = ['h', 'v']): Promise<void> {
  for (const [c, name] of classes.entries()) {
    mkdirSync(join(dir, root, name), { recursive: true });
    for (let i = 0; i < n; i++) {
      const px = Buffer.alloc(28 * 28);
      const at = 4 + ((i * 7) % 20);
      for (let k = 0; k < 28; k++) px[c % 2 === 0 ? at * 28 + k : k * 28 + at] = 255;
      await sharp(px, { raw: { width: 28, height: 28, channels: 1 } }).png().toFile(join(dir, root, name, `${String(i).padStart(3, '0')}.png`));
    }
  }
}

/** A 20 wide x 40 tall RGBA PNG: a 4-pixel vertical stroke of `ink` on `paper`. */
async function strokePng(name: string, ink: number[], paper: number[]): Promise<void> {
  const [w, h] = [20, 40];
  const px = Buffer.alloc(w * h * 4);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) px.set(x >= 8 && x < 12 && y >= 4 && y < 36 ? ink : paper, (y * w + x) * 4);
  await sharp(px, { raw: { width: w, height: h, channels: 4 } }).png().toFile(join(dir, name));
}

/**
 * A hand-made 28x28 model for `--fit contain` of a 20x40 image (content in columns 7..20): class
 * 'bars' scores the brightness of the padding columns 0..5 and 22..27, class 'stroke' the centre
 * columns 13..14, so the winner says whether the padding or the stroke is white.
 */
function barsModel(): Sequential {
  const m = new Sequential([new Flatten(), new Dense({ units: 2 })], { inputShape: [28, 28, 1], seed: 1 });
  const [w, b] = m.params().map((p) => p.value.data);
  w.fill(0);
  b.fill(0);
  for (let y = 0; y < 28; y++) {
    for (const x of [0, 1, 2, 3, 4, 5, 22, 23, 24, 25, 26, 27]) w[(y * 28 + x) * 2 + 0] = 1 / 12;
    for (const x of [13, 14]) w[(y * 28 + x) * 2 + 1] = 1 / 2;
  }
  return m;
}

const TINY = ['--model', 'tiny', '--epochs', '1', '--batch-size', '20', '--seed', '2', '--backend', 'reference'];
let trainedWithTestData: Promise<Result>;
let trainedSplit: Promise<Result>;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stride-inference-'));
  env = { ...process.env, STRIDE_DEBUG: '' };
  delete env.NODE_OPTIONS;
  await Promise.all([folder('tr', 30), folder('te', 10), folder('few', 2), folder('one', 4, ['only'])]);
  trainedWithTestData = stride(['train', ...TINY, '--data', 'tr', '--test-data', 'te', '--out', 'td.safetensors']);
  trainedSplit = stride(['train', ...TINY, '--data', 'tr', '--out', 'split.safetensors']);
});

after(async () => {
  await Promise.allSettled([trainedWithTestData, trainedSplit]);
  await rm(dir, { recursive: true, force: true });
});

test('train records in the model file which images it was trained and tested on', async () => {
  ok(await trainedWithTestData, 'train --test-data');
  ok(await trainedSplit, 'train (80/20 split)');
  const meta = (f: string) => readFile(join(dir, f)).then((b) => JSON.parse(readModel(b).metadata[CLI_META_KEY]) as { dataset: Record<string, Record<string, unknown>> });
  const td = (await meta('td.safetensors')).dataset;
  assert.deepEqual({ ...td.train, path: undefined }, { source: 'tr', split: 'all', total: 60, count: 60, path: undefined });
  assert.deepEqual({ ...td.test, path: undefined }, { source: 'te', split: 'all', total: 20, count: 20, path: undefined });
  assert.equal(td.test.path, join(dir, 'te'));
  const sp = (await meta('split.safetensors')).dataset;
  assert.deepEqual([sp.train.source, sp.train.split, sp.train.count], ['tr', 'train', 48]);
  assert.deepEqual([sp.test.source, sp.test.split, sp.test.count], ['tr', 'test', 12]);
});

test('eval of a model trained with --test-data: the recorded test set by default; its training folder is refused as a test set', async () => {
  ok(await trainedWithTestData, 'train --test-data');
  const [byDefault, namedTrain, namedTrainSplit, namedTest, splitAll] = await Promise.all([
    stride(['eval', 'td.safetensors', '--backend', 'reference', '--json']),
    stride(['eval', 'td.safetensors', '--data', 'tr', '--backend', 'reference']),
    stride(['eval', 'td.safetensors', '--data', 'tr', '--split', 'train', '--backend', 'reference', '--json']),
    stride(['eval', 'td.safetensors', '--data', 'te', '--backend', 'reference']),
    stride(['eval', 'td.safetensors', '--split', 'all', '--backend', 'reference']),
  ]);
  const d = json(ok(byDefault, 'eval'));
  assert.equal(d.count, 20, 'all 20 images of te, not the last 20% of tr');
  assert.equal(d.data, 'te');
  assert.equal(d.trainingImages, false);
  fails(namedTrain, /'tr' is the folder the model was trained on.*its test set was 'te'.*stride eval td\.safetensors/, 'eval --data tr');
  const t = json(ok(namedTrainSplit, 'eval --data tr --split train'));
  assert.equal(t.count, 60);
  assert.equal(t.trainingImages, true);
  assert.match(ok(namedTest, 'eval --data te').stdout, /^td\.safetensors on the test set: all of te: 20 images$/m);
  fails(splitAll, /--split all: the model was trained on 'tr' and tested on 'te'/, 'eval --split all');
  for (const r of [byDefault, namedTrainSplit, namedTest]) assert.doesNotMatch(r.stdout, /test split/);
});

test('eval of a model trained on an 80/20 split: the held-out 20% is its test set, from any directory', async () => {
  ok(await trainedSplit, 'train');
  mkdirSync(join(dir, 'elsewhere'), { recursive: true });
  const [byDefault, named, other] = await Promise.all([
    stride(['eval', 'split.safetensors', '--backend', 'reference']),
    stride(['eval', 'split.safetensors', '--data', join(dir, 'tr'), '--backend', 'reference', '--json']),
    stride(['eval', 'split.safetensors', '--data', 'te', '--backend', 'reference', '--json']),
  ]);
  assert.match(ok(byDefault, 'eval').stdout, /on the test set recorded in the model: tr, last 20% of each class: 12 images/);
  const n = json(ok(named, 'eval --data <abs tr>'));
  assert.deepEqual([n.count, n.split, n.trainingImages], [12, 'test', false]);
  // A folder the model never saw: all of it.
  const o = json(ok(other, 'eval --data te'));
  assert.deepEqual([o.count, o.split, o.trainingImages], [20, 'all', false]);
});

test('non-finite outputs: eval and predict exit non-zero naming the problem instead of "accuracy 10%" / "0 (n/a)"', async () => {
  // The loader refuses NaN weights; finite weights this large overflow to Infinity, and softmax to NaN.
  const m = barsModel();
  m.params()[0].value.data.fill(3e38);
  await writeFile(join(dir, 'nan.safetensors'), modelFileBytes(m, { classNames: ['h', 'v'] }));
  const [ev, pr] = await Promise.all([
    stride(['eval', 'nan.safetensors', '--data', 'te', '--backend', 'reference']),
    stride(['predict', 'nan.safetensors', join('te', 'v', '003.png'), '--backend', 'reference']),
  ]);
  fails(ev, /model 'nan\.safetensors' gives non-finite outputs \(Infinity\) for te, last 20% of each class: .*largest magnitude is 3\.00e\+38.*overflowed.*diverged/, 'eval of an overflowing model');
  assert.equal(ev.stdout, '');
  fails(pr, /non-finite outputs \(Infinity\) for te\/v\/003\.png: .*overflowed.*lower --lr/, 'predict with an overflowing model');
  assert.equal(pr.code, 1);  // A NaN weight is refused at load, in words for a person (not the library's allowNaN hint).
  m.params()[0].value.data[0] = NaN;
  await writeFile(join(dir, 'nan2.safetensors'), modelFileBytes(m, { classNames: ['h', 'v'] }));
  const nan = await stride(['eval', 'nan2.safetensors', '--data', 'te', '--backend', 'reference']);
  fails(nan, /model file 'nan2\.safetensors': .*holds NaN.*its weights are not finite numbers.*lower --lr/, 'eval of a NaN model');
  assert.doesNotMatch(nan.stderr, /allowNaN/);
});

test('empty test sets and one-class folders are refused before training; eval on 0 images too', async () => {
  ok(await trainedSplit, 'train');
  const [few, one, evalEmpty] = await Promise.all([
    stride(['train', ...TINY, '--data', 'few', '--no-save']),
    stride(['train', ...TINY, '--data', 'one', '--no-save']),
    stride(['eval', 'split.safetensors', '--data', 'few', '--split', 'test', '--backend', 'reference']),
  ]);
  fails(few, /the test set is empty: the last 20% of each class of 'few' is held out.*no class has more than 2 images.*--test-data/, 'train on 2 images per class');
  assert.doesNotMatch(few.stdout, /^epoch/m, 'nothing was trained');
  fails(one, /--data 'one': one class folder found \('only'\); a classifier needs at least 2/, 'train on one class');
  fails(evalEmpty, /no images to evaluate in few, last 20% of each class/, 'eval on 0 images');
});

test('predict --invert --fit contain: black ink on a transparent canvas; the padding is background, not white bars', async () => {
  await writeFile(join(dir, 'bars.safetensors'), modelFileBytes(barsModel(), { classNames: ['bars', 'stroke'] }));
  await strokePng('canvas.png', [0, 0, 0, 255], [0, 0, 0, 0]);
  await strokePng('paper.png', [20, 20, 20, 255], [245, 245, 245, 255]);
  const [canvas, paper, noInvert] = await Promise.all([
    stride(['predict', 'bars.safetensors', 'canvas.png', '--invert', '--fit', 'contain', '--backend', 'reference', '--json']),
    stride(['predict', 'bars.safetensors', 'paper.png', '--invert', '--fit', 'contain', '--backend', 'reference', '--json']),
    stride(['predict', 'bars.safetensors', 'canvas.png', '--fit', 'contain', '--backend', 'reference']),
  ]);
  assert.equal(json(ok(canvas, 'predict canvas')).prediction, 'stroke');
  assert.equal(canvas.stderr, '');
  assert.equal(json(ok(paper, 'predict paper')).prediction, 'stroke');
  // Without --invert the black drawing on transparency is black on black: a warning says what to do.
  ok(noInvert, 'predict without --invert');
  assert.match(noInvert.stderr, /^warning: 'canvas\.png' is nearly uniform .*needs --invert\n$/);
});

test('messages: folders and symlink loops as files, no op prefixes, no raw terminal escapes from names', async () => {
  ok(await trainedSplit, 'train');
  mkdirSync(join(dir, 'adir.png'), { recursive: true });
  symlinkSync('loop-b', join(dir, 'loop-a'));
  symlinkSync('loop-a', join(dir, 'loop-b'));
  await writeFile(join(dir, 'notes.safetensors'), 'just some text, long enough to look like a header of something');
  const evil = 'x\u001b[31mred\u0007';
  await folder('esc', 4, ['h', evil]);
  await writeFile(join(dir, 'esc.safetensors'), modelFileBytes(barsModel(), {}));
  await sharp(Buffer.alloc(28 * 28, 99), { raw: { width: 28, height: 28, channels: 1 } }).png().toFile(join(dir, `${evil}.png`));
  const [loopData, dirImage, loopModel, loopImage, text, escEval, escPredict, escMissing] = await Promise.all([
    stride(['train', ...TINY, '--data', 'loop-a', '--no-save']),
    stride(['predict', 'split.safetensors', 'adir.png', '--backend', 'reference']),
    stride(['eval', 'loop-a']),
    stride(['predict', 'split.safetensors', 'loop-a', '--backend', 'reference']),
    stride(['eval', 'notes.safetensors']),
    stride(['eval', 'esc.safetensors', '--data', 'esc', '--backend', 'reference']),
    stride(['predict', 'esc.safetensors', `${evil}.png`, '--backend', 'reference']),
    stride(['predict', 'esc.safetensors', `${evil}-missing.png`, '--backend', 'reference']),
  ]);
  fails(loopData, /--data 'loop-a': is a loop of symbolic links/, 'a symlink loop as data');
  fails(dirImage, /image 'adir\.png' is a folder, not an image file/, 'a folder as image');
  fails(loopModel, /model file 'loop-a' is a loop of symbolic links/, 'a symlink loop as model');
  fails(loopImage, /image 'loop-a' is a loop of symbolic links/, 'a symlink loop as image');
  fails(text, /^stride: error: model file 'notes\.safetensors': /, 'a text file as model');
  for (const [r, what] of [[ok(escEval, 'eval'), 'eval'], [ok(escPredict, 'predict'), 'predict'], [escMissing, 'predict missing']] as const) {
    const all = r.stdout + r.stderr;
    assert.ok(!all.includes('\u001b') && !all.includes('\u0007'), `${what}: no raw control characters`);
    assert.match(all, /x\\x1b\[31mred\\x07/, `${what}: the name is shown with its escapes visible`);
  }
});

test('export: the ONNX metadata carries the class names and the preprocessing', async () => {
  ok(await trainedSplit, 'train');
  const [named, bare] = await Promise.all([
    stride(['export', 'split.safetensors', '--onnx', 'split.onnx']),
    (async () => {
      await writeFile(join(dir, 'bare.safetensors'), modelFileBytes(barsModel(), {}));
      return stride(['export', 'bare.safetensors', '--onnx', 'bare.onnx', '--json']);
    })(),
  ]);
  assert.match(ok(named, 'export').stdout, /class names \(in metadata_props stride\.class_names\): h, v/);
  const meta = onnxMetadata(await readFile(join(dir, 'split.onnx')));
  assert.deepEqual(JSON.parse(meta.get('stride.class_names')!), ['h', 'v']);
  assert.match(meta.get('stride.preprocessing')!, /value = byte \/ 255 \(0 to 1\), no mean\/std normalisation/);
  assert.match(meta.get('stride.input')!, /float32 NHWC \[N, 28, 28, 1\]/);
  ok(bare, 'export of a model without class names');
  assert.equal(json(bare).classNames, null);
  const bareMeta = onnxMetadata(await readFile(join(dir, 'bare.onnx')));
  assert.equal(bareMeta.has('stride.class_names'), false);
  assert.match(bareMeta.get('stride.output')!, /class names are not recorded/);
  assert.match(bareMeta.get('stride.preprocessing')!, /^unknown: this model file was not written by 'stride train'/);
});
