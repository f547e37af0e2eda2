/**
 * Stride files (browser-safe): a safetensors file (src/model/safetensors.ts) whose `__metadata__`
 * names its format (`stride.format`: 'stride-model', 'stride-checkpoint'), its version
 * (`stride.version`, major.minor) and carries a checksum (`stride.checksum`) over the `stride.*`
 * metadata and every tensor. Model files (src/model/serialize.ts) and checkpoint state files
 * (src/model/checkpoint.ts) are both written and validated here. docs/model-format.md is the
 * specification.
 *
 * ```ts
 * const bytes = encodeStrideFile('stride-model', tensors, { 'stride.architecture': '...' });
 * const file = decodeStrideFile(bytes, 'stride-model', 'deserializeModel');   // format, version, checksum checked
 * ```
 */
import { unravel } from '../tensor/tensor.js';
import { crc32Update } from './crc32.js';
import {
  MAX_JSON_DEPTH,
  ModelFormatError,
  encodeSafetensors,
  f32Bytes,
  jsonDepth,
  materialize,
  readSafetensorsLayout,
  type DecodedSafetensors,
  type NamedTensor,
  type SafetensorsLayout,
} from './safetensors.js';

/** The format version this Stride writes. It reads every 1.x file. */
export const MODEL_FORMAT_VERSION = '1.0';

/** What each format is called in error messages. */
const FORMAT_NAMES: Record<string, string> = { 'stride-model': 'Stride model file', 'stride-checkpoint': 'Stride checkpoint state file' };

const encoder = new TextEncoder();
const hex8 = (n: number): string => (n >>> 0).toString(16).padStart(8, '0');

/** The metadata key holding the checksum. */
export const CHECKSUM_KEY = 'stride.checksum';

/**
 * The integrity checksum of a Stride file: CRC-32 over, in this order,
 * (1) every `stride.*` metadata entry except `stride.checksum`, sorted by key, as `key \0 value \0`,
 * (2) every tensor sorted by name (UTF-16 code-unit order), as `name \0` followed by its
 * little-endian bytes.
 * It depends on the content only, not on the layout, so a file that another tool rewrote with the
 * tensors in another order (Python `safetensors.save_file` sorts them) still checks. Metadata other
 * tools add (keys not starting with `stride.`) is not covered. Returns `'crc32:xxxxxxxx'`.
 */
export function strideChecksum(metadata: Record<string, string>, tensors: readonly NamedTensor[]): string {
  return checksumOf(metadata, tensors.map((t) => ({ name: t.name, bytes: f32Bytes(t.data) })));
}

/** `strideChecksum` over each tensor's little-endian bytes (a file's own bytes: nothing is copied). */
function checksumOf(metadata: Record<string, string>, tensors: readonly { name: string; bytes: Uint8Array }[]): string {
  const zero = new Uint8Array(1);
  let c = 0;
  for (const key of Object.keys(metadata).sort()) {
    if (!key.startsWith('stride.') || key === CHECKSUM_KEY) continue;
    c = crc32Update(c, encoder.encode(key));
    c = crc32Update(c, zero);
    c = crc32Update(c, encoder.encode(metadata[key]));
    c = crc32Update(c, zero);
  }
  for (const t of [...tensors].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    c = crc32Update(c, encoder.encode(t.name));
    c = crc32Update(c, zero);
    c = crc32Update(c, t.bytes);
  }
  return `crc32:${hex8(c)}`;
}

/** Encodes a Stride file: adds `stride.format`, `stride.version` and the checksum to `metadata`. */
export function encodeStrideFile(format: string, tensors: readonly NamedTensor[], metadata: Record<string, string>): Uint8Array {
  const meta: Record<string, string> = { 'stride.format': format, 'stride.version': MODEL_FORMAT_VERSION, ...metadata };
  meta[CHECKSUM_KEY] = strideChecksum(meta, tensors);
  return encodeSafetensors(tensors, meta);
}

