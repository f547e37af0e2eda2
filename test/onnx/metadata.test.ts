/**
 * What an ONNX consumer needs besides the graph: the input's layout and value range, the
 * preprocessing, and the class names. They travel in the ModelProto's `metadata_props`, read back
 * here from the exported bytes (the model must still load and run in onnxruntime).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { Sequential, Dense, Flatten, Tensor } from '../../src/index.js';
import { exportOnnx } from '../../src/onnx/export.js';
import { onnxMetadata } from './read-metadata.js';

const model = (): Sequential => new Sequential([new Flatten(), new Dense({ units: 3 })], { inputShape: [2, 2, 1], seed: 1 });

test('exportOnnx: metadata_props state the input layout and range, and say when class names are not carried', async () => {
  const m = model();
  const bytes = exportOnnx(m);
  const meta = onnxMetadata(bytes);
  assert.equal(meta.get('stride.architecture'), JSON.stringify(m.toSpec()));
  assert.match(meta.get('stride.input')!, /float32 NHWC \[N, 2, 2, 1\]/);
  assert.match(meta.get('stride.output')!, /logits \[N, 3\]/);
  assert.match(meta.get('stride.output')!, /class names are not recorded/);
  assert.equal(meta.has('stride.class_names'), false);
  // Still a valid model.
  const session = await ort.InferenceSession.create(bytes);
  const x = new Tensor(new Float32Array([0.1, 0.2, 0.3, 0.4]), [1, 2, 2, 1]);
  const out = await session.run({ input: new ort.Tensor('float32', x.data, [1, 2, 2, 1]) });
  assert.equal((out.logits.data as Float32Array).length, 3);
});

test('exportOnnx: class names and preprocessing given by the caller are carried; bad ones are refused', async () => {
  const bytes = exportOnnx(model(), { classNames: ['cat', 'dog', 'éclair'], preprocessing: 'value = byte / 255', metadata: { 'app.version': '7' } });
  const meta = onnxMetadata(bytes);
  assert.deepEqual(JSON.parse(meta.get('stride.class_names')!), ['cat', 'dog', 'éclair']);
  assert.match(meta.get('stride.output')!, /class i is stride\.class_names\[i\]/);
  assert.equal(meta.get('stride.preprocessing'), 'value = byte / 255');
  assert.equal(meta.get('app.version'), '7');
  await ort.InferenceSession.create(bytes);

  assert.throws(() => exportOnnx(model(), { classNames: ['a', 'b'] }), /exportOnnx: classNames has 2 names but the model outputs 3 classes/);
  assert.throws(() => exportOnnx(model(), { classNames: ['a', 'b', 3 as unknown as string] }), /exportOnnx: classNames must be an array of strings/);
  assert.throws(() => exportOnnx(model(), { metadata: { 'stride.input': 'x' } }), /exportOnnx: metadata key 'stride.input' is written by exportOnnx/);
  assert.throws(() => exportOnnx(model(), { metadata: { k: 5 as unknown as string } }), /exportOnnx: metadata value of 'k' must be a string/);
});
