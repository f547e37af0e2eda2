/**
 * Files written before a change still load, and the writer still produces their exact bytes.
 * test/fixtures/format-1.0/ was written by Stride at commit 7f389ea (before serialize.ts was split
 * into crc32.ts, safetensors.ts, file-kind.ts, stride-file.ts and serialize.ts): a model file with
 * Conv2D, BatchNorm (statistics), DepthwiseConv2D, MaxPool2D, Dropout (Rng state) and Dense after two
 * Adam steps, with extra metadata, and a checkpoint (model + Adam state + trainer state) of it.
 * Re-encoding what was decoded must give the same bytes: the layout, the metadata, the order of the
 * tensors and the checksum are all unchanged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Tensor, decodeCheckpoint, encodeCheckpoint, readModel, serializeModel, type Json } from '../../src/index.js';

const dir = new URL('../fixtures/format-1.0/', import.meta.url);
const read = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(name, dir)));
const STRIDE_WRITES = new Set(['stride.format', 'stride.version', 'stride.checksum', 'stride.architecture', 'stride.rng']);

test('a model file from format 1.0 loads, runs, and serializes back to the same bytes', () => {
  const bytes = read('model.safetensors');
  const { model, metadata } = readModel(bytes);
  assert.deepEqual(
    model.layers.map((l) => l.type),
    ['Conv2D', 'BatchNorm', 'ReLU', 'DepthwiseConv2D', 'MaxPool2D', 'Flatten', 'Dropout', 'Dense'],
  );
  assert.equal(metadata.description, 'compatibility fixture');
  const y = model.forward(Tensor.rand([2, 8, 8, 1], { seed: 1 }), false);
  assert.deepEqual(y.shape, [2, 3]);
  assert.ok(y.data.every(Number.isFinite), 'finite outputs');
  const extra = Object.fromEntries(Object.entries(metadata).filter(([k]) => !STRIDE_WRITES.has(k)));
  assert.deepEqual(serializeModel(model, { metadata: extra }), bytes);
});

test('a checkpoint from format 1.0 decodes and encodes back to the same two files', () => {
  const files = { model: read('checkpoint-model.safetensors'), state: read('checkpoint-state.safetensors') };
  const ck = decodeCheckpoint(files);
  assert.equal(ck.epoch, 2);
  assert.ok(ck.optimizer !== null, 'the optimizer state is restored');
  const again = encodeCheckpoint({
    model: ck.model,
    optimizer: ck.optimizer,
    epoch: ck.epoch,
    metrics: ck.metrics,
    config: ck.config,
    trainerState: ck.trainerState as Json,
  });
  assert.deepEqual(again.model, files.model);
  assert.deepEqual(again.state, files.state);
});
