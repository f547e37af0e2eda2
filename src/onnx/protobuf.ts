/**
 * A small Protocol Buffers wire-format writer, enough to write ONNX models with no dependencies
 * (the tests read them back with test/helpers/protobuf-reader.ts). Wire types: 0 varint,
 * 1 fixed64, 2 length-delimited, 5 fixed32. A field's key is the varint `(fieldNumber << 3) | wireType`.
 *
 * Integers are varints: 7 bits per byte, least significant group first, the high bit set on every
 * byte but the last. `int64`/`int32` negatives are written as their 64-bit two's complement, so
 * they always take 10 bytes (protobuf's rule; sint zig-zag encoding is not needed for ONNX).
 *
 * ```ts
 * const w = new ProtoWriter();
 * w.int64(1, 150);             // 08 96 01
 * w.string(2, 'testing');      // 12 07 74 65 73 74 69 6e 67
 * const bytes = w.finish();
 * ```
 */

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_FIXED32 = 5;

const TWO_64 = 1n << 64n;
const encoder = new TextEncoder();

/** Appends the varint of a non-negative integer or int64 (negatives as 64-bit two's complement). */
function pushVarint(out: number[], value: number | bigint): void {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new Error(`protobuf: varint value must be a safe integer, got ${value}`);
    if (value >= 0) {
      let v = value;
      while (v >= 0x80) {
        out.push((v % 0x80) | 0x80);
        v = Math.floor(v / 0x80);
      }
      out.push(v);
      return;
    }
    value = BigInt(value);
  }
  if (value < -(1n << 63n) || value >= TWO_64) throw new Error(`protobuf: varint value ${value} does not fit in 64 bits`);
  let v = value < 0n ? value + TWO_64 : value;
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
}

/** The varint bytes of an integer (negatives as 64-bit two's complement, 10 bytes). */
export function encodeVarint(value: number | bigint): Uint8Array {
  const out: number[] = [];
  pushVarint(out, value);
  return Uint8Array.from(out);
}

function checkField(field: number): void {
  if (!Number.isInteger(field) || field < 1 || field > 0x1fffffff || (field >= 19000 && field <= 19999)) {
    throw new Error(`protobuf: field number must be an integer in [1, 2^29 - 1] outside 19000-19999, got ${field}`);
  }
}

/**
 * Builds one message. Fields are written in call order. Nested messages are written by encoding
 * them separately and passing the bytes (or the writer) to `message`.
 */
export class ProtoWriter {
  private chunks: Uint8Array[] = [];
  private pending: number[] = [];
  private length = 0;

  private flush(): void {
    if (this.pending.length > 0) {
      this.chunks.push(Uint8Array.from(this.pending));
      this.length += this.pending.length;
      this.pending = [];
    }
  }

  private key(field: number, wire: number): void {
    checkField(field);
    pushVarint(this.pending, field * 8 + wire);
  }

  private raw(bytes: Uint8Array): void {
    this.flush();
    this.chunks.push(bytes);
    this.length += bytes.length;
  }

  /** An int64 / int32 / uint64 / enum / bool field (varint). */
  int64(field: number, value: number | bigint): this {
    this.key(field, WIRE_VARINT);
    pushVarint(this.pending, value);
    return this;
  }

  /** A `float` field (fixed32, little-endian IEEE 754). */
  float(field: number, value: number): this {
    this.key(field, WIRE_FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.pending.push(...b);
    return this;
  }

  /** A `bytes` field. */
  bytes(field: number, value: Uint8Array): this {
    this.key(field, WIRE_LEN);
    pushVarint(this.pending, value.length);
    this.raw(value);
    return this;
  }

  /** A `string` field (UTF-8). */
  string(field: number, value: string): this {
    return this.bytes(field, encoder.encode(value));
  }

  /** An embedded message field. */
  message(field: number, value: ProtoWriter | Uint8Array): this {
    return this.bytes(field, value instanceof ProtoWriter ? value.finish() : value);
  }

  /** A packed repeated varint field (e.g. `repeated int64 x = n [packed = true]`). */
  packedVarints(field: number, values: ArrayLike<number | bigint>): this {
    const body: number[] = [];
    for (let i = 0; i < values.length; i++) pushVarint(body, values[i]);
    return this.bytes(field, Uint8Array.from(body));
  }

  /** A packed repeated float field. */
  packedFloats(field: number, values: ArrayLike<number>): this {
    const b = new Uint8Array(values.length * 4);
    const view = new DataView(b.buffer);
    for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i], true);
    return this.bytes(field, b);
  }

  /** The message's bytes so far. */
  finish(): Uint8Array {
    this.flush();
    if (this.chunks.length === 1) return this.chunks[0];
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    this.chunks = [out];
    return out;
  }
}
