/**
 * The protobuf wire-format writer against byte sequences from the Protocol Buffers encoding guide
 * (protobuf.dev/programming-guides/encoding) and hand-computed varints. That onnxruntime decodes
 * our ONNX files is the integration test (export.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtoWriter, encodeVarint } from '../../src/onnx/protobuf.js';
import { readFields, readVarint } from '../helpers/protobuf-reader.js';

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');

const varints: [number | bigint, string][] = [
  [0, '00'],
  [1, '01'],
  [127, '7f'],
  [128, '80 01'],
  [150, '96 01'],
  [300, 'ac 02'],
  [16383, 'ff 7f'],
  [16384, '80 80 01'],
  [2 ** 31 - 1, 'ff ff ff ff 07'],
  [2 ** 32, '80 80 80 80 10'],
  [Number.MAX_SAFE_INTEGER, 'ff ff ff ff ff ff ff 0f'],
  [(1n << 63n) - 1n, 'ff ff ff ff ff ff ff ff 7f'],
  [(1n << 64n) - 1n, 'ff ff ff ff ff ff ff ff ff 01'],
  // int64 negatives: 64-bit two's complement, always 10 bytes.
  [-1, 'ff ff ff ff ff ff ff ff ff 01'],
  [-2, 'fe ff ff ff ff ff ff ff ff 01'],
  [-(1n << 63n), '80 80 80 80 80 80 80 80 80 01'],
];

for (const [v, want] of varints) {
  test(`varint ${v} → ${want}`, () => {
    const got = encodeVarint(v);
    assert.equal(hex(got), want);
    // And it reads back (as the unsigned 64-bit pattern).
    const r = readVarint(got, 0);
    assert.equal(r.value, BigInt.asUintN(64, BigInt(v)));
    assert.equal(r.next, got.length);
  });
}

test('varint rejects non-integers, unsafe numbers and values beyond 64 bits', () => {
  assert.throws(() => encodeVarint(1.5), /safe integer, got 1.5/);
  assert.throws(() => encodeVarint(2 ** 53), /safe integer/);
  assert.throws(() => encodeVarint(NaN), /safe integer/);
  assert.throws(() => encodeVarint(1n << 64n), /does not fit in 64 bits/);
  assert.throws(() => encodeVarint(-(1n << 63n) - 1n), /does not fit in 64 bits/);
});

test('encoding guide: int32 a = 1 set to 150 is 08 96 01', () => {
  assert.equal(hex(new ProtoWriter().int64(1, 150).finish()), '08 96 01');
});

test("encoding guide: string b = 2 set to 'testing' is 12 07 74 65 73 74 69 6e 67", () => {
  assert.equal(hex(new ProtoWriter().string(2, 'testing').finish()), '12 07 74 65 73 74 69 6e 67');
});

test('encoding guide: embedded Test1 {a: 150} in field 3 is 1a 03 08 96 01', () => {
  const inner = new ProtoWriter().int64(1, 150);
  assert.equal(hex(new ProtoWriter().message(3, inner).finish()), '1a 03 08 96 01');
  assert.equal(hex(new ProtoWriter().message(3, inner.finish()).finish()), '1a 03 08 96 01');
});

test('encoding guide: packed repeated int32 d = 4 [3, 270, 86942] is 22 06 03 8e 02 9e a7 05', () => {
  assert.equal(hex(new ProtoWriter().packedVarints(4, [3, 270, 86942]).finish()), '22 06 03 8e 02 9e a7 05');
});

test('float is fixed32 little-endian IEEE 754; packed floats are one length-delimited field', () => {
  assert.equal(hex(new ProtoWriter().float(2, 1).finish()), '15 00 00 80 3f');
  assert.equal(hex(new ProtoWriter().float(2, -2.5).finish()), '15 00 00 20 c0');
  assert.equal(hex(new ProtoWriter().packedFloats(4, [1, -2]).finish()), '22 08 00 00 80 3f 00 00 00 c0');
});

test('field keys: field 15 fits one byte, field 16 takes two, the largest field number five', () => {
  assert.equal(hex(new ProtoWriter().int64(15, 1).finish()), '78 01');
  assert.equal(hex(new ProtoWriter().int64(16, 1).finish()), '80 01 01');
  assert.equal(hex(new ProtoWriter().int64(2 ** 29 - 1, 0).finish()), 'f8 ff ff ff 0f 00');
});

test('invalid field numbers are rejected', () => {
  assert.throws(() => new ProtoWriter().int64(0, 1), /field number/);
  assert.throws(() => new ProtoWriter().int64(19000, 1), /field number/);
  assert.throws(() => new ProtoWriter().int64(2 ** 29, 1), /field number/);
  assert.throws(() => new ProtoWriter().int64(1.5, 1), /field number/);
});

test('a long bytes field gets a two-byte length and the chunks are joined in call order', () => {
  const payload = new Uint8Array(1000).map((_, i) => i & 0xff);
  const bytes = new ProtoWriter().int64(1, 7).bytes(2, payload).string(3, 'é').finish();
  assert.equal(hex(bytes.subarray(0, 5)), '08 07 12 e8 07');
  assert.deepEqual(bytes.subarray(5, 1005), payload);
  assert.equal(hex(bytes.subarray(1005)), '1a 02 c3 a9');
  const fields = readFields(bytes);
  assert.deepEqual(
    fields.map((f) => [f.field, f.wire]),
    [
      [1, 0],
      [2, 2],
      [3, 2],
    ],
  );
  assert.equal(fields[0].varint, 7n);
  assert.deepEqual(fields[1].bytes, payload);
  assert.equal(new TextDecoder().decode(fields[2].bytes), 'é');
});

test('finish can be called twice and gives the same bytes', () => {
  const w = new ProtoWriter().int64(1, 1).bytes(2, Uint8Array.of(9, 9));
  const a = w.finish().slice();
  assert.deepEqual(w.finish(), a);
});

test('the reader rejects truncated input', () => {
  assert.throws(() => readVarint(Uint8Array.of(0x96), 0), /truncated varint/);
  assert.throws(() => readFields(Uint8Array.of(0x12, 0x05, 0x01)), /runs past the end/);
  assert.throws(() => readFields(Uint8Array.of(0x15, 0x00, 0x00)), /truncated fixed32/);
});
