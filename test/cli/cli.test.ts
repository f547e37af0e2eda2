/**
 * The `stride` command line, end to end: every command is spawned as a real process
 * (`node --import tsx src/cli/main.ts ...`) in a temporary directory, on a small MNIST subset with
 * the tiny preset, and its files and output are checked against the library run in-process.
 *
 * Resume equivalence: `train --epochs 2` and `train --epochs 1 --checkpoint` + `train --resume
 * --epochs 2` must write byte-identical model files.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import * as ort from 'onnxruntime-node';
import { loadMnistSplits, loadStandardMnist } from '../../src/node/mnist.js';
import { writePng } from '../../src/node/png.js';
import { readModel } from '../../src/model/serialize.js';
import { evaluateDataset } from '../../src/model/evaluate.js';
import { softmax } from '../../src/losses/softmax.js';
import { limitBalanced, interleaveClasses } from '../../src/cli/data.js';
import { TRAIN_DEFAULTS } from '../../src/cli/commands/train.js';

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

/** Runs `stride ...args` in the temporary directory. */
function stride(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<Result> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', TSX, MAIN, ...args], { cwd: dir, env: { ...env, ...extraEnv }, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

const ok = (r: Result, what: string): Result => {
  assert.equal(r.code, 0, `${what} exited ${r.code}\nstderr: ${r.stderr}\nstdout: ${r.stdout.slice(-2000)}`);
  return r;
};

/** Each line of stdout as JSON (throws on a line that is not). */
const jsonLines = (r: Result): Record<string, unknown>[] =>
  r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** A failed command: non-zero exit, exactly one line on stderr, no stack trace. */
function assertOneLineError(r: Result, pattern: RegExp, what: string): void {
  assert.notEqual(r.code, 0, `${what} should fail`);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `${what}: expected one line on stderr, got:\n${r.stderr}`);
  assert.match(lines[0], /^stride: /);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
}

// Runs shared by several tests (started in `before`, awaited where needed).
const TRAIN = ['train', '--model', 'tiny', '--limit', '300', '--test-limit', '100', '--batch-size', '32', '--lr', '0.01', '--seed', '3', '--val-split', '0.1', '--backend', 'reference'];
let straight: Promise<Result>;
let firstHalf: Promise<Result>;
let resumed: Promise<Result>;
// The same with a learning rate that changes every epoch (exponential decay of the default lr), 3 = 2 + 1.
const TRAIN_EXP = ['train', '--model', 'tiny', '--limit', '200', '--test-limit', '20', '--batch-size', '50', '--schedule', 'exponential', '--gamma', '0.5', '--seed', '4', '--backend', 'reference', '--json'];
let straight3: Promise<Result>;
let resumed3: Promise<Result>;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stride-cli-'));
  env = { ...process.env, STRIDE_CACHE_DIR: join(dir, 'cache'), STRIDE_DEBUG: '' };
  delete env.NODE_OPTIONS;
  // Build the MNIST cache once, before several processes want it.
  loadMnistSplits({ cacheDir: join(dir, 'cache') });
  straight = stride([...TRAIN, '--epochs', '2', '--out', 'a.safetensors', '--plot', 'curves.svg', '--json']);
  firstHalf = stride([...TRAIN, '--epochs', '1', '--checkpoint', 'ck', '--out', 'b1.safetensors']);
  resumed = firstHalf.then(() => stride(['train', '--resume', '--checkpoint', 'ck', '--epochs', '2', '--out', 'b.safetensors', '--backend', 'reference', '--json']));
  straight3 = stride([...TRAIN_EXP, '--epochs', '3', '--out', 'e3.safetensors']);
  resumed3 = stride([...TRAIN_EXP, '--epochs', '2', '--checkpoint', 'ck3', '--out', 'e2.safetensors']).then(() =>
    stride(['train', '--resume', '--checkpoint', 'ck3', '--epochs', '3', '--out', 'e21.safetensors', '--backend', 'reference', '--json']),
  );
});

after(async () => {
  await Promise.allSettled([straight, firstHalf, resumed, straight3, resumed3]);
  await rm(dir, { recursive: true, force: true });
});

