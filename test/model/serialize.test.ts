/**
 * Model files: round trips (identical outputs, identical bytes, Rng state), conformance with the
 * safetensors layout as read by an independent parser written here, files laid out differently by
 * another writer, and rejection of every kind of damage with a message saying what is wrong.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Sequential,
  Conv2D,
  Dense,
  MaxPool2D,
  AvgPool2D,
  Flatten,
  ReLU,
  LeakyReLU,
  Dropout,
  BatchNorm,
  Tensor,
  Rng,
} from '../../src/index.js';
import { deserializeModel, readModel, serializeModel, modelTensors } from '../../src/model/serialize.js';
import { ModelFormatError, decodeSafetensors, encodeSafetensors, type NamedTensor } from '../../src/model/safetensors.js';
import { MODEL_FORMAT_VERSION, strideChecksum } from '../../src/model/stride-file.js';
import { crc32, crc32Update } from '../../src/model/crc32.js';
import { encodeCheckpoint } from '../../src/model/checkpoint.js';
import { exportOnnx } from '../../src/onnx/export.js';

function makeModel(seed = 7): Sequential {
  const model = new Sequential(
    [
      new Conv2D({ outChannels: 3, kernelSize: 3, padding: 'same' }),
      new BatchNorm(),
      new ReLU(),
      new MaxPool2D({ kernelSize: 2 }),
      new Conv2D({ outChannels: 2, kernelSize: [2, 1], stride: [1, 2], padding: [1, 0, 0, 1], dilation: 1, bias: false }),
      new LeakyReLU({ alpha: 0.3 }),
      new AvgPool2D({ kernelSize: 2, stride: 1, padding: 'same' }),
      new Flatten(),
      new Dropout({ rate: 0.25 }),
      new Dense({ units: 4 }),
    ],
    { inputShape: [6, 6, 2], seed },
  );
  // Non-trivial biases and BatchNorm statistics, so a mix-up of any two tensors changes the output.
  const rng = new Rng(seed + 1);
  for (const p of model.params()) if (p.name !== 'weight') for (let i = 0; i < p.value.size; i++) p.value.data[i] = rng.uniform(-1, 1);
  for (const b of model.buffers()) for (let i = 0; i < b.value.size; i++) b.value.data[i] = rng.uniform(0.5, 1.5);
  return model;
}

const bits = (t: Tensor): Uint32Array => new Uint32Array(t.data.buffer, t.data.byteOffset, t.size);

test('round trip: identical inference outputs, identical bytes, and the Rng continues where it was', () => {
  const model = makeModel();
  model.rng.next(); // move the Rng away from its post-build state
  const bytes = serializeModel(model);
  const loaded = deserializeModel(bytes);
  assert.equal(loaded.toString(), model.toString());
  assert.deepEqual(loaded.toSpec(), model.toSpec());
  const x = Tensor.rand([3, 6, 6, 2], { seed: 5, low: -1, high: 1 });
  assert.deepEqual(bits(loaded.forward(x, false)), bits(model.forward(x, false)));
  // Every tensor bit-identical.
  const named = (m: Sequential) => [...m.params().map((p) => p.value), ...m.buffers().map((b) => b.value)];
  named(model).forEach((t, i) => assert.deepEqual(bits(named(loaded)[i]), bits(t)));
  // Bytes identical, and a second round trip too.
  assert.deepEqual(serializeModel(loaded), bytes);
  // Dropout masks drawn after loading are the ones the original would draw.
  assert.deepEqual(bits(loaded.forward(x, true)), bits(model.forward(x, true)));
  assert.deepEqual(loaded.rng.getState(), model.rng.getState());
});

test('an ArrayBuffer, a Uint8Array view at an odd offset and a pooled Node Buffer all load', () => {
  const model = makeModel();
  const bytes = serializeModel(model);
  const shifted = new Uint8Array(bytes.length + 3);
  shifted.set(bytes, 3);
  const pooled = Buffer.from(bytes); // small Buffers share a pool; Buffer#slice does not copy
  const x = Tensor.rand([1, 6, 6, 2], { seed: 1 });
  for (const input of [bytes.slice().buffer, shifted.subarray(3), pooled]) {
    assert.deepEqual(bits(deserializeModel(input).forward(x)), bits(model.forward(x)));
  }
});

/** An independent reading of the safetensors layout (spec: 8-byte LE header size, JSON, data). */
test('the file is plain safetensors: an independent parser finds every tensor, F32 little-endian, data 8-byte aligned', () => {
  const model = makeModel();
  const bytes = serializeModel(model);
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  const n = Number(view.getBigUint64(0, true));
  assert.equal((8 + n) % 8, 0, 'data section starts 8-byte aligned');
  const header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + n)).toString('utf8'));
  assert.equal(header.__metadata__['stride.format'], 'stride-model');
  assert.equal(header.__metadata__['stride.version'], MODEL_FORMAT_VERSION);
  assert.deepEqual(JSON.parse(header.__metadata__['stride.architecture']), model.toSpec());
  assert.match(header.__metadata__['stride.checksum'], /^crc32:[0-9a-f]{8}$/);
  for (const v of Object.values(header.__metadata__)) assert.equal(typeof v, 'string');
  const expected: [string, Tensor][] = [];
  model.layers.forEach((l, i) => {
    for (const p of l.params()) expected.push([`layers.${i}.${p.name}`, p.value]);
    for (const b of l.buffers()) expected.push([`layers.${i}.${b.name}`, b.value]);
  });
  assert.deepEqual(Object.keys(header).filter((k) => k !== '__metadata__').sort(), expected.map(([k]) => k).sort());
  let total = 0;
  for (const [name, t] of expected) {
    const e = header[name];
    assert.equal(e.dtype, 'F32');
    assert.deepEqual(e.shape, [...t.shape]);
    const [b0, b1] = e.data_offsets;
    for (let i = 0; i < t.size; i++) assert.equal(view.getFloat32(8 + n + b0 + 4 * i, true), t.data[i], `${name}[${i}]`);
    total += b1 - b0;
  }
  assert.equal(bytes.length, 8 + n + total);
});

