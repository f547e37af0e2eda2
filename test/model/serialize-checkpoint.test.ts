/**
 * Checkpoint encoding (browser-safe part, no files): everything round-trips, and damaged or
 * mismatched checkpoints are rejected with a message saying what is wrong.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Sequential, Conv2D, Dense, Flatten, ReLU, BatchNorm, Dropout, Tensor, Adam, SGD } from '../../src/index.js';
import { decodeCheckpoint, encodeCheckpoint, type CheckpointFiles, type CheckpointInput } from '../../src/model/checkpoint.js';
import { serializeModel } from '../../src/model/serialize.js';
import { ModelFormatError, decodeSafetensors, encodeSafetensors, type NamedTensor } from '../../src/model/safetensors.js';
import { strideChecksum } from '../../src/model/stride-file.js';

function makeModel(seed = 3): Sequential {
  return new Sequential(
    [new Conv2D({ outChannels: 2, kernelSize: 3, padding: 'same' }), new BatchNorm(), new ReLU(), new Flatten(), new Dropout({ rate: 0.2 }), new Dense({ units: 3 })],
    { inputShape: [4, 4, 1], seed },
  );
}

/** A model and an Adam that has taken two steps, so every slot is non-zero. */
function trained(): { model: Sequential; opt: Adam } {
  const model = makeModel();
  const opt = new Adam({ lr: 0.01, weightDecay: 1e-3 });
  const x = Tensor.rand([4, 4, 4, 1], { seed: 1, low: -1, high: 1 });
  for (let i = 0; i < 2; i++) model.trainStep(x, [0, 1, 2, 1], opt);
  return { model, opt };
}

function input(): CheckpointInput {
  const { model, opt } = trained();
  return {
    model,
    optimizer: opt,
    epoch: 2,
    metrics: [
      { epoch: 1, loss: 1.1, valLoss: 1.2 },
      { epoch: 2, loss: 0.9, valLoss: 1.0 },
    ],
    config: { batchSize: 4, lr: 0.01, model: 'tiny', layers: [1, 2] },
    trainerState: { shuffleRng: [1, 2, 3, 4], note: 'é', nested: { ok: true, none: null } },
    trainerTensors: { ema: Tensor.rand([2, 3], { seed: 2 }), flat: Float32Array.of(1, -2, 3) },
  };
}

const bits = (a: Float32Array): Uint32Array => new Uint32Array(a.buffer, a.byteOffset, a.length);

test('encode → decode restores the model, the optimizer state, the trainer state and tensors exactly', () => {
  const inp = input();
  const files = encodeCheckpoint(inp);
  assert.deepEqual(files.model, serializeModel(inp.model), 'the model part is an ordinary model file');
  const ck = decodeCheckpoint(files);
  assert.deepEqual(serializeModel(ck.model), serializeModel(inp.model));
  assert.equal(ck.epoch, 2);
  assert.deepEqual(ck.metrics, inp.metrics);
  assert.deepEqual(ck.config, inp.config);
  assert.deepEqual(ck.trainerState, inp.trainerState);
  assert.deepEqual([...ck.trainerTensors.ema.shape], [2, 3]);
  assert.deepEqual(bits(ck.trainerTensors.ema.data), bits((inp.trainerTensors!.ema as Tensor).data));
  assert.deepEqual([...ck.trainerTensors.flat.data], [1, -2, 3]);
  assert.ok(ck.optimizer instanceof Adam);
  const want = inp.optimizer!.stateDict(inp.model.params());
  const got = ck.optimizer.stateDict(ck.model.params());
  assert.equal(got.step, 2);
  assert.deepEqual(got.hyper, want.hyper);
  for (const slot of ['m', 'v']) got.slots[slot].forEach((a, i) => assert.deepEqual(bits(a), bits(want.slots[slot][i]), `${slot}[${i}]`));
  // Encoding the decoded checkpoint gives the same bytes.
  const again = encodeCheckpoint({ ...inp, model: ck.model, optimizer: ck.optimizer, trainerTensors: ck.trainerTensors });
  assert.deepEqual(again.state, files.state);
});

test('a checkpoint without optimizer decodes with optimizer null; SGD without momentum has no slots', () => {
  const model = makeModel();
  assert.equal(decodeCheckpoint(encodeCheckpoint({ model, epoch: 0 })).optimizer, null);
  const ck = decodeCheckpoint(encodeCheckpoint({ model, optimizer: new SGD({ lr: 0.5 }), epoch: 1 }));
  assert.ok(ck.optimizer instanceof SGD);
  assert.equal(ck.optimizer.lr, 0.5);
});

