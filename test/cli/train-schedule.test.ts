/**
 * Learning-rate schedules through `stride train`: what resuming with a larger --epochs does (and
 * says it does), the rounded optimizer banner, and --warmup (issue 9, items 6 and 14).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TRAIN_DEFAULTS } from '../../src/cli/commands/train.js';
import { TINY, fails, jsonLines, makeFolder, ok, stride } from './run-stride.js';

let dir = '';
const run = (args: string[]) => stride(dir, args);
const train = (...args: string[]) => run([...TINY('data'), ...args]);
const resume = (ck: string, ...args: string[]) => run(['train', '--resume', '--checkpoint', ck, '--backend', 'reference', ...args]);
const lrs = (r: { stdout: string }) => jsonLines(r as never).filter((e) => e.event === 'epoch').map((e) => e.lr as number);
const bytes = (f: string) => readFile(join(dir, f));

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stride-schedule-'));
  await makeFolder(join(dir, 'data'));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('resume with a larger --epochs: the cosine schedule is re-planned, the run says so, and the banner lr is rounded', async () => {
  const [straight] = await Promise.all([
    train('--epochs', '6', '-o', 's6.safetensors', '--json'),
    train('--epochs', '4', '--checkpoint', 'ck4', '-o', 'a4.safetensors'),
  ]).then(async (r) => {
    ok(r[1], '4 epochs');
    await cp(join(dir, 'ck4'), join(dir, 'ck4j'), { recursive: true });
    return r;
  });
  const [human, json] = await Promise.all([resume('ck4', '--epochs', '6', '-o', 'b6.safetensors'), resume('ck4j', '--epochs', '6', '-o', 'b6j.safetensors', '--json')]);
  ok(human, 'resume to 6');
  const lr = TRAIN_DEFAULTS.sgdLr;
  const cosine = (t: number, tMax: number) => (lr * (1 + Math.cos((Math.PI * t) / tMax))) / 2;
  // The banner shows the schedule's base rate, not the resumed optimizer's last scheduled one (cos(3π/4) of the 4-epoch plan).
  const banner = /^train {4}.*$/m.exec(human.stdout)![0];
  assert.match(banner, new RegExp(`SGD\\(lr=${lr}, `));
  assert.doesNotMatch(banner, /\d{7,}/, 'no long floats in the banner');
  const note = /^resume {3}extending the run from 4 to 6 epochs: .*$/m.exec(human.stdout);
  assert.ok(note, `the extension is explained:\n${human.stdout}`);
  assert.match(note[0], /the cosine schedule is re-planned over 6 epochs/);
  assert.match(note[0], /not the same model as a straight 6-epoch run/);
  const events = jsonLines(ok(json, 'resume --json'));
  assert.deepEqual(events[0].notes, [note[0].replace(/^resume {3}/, '')]);
  // What the note says: epochs 5-6 get the rates a straight 6-epoch run has there...
  const s = lrs(ok(straight, 'straight 6'));
  assert.deepEqual(s, [0, 1, 2, 3, 4, 5].map((t) => cosine(t, 6)));
  assert.deepEqual(lrs(json), s.slice(4));
  // ...and the model differs from the straight run's, since epochs 1-4 used the 4-epoch schedule.
  assert.ok((await bytes('b6.safetensors')).equals(await bytes('b6j.safetensors')), 'resuming is deterministic');
  assert.ok(!(await bytes('b6.safetensors')).equals(await bytes('s6.safetensors')));
});

test('resume with a larger --epochs is exact for a schedule that does not depend on --epochs, and says so', async () => {
  const c = ['--schedule', 'constant', '--lr', '0.02'];
  const [straight] = await Promise.all([train(...c, '--epochs', '3', '-o', 'c3.safetensors'), train(...c, '--epochs', '2', '--checkpoint', 'ckc', '--no-save').then((r) => ok(r, '2 epochs'))]);
  ok(straight, 'straight 3');
  const r = ok(await resume('ckc', '--epochs', '3', '-o', 'c21.safetensors'), 'resume to 3');
  assert.match(r.stdout, /^resume {3}extending the run from 2 to 3 epochs: the constant schedule does not depend on --epochs, so this is the same as a straight 3-epoch run$/m);
  assert.ok((await bytes('c3.safetensors')).equals(await bytes('c21.safetensors')), '3 epochs = 2 + resume to 3');
});

test('--warmup ramps up from the first epoch (never lr 0) and must leave epochs for the schedule', async () => {
  const [warm, tooLong, equal] = await Promise.all([
    train('--warmup', '2', '--epochs', '4', '--schedule', 'constant', '--no-save', '--json'),
    train('--warmup', '3', '--epochs', '1', '--no-save'),
    train('--warmup', '2', '--epochs', '2', '--no-save'),
  ]);
  const lr = TRAIN_DEFAULTS.sgdLr;
  const r12 = (v: number[]) => v.map((x) => Number(x.toPrecision(12)));
  assert.deepEqual(r12(lrs(ok(warm, '--warmup 2'))), r12([lr / 3, (2 * lr) / 3, lr, lr]));
  fails(tooLong, 2, /--warmup 3 leaves no epoch for the schedule: it must be less than --epochs \(1\)/, '--warmup 3 --epochs 1');
  fails(equal, 2, /--warmup 2 leaves no epoch for the schedule: it must be less than --epochs \(2\)/, '--warmup 2 --epochs 2');
});