test('CRC-32 is the standard one (check value 0xcbf43926) and works incrementally', () => {
  const data = new TextEncoder().encode('123456789');
  assert.equal(crc32(data), 0xcbf43926);
  assert.equal(crc32Update(crc32Update(0, data.subarray(0, 4)), data.subarray(4)), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
});

/** Decodes the file, lets `edit` change metadata and tensors, and re-encodes with a valid checksum. */
function rewrite(bytes: Uint8Array, edit: (meta: Record<string, string>, tensors: NamedTensor[]) => NamedTensor[] | void): Uint8Array {
  const file = decodeSafetensors(bytes);
  const meta = { ...file.metadata };
  const tensors = edit(meta, file.tensors) ?? file.tensors;
  meta['stride.checksum'] = strideChecksum(meta, tensors);
  return encodeSafetensors(tensors, meta);
}

test('a file another tool rewrote (tensors sorted by name, extra metadata, unpadded header) loads the same', () => {
  const model = makeModel();
  const bytes = serializeModel(model);
  const file = decodeSafetensors(bytes);
  // Lay it out as Python's safetensors.save_file would: sorted names; header not padded; metadata with a foreign key.
  const sorted = [...file.tensors].sort((a, b) => (a.name < b.name ? -1 : 1));
  const header: Record<string, unknown> = { __metadata__: { format: 'pt', ...file.metadata } };
  let off = 0;
  for (const t of sorted) {
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [off, off + t.data.byteLength] };
    off += t.data.byteLength;
  }
  const json = Buffer.from(JSON.stringify(header, null, 1));
  const out = Buffer.alloc(8 + json.length + off);
  out.writeBigUInt64LE(BigInt(json.length), 0);
  json.copy(out, 8);
  let at = 8 + json.length;
  for (const t of sorted) {
    Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).copy(out, at);
    at += t.data.byteLength;
  }
  assert.notDeepEqual(sorted.map((t) => t.name), file.tensors.map((t) => t.name), 'the layout really differs');
  const loaded = deserializeModel(new Uint8Array(out));
  const x = Tensor.rand([2, 6, 6, 2], { seed: 9 });
  assert.deepEqual(bits(loaded.forward(x)), bits(model.forward(x)));
});

