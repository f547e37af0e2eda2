/**
 * Checkpoint directories: the requirement that a run resumed from a checkpoint is
 * bit-identical to an uninterrupted one (shuffling, dropout, BatchNorm statistics, Adam / momentum
 * state all involved), keeping latest + best, atomic saves, and validation on load.
 */
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, copyFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { Sequential, Conv2D, Dense, Flatten, ReLU, BatchNorm, Dropout, MaxPool2D, Tensor, Rng, Adam, SGD, Dataset } from '../../src/index.js';
import type { Optimizer } from '../../src/optim/optimizer.js';
import { fit, type EpochMetrics } from '../../src/model/fit.js';
import { saveCheckpoint, loadCheckpoint, hasCheckpoint, CHECKPOINT_INDEX } from '../../src/node/checkpoint.js';
import { serializeModel } from '../../src/model/serialize.js';
import { ModelFormatError } from '../../src/model/safetensors.js';
import type { Json } from '../../src/model/checkpoint.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'stride-ckpt-'));

const N = 24;
const CLASSES = 3;

/** 6x6 images: class c has a bright row at 2c (plus noise). */
function syntheticData(seed: number): { x: Float32Array; y: Int32Array } {
  const rng = new Rng(seed);
  const x = new Float32Array(N * 36);
  const y = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    y[i] = i % CLASSES;
    for (let p = 0; p < 36; p++) x[i * 36 + p] = rng.normal(0, 0.3) + (Math.floor(p / 6) === 2 * y[i] ? 1 : 0);
  }
  return { x, y };
}

function makeModel(): Sequential {
  return new Sequential(
    [
      new Conv2D({ outChannels: 3, kernelSize: 3, padding: 'same' }),
      new BatchNorm(),
      new ReLU(),
      new MaxPool2D({ kernelSize: 2 }),
      new Flatten(),
      new Dropout({ rate: 0.3 }),
      new Dense({ units: CLASSES }),
    ],
    { inputShape: [6, 6, 1], seed: 11 },
  );
}

const optimizers: [string, () => Optimizer][] = [
  ['Adam', () => new Adam({ lr: 0.02, weightDecay: 1e-3 })],
  ['SGD with Nesterov momentum', () => new SGD({ lr: 0.05, momentum: 0.9, nesterov: true })],
];

/** A trainer: shuffles with its own Rng, batches of 5 (the last one short), keeps an EMA of the weights. */
class Trainer {
  constructor(
    readonly model: Sequential,
    readonly optimizer: Optimizer,
    readonly shuffle: Rng,
    readonly ema: Float32Array,
    readonly metrics: Json[] = [],
  ) {}

  static fresh(makeOpt: () => Optimizer): Trainer {
    const model = makeModel();
    return new Trainer(model, makeOpt(), new Rng(5), model.params()[0].value.data.slice());
  }

  epoch(data: { x: Float32Array; y: Int32Array }): void {
    const perm = this.shuffle.permutation(N);
    let loss = 0;
    for (let s = 0; s < N; s += 5) {
      const idx = perm.subarray(s, Math.min(N, s + 5));
      const xb = Tensor.zeros([idx.length, 6, 6, 1]);
      const yb = new Int32Array(idx.length);
      idx.forEach((k, r) => {
        xb.data.set(data.x.subarray(k * 36, (k + 1) * 36), r * 36);
        yb[r] = data.y[k];
      });
      loss += this.model.trainStep(xb, yb, this.optimizer).loss;
      const w = this.model.params()[0].value.data;
      for (let i = 0; i < w.length; i++) this.ema[i] = 0.9 * this.ema[i] + 0.1 * w[i];
    }
    this.metrics.push({ epoch: this.metrics.length + 1, loss });
  }

  checkpoint() {
    return {
      model: this.model,
      optimizer: this.optimizer,
      epoch: this.metrics.length,
      metrics: this.metrics,
      config: { batchSize: 5, optimizer: this.optimizer.toSpec() as unknown as Json },
      trainerState: { shuffleRng: this.shuffle.getState() },
      trainerTensors: { ema: this.ema },
    };
  }

