/**
 * A Protocol Buffers wire-format reader for the tests: splits a message into its fields, one level
 * at a time, to check what src/onnx/protobuf.ts's writer and the ONNX exporter wrote. Wire types:
 * 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32.
 */
import { WIRE_FIXED32, WIRE_FIXED64, WIRE_LEN, WIRE_VARINT } from '../../src/onnx/protobuf.js';

/** One decoded field: varints as bigint, fixed32/fixed64 as raw little-endian bytes, length-delimited as bytes. */
export interface ProtoField {
  field: number;
  wire: number;
  /** For varints. */
  varint?: bigint;
  /** For length-delimited, fixed32 and fixed64 fields. */
  bytes?: Uint8Array;
}

/** Reads one varint at `pos`; returns the value and the next position. */
export function readVarint(bytes: Uint8Array, pos: number): { value: bigint; next: number } {
  let value = 0n;
  let shift = 0n;
  for (let i = 0; i < 10; i++) {
    if (pos >= bytes.length) throw new Error(`protobuf: truncated varint at byte ${pos}`);
    const b = bytes[pos++];
    value |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return { value: BigInt.asUintN(64, value), next: pos };
    shift += 7n;
  }
  throw new Error(`protobuf: varint longer than 10 bytes at byte ${pos}`);
}

/** Splits a message into its fields (one level; decode nested messages by calling again on `bytes`). */
export function readFields(bytes: Uint8Array): ProtoField[] {
  const out: ProtoField[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    const k = readVarint(bytes, pos);
    pos = k.next;
    const field = Number(k.value >> 3n);
    const wire = Number(k.value & 7n);
    if (wire === WIRE_VARINT) {
      const v = readVarint(bytes, pos);
      out.push({ field, wire, varint: v.value });
      pos = v.next;
    } else if (wire === WIRE_LEN) {
      const len = readVarint(bytes, pos);
      const end = len.next + Number(len.value);
      if (end > bytes.length) throw new Error(`protobuf: field ${field} length ${len.value} runs past the end (${bytes.length} bytes)`);
      out.push({ field, wire, bytes: bytes.subarray(len.next, end) });
      pos = end;
    } else if (wire === WIRE_FIXED32 || wire === WIRE_FIXED64) {
      const n = wire === WIRE_FIXED32 ? 4 : 8;
      if (pos + n > bytes.length) throw new Error(`protobuf: truncated fixed${n * 8} field ${field}`);
      out.push({ field, wire, bytes: bytes.subarray(pos, pos + n) });
      pos += n;
    } else {
      throw new Error(`protobuf: unsupported wire type ${wire} for field ${field} at byte ${pos}`);
    }
  }
  return out;
}