const expectError = (bytes: Uint8Array | ArrayBuffer, re: RegExp, opts = {}) =>
  assert.throws(
    () => deserializeModel(bytes, opts),
    (e: Error) => {
      assert.ok(e instanceof ModelFormatError, `expected a ModelFormatError, got ${e.name}: ${e.message}`);
      assert.match(e.message, re);
      return true;
    },
  );

test('truncated files are rejected at every kind of cut point, saying what is missing', () => {
  const bytes = serializeModel(makeModel());
  const n = new DataView(bytes.buffer).getUint32(0, true);
  const dataLen = bytes.length - 8 - n;
  expectError(bytes.subarray(0, 0), /the file is empty \(0 bytes\)/);
  for (const cut of [1, 4, 7]) expectError(bytes.subarray(0, cut), new RegExp(`truncated: the file has ${cut} bytes?, fewer than the 8-byte header length field`));
  for (const cut of [8, 9, 8 + 10, 8 + Math.floor(n / 2), 8 + n - 1]) {
    expectError(bytes.subarray(0, cut), new RegExp(`truncated: the header length field says ${n} bytes of JSON header, but only ${cut - 8} bytes? follow it`));
  }
  for (const cut of [8 + n, 8 + n + 1, 8 + n + Math.floor(dataLen / 2), bytes.length - 1]) {
    expectError(bytes.subarray(0, cut), new RegExp(`truncated: the header says ${dataLen} bytes of tensor data, the file has ${cut - 8 - n}$`));
  }
});

test('a flipped bit in a weight is caught by the checksum', () => {
  const model = makeModel();
  const bytes = serializeModel(model);
  const n = new DataView(bytes.buffer).getUint32(0, true);
  for (const at of [0, 5, 123, bytes.length - 8 - n - 1]) {
    const bad = bytes.slice();
    bad[8 + n + at] ^= 0x01; // the lowest mantissa bit (or a neighbour): still a finite number
    expectError(bad, /checksum mismatch: the file says crc32:[0-9a-f]{8} but its contents give crc32:[0-9a-f]{8}; the file is corrupted/);
  }
});

test('every single-bit flip in the length field or the JSON header is rejected', () => {
  const bytes = serializeModel(makeModel());
  const n = new DataView(bytes.buffer).getUint32(0, true);
  let checked = 0;
  for (let at = 0; at < 8 + n; at++) {
    const bit = at % 8;
    const bad = bytes.slice();
    bad[at] ^= 1 << bit;
    assert.throws(
      () => deserializeModel(bad),
      (e: Error) => e instanceof ModelFormatError,
      `flipping bit ${bit} of byte ${at} (${JSON.stringify(String.fromCharCode(bytes[at]))}) was not detected`,
    );
    checked++;
  }
  assert.equal(checked, 8 + n);
});

test('a tensor whose shape differs from what the architecture builds is rejected (header otherwise consistent)', () => {
  const bytes = rewrite(serializeModel(makeModel()), (_, tensors) =>
    tensors.map((t) => (t.name === 'layers.9.weight' ? { name: t.name, shape: [t.shape[0] - 1, t.shape[1]], data: t.data.slice(0, (t.shape[0] - 1) * t.shape[1]) } : t)),
  );
  expectError(bytes, /tensor 'layers\.9\.weight' has shape \[11, 4\], but the architecture builds \[12, 4\]/);
});

test('an unknown layer type is rejected, naming it and the known ones', () => {
  const bytes = rewrite(serializeModel(makeModel()), (meta) => {
    meta['stride.architecture'] = meta['stride.architecture'].replace('"type":"ReLU"', '"type":"Swish"');
  });
  expectError(bytes, /architecture: .*unknown layer type 'Swish'; known: Conv2D, Dense/);
});

