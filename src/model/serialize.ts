/**
 * Stride model files (browser-safe): one `.safetensors` file holding the architecture and every weight.
 *
 * The file is plain safetensors, so any safetensors reader (Python `safetensors`, Rust, candle, ...)
 * opens it: an 8-byte little-endian header length N, N bytes of JSON header, then the raw
 * little-endian float32 data of every tensor, back to back. Stride's own information lives in the
 * header's `__metadata__` (string → string):
 *
 * | key                    | value                                                                  |
 * | ---------------------- | ---------------------------------------------------------------------- |
 * | `stride.format`        | `'stride-model'`                                                       |
 * | `stride.version`       | `'1.0'` (major.minor; a reader rejects a newer major version)          |
 * | `stride.architecture`  | `JSON.stringify(model.toSpec())`, the Sequential spec                  |
 * | `stride.rng`           | `JSON.stringify(model.rng.getState())`, so dropout continues exactly  |
 * | `stride.checksum`      | `'crc32:xxxxxxxx'` over the `stride.*` metadata and the tensor bytes  |
 *
 * Tensors are named `layers.<i>.<name>`: `layers.0.weight` (HWIO for Conv2D, [in, out] for Dense),
 * `layers.0.bias`, `layers.3.gamma`, `layers.3.runningMean`, ... (the layer's params, then its buffers).
 * docs/model-format.md is the full specification.
 *
 * ```ts
 * const bytes = serializeModel(model);            // Uint8Array
 * const again = deserializeModel(bytes);          // a new Sequential with the same weights
 * ```
 */
import { Tensor, shapeSize, unravel, type Shape } from '../tensor/tensor.js';
import { Sequential, type SequentialSpec } from './sequential.js';

/** The value of `__metadata__['stride.format']` in a model file. */
export const MODEL_FORMAT = 'stride-model';
/** The format version this Stride writes. It reads every 1.x file. */
export const MODEL_FORMAT_VERSION = '1.0';
/** The largest JSON header accepted (the safetensors reference reader's limit). */
export const MAX_HEADER_BYTES = 100_000_000;

/** A file that is not a valid Stride model / checkpoint file. The message says what is wrong. */
export class ModelFormatError extends Error {
  override name = 'ModelFormatError';
}

// ---------------------------------------------------------------------------------------------
// CRC-32 (IEEE 802.3, the zlib / PNG / gzip polynomial 0xEDB88320, reflected)
// ---------------------------------------------------------------------------------------------

let crcTable: Uint32Array | null = null;

function table(): Uint32Array {
  if (crcTable === null) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  return crcTable;
}

/**
 * Incremental CRC-32: `crc32Update(crc32Update(0, a), b) === crc32(concat(a, b))`.
 * `crc32(new TextEncoder().encode('123456789'))` is `0xcbf43926` (the standard check value).
 */