/**
 * Decodes a Stride file of the given format: structure (see `decodeSafetensors`), then
 * `stride.format`, `stride.version` (a newer major version is rejected), then the checksum.
 */
export function decodeStrideFile(bytes: Uint8Array | ArrayBuffer, format: string, op: string): DecodedSafetensors {
  return materialize(readStrideLayout(bytes, format, op));
}

/** `decodeStrideFile`'s validation, checksum included, on the file's own bytes (no tensor is copied). */
export function readStrideLayout(bytes: Uint8Array | ArrayBuffer, format: string, op: string): SafetensorsLayout {
  const what = FORMAT_NAMES[format] ?? `Stride file ('${format}')`;
  const file = readSafetensorsLayout(bytes, op, what);
  function fail(msg: string): never {
    throw new ModelFormatError(`${op}: ${msg}`);
  }
  const m = file.metadata;
  const got = m['stride.format'];
  if (got === undefined) {
    const keys = Object.keys(m);
    fail(
      `not a Stride file: __metadata__['stride.format'] is missing (expected '${format}'; the metadata has ${keys.length ? keys.map((k) => `'${k}'`).join(', ') : 'no keys'})`,
    );
  }
  if (got !== format) {
    const hint = got === 'stride-checkpoint' ? ' (this is a checkpoint state file; use loadCheckpoint on its directory)' : '';
    fail(`__metadata__['stride.format'] is '${got}', expected '${format}'${hint}`);
  }
  const version = m['stride.version'];
  const match = typeof version === 'string' ? /^(\d+)\.(\d+)$/.exec(version) : null;
  if (match === null) fail(`__metadata__['stride.version'] must be 'major.minor', got ${JSON.stringify(version)}`);
  const major = Number(match![1]);
  const ours = Number(MODEL_FORMAT_VERSION.split('.')[0]);
  if (major > ours) {
    fail(`format version ${version} is newer than this Stride reads (${ours}.x); upgrade Stride to read this file`);
  }
  if (major < ours) fail(`format version ${version} is not a version Stride ever wrote (expected ${ours}.x)`);
  const stored = m[CHECKSUM_KEY];
  if (stored === undefined) fail(`__metadata__['${CHECKSUM_KEY}'] is missing`);
  if (!/^crc32:[0-9a-f]{8}$/.test(stored)) fail(`__metadata__['${CHECKSUM_KEY}'] must be 'crc32:' and 8 hex digits, got ${JSON.stringify(stored)}`);
  const computed = checksumOf(m, file.entries.map((t) => ({ name: t.name, bytes: file.bytes.subarray(t.begin, t.end) })));
  if (computed !== stored) {
    fail(`checksum mismatch: the file says ${stored} but its contents give ${computed}; the file is corrupted`);
  }
  return file;
}

/** Throws unless every value is finite, naming the tensor, index, coordinates and value. */
export function checkFinite(op: string, t: NamedTensor): void {
  for (let i = 0; i < t.data.length; i++) {
    const v = t.data[i];
    if (!Number.isFinite(v)) {
      const coords = t.shape.length > 0 ? ` (coords [${unravel(i, t.shape).join(', ')}])` : '';
      throw new ModelFormatError(`${op}: tensor '${t.name}' holds ${v} at index ${i}${coords}; pass { allowNaN: true } to load it anyway`);
    }
  }
}

/** Parses a JSON metadata value, with an error naming the key. */
export function parseMetaJson(op: string, metadata: Record<string, string>, key: string): unknown {
  const text = metadata[key];
  if (text === undefined) throw new ModelFormatError(`${op}: __metadata__['${key}'] is missing`);
  const depth = jsonDepth(text);
  if (depth > MAX_JSON_DEPTH) {
    throw new ModelFormatError(`${op}: __metadata__['${key}'] nests ${depth} levels deep, more than the ${MAX_JSON_DEPTH} a Stride file can have (corrupted or crafted)`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ModelFormatError(`${op}: __metadata__['${key}'] is not valid JSON (${(e as Error).message})`);
  }
}
