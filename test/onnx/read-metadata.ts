/** Reads the `metadata_props` of exported ONNX bytes back, for the ONNX and CLI tests. */
import assert from 'node:assert/strict';
import { readFields } from '../helpers/protobuf-reader.js';

const text = (b: Uint8Array | undefined): string => new TextDecoder().decode(b);

/** The `metadata_props` (ModelProto field 14: StringStringEntryProto{key 1, value 2}) of ONNX bytes. */
export function onnxMetadata(bytes: Uint8Array): Map<string, string> {
  const props = new Map<string, string>();
  for (const f of readFields(bytes)) {
    if (f.field !== 14) continue;
    const kv = readFields(f.bytes!);
    const key = text(kv.find((x) => x.field === 1)?.bytes);
    assert.ok(!props.has(key), `metadata key '${key}' appears twice`);
    props.set(key, text(kv.find((x) => x.field === 2)?.bytes));
  }
  return props;
}