test('train --json: one JSON object per line, with batches, epochs, the test result and the saved file', async () => {
  const events = jsonLines(ok(await straight, 'train --json'));
  const kinds = events.map((e) => e.event);
  assert.equal(kinds[0], 'start');
  assert.deepEqual([...new Set(kinds)], ['start', 'batch', 'epoch', 'test', 'saved', 'plot', 'done']);
  const start = events[0];
  assert.equal(start.train, 270);
  assert.equal(start.validation, 30);
  assert.equal(start.test, 100);
  // 270 images in batches of 32: 9 batches per epoch.
  assert.equal(events.filter((e) => e.event === 'batch').length, 18);
  const epochs = events.filter((e) => e.event === 'epoch');
  assert.deepEqual(epochs.map((e) => e.epoch), [1, 2]);
  assert.ok(epochs.every((e) => typeof e.valAccuracy === 'number' && typeof e.loss === 'number'));
  const t = events.find((e) => e.event === 'test')!;
  const confusion = t.confusion as number[][];
  assert.equal(confusion.flat().reduce((a, b) => a + b, 0), 100);
  assert.equal(t.correct, confusion.reduce((s, row, i) => s + row[i], 0));
  assert.equal(t.accuracy, (t.correct as number) / 100);
  assert.match(await readFile(join(dir, 'curves.svg'), 'utf8'), /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
});

test('train (human output) reports every epoch, test accuracy and a confusion matrix', async () => {
  const r = ok(await firstHalf, 'train');
  assert.match(r.stdout, /^epoch 1\/1 {2}loss \d/m);
  assert.match(r.stdout, /^test accuracy \d+\.\d\d% \(\d+\/100\)/m);
  assert.match(r.stdout, /^true \\ pred +0 +1 +2 +3 +4 +5 +6 +7 +8 +9$/m);
  assert.match(r.stdout, /^saved model to b1\.safetensors$/m);
  assert.equal(r.stderr, '');
});

test('resume: 2 epochs equal 1 epoch + --resume to 2, byte for byte', async () => {
  ok(await straight, 'train --epochs 2');
  const r = ok(await resumed, 'train --resume');
  const epochs = jsonLines(r).filter((e) => e.event === 'epoch');
  assert.deepEqual(epochs.map((e) => e.epoch), [2], 'the resumed run trains only epoch 2');
  assert.equal(jsonLines(r)[0].startEpoch, 1);
  const a = await readFile(join(dir, 'a.safetensors'));
  const b = await readFile(join(dir, 'b.safetensors'));
  const b1 = await readFile(join(dir, 'b1.safetensors'));
  assert.ok(!a.equals(b1), 'epoch 2 changed the model');
  assert.ok(a.equals(b), 'the resumed model file is identical to the uninterrupted one');

  // 3 epochs = 2 + 1, with a learning rate that differs every epoch.
  const s3 = jsonLines(ok(await straight3, 'train --epochs 3'));
  const r3 = jsonLines(ok(await resumed3, 'train --resume --epochs 3'));
  const lrs = s3.filter((e) => e.event === 'epoch').map((e) => e.lr);
  const lr0 = TRAIN_DEFAULTS.sgdLr; // the default optimizer's rate, halved every epoch by the step schedule
  assert.deepEqual(lrs, [lr0, lr0 / 2, lr0 / 4]);
  assert.deepEqual(r3.filter((e) => e.event === 'epoch').map((e) => e.lr), [lr0 / 4]);
  assert.ok((await readFile(join(dir, 'e3.safetensors'))).equals(await readFile(join(dir, 'e21.safetensors'))), '3 epochs = 2 + resume');
});

test('eval: accuracy, per-class metrics and confusion matrix agree with the library', async () => {
  ok(await straight, 'train');
  const r = ok(await stride(['eval', 'a.safetensors', '--limit', '100', '--backend', 'reference', '--json']), 'eval');
  const [res] = jsonLines(r);
  const { model } = readModel(await readFile(join(dir, 'a.safetensors')));
  const { test: testSet } = loadStandardMnist(); // the model was trained on --data mnist: the standard test set
  const ev = evaluateDataset(model, limitBalanced(testSet, 100));
  assert.equal(res.accuracy, ev.accuracy);
  assert.deepEqual(res.confusion, Array.from({ length: 10 }, (_, t) => Array.from(ev.confusion.subarray(t * 10, t * 10 + 10))));
  const perClass = res.perClass as { support: number; precision: number }[];
  assert.deepEqual(perClass.map((c) => c.support), new Array(10).fill(10));
  const human = ok(await stride(['eval', 'a.safetensors', '--limit', '100', '--backend', 'reference']), 'eval');
  assert.match(human.stdout, /^class +precision +recall +F1 +support$/m);
  assert.match(human.stdout, /^macro avg /m);
});

test('predict: top-k probabilities match the model run in-process; export: ONNX gives the same outputs', async () => {
  ok(await straight, 'train');
  const { test: testSet } = loadMnistSplits({ cacheDir: join(dir, 'cache') });
  const sample = interleaveClasses(testSet);
  const images = [sample.image(3), sample.image(7)];
  await writePng(join(dir, 'd3.png'), images[0]);
  await writePng(join(dir, 'd7.png'), images[1]);
  const [pr, ex] = await Promise.all([
    stride(['predict', 'a.safetensors', 'd3.png', 'd7.png', '--top-k', '4', '--backend', 'reference', '--json']),
    stride(['export', 'a.safetensors', '--onnx', 'a.onnx']),
  ]);
  const rows = jsonLines(ok(pr, 'predict'));
  assert.deepEqual(rows.map((r) => r.file), ['d3.png', 'd7.png']);
  const { model } = readModel(await readFile(join(dir, 'a.safetensors')));
  const session = await ort.InferenceSession.create(join(dir, 'a.onnx'));
  assert.match(ok(ex, 'export').stdout, /^wrote a\.onnx \(/);
  for (let i = 0; i < 2; i++) {
    const p = softmax(model.predict(images[i])).data;
    const order = Array.from(p, (_, j) => j).sort((a, b) => p[b] - p[a]);
    const top = rows[i].top as { index: number; class: string; probability: number }[];
    assert.equal(top.length, 4);
    assert.deepEqual(top.map((t) => t.index), order.slice(0, 4));
    top.forEach((t) => assert.ok(Math.abs(t.probability - p[t.index]) < 1e-6, `${t.probability} vs ${p[t.index]}`));
    assert.equal(rows[i].prediction, String(order[0]));
    const onnx = await session.run({ input: new ort.Tensor('float32', images[i].data, [...images[i].shape]) });
    const logits = model.predict(images[i]).data;
    const got = Object.values(onnx)[0].data as Float32Array;
    got.forEach((v, j) => assert.ok(Math.abs(v - logits[j]) < 1e-4, `onnx logit ${j}: ${v} vs ${logits[j]}`));
  }
  const human = ok(await stride(['predict', 'a.safetensors', 'd3.png', '--backend', 'reference']), 'predict');
  assert.match(human.stdout, /^d3\.png: \d \(\d+\.\d%\)$/m);
});

test('summary, gradcheck and visualize', async () => {
  ok(await straight, 'train');
  const [sumPreset, sumFile, grad, viz] = await Promise.all([
    stride(['summary', 'lenet']),
    stride(['summary', 'a.safetensors', '--json']),
    stride(['gradcheck', 'tiny', '--max-elements', '4', '--backend', 'reference', '--json']),
    stride(['visualize', 'a.safetensors', '--out-dir', 'viz', '--sample', '5', '--backend', 'reference']),
  ]);
  assert.match(ok(sumPreset, 'summary').stdout, /Total params: 857,738 {4}FLOPs per example \(forward\): 23,011,072/);
  const s = jsonLines(ok(sumFile, 'summary --json'))[0];
  assert.deepEqual(s.inputShape, [28, 28, 1]);
  assert.equal(s.params, 4 * 9 + 4 + 196 * 10 + 10);
  const g = jsonLines(ok(grad, 'gradcheck'))[0];
  assert.equal(g.ok, true);
  assert.deepEqual((g.checks as { layer: string }[]).map((c) => c.layer.replace(/\(.*/, '')), ['Conv2D', 'ReLU', 'MaxPool2D', 'Flatten', 'Dense']);
  ok(viz, 'visualize');
  const filters = await sharp(join(dir, 'viz', 'filters.png')).metadata();
  const maps = await sharp(join(dir, 'viz', '0-conv2d.png')).metadata();
  assert.ok(filters.width! > 0 && maps.width! >= 28 * 2, `${filters.width} ${maps.width}`);
  assert.match(viz.stdout, /^wrote viz\/2-maxpool2d\.png: layer 2 MaxPool2D\(kernelSize=4\): 4 maps of 7x7$/m);
  assert.match(viz.stdout, /^prediction: \d \(\d+\.\d%\)$/m);
});

test('edges: Sobel magnitude of a white square is zero inside and largest at its corners; gx; custom kernels', async () => {
  const w = 24;
  const px = Buffer.alloc(w * w);
  for (let y = 6; y < 18; y++) for (let x = 6; x < 18; x++) px[y * w + x] = 255;
  await sharp(px, { raw: { width: w, height: w, channels: 1 } }).png().toFile(join(dir, 'square.png'));
  const [sob, cus] = await Promise.all([
    stride(['edges', 'square.png', '-o', 'sq-edges.png', '--gx', 'sq-gx.png']),
    stride(['edges', 'square.png', '--kernel', '1,0,-1,2,0,-2,1,0,-1', '--padding', 'valid', '-o', 'sq-k.png', '--json']),
  ]);
  ok(sob, 'edges');
  const { data, info } = await sharp(join(dir, 'sq-edges.png')).raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([info.width, info.height], [24, 24]);
  const at = (x: number, y: number) => data[(y * info.width + x) * info.channels];
  assert.equal(at(12, 12), 0, 'flat inside');
  assert.equal(at(2, 2), 0, 'flat outside');
  // Sobel: |g| = 4 on a straight edge, 3·√2 at a corner (the maximum, drawn white).
  assert.equal(at(6, 6), 255, 'corner');
  assert.equal(at(12, 6), Math.round((4 / Math.sqrt(18)) * 255), 'top edge');
  const gx = await sharp(join(dir, 'sq-gx.png')).raw().toBuffer({ resolveWithObject: true });
  const gat = (x: number, y: number) => gx.data[(y * gx.info.width + x) * gx.info.channels];
  assert.ok(gat(5, 12) > 200 && gat(17, 12) < 55 && Math.abs(gat(12, 12) - 128) <= 1, 'gx: bright going right on the left edge, dark on the right, grey (0) inside');
  const k = jsonLines(ok(cus, 'edges --kernel'))[0];
  assert.deepEqual([k.outWidth, k.outHeight], [22, 22]);
  assert.equal((await sharp(join(dir, 'sq-k.png')).metadata()).width, 22);
});

test('bad arguments and bad files: one line on stderr, non-zero exit, no stack trace', async () => {
  await writeFile(join(dir, 'bad.png'), 'this is not an image');
  await writeFile(join(dir, 'bad.safetensors'), 'not a model either, but long enough to have a header');
  ok(await straight, 'train');
  const cases: [string[], RegExp][] = [
    [['train', '--epochs', 'abc'], /--epochs.*'abc' is invalid/],
    [['train', '--optimizer', 'adagrad'], /adagrad.*sgd, adam, adamw, rmsprop/],
    [['train', '--frobnicate'], /unknown option '--frobnicate'/],
    [['train', '--model', 'resnet', '--limit', '10'], /unknown model 'resnet': not a preset \(lenet, small, tiny\)/],
    [['train', '--resume'], /--resume needs --checkpoint/],
    [['train', '--model', 'tiny', '--optimizer', 'adam', '--momentum', '0.9'], /--momentum applies to --optimizer sgd or rmsprop/],
    [['teach'], /unknown command 'teach'/],
    [['eval', 'missing.safetensors'], /model file 'missing\.safetensors' does not exist/],
    [['eval', 'bad.safetensors'], /bad\.safetensors/],
    [['predict', 'a.safetensors', 'bad.png', '--backend', 'reference'], /cannot read image 'bad\.png'/],
    [['predict', 'a.safetensors', 'nowhere.png', '--backend', 'reference'], /nowhere\.png/],
    [['edges', 'bad.png'], /cannot read image 'bad\.png'/],
    [['edges', 'square.png', '--kernel', '1,2,3'], /--kernel must be 9 numbers/],
    [['export', 'a.safetensors'], /required option '--onnx <file>' not specified/],
  ];
  const results = await Promise.all(cases.map(([args]) => stride(args)));
  results.forEach((r, i) => assertOneLineError(r, cases[i][1], cases[i][0].join(' ')));
  // Usage errors exit 2, failures at run time 1.
  assert.equal(results[0].code, 2);
  assert.equal(results[9].code, 1);
  // STRIDE_DEBUG=1 adds the stack.
  const debug = await stride(['eval', 'bad.safetensors'], { STRIDE_DEBUG: '1' });
  assert.notEqual(debug.code, 0);
  assert.match(debug.stderr, /\n\s+at /);
  assert.ok((await stat(join(dir, 'a.safetensors'))).size > 0);
});

test('--limit takes a class-balanced prefix', () => {
  const { test: testSet } = loadMnistSplits({ cacheDir: join(dir, 'cache') });
  const first = limitBalanced(testSet, 25);
  assert.deepEqual(Array.from({ length: 25 }, (_, i) => first.label(i)), [...Array(20).keys()].map((i) => i % 10).concat([0, 1, 2, 3, 4]));
  // Within a class the dataset order is kept: the first 0 of the prefix is the test split's first 0.
  assert.equal(first.indices[0], testSet.indices[0]);
  assert.equal(first.indices[10], testSet.indices[1]);
});