test('a missing tensor and an unknown extra tensor are rejected, naming them', () => {
  const good = serializeModel(makeModel());
  expectError(
    rewrite(good, (_, ts) => ts.filter((t) => t.name !== 'layers.1.runningVar')),
    /missing tensor 'layers\.1\.runningVar' \(the architecture has 9: layers\.0\.weight, /,
  );
  expectError(
    rewrite(good, (_, ts) => [...ts, { name: 'layers.2.weight', shape: [1], data: new Float32Array(1) }]),
    /unknown tensor 'layers\.2\.weight'/,
  );
});

test('NaN and Infinity weights are rejected unless allowNaN', () => {
  for (const bad of [NaN, Infinity, -Infinity]) {
    const model = makeModel();
    model.params()[0].value.data[4] = bad;
    const bytes = serializeModel(model);
    expectError(bytes, new RegExp(`tensor 'layers\\.0\\.weight' holds ${bad} at index 4 \\(coords \\[0, 0, 1, 1\\]\\); pass \\{ allowNaN: true \\}`));
    const loaded = deserializeModel(bytes, { allowNaN: true });
    assert.ok(Object.is(loaded.params()[0].value.data[4], bad));
  }
});

test('format versions: a newer major version is rejected, a newer minor is read, malformed ones are rejected', () => {
  const good = serializeModel(makeModel());
  const withVersion = (v: string) => rewrite(good, (meta) => void (meta['stride.version'] = v));
  expectError(withVersion('2.0'), /format version 2\.0 is newer than this Stride reads \(1\.x\); upgrade Stride/);
  expectError(withVersion('0.9'), /format version 0\.9 is not a version Stride ever wrote/);
  expectError(withVersion('1'), /'major\.minor', got "1"/);
  assert.ok(deserializeModel(withVersion('1.7')) instanceof Sequential);
});

test('files that are not Stride model files say so', () => {
  const plain = encodeSafetensors([{ name: 'w', shape: [2], data: new Float32Array(2) }], {});
  expectError(plain, /not a Stride file: __metadata__\['stride\.format'\] is missing \(expected 'stride-model'; the metadata has no keys\)/);
  const state = encodeCheckpoint({ model: makeModel(), epoch: 1 }).state;
  expectError(state, /'stride-checkpoint', expected 'stride-model' \(this is a checkpoint state file/);
  expectError(new TextEncoder().encode('PK\u0003\u0004 this is a zip file, not a model'), /^deserializeModel: this is not a Stride model file: it looks like a zip archive \(a PyTorch/);
  const noChecksum = rewrite(serializeModel(makeModel()), () => {});
  const file = decodeSafetensors(noChecksum);
  delete file.metadata['stride.checksum'];
  expectError(encodeSafetensors(file.tensors, file.metadata), /__metadata__\['stride\.checksum'\] is missing/);
});

/** A handmade header around `data` bytes of zeros. */
function handmade(header: unknown, dataBytes: number): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + dataBytes);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 8);
  return out;
}

test('structural errors in the header name the tensor and the problem', () => {
  const t = (extra: object) => ({ dtype: 'F32', shape: [2], data_offsets: [0, 8], ...extra });
  const cases: [unknown, number, RegExp][] = [
    ['[1, 2]', 0, /the header must be a JSON object starting with '\{'/],
    ['{"a": ', 0, /the header is not valid JSON/],
    [{ __metadata__: { k: 1 } }, 0, /__metadata__\['k'\] must be a string, got 1/],
    [{ w: t({ dtype: 'F16' }) }, 8, /tensor 'w': dtype is "F16", expected 'F32'/],
    [{ w: t({ shape: [2, -1] }) }, 8, /tensor 'w': shape must be an array of non-negative integers, got \[2,-1\]/],
    [{ w: t({ data_offsets: [0, 12] }) }, 12, /tensor 'w': data_offsets \[0, 12\] span 12 bytes, but shape \[2\] of F32 needs 8/],
    [{ w: t({ data_offsets: [8, 0] }) }, 8, /data_offsets \[8, 0\] end before they begin/],
    [{ w: t({ extra: 1 }) }, 8, /tensor 'w': unknown field 'extra'/],
    [{ a: t({}), b: t({ data_offsets: [12, 20] }) }, 20, /not contiguous: 'a' ends at 8 but the next tensor 'b' begins at 12 \(a gap\)/],
    [{ a: t({}), b: t({ data_offsets: [4, 12] }) }, 12, /tensors overlap: 'a' ends at 8 but 'b' begins at 4/],
    [{ a: t({}) }, 12, /the file has 12 bytes of tensor data, but the header accounts for only 8 \(trailing bytes\)/],
  ];
  for (const [header, dataBytes, re] of cases) {
    assert.throws(() => decodeSafetensors(handmade(header, dataBytes)), re, JSON.stringify(header));
  }
  const badUtf8 = handmade('{"a":1}', 0);
  badUtf8[10] = 0xff;
  assert.throws(() => decodeSafetensors(badUtf8), /not valid UTF-8/);
});