export function crc32Update(crc: number, bytes: Uint8Array): number {
  const t = table();
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = t[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

export function crc32(bytes: Uint8Array): number {
  return crc32Update(0, bytes);
}

const hex8 = (n: number): string => (n >>> 0).toString(16).padStart(8, '0');

// ---------------------------------------------------------------------------------------------
// safetensors codec (F32 only)
// ---------------------------------------------------------------------------------------------

/** A named float32 tensor as stored in a safetensors file. */
export interface NamedTensor {
  name: string;
  shape: Shape;
  data: Float32Array;
}

/** A decoded safetensors file: its metadata and its tensors in file (offset) order. */
export interface DecodedSafetensors {
  metadata: Record<string, string>;
  /** Tensors sorted by their data offset (the order the writer laid them out). */
  tensors: NamedTensor[];
  /** The same tensors by name. */
  byName: Map<string, NamedTensor>;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const encoder = new TextEncoder();

/** The little-endian bytes of a float32 array (a view when the platform is little-endian). */
function f32Bytes(data: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i], true);
  return out;
}

/** A float32 array read from little-endian bytes (always a copy). */
function readF32(bytes: Uint8Array, begin: number, end: number): Float32Array {
  const n = (end - begin) / 4;
  if (LITTLE_ENDIAN) return new Float32Array(bytes.slice(begin, end).buffer, 0, n);
  const out = new Float32Array(n);
  const view = new DataView(bytes.buffer, bytes.byteOffset + begin, end - begin);
  for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

/**
 * Encodes tensors and string metadata as a safetensors file. Tensors are laid out in the order
 * given, contiguously; the JSON header is padded with spaces so the data starts at a multiple of 8
 * bytes (as the safetensors reference writer does).
 */
export function encodeSafetensors(tensors: readonly NamedTensor[], metadata: Record<string, string>): Uint8Array {
  const op = 'encodeSafetensors';
  const header: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string') throw new Error(`${op}: metadata['${k}'] must be a string, got ${typeof v}`);
  }
  header.__metadata__ = metadata;
  let offset = 0;
  for (const t of tensors) {
    if (t.name === '__metadata__' || Object.prototype.hasOwnProperty.call(header, t.name)) {
      throw new Error(`${op}: tensor name '${t.name}' is reserved or used twice`);
    }
    if (!(t.data instanceof Float32Array)) throw new Error(`${op}: tensor '${t.name}' data must be a Float32Array`);
    if (shapeSize(t.shape) !== t.data.length) {
      throw new Error(`${op}: tensor '${t.name}' has ${t.data.length} elements but shape [${t.shape.join(', ')}]`);
    }
    header[t.name] = { dtype: 'F32', shape: [...t.shape], data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = encoder.encode(JSON.stringify(header));
  const padded = Math.ceil((8 + json.length) / 8) * 8 - 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, json.length, true);
  view.setUint32(4, 0, true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const t of tensors) {
    out.set(f32Bytes(t.data), at);
    at += t.data.byteLength;
  }
  return out;
}

const plural = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;

/**
 * The deepest nesting a Stride header or metadata value may have. A Stride file's header nests 3
 * levels (header, tensor entry, shape) and its architecture about 6; deeper JSON would only make
 * a reader recurse (a message quoting it overflowed the stack), so it is refused up front.
 */
export const MAX_JSON_DEPTH = 64;

/** The deepest `[` / `{` nesting in JSON text, outside strings (a scan, no recursion). */
export function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) max = depth;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

/**
 * What a file that is not safetensors looks like, from its first bytes, for the error message
 * (null when nothing is recognised). Only formats someone might pass by mistake: other model
 * formats, images, archives, text.
 */
export function sniffFileKind(bytes: Uint8Array): string | null {
  const starts = (...sig: number[]): boolean => sig.every((b, i) => bytes[i] === b);
  const ascii = (from: number, to: number): string => String.fromCharCode(...bytes.subarray(from, to));
  if (bytes.length >= 3 && bytes[0] === 0x08 && bytes[1] >= 1 && bytes[1] < 0x20 && [0x12, 0x1a, 0x22, 0x28, 0x32, 0x3a, 0x42].includes(bytes[2])) {
    return 'an ONNX model (Stride exports ONNX but cannot load it; load the .safetensors file it was exported from)';
  }
  if (starts(0x50, 0x4b, 0x03, 0x04)) return 'a zip archive (a PyTorch .pt/.pth or Keras .keras file is one; Stride reads only its own .safetensors files)';
  if (starts(0x89, 0x48, 0x44, 0x46)) return 'an HDF5 file (a Keras .h5 model?); Stride reads only its own .safetensors files';
  if (bytes.length >= 8 && ascii(4, 8) === 'TFL3') return 'a TensorFlow Lite model';
  if (starts(0x80) && bytes[1] >= 2 && bytes[1] <= 5) return 'a Python pickle (an old PyTorch checkpoint?)';
  if (starts(0x89, 0x50, 0x4e, 0x47)) return 'a PNG image';
  if (starts(0xff, 0xd8, 0xff)) return 'a JPEG image';
  if (bytes.length >= 12 && ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'a WebP image';
  if (starts(0x47, 0x49, 0x46, 0x38)) return 'a GIF image';
  if (starts(0x1f, 0x8b)) return 'a gzip-compressed file';
  const head = bytes.subarray(0, 512);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: true }); // stream: a character cut at byte 512 is not an error
  } catch {
    return null;
  }
  // Text: valid UTF-8 without control characters other than tab, newline, carriage return.
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f) return null;
  }
  const start = text.trimStart();
  const preview = JSON.stringify(start.slice(0, 40));
  if (start.includes('stride-checkpoint-index')) return 'a checkpoint index (checkpoint.json): load its folder as a checkpoint (loadCheckpoint, or train --resume)';
  if (start.startsWith('{') || start.startsWith('[')) return `a JSON file, starting ${preview}`;
  return `a text file, starting ${preview}`;
}

/**
 * Decodes and structurally validates a safetensors file holding only F32 tensors: the header length
 * against the file size, UTF-8 and JSON of the header, `__metadata__` (strings only), each entry's
 * dtype, shape and data_offsets, and that the tensors tile the data section exactly (contiguous, in
 * bounds, no gaps or overlaps, no trailing bytes). Errors are `ModelFormatError`s prefixed with `op`.
 */