  static async resume(dir: string): Promise<Trainer> {
    const ck = await loadCheckpoint(dir);
    const shuffle = new Rng(0);
    shuffle.setState((ck.trainerState as { shuffleRng: number[] }).shuffleRng);
    return new Trainer(ck.model, ck.optimizer!, shuffle, ck.trainerTensors.ema.data, ck.metrics);
  }

  /** Everything that must match between two runs, as bytes. */
  fingerprint(): Uint8Array[] {
    const sd = this.optimizer.stateDict(this.model.params());
    const slots = Object.values(sd.slots).flat();
    return [
      serializeModel(this.model), // weights, BatchNorm statistics, the model's (dropout) Rng state
      ...slots.map((a) => new Uint8Array(a.buffer.slice(0))),
      Uint8Array.from([sd.step]),
      new Uint8Array(this.ema.buffer.slice(0)),
      Uint32Array.from(this.shuffle.getState()).slice(),
    ].map((a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  }
}

/** The bytes of every parameter (not the file header, which also holds the Rng state). */
const weights = (m: Sequential): Uint8Array[] => m.params().map((p) => new Uint8Array(p.value.data.slice().buffer));

const same = (a: Uint8Array[], b: Uint8Array[]): boolean => a.length === b.length && a.every((x, i) => Buffer.compare(Buffer.from(x), Buffer.from(b[i])) === 0);

for (const [name, makeOpt] of optimizers) {
  test(`resume is bit-identical (${name}): 2 epochs in one run = 1 epoch, checkpoint, fresh process state, 1 more epoch`, async () => {
    const data = syntheticData(1);
    const straight = Trainer.fresh(makeOpt);
    straight.epoch(data);
    straight.epoch(data);

    const dir = tmp();
    const first = Trainer.fresh(makeOpt);
    first.epoch(data);
    await saveCheckpoint(dir, first.checkpoint());
    const resumed = await Trainer.resume(dir); // everything rebuilt from the files
    assert.equal(resumed.metrics.length, 1);
    resumed.epoch(data);

    const a = straight.fingerprint();
    const b = resumed.fingerprint();
    assert.equal(a[0].length, b[0].length);
    assert.deepEqual(b[0], a[0], 'model file bytes (every weight, statistic and the Rng state)');
    assert.ok(same(a, b), 'optimizer slots, step, EMA and shuffle state are bit-identical');
    assert.deepEqual(resumed.metrics, straight.metrics, 'same losses in the metrics history');

    // Controls: dropping any one piece of state changes the result, so the test can fail.
    const controls: [string, (t: Trainer) => Trainer][] = [
      ['a fresh optimizer', (t) => new Trainer(t.model, makeOpt(), t.shuffle, t.ema, t.metrics)],
      ['a fresh shuffle Rng', (t) => new Trainer(t.model, t.optimizer, new Rng(5), t.ema, t.metrics)],
      [
        'the model Rng reset',
        (t) => {
          t.model.rng.setState(new Rng(11).getState());
          return t;
        },
      ],
    ];
    for (const [what, spoil] of controls) {
      const t = spoil(await Trainer.resume(dir));
      t.epoch(data);
      assert.notDeepEqual(weights(t.model), weights(straight.model), `resuming with ${what} must give other weights`);
    }
  });
}

test('resume through fit() with Dataset shuffling and augmentation: fit 2 epochs = fit 1 + checkpoint in onEpoch + fit on from the checkpoint', async () => {
  const { x, y } = syntheticData(2);
  const data = () => new Dataset({ images: x, labels: y, height: 6, width: 6, channels: 1 });
  const base = { batchSize: 5, augment: { shift: 1 } };

  const model = makeModel();
  const straight = await fit(model, data(), { ...base, epochs: 2, optimizer: new Adam({ lr: 0.02 }), rng: new Rng(7) });

  const dir = tmp();
  const model1 = makeModel();
  const opt1 = new Adam({ lr: 0.02 });
  await fit(model1, data(), {
    ...base,
    epochs: 1,
    optimizer: opt1,
    rng: new Rng(7),
    onEpoch: async (e) => {
      const metrics = e.history.map((r) => ({ ...r }) as unknown as Json);
      await saveCheckpoint(dir, { model: model1, optimizer: opt1, epoch: e.epoch, metrics, trainerState: { rng: e.rng.getState() } });
    },
  });

  const ck = await loadCheckpoint(dir);
  const rng = new Rng(0);
  rng.setState((ck.trainerState as { rng: number[] }).rng);
  const resumed = await fit(ck.model, data(), {
    ...base,
    epochs: 2,
    optimizer: ck.optimizer!,
    rng,
    startEpoch: ck.epoch,
    history: ck.metrics as unknown as EpochMetrics[],
  });
  assert.deepEqual(serializeModel(ck.model), serializeModel(model));
  assert.deepEqual(
    resumed.history.map((r) => [r.epoch, r.loss, r.accuracy]),
    straight.history.map((r) => [r.epoch, r.loss, r.accuracy]),
  );
});

/** A small checkpoint input for epoch `epoch` with a valLoss metric per epoch. */
function input(epoch: number, valLosses: number[]) {
  const model = makeModel();
  model.params()[0].value.data[0] = epoch; // tell the checkpoints apart
  return { model, optimizer: new Adam(), epoch, metrics: valLosses.slice(0, epoch).map((v, i) => ({ epoch: i + 1, valLoss: v })) };
}

const epochDirs = (dir: string): string[] => readdirSync(dir).filter((f) => f !== CHECKPOINT_INDEX).sort();

test('keeps the latest and the best checkpoint (by a metric), deleting the others', async () => {
  const dir = tmp();
  const losses = [0.5, 0.3, 0.4, 0.35, 0.2];
  const best: boolean[] = [];
  const seen: string[][] = [];
  for (let e = 1; e <= 5; e++) {
    const saved = await saveCheckpoint(dir, input(e, losses), { keepBest: { metric: 'valLoss', mode: 'min' } });
    best.push(saved.isBest);
    seen.push(epochDirs(dir));
    assert.equal(saved.path, join(dir, `epoch-${e}`));
  }
  assert.deepEqual(best, [true, true, false, false, true]);
  assert.deepEqual(seen, [['epoch-1'], ['epoch-2'], ['epoch-2', 'epoch-3'], ['epoch-2', 'epoch-4'], ['epoch-5']]);
  const index = JSON.parse(readFileSync(join(dir, CHECKPOINT_INDEX), 'utf8'));
  assert.deepEqual(index.latest, { name: 'epoch-5', epoch: 5 });
  assert.deepEqual(index.best, { name: 'epoch-5', epoch: 5, metric: 'valLoss', mode: 'min', value: 0.2 });
});

test('loadCheckpoint picks the latest or the best; a single checkpoint directory loads directly', async () => {
  const dir = tmp();
  const losses = [0.5, 0.3, 0.4];
  for (let e = 1; e <= 3; e++) await saveCheckpoint(dir, input(e, losses), { keepBest: { metric: 'valLoss', mode: 'min' } });
  const latest = await loadCheckpoint(dir);
  assert.equal(latest.epoch, 3);
  assert.equal(latest.path, join(dir, 'epoch-3'));
  assert.equal(latest.model.params()[0].value.data[0], 3);
  const best = await loadCheckpoint(dir, { which: 'best' });
  assert.equal(best.epoch, 2);
  assert.equal(best.model.params()[0].value.data[0], 2);
  assert.deepEqual(best.metrics, [{ epoch: 1, valLoss: 0.5 }, { epoch: 2, valLoss: 0.3 }]);
  assert.equal((await loadCheckpoint(join(dir, 'epoch-2'))).epoch, 2);
  assert.equal(await hasCheckpoint(dir), true);
  assert.equal(await hasCheckpoint(join(dir, 'nothing')), false);
});

test('without keepBest only the latest is kept, and asking for the best says there is none', async () => {
  const dir = tmp();
  for (let e = 1; e <= 3; e++) await saveCheckpoint(dir, input(e, [1, 2, 3]));
  assert.deepEqual(epochDirs(dir), ['epoch-3']);
  await assert.rejects(() => loadCheckpoint(dir, { which: 'best' }), /records no best checkpoint \(save with keepBest to keep one\)/);
});

test('saveCheckpoint validates before touching the disk', async () => {
  const dir = join(tmp(), 'never-created');
  await assert.rejects(() => saveCheckpoint(dir, input(1, [1]), { keepBest: { metric: 'valAccuracy', mode: 'max' } }), /keepBest needs a finite number at metrics\[last\]\.valAccuracy, got undefined/);
  await assert.rejects(() => saveCheckpoint(dir, { ...input(1, [1]), epoch: -1 }), /epoch must be a non-negative integer/);
  await assert.rejects(() => saveCheckpoint(dir, input(1, [1]), { keepBest: { metric: 'valLoss', mode: 'lowest' as 'min' } }), /keepBest must be \{metric: string, mode: 'min' \| 'max'\}/);
  await assert.rejects(() => fsp.access(dir), /ENOENT/);
});

test('a save that fails at the rename leaves the previous checkpoint loadable and no temporary directory', async () => {
  const dir = tmp();
  await saveCheckpoint(dir, input(1, [1]));
  const indexBefore = readFileSync(join(dir, CHECKPOINT_INDEX));
  mock.method(fsp, 'rename', async () => {
    throw Object.assign(new Error('EIO: simulated failure, rename'), { code: 'EIO' });
  });
  try {
    await assert.rejects(() => saveCheckpoint(dir, input(2, [1, 2])), /simulated failure/);
  } finally {
    mock.restoreAll();
  }
  assert.deepEqual(readdirSync(dir).sort(), [CHECKPOINT_INDEX, 'epoch-1']);
  assert.deepEqual(readFileSync(join(dir, CHECKPOINT_INDEX)), indexBefore);
  assert.equal((await loadCheckpoint(dir)).epoch, 1);
});

test('a process killed in the middle of saving leaves the previous checkpoint; the next save cleans up', async () => {
  const dir = tmp();
  await saveCheckpoint(dir, input(1, [1]));
  const root = resolve('.');
  for (const killAt of ['directory rename', 'index rename']) {
    const script = join(tmp(), 'crash.mts');
    // Die at the first rename (the new checkpoint directory) or at the second (the index file).
    writeFileSync(
      script,
      `import fsp from 'node:fs/promises';
import { saveCheckpoint } from ${JSON.stringify(join(root, 'src/node/checkpoint.ts'))};
import { Sequential } from ${JSON.stringify(join(root, 'src/model/sequential.ts'))};
import { Dense } from ${JSON.stringify(join(root, 'src/layers/dense.ts'))};
import { Adam } from ${JSON.stringify(join(root, 'src/optim/adam.ts'))};
const realRename = fsp.rename;
let n = 0;
fsp.rename = async (a, b) => {
  if (++n === ${killAt === 'directory rename' ? 1 : 2}) { process.kill(process.pid, 'SIGKILL'); await new Promise(() => {}); }
  return realRename(a, b);
};
const model = new Sequential([new Dense({ units: 3 })], { inputShape: [4] });
await saveCheckpoint(${JSON.stringify(dir)}, { model, optimizer: new Adam(), epoch: 2 });
console.log('not reached');`,
    );
    const r = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.signal, 'SIGKILL', `${killAt}: the child should have been killed: ${r.stderr}`);
    const ck = await loadCheckpoint(dir);
    assert.equal(ck.epoch, 1, `${killAt}: the previous checkpoint is still the latest`);
  }
  // Leftovers of the second crash (the first one's temporary directory was cleaned by the second save):
  // the complete but unreferenced epoch-2 and the temporary index file.
  const left = readdirSync(dir).sort();
  assert.deepEqual(left.filter((f) => !f.startsWith('.')), [CHECKPOINT_INDEX, 'epoch-1', 'epoch-2']);
  assert.equal(left.filter((f) => f.startsWith(`.${CHECKPOINT_INDEX}.tmp-`)).length, 1);
  await saveCheckpoint(dir, input(3, [1, 2, 3]));
  assert.deepEqual(readdirSync(dir).sort(), [CHECKPOINT_INDEX, 'epoch-3']);
  assert.equal((await loadCheckpoint(dir)).epoch, 3);
});

test('loadCheckpoint errors name the path and the problem', async () => {
  const dir = tmp();
  const missing = join(dir, 'none');
  await assert.rejects(() => loadCheckpoint(missing), { message: `loadCheckpoint: no such directory: ${missing}` });
  writeFileSync(join(dir, 'file'), 'x');
  await assert.rejects(() => loadCheckpoint(join(dir, 'file')), /is not a directory \(a checkpoint is a directory\)/);
  await assert.rejects(() => loadCheckpoint(dir), new RegExp(`${dir} holds no checkpoint \\(neither checkpoint\\.json nor state\\.safetensors\\)`));

  const ck = join(dir, 'ck');
  await saveCheckpoint(ck, input(1, [1]));
  await saveCheckpoint(join(dir, 'other'), input(2, [1, 2]));
  // A state file from another checkpoint.
  copyFileSync(join(dir, 'other', 'epoch-2', 'state.safetensors'), join(ck, 'epoch-1', 'state.safetensors'));
  await assert.rejects(() => loadCheckpoint(ck), (e: Error) => e instanceof ModelFormatError && e.message.includes(`loadCheckpoint: ${join(ck, 'epoch-1')}: the state file was saved with a model file of checksum`));
  // A bit flip in the model file.
  await saveCheckpoint(ck, input(3, [1, 2, 3]));
  const modelPath = join(ck, 'epoch-3', 'model.safetensors');
  const bytes = readFileSync(modelPath);
  bytes[bytes.length - 1] ^= 1;
  writeFileSync(modelPath, bytes);
  await assert.rejects(() => loadCheckpoint(ck), /epoch-3: model file: checksum mismatch/);
  // An empty state file.
  writeFileSync(join(ck, 'epoch-3', 'state.safetensors'), '');
  await assert.rejects(() => loadCheckpoint(ck), /state\.safetensors is empty \(0 bytes\)/);
  // The index names a directory that is gone; the index is damaged.
  rmSync(join(ck, 'epoch-3'), { recursive: true });
  await assert.rejects(() => loadCheckpoint(ck), /checkpoint\.json names epoch-3 as the latest checkpoint, but .*epoch-3 does not exist/);
  writeFileSync(join(ck, CHECKPOINT_INDEX), '{"format": "stride-checkpoint-index", "version": 2}');
  await assert.rejects(() => loadCheckpoint(ck), /checkpoint\.json: version 2 is not supported/);
  writeFileSync(join(ck, CHECKPOINT_INDEX), '{oops');
  await assert.rejects(() => loadCheckpoint(ck), /checkpoint\.json: not valid JSON/);
  writeFileSync(join(ck, CHECKPOINT_INDEX), `{"format": "stride-checkpoint-index", "version": 1, "latest": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`);
  await assert.rejects(() => loadCheckpoint(ck), /checkpoint\.json: nests 100001 levels deep, more than the 64/);
  await assert.rejects(() => loadCheckpoint(ck, { which: 'newest' as 'latest' }), /which must be 'latest' or 'best', got "newest"/);
});

test('a checkpoint with non-finite weights or optimizer state is refused before the disk is touched; the previous one survives', async () => {
  const dir = tmp();
  await saveCheckpoint(dir, input(1, [1]));
  const indexBefore = readFileSync(join(dir, CHECKPOINT_INDEX));
  const inf = input(2, [1, 2]);
  inf.model.params()[1].value.data[2] = Infinity;
  await assert.rejects(() => saveCheckpoint(dir, inf), /^Error: encodeCheckpoint: parameter layers\.0\.bias holds Infinity \(element 2\); a checkpoint must hold finite values/);
  // Adam's moments after a step, one of them NaN.
  const nan = input(2, [1, 2]);
  const params = nan.model.params();
  for (const p of params) p.grad.data.fill(0.5);
  nan.optimizer.step(params);
  const sd = nan.optimizer.stateDict(params);
  const slot = Object.keys(sd.slots)[0];
  sd.slots[slot][2][1] = NaN;
  nan.optimizer.loadStateDict(params, { ...sd, shapes: params.map((p) => [...p.value.shape]) });
  await assert.rejects(() => saveCheckpoint(dir, nan), new RegExp(`optimizer state '${slot}' of layers\\.1\\.\\w+ holds NaN \\(element 1\\)`));
  assert.deepEqual(readdirSync(dir).sort(), [CHECKPOINT_INDEX, 'epoch-1']);
  assert.deepEqual(readFileSync(join(dir, CHECKPOINT_INDEX)), indexBefore);
  assert.equal((await loadCheckpoint(dir)).epoch, 1);
});
