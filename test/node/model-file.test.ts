/**
 * saveModel / loadModel on disk: round trip, errors naming the path, and atomic replacement —
 * a save that fails (rename refused, disk full mid-write) or a process killed just before the
 * rename leaves the previous file intact, and failed saves leave no temporary file behind.
 */
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { Sequential, Conv2D, Dense, Flatten, ReLU, BatchNorm, Tensor } from '../../src/index.js';
import { saveModel, loadModel, loadModelWithMetadata } from '../../src/node/model-file.js';
import { serializeModel } from '../../src/model/serialize.js';
import { ModelFormatError } from '../../src/model/safetensors.js';
import { readModelFile } from '../../src/cli/models.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'stride-model-file-'));

function makeModel(seed: number): Sequential {
  return new Sequential([new Conv2D({ outChannels: 2, kernelSize: 3 }), new BatchNorm(), new ReLU(), new Flatten(), new Dense({ units: 2 })], {
    inputShape: [5, 5, 1],
    seed,
  });
}

test('saveModel writes exactly serializeModel’s bytes (creating directories); loadModel gives the same model', async () => {
  const dir = tmp();
  const path = join(dir, 'sub', 'dir', 'model.safetensors');
  const model = makeModel(1);
  await saveModel(model, path);
  assert.deepEqual(new Uint8Array(readFileSync(path)), serializeModel(model));
  const loaded = await loadModel(path);
  const x = Tensor.rand([2, 5, 5, 1], { seed: 4 });
  assert.deepEqual([...loaded.forward(x).data], [...model.forward(x).data]);
  assert.deepEqual(readdirSync(join(dir, 'sub', 'dir')), ['model.safetensors'], 'no temporary file left');
  // Overwriting replaces the content.
  await saveModel(makeModel(2), path);
  assert.deepEqual(new Uint8Array(readFileSync(path)), serializeModel(makeModel(2)));
  assert.deepEqual(readdirSync(join(dir, 'sub', 'dir')), ['model.safetensors']);
});

test('loadModel errors name the path: missing file, directory, empty file, corrupt file', async () => {
  const dir = tmp();
  const missing = join(dir, 'nope.safetensors');
  await assert.rejects(() => loadModel(missing), { message: `loadModel: no such file: ${missing}` });
  await assert.rejects(() => loadModel(dir), { message: `loadModel: ${dir} is a directory, expected a file` });
  const empty = join(dir, 'empty.safetensors');
  writeFileSync(empty, '');
  await assert.rejects(() => loadModel(empty), (e: Error) => e instanceof ModelFormatError && e.message === `loadModel: ${empty} is empty (0 bytes)`);
  const cut = join(dir, 'cut.safetensors');
  writeFileSync(cut, serializeModel(makeModel(1)).subarray(0, 100));
  await assert.rejects(() => loadModel(cut), (e: Error) => e instanceof ModelFormatError && e.message.startsWith(`loadModel: ${cut}: truncated:`));
  await assert.rejects(() => loadModel(''), /loadModel: path must be a non-empty string/);
  await assert.rejects(() => saveModel(makeModel(1), ''), /saveModel: path must be a non-empty string/);
});

/** Saves model 2 over model 1 with `sabotage` in place; the old file must survive intact. */
async function failedOverwrite(sabotage: () => void, expected: RegExp): Promise<void> {
  const dir = tmp();
  const path = join(dir, 'model.safetensors');
  await saveModel(makeModel(1), path);
  const before = readFileSync(path);
  sabotage();
  try {
    await assert.rejects(() => saveModel(makeModel(2), path), expected);
  } finally {
    mock.restoreAll();
  }
  assert.deepEqual(readFileSync(path), before, 'the old file is untouched');
  assert.deepEqual(readdirSync(dir), ['model.safetensors'], 'no temporary file left behind');
  await loadModel(path);
}

test('a rename that fails (crash before the switch) leaves the old file and no temporary file', async () => {
  await failedOverwrite(() => {
    mock.method(fsp, 'rename', async () => {
      throw Object.assign(new Error('EIO: simulated failure, rename'), { code: 'EIO' });
    });
  }, /simulated failure, rename/);
});