export function decodeSafetensors(input: Uint8Array | ArrayBuffer, op = 'decodeSafetensors', what = 'safetensors file'): DecodedSafetensors {
  function fail(msg: string): never {
    throw new ModelFormatError(`${op}: ${msg}`);
  }
  /** Fails with what the file looks like, when it is recognisably something else. */
  function notSafetensors(msg: string): never {
    const kind = sniffFileKind(bytes);
    fail(kind === null ? msg : `this is not a ${what}: it looks like ${kind}`);
  }
  if (!(input instanceof Uint8Array) && !(input instanceof ArrayBuffer)) {
    fail(`expected the file's bytes as a Uint8Array or ArrayBuffer, got ${input === null ? 'null' : typeof input}`);
  }
  // A plain Uint8Array view: Node's Buffer overrides slice() to share memory, and readF32 relies on slice copying.
  const bytes = input instanceof Uint8Array ? new Uint8Array(input.buffer, input.byteOffset, input.byteLength) : new Uint8Array(input);
  if (bytes.length === 0) fail('the file is empty (0 bytes)');
  if (bytes.length < 8) fail(`truncated: the file has ${plural(bytes.length, 'byte')}, fewer than the 8-byte header length field`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = view.getUint32(0, true);
  const hi = view.getUint32(4, true);
  const headerLen = hi * 2 ** 32 + lo;
  if (headerLen < 2) notSafetensors(`the header length field says ${headerLen} bytes; a safetensors header is at least '{}'`);
  if (headerLen > MAX_HEADER_BYTES) {
    notSafetensors(`this is not a ${what} (or it is corrupted): its first 8 bytes, the header length, say ${headerLen} bytes, more than the ${MAX_HEADER_BYTES}-byte limit`);
  }
  if (bytes.length > 8 && bytes[8] !== 0x7b) notSafetensors(`the header must be a JSON object starting with '{', got ${JSON.stringify(String.fromCharCode(...bytes.subarray(8, 28)))}`);
  if (8 + headerLen > bytes.length) {
    fail(`truncated: the header length field says ${headerLen} bytes of JSON header, but only ${plural(bytes.length - 8, 'byte')} follow it`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen));
  } catch {
    return fail('the header is not valid UTF-8 (corrupted file?)');
  }
  if (text[0] !== '{') fail(`the header must be a JSON object starting with '{', got ${JSON.stringify(text.slice(0, 20))}`);
  const depth = jsonDepth(text);
  if (depth > MAX_JSON_DEPTH) fail(`the header nests ${depth} levels deep, more than the ${MAX_JSON_DEPTH} a Stride file can have (corrupted or crafted)`);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    return fail(`the header is not valid JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) fail('the header must be a JSON object');
  const entries = header as Record<string, unknown>;

  const metadata: Record<string, string> = {};
  const meta = entries.__metadata__;
  if (meta !== undefined) {
    if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) fail('__metadata__ must be an object of strings');
    for (const [k, v] of Object.entries(meta as Record<string, unknown>)) {
      if (typeof v !== 'string') fail(`__metadata__['${k}'] must be a string, got ${JSON.stringify(v)}`);
      metadata[k] = v as string;
    }
  }

  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;
  const found: { name: string; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, raw] of Object.entries(entries)) {
    if (name === '__metadata__') continue;
    const where = `tensor '${name}'`;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail(`${where}: the entry must be an object {dtype, shape, data_offsets}`);
    const e = raw as Record<string, unknown>;
    const extra = Object.keys(e).filter((k) => k !== 'dtype' && k !== 'shape' && k !== 'data_offsets');
    if (extra.length > 0) fail(`${where}: unknown field${extra.length > 1 ? 's' : ''} ${extra.map((k) => `'${k}'`).join(', ')}`);
    if (e.dtype !== 'F32') fail(`${where}: dtype is ${JSON.stringify(e.dtype)}, expected 'F32' (Stride stores float32 only)`);
    const shape = e.shape;
    if (!Array.isArray(shape) || shape.some((d) => typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0)) {
      fail(`${where}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
    }
    const offs = e.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || offs.some((d) => typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0)) {
      fail(`${where}: data_offsets must be [begin, end] with non-negative integers, got ${JSON.stringify(offs)}`);
    }
    const [begin, end] = offs as number[];
    if (end < begin) fail(`${where}: data_offsets [${begin}, ${end}] end before they begin`);
    const need = shapeSize(shape as number[]) * 4;
    if (end - begin !== need) {
      fail(`${where}: data_offsets [${begin}, ${end}] span ${end - begin} bytes, but shape [${(shape as number[]).join(', ')}] of F32 needs ${need}`);
    }
    found.push({ name, shape: shape as number[], begin, end });
  }
  found.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expect = 0;
  for (const t of found) {
    if (t.begin !== expect) {
      const prev = found[found.indexOf(t) - 1];
      fail(
        t.begin > expect
          ? `tensor data is not contiguous: ${prev ? `'${prev.name}' ends at ${expect}` : 'the data section starts at 0'} but the next tensor '${t.name}' begins at ${t.begin} (a gap)`
          : `tensors overlap: '${prev.name}' ends at ${expect} but '${t.name}' begins at ${t.begin}`,
      );
    }
    expect = t.end;
  }
  if (expect > dataLen) fail(`truncated: the header says ${expect} bytes of tensor data, the file has ${dataLen}`);
  if (expect < dataLen) fail(`the file has ${dataLen} bytes of tensor data, but the header accounts for only ${expect} (trailing bytes)`);

  const tensors: NamedTensor[] = found.map((t) => ({ name: t.name, shape: t.shape, data: readF32(bytes, dataStart + t.begin, dataStart + t.end) }));
  return { metadata, tensors, byName: new Map(tensors.map((t) => [t.name, t])) };
}

