/**
 * `stride train` must not lose work: every output path is checked before training starts, an
 * existing model file or checkpoint is not replaced without --force, and a checkpoint folder that
 * already holds a run is not started over by accident (issue 9, items 2 and 3).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readFile, rm, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readModel } from '../../src/model/serialize.js';
import { TINY, fails, jsonLines, makeFolder, ok, stride } from './run-stride.js';

let dir = '';
const run = (args: string[]) => stride(dir, args);
const train = (...args: string[]) => run([...TINY('data'), '--epochs', '1', ...args]);
/** Nothing was trained: no epoch line on stdout. */
const untrained = (r: { stdout: string }, what: string) => assert.doesNotMatch(r.stdout, /^epoch /m, `${what}: must fail before training`);

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stride-safety-'));
  await makeFolder(join(dir, 'data'));
  await mkdir(join(dir, 'outdir'));
  await mkdir(join(dir, 'plots.svg'));
  await writeFile(join(dir, 'afile'), 'not a folder');
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('train: bad output paths are refused before training, with the flag and the path', async () => {
  const cases: [string[], RegExp][] = [
    [['-o', 'outdir'], /--out 'outdir' is a folder/],
    [['--checkpoint', 'afile'], /--checkpoint 'afile' is a file, not a folder/],
    [['--plot', 'plots.svg'], /--plot 'plots\.svg' is a folder/],
    [['-o', 'afile/model.safetensors'], /--out 'afile\/model\.safetensors': 'afile' is a file, not a folder/],
    [['--checkpoint', 'afile/ck'], /--checkpoint 'afile\/ck': 'afile' is a file, not a folder/],
    [['-o', 'same.svg', '--plot', 'same.svg'], /--out and --plot are the same file/],
    [['-o', 'ck1', '--checkpoint', 'ck1'], /--out and --checkpoint are the same path/],
  ];
  const results = await Promise.all(cases.map(([args]) => train(...args)));
  results.forEach((r, i) => {
    const what = cases[i][0].join(' ');
    fails(r, 2, cases[i][1], what);
    untrained(r, what);
  });
  assert.equal(await readFile(join(dir, 'afile'), 'utf8'), 'not a folder');
  assert.deepEqual(await readdir(join(dir, 'outdir')), []);
});

test('train: an existing model file is not overwritten without --force; the default name moves on', async () => {
  await writeFile(join(dir, 'keep.safetensors'), 'precious');
  const refused = await train('-o', 'keep.safetensors');
  fails(refused, 2, /--out 'keep\.safetensors' already exists.*--force/, '-o existing file');
  untrained(refused, '-o existing file');
  assert.equal(await readFile(join(dir, 'keep.safetensors'), 'utf8'), 'precious');
  const forced = ok(await train('-o', 'keep.safetensors', '--force'), '-o existing --force');
  assert.match(forced.stdout, /^saved model to keep\.safetensors$/m);
  assert.notEqual(await readFile(join(dir, 'keep.safetensors'), 'utf8'), 'precious');

  // Without -o: the default name, then the next free one (the README's commands run in order keep `npm start`'s model).
  const first = ok(await train(), 'default out');
  assert.match(first.stdout, /^saved model to models\/tiny-data\.safetensors$/m);
  const before = await readFile(join(dir, 'models', 'tiny-data.safetensors'));
  const second = ok(await train('--seed', '5'), 'default out again');
  assert.match(second.stdout, /models\/tiny-data\.safetensors exists/);
  assert.match(second.stdout, /^saved model to models\/tiny-data-2\.safetensors$/m);
  assert.ok(before.equals(await readFile(join(dir, 'models', 'tiny-data.safetensors'))), 'the first model is untouched');
});