test('a disk that fills up halfway through the write leaves the old file and no temporary file', async () => {
  const realOpen = fsp.open;
  await failedOverwrite(() => {
    mock.method(fsp, 'open', async (...args: Parameters<typeof fsp.open>) => {
      const handle = await realOpen(...args);
      if (args[1] === 'wx') {
        handle.writeFile = async (data: unknown) => {
          const bytes = data as Uint8Array;
          await handle.write(bytes.subarray(0, bytes.length >> 1));
          throw Object.assign(new Error('ENOSPC: simulated full disk'), { code: 'ENOSPC' });
        };
      }
      return handle;
    });
  }, /simulated full disk/);
});

test('a process killed just before the rename leaves the old file intact and loadable', async () => {
  const dir = tmp();
  const path = join(dir, 'model.safetensors');
  await saveModel(makeModel(1), path);
  const before = readFileSync(path);
  // The child writes the new file, then dies (SIGKILL) at the moment it would rename it into place.
  const script = join(dir, 'crash.mts');
  const root = resolve('.');
  writeFileSync(
    script,
    `import fsp from 'node:fs/promises';
import { saveModel } from ${JSON.stringify(join(root, 'src/node/model-file.ts'))};
import { Sequential } from ${JSON.stringify(join(root, 'src/model/sequential.ts'))};
import { Dense } from ${JSON.stringify(join(root, 'src/layers/dense.ts'))};
import { Flatten } from ${JSON.stringify(join(root, 'src/layers/pooling.ts'))};
fsp.rename = async () => { process.kill(process.pid, 'SIGKILL'); await new Promise(() => {}); };
const m = new Sequential([new Flatten(), new Dense({ units: 7 })], { inputShape: [5, 5, 1] });
await saveModel(m, ${JSON.stringify(path)});
console.log('not reached');`,
  );
  const r = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.signal, 'SIGKILL', `the child should have been killed: ${r.stderr}`);
  assert.doesNotMatch(r.stdout, /not reached/);
  assert.deepEqual(readFileSync(path), before, 'the old file is untouched');
  // The complete new file was sitting in a hidden temporary file next to it.
  const temps = readdirSync(dir).filter((f) => f.startsWith('.model.safetensors.tmp-'));
  assert.equal(temps.length, 1);
  const loaded = await loadModel(path);
  assert.deepEqual(loaded.outputShape, [2]);
});

test('saving into a path whose parent is a file fails without touching anything', async () => {
  const dir = tmp();
  writeFileSync(join(dir, 'file'), 'x');
  await assert.rejects(() => saveModel(makeModel(1), join(dir, 'file', 'model.safetensors')), /EEXIST|ENOTDIR/);
  mkdirSync(join(dir, 'ok'));
  assert.deepEqual(readdirSync(dir).sort(), ['file', 'ok']);
});

test('saveModel metadata comes back from loadModelWithMetadata; errors name the path', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'stride-meta-'));
  const model = new Sequential([new Flatten(), new Dense({ units: 3 })], { inputShape: [2, 2, 1], seed: 5 });
  const path = join(dir, 'm.safetensors');
  await saveModel(model, path, { metadata: { 'stride.classes': '["a","b","c"]', author: 'me' } });
  const r = await loadModelWithMetadata(path);
  assert.equal(r.metadata['stride.classes'], '["a","b","c"]');
  assert.equal(r.metadata.author, 'me');
  assert.deepEqual(r.model.predict(Tensor.ones([1, 2, 2, 1])).data, model.predict(Tensor.ones([1, 2, 2, 1])).data);
  await assert.rejects(loadModelWithMetadata(join(dir, 'missing.safetensors')), /loadModelWithMetadata: .*missing\.safetensors/);
  await assert.rejects(saveModel(model, path, { metadata: { 'stride.rng': 'x' } }), /metadata key 'stride\.rng' is written by Stride itself/);
  assert.equal((await loadModelWithMetadata(path)).metadata.author, 'me', 'a refused save leaves the file as it was');
});

test('loadModel on a checkpoint folder says it is one and how to load it', async () => {
  const dir = tmp();
  mkdirSync(join(dir, 'epoch-1'));
  writeFileSync(join(dir, 'checkpoint.json'), '{}');
  await assert.rejects(
    () => loadModel(dir),
    (e: Error) => e instanceof ModelFormatError && e.message.startsWith(`loadModel: ${dir} is a checkpoint folder, not a model file; load it with loadCheckpoint`),
  );  // The CLI's model reader says the same (it said "is not a file").
  await assert.rejects(() => readModelFile(dir), /is a checkpoint folder, not a model file; load it with loadCheckpoint \(the CLI: train --resume /);
});