// ---------------------------------------------------------------------------------------------
// Checksum over the Stride metadata and the tensors
// ---------------------------------------------------------------------------------------------

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
    c = crc32Update(c, f32Bytes(t.data));
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
  const file = decodeSafetensors(bytes, op, format === MODEL_FORMAT ? 'Stride model file' : format === 'stride-checkpoint' ? 'Stride checkpoint state file' : `Stride file ('${format}')`);
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
  const computed = strideChecksum(m, file.tensors);
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

// ---------------------------------------------------------------------------------------------
// Models
// ---------------------------------------------------------------------------------------------

/** Options of `deserializeModel` / `loadModel`. */
export interface LoadOptions {
  /** Accept NaN and ±Infinity in the weights (default false: such a file is rejected). */
  allowNaN?: boolean;
}

/** Every tensor of a model in file order, named `layers.<i>.<name>`: each layer's params, then its buffers. */
export function modelTensors(model: Sequential): { name: string; tensor: Tensor }[] {
  const out: { name: string; tensor: Tensor }[] = [];
  model.layers.forEach((layer, i) => {
    for (const p of layer.params()) out.push({ name: `layers.${i}.${p.name}`, tensor: p.value });
    for (const b of layer.buffers()) out.push({ name: `layers.${i}.${b.name}`, tensor: b.value });
  });
  return out;
}

/** Options of `serializeModel` / `saveModel`. */
export interface SaveOptions {
  /**
   * Extra string entries for the file's `__metadata__` (class names, a description, ...), returned by
   * `readModel` / `loadModelWithMetadata`. Keys starting with `stride.` are covered by the file's
   * checksum (a changed value is rejected on load); other keys are free-form, as in any safetensors
   * file, so that other tools may add or edit them. Keys Stride writes itself (`stride.format`,
   * `stride.version`, `stride.checksum`, `stride.architecture`, `stride.rng`) are refused.
   */
  metadata?: Record<string, string>;
}

/** Metadata keys `serializeModel` writes itself. */
const RESERVED_KEYS = ['stride.format', 'stride.version', CHECKSUM_KEY, 'stride.architecture', 'stride.rng'];

/**
 * Writes a model (architecture, weights, BatchNorm statistics and the model's Rng state) as a Stride
 * model file, with `opts.metadata` added to its `__metadata__`.
 */
export function serializeModel(model: Sequential, opts: SaveOptions = {}): Uint8Array {
  const op = 'serializeModel';
  if (!(model instanceof Sequential)) throw new Error(`${op}: model must be a Sequential, got ${describe(model)}`);
  const extra = opts.metadata ?? {};
  if (extra === null || typeof extra !== 'object' || Array.isArray(extra)) throw new Error(`${op}: metadata must be an object of strings, got ${describe(extra)}`);
  for (const [k, v] of Object.entries(extra)) {
    if (RESERVED_KEYS.includes(k)) throw new Error(`${op}: metadata key '${k}' is written by Stride itself; choose another key`);
    if (typeof v !== 'string') throw new Error(`${op}: metadata['${k}'] must be a string, got ${describe(v)}`);
  }
  const tensors = modelTensors(model).map(({ name, tensor }) => ({ name, shape: tensor.shape, data: tensor.data }));
  return encodeStrideFile(MODEL_FORMAT, tensors, {
    'stride.architecture': JSON.stringify(model.toSpec()),
    'stride.rng': JSON.stringify(model.rng.getState()),
    ...extra,
  });
}