test('encodeCheckpoint validates its input before encoding anything', () => {
  const model = makeModel();
  assert.throws(() => encodeCheckpoint({ model, epoch: -1 }), /epoch must be a non-negative integer \(completed epochs\), got -1/);
  assert.throws(() => encodeCheckpoint({ model, epoch: 1.5 }), /epoch must be a non-negative integer/);
  assert.throws(() => encodeCheckpoint({ model: {} as Sequential, epoch: 1 }), /model must be a Sequential/);
  assert.throws(() => encodeCheckpoint({ model, epoch: 1, trainerState: { a: [1, NaN] } }), /trainerState\.a\[1\] is NaN, which JSON cannot hold/);
  assert.throws(
    () => encodeCheckpoint({ model, epoch: 1, trainerState: { w: new Float32Array(2) } as never }),
    /trainerState\.w is a Float32Array, not plain JSON; put tensors in trainerTensors/,
  );
  assert.throws(() => encodeCheckpoint({ model, epoch: 1, config: { f: undefined } as never }), /config\.f is a undefined, not JSON/);
  assert.throws(() => encodeCheckpoint({ model, epoch: 1, metrics: {} as never }), /metrics must be an array/);
  assert.throws(() => encodeCheckpoint({ model, epoch: 1, trainerTensors: { a: [1, 2] as never } }), /trainerTensors\.a must be a Tensor or Float32Array/);
});

/** Re-encodes the state file after `edit`, with a valid checksum (so only the edit is wrong). */
function editState(files: CheckpointFiles, edit: (meta: Record<string, string>, tensors: NamedTensor[]) => NamedTensor[] | void): CheckpointFiles {
  const f = decodeSafetensors(files.state);
  const meta = { ...f.metadata };
  const tensors = edit(meta, f.tensors) ?? f.tensors;
  meta['stride.checksum'] = strideChecksum(meta, tensors);
  return { model: files.model, state: encodeSafetensors(tensors, meta) };
}

const rejects = (files: CheckpointFiles, re: RegExp, opts = {}) =>
  assert.throws(
    () => decodeCheckpoint(files, opts),
    (e: Error) => {
      assert.ok(e instanceof ModelFormatError, `${e.name}: ${e.message}`);
      assert.match(e.message, re);
      return true;
    },
  );

test('damaged or mismatched checkpoints are rejected, naming the problem', () => {
  const files = encodeCheckpoint(input());
  // A model file from another checkpoint (same architecture, other weights).
  const other = encodeCheckpoint({ ...input(), model: makeModel(99), optimizer: null });
  rejects({ model: other.model, state: files.state }, /the state file was saved with a model file of checksum crc32:\w+, but the model file has crc32:\w+ \(files from different checkpoints\?\)/);
  // A flipped bit in an optimizer moment.
  const flipped = files.state.slice();
  flipped[flipped.length - 20] ^= 1;
  rejects({ model: files.model, state: flipped }, /state file: checksum mismatch/);
  // Truncated state file.
  rejects({ model: files.model, state: files.state.subarray(0, files.state.length - 3) }, /state file: truncated: the header says \d+ bytes of tensor data/);
  // A missing optimizer slot tensor, an unknown extra tensor, a wrong shape.
  rejects(
    editState(files, (_, ts) => ts.filter((t) => t.name !== 'optimizer.v.layers.5.bias')),
    /state file: missing tensor 'optimizer\.v\.layers\.5\.bias'/,
  );
  rejects(editState(files, (_, ts) => [...ts, { name: 'optimizer.w.layers.0.weight', shape: [1], data: new Float32Array(1) }]), /unknown tensor 'optimizer\.w\.layers\.0\.weight'/);
  rejects(
    editState(files, (_, ts) => ts.map((t) => (t.name === 'optimizer.m.layers.0.bias' ? { ...t, shape: [1, 2] } : t))),
    /tensor 'optimizer\.m\.layers\.0\.bias' has shape \[1, 2\], but the model's parameter has \[2\]/,
  );
  // NaN in an optimizer slot: rejected unless allowNaN.
  const nan = editState(files, (_, ts) => ts.map((t) => (t.name === 'optimizer.m.layers.0.bias' ? { ...t, data: Float32Array.of(NaN, 0) } : t)));
  rejects(nan, /tensor 'optimizer\.m\.layers\.0\.bias' holds NaN at index 0/);
  const loose = decodeCheckpoint(nan, { allowNaN: true });
  assert.ok(Number.isNaN(loose.optimizer!.stateDict(loose.model.params()).slots.m[1][0]), 'allowNaN loads the NaN as it is');
  // A bad JSON record.
  const record = (f: (r: Record<string, unknown>) => void) =>
    editState(files, (meta) => {
      const r = JSON.parse(meta['stride.checkpoint']);
      f(r);
      meta['stride.checkpoint'] = JSON.stringify(r);
    });
  rejects(record((r) => (r.epoch = -3)), /state file: epoch must be a non-negative integer, got -3/);
  rejects(record((r) => ((r.optimizer as { kind: string }).kind = 'lion')), /state file: optimizer: createOptimizer: unknown optimizer 'lion'/);
  rejects(record((r) => ((r.optimizer as { params: string[] }).params = ['a'])), /the optimizer state is for parameters \[a\], but the model has \[layers\.0\.weight, /);
  rejects(record((r) => (r.trainerTensors = ['ema', 'flat', 'gone'])), /missing tensor 'trainer\.gone'/);
  rejects(
    editState(files, (meta) => void (meta['stride.checkpoint'] = '{oops')),
    /state file: __metadata__\['stride\.checkpoint'\] is not valid JSON/,
  );
  // The two files swapped.
  rejects({ model: files.state, state: files.model }, /model file: __metadata__\['stride\.format'\] is 'stride-checkpoint', expected 'stride-model'/);
});