test('serializeModel rejects what is not a Sequential', () => {
  assert.throws(() => serializeModel({} as Sequential), /serializeModel: model must be a Sequential, got Object/);
});

test('serializeModel metadata: returned by readModel, stride.* keys under the checksum, reserved keys and non-strings refused', () => {
  const model = makeModel(3);
  const metadata = { classes: JSON.stringify(['cat', 'dog']), 'stride.cli': '{"x":1}', note: 'ünïcode ✓' };
  const bytes = serializeModel(model, { metadata });
  const r = readModel(bytes);
  for (const [k, v] of Object.entries(metadata)) assert.equal(r.metadata[k], v, k);
  assert.equal(r.metadata['stride.architecture'], JSON.stringify(model.toSpec()));
  // Same model, same metadata: same bytes; the plain file differs and has none of the keys.
  assert.deepEqual(serializeModel(model, { metadata }), bytes);
  const plain = readModel(serializeModel(model));
  assert.equal(plain.metadata.classes, undefined);
  assert.notEqual(plain.checksum, r.checksum);
  // The checksum covers the stride.* keys: change one character of 'stride.cli' and the file is
  // rejected; a free-form key may be edited by other tools ("dog" -> "hog" still loads).
  const text = new TextDecoder().decode(bytes);
  const edit = (needle: string, offset: number): Uint8Array => {
    const at = text.indexOf(needle);
    assert.ok(at > 0, needle);
    const b = bytes.slice();
    b[at + offset] = 'h'.charCodeAt(0);
    return b;
  };
  assert.equal(readModel(edit('dog', 0)).metadata.classes, JSON.stringify(['cat', 'hog']));
  assert.throws(() => readModel(edit('{\\"x\\":1}', 3)), /checksum/);
  for (const key of ['stride.format', 'stride.version', 'stride.checksum', 'stride.architecture', 'stride.rng']) {
    assert.throws(() => serializeModel(model, { metadata: { [key]: 'x' } }), new RegExp(`serializeModel: metadata key '${key.replace('.', '\\.')}' is written by Stride itself`));
  }
  assert.throws(() => serializeModel(model, { metadata: { n: 3 as unknown as string } }), /serializeModel: metadata\['n'\] must be a string, got number/);
  assert.throws(() => serializeModel(model, { metadata: [] as unknown as Record<string, string> }), /serializeModel: metadata must be an object of strings/);
});

test('a tampered architecture (a million Dense units, checksum recomputed) is refused before any weight is allocated, naming the tensor', (t) => {
  const small = new Sequential([new Flatten(), new Dense({ units: 100 })], { inputShape: [8, 8, 1], seed: 1 });
  const good = serializeModel(small);
  assert.ok(good.length > 25_000 && good.length < 27_000, `a 25 KB file, got ${good.length} bytes`);
  const tampered = rewrite(good, (meta) => {
    meta['stride.architecture'] = meta['stride.architecture'].replace('"units":100', '"units":1000000');
  });
  // Any allocation far beyond the file (the 64 x 1,000,000 weight would be 256 MB) fails the test
  // instead of happening: every weight, bias and BatchNorm statistic starts as Tensor.zeros / full.
  const limit = tampered.length;
  const big: number[][] = [];
  for (const name of ['zeros', 'full'] as const) {
    const original = Tensor[name] as (...a: unknown[]) => Tensor;
    t.mock.method(Tensor, name, (shape: number[], ...rest: unknown[]) => {
      if (shape.reduce((a, b) => a * b, 1) * 4 > limit) {
        big.push([...shape]);
        throw new Error(`test: Tensor.${name}([${shape.join(', ')}]) allocates more than the whole file`);
      }
      return original.call(Tensor, shape, ...rest);
    });
  }
  const start = performance.now();
  expectError(tampered, /tensor 'layers\.1\.weight' has shape \[64, 100\], but the architecture builds \[64, 1000000\]/);
  const ms = performance.now() - start;
  assert.deepEqual(big, [], 'no tensor larger than the file was allocated');
  assert.ok(ms < 500, `refused in ${ms.toFixed(1)} ms`);
  // The same for a tampered input shape that makes Flatten, and so Dense's weight, enormous.
  const wide = rewrite(good, (meta) => {
    meta['stride.architecture'] = meta['stride.architecture'].replace('"inputShape":[8,8,1]', '"inputShape":[100000,100000,1]');
  });
  expectError(wide, /tensor 'layers\.1\.weight' has shape \[64, 100\], but the architecture builds \[10000000000, 100\]/);
  assert.deepEqual(big, []);
  // An untampered file still loads (the mock lets small tensors through).
  assert.ok(deserializeModel(good) instanceof Sequential);
});