test('train: a checkpoint folder that holds a run is not started over without --resume or --force', async () => {
  ok(await train('--checkpoint', 'ck', '--no-save'), 'first run');
  const index = await readFile(join(dir, 'ck', 'checkpoint.json'), 'utf8');
  const again = await train('--checkpoint', 'ck', '--no-save', '--epochs', '2');
  fails(again, 2, /--checkpoint 'ck' already holds a checkpoint \(after epoch 1\)/, 'no --resume');
  untrained(again, 'no --resume');
  // The message gives the exact command that continues the run, and it works.
  const cmd = /to continue it: stride (train --resume --checkpoint ck --epochs 2)[;.]/.exec(again.stderr);
  assert.ok(cmd, `the resume command is in the message: ${again.stderr}`);
  assert.equal(await readFile(join(dir, 'ck', 'checkpoint.json'), 'utf8'), index, 'the checkpoint is untouched');
  const resumed = ok(await run([...cmd[1].split(' '), '--no-save', '--backend', 'reference']), 'the suggested command');
  assert.match(resumed.stdout, /^epoch 2\/2 /m);
  // --force starts a new run there.
  const forced = ok(await train('--checkpoint', 'ck', '--no-save', '--force'), '--force');
  assert.match(forced.stdout, /^epoch 1\/1 /m);
  assert.match(await readFile(join(dir, 'ck', 'checkpoint.json'), 'utf8'), /"epoch": 1/);
});

test('train: weights that overflow in the last update of an epoch are never saved; the last good checkpoint survives and resumes', async () => {
  // 16 training images in one batch: the epoch's only update is its last, and its loss is finite.
  const one = [...TINY('data'), '--batch-size', '16', '--no-augment'];
  ok(await run([...one, '--epochs', '1', '--checkpoint', 'ckd', '--no-save']), 'epoch 1');
  const index = await readFile(join(dir, 'ckd', 'checkpoint.json'), 'utf8');
  const [diverged, fresh] = await Promise.all([
    run(['train', '--resume', '--checkpoint', 'ckd', '--epochs', '2', '--lr', '1e300', '-o', 'div.safetensors', '--backend', 'reference']),
    run([...one, '--epochs', '1', '--lr', '1e300', '-o', 'div2.safetensors']),
  ]);
  fails(diverged, 1, /training diverged in epoch 2: parameter layers\.\d\.(weight|bias) holds .*(Infinity|NaN).*checkpoint of epoch 1 in 'ckd' is kept.*lower --lr \(it was 1e\+300\)/, 'diverged resume');
  fails(fresh, 1, /training diverged in epoch 1: .*nothing was saved.*lower --lr/, 'diverged run');
  await assert.rejects(readFile(join(dir, 'div.safetensors')), /ENOENT/);
  await assert.rejects(readFile(join(dir, 'div2.safetensors')), /ENOENT/);
  assert.equal(await readFile(join(dir, 'ckd', 'checkpoint.json'), 'utf8'), index, 'the epoch-1 checkpoint is still the latest');
  const resumed = ok(await run(['train', '--resume', '--checkpoint', 'ckd', '--epochs', '2', '--no-save', '--backend', 'reference']), 'resume after the failure');
  assert.match(resumed.stdout, /^epoch 2\/2 {2}loss \d/m);
});

test('train: the model file in a checkpoint keeps the class names and the data source', async () => {
  ok(await train('--checkpoint', 'ckm', '--no-save'), 'train');
  const file = join('ckm', 'epoch-1', 'model.safetensors');
  const { metadata } = readModel(await readFile(join(dir, file)));
  const info = JSON.parse(metadata['stride.cli']) as { classNames: string[]; data: string };
  assert.deepEqual(info.classNames, ['cat', 'dog']);
  assert.equal(info.data, 'data');
  const p = jsonLines(ok(await run(['predict', file, join('data', 'dog', '00.png'), '--backend', 'reference', '--json']), 'predict'));
  assert.ok(['cat', 'dog'].includes(p[0].prediction as string), `the class names label the prediction: ${JSON.stringify(p[0])}`);
});