/** What `readModel` returns: the model and the file's checksum (checkpoints cross-reference it). */
export interface ReadModel {
  model: Sequential;
  checksum: string;
  metadata: Record<string, string>;
}

/** `deserializeModel`, also returning the checksum and metadata. */
export function readModel(bytes: Uint8Array | ArrayBuffer, opts: LoadOptions = {}, op = 'deserializeModel'): ReadModel {
  const file = decodeStrideFile(bytes, MODEL_FORMAT, op);
  function fail(msg: string, cause?: unknown): never {
    throw new ModelFormatError(`${op}: ${msg}`, cause === undefined ? undefined : { cause });
  }
  const spec = parseMetaJson(op, file.metadata, 'stride.architecture') as SequentialSpec;
  if (spec === null || typeof spec !== 'object' || spec.type !== 'Sequential') {
    fail(`architecture: expected a Sequential spec {type: 'Sequential', config}, got type ${JSON.stringify((spec as { type?: unknown } | null)?.type)}`);
  }
  // The tensors the architecture implies, compared with the file's BEFORE the model is built: a
  // tampered architecture (say a Dense of a million units, its checksum recomputed) is refused
  // here, naming the tensor, instead of allocating and initialising every weight it declares.
  let planned: { name: string; shape: Shape }[];
  try {
    planned = Sequential.planSpec(spec).tensors.map((t) => ({ name: `layers.${t.layer}.${t.name}`, shape: t.shape }));
  } catch (e) {
    return fail(`architecture: ${(e as Error).message}`, e);
  }
  checkTensorsMatch(fail, planned, file);
  let model: Sequential;
  try {
    model = Sequential.fromSpec(spec);
  } catch (e) {
    return fail(`architecture: ${(e as Error).message}`, e);
  }
  const rngState = parseMetaJson(op, file.metadata, 'stride.rng');
  try {
    if (!Array.isArray(rngState)) throw new Error(`expected an array of four unsigned 32-bit integers, got ${JSON.stringify(rngState)}`);
    model.rng.setState(rngState as number[]);
  } catch (e) {
    return fail(`__metadata__['stride.rng']: ${(e as Error).message}`, e);
  }

  const expected = modelTensors(model);
  // The plan and the built model agree (a layer's plan() and build() share their shape code).
  checkTensorsMatch(fail, expected.map(({ name, tensor }) => ({ name, shape: tensor.shape })), file);
  if (!opts.allowNaN) for (const t of file.tensors) checkFinite(op, t);
  for (const { name, tensor } of expected) tensor.data.set(file.byName.get(name)!.data);
  return { model, checksum: file.metadata[CHECKSUM_KEY], metadata: file.metadata };
}

/** Fails unless the file holds exactly the `expected` tensors, with the same shapes. */
function checkTensorsMatch(fail: (msg: string) => never, expected: readonly { name: string; shape: Shape }[], file: DecodedSafetensors): void {
  const expectedNames = new Set(expected.map((t) => t.name));
  const missing = expected.filter((t) => !file.byName.has(t.name)).map((t) => `'${t.name}'`);
  const unknown = file.tensors.filter((t) => !expectedNames.has(t.name)).map((t) => `'${t.name}'`);
  if (missing.length > 0 || unknown.length > 0) {
    const parts: string[] = [];
    if (missing.length > 0) parts.push(`missing tensor${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
    if (unknown.length > 0) parts.push(`unknown tensor${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}`);
    fail(`${parts.join('; ')} (the architecture has ${expected.length}: ${expected.map((t) => t.name).join(', ') || 'none'})`);
  }
  for (const { name, shape } of expected) {
    const t = file.byName.get(name)!;
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      fail(`tensor '${name}' has shape [${t.shape.join(', ')}], but the architecture builds [${shape.join(', ')}]`);
    }
  }
}

/**
 * Reads a Stride model file, validating everything: the safetensors structure (header length,
 * JSON, dtypes, offsets, truncation), the format name and version, the checksum, that every layer
 * type is known, that exactly the tensors the architecture builds are present with the right
 * shapes, and (unless `allowNaN`) that no weight is NaN or infinite. Throws `ModelFormatError`.
 */
export function deserializeModel(bytes: Uint8Array | ArrayBuffer, opts: LoadOptions = {}): Sequential {
  return readModel(bytes, opts).model;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v;
}