test('Sequential.planSpec gives exactly the tensors and shapes the built model has', () => {
  const model = makeModel();
  const plan = Sequential.planSpec(model.toSpec());
  assert.deepEqual(
    plan.tensors.map((t) => [`layers.${t.layer}.${t.name}`, [...t.shape]]),
    modelTensors(model).map(({ name, tensor }) => [name, [...tensor.shape]]),
  );
  assert.deepEqual(plan.shapes.map((s) => [...s]), model.shapes.map((s) => [...s]));
});

test('a text, JSON, ONNX or other non-safetensors file says what it looks like, not a nonsense header length', () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  const onnx = exportOnnx(makeModel());
  expectError(onnx, /^deserializeModel: this is not a Stride model file: it looks like an ONNX model \(Stride exports ONNX but cannot load it/);
  expectError(enc('model: lenet\nepochs: 12\n'), /^deserializeModel: this is not a Stride model file: it looks like a text file, starting "model: lenet\\nepochs: 12\\n"$/);
  expectError(enc('{"format":"stride-checkpoint-index","version":1}'), /it looks like a checkpoint index \(checkpoint\.json\): load its folder as a checkpoint/);
  expectError(enc('  {"weights": [1, 2, 3]}'), /it looks like a JSON file, starting "\{\\"weights\\": \[1, 2, 3\]\}"/);
  // Terminal escape codes in a text file are quoted, never printed raw.
  expectError(enc('\u001b[31mred\n'), /its first 8 bytes, the header length, say \d+ bytes/);
  assert.throws(() => deserializeModel(enc('\u001b[2Jhello')), (e: Error) => !e.message.includes('\u001b'));
  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
  expectError(png, /it looks like a PNG image$/);
  // Unrecognised binary: the length field is still explained.
  const junk = new Uint8Array(64).fill(0xee);
  expectError(junk, /this is not a Stride model file \(or it is corrupted\): its first 8 bytes, the header length, say \d+ bytes, more than the 100000000-byte limit/);
  expectError(enc('hello\n'), /^deserializeModel: this is not a Stride model file: it looks like a text file, starting "hello\\n"$/);
  // A Stride file cut short is still "truncated", not "not a Stride file".
  expectError(serializeModel(makeModel()).subarray(0, 5), /truncated: the file has 5 bytes, fewer than the 8-byte header length field/);
  expectError(serializeModel(makeModel()).subarray(0, 8), /truncated: the header length field says \d+ bytes of JSON header, but only 0 bytes follow it/);
});

test('deeply nested JSON in the header or the metadata is refused with a message, not a stack overflow', () => {
  const good = serializeModel(makeModel());
  const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
  for (const key of ['stride.rng', 'stride.architecture']) {
    const bytes = rewrite(good, (meta) => {
      meta[key] = key === 'stride.rng' ? deep(100_000) : meta[key].replace('"units":4', `"units":${deep(100_000)}`);
    });
    expectError(bytes, new RegExp(`__metadata__\\['${key.replace('.', '\\.')}'\\] nests 100\\d+ levels deep, more than the 64`));
  }
  expectError(handmade(`{"x":${deep(100_000)}}`, 0), /the header nests 100001 levels deep, more than the 64/);
  // Brackets inside strings do not count.
  const quoted = rewrite(good, (meta) => void (meta['stride.note'] = JSON.stringify({ s: '['.repeat(1000) })));
  assert.ok(deserializeModel(quoted) instanceof Sequential);
});
