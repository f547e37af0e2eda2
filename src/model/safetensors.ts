/**
 * The safetensors container (browser-safe), F32 only: an 8-byte little-endian header length N, N
 * bytes of JSON header (`{"name": {dtype, shape, data_offsets}, ..., "__metadata__": {string: string}}`),
 * then the raw little-endian tensor data, back to back. Any safetensors reader (Python
 * `safetensors`, Rust, candle, ...) opens what `encodeSafetensors` writes.
 *
 * This file knows nothing of Stride's own metadata: src/model/stride-file.ts adds the format name,
 * version and checksum on top, and src/model/serialize.ts the model.
 *
 * ```ts
 * const bytes = encodeSafetensors([{ name: 'w', shape: [2], data: new Float32Array([1, 2]) }], { note: 'hi' });
 * const { metadata, byName } = decodeSafetensors(bytes);   // byName.get('w')!.data is a copy
 * ```
 */
import { shapeSize, type Shape } from '../tensor/tensor.js';
import { sniffFileKind } from './file-kind.js';

/** The largest JSON header accepted (the safetensors reference reader's limit). */
export const MAX_HEADER_BYTES = 100_000_000;

/** A file that is not a valid Stride model / checkpoint file (or safetensors file). The message says what is wrong. */
export class ModelFormatError extends Error {
  override name = 'ModelFormatError';
}

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
export function f32Bytes(data: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i], true);
  return out;
}

/** Copies the little-endian float32 values of `bytes[begin, end)` into `dst` (a view, no temporary, when aligned). */
export function copyF32Into(dst: Float32Array, bytes: Uint8Array, begin: number, end: number): void {
  const n = (end - begin) / 4;
  if (LITTLE_ENDIAN && (bytes.byteOffset + begin) % 4 === 0) {
    dst.set(new Float32Array(bytes.buffer, bytes.byteOffset + begin, n));
    return;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset + begin, end - begin);
  for (let i = 0; i < n; i++) dst[i] = view.getFloat32(i * 4, true);
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

/** A validated safetensors file before any tensor is copied: its entries point into `bytes`. */
export interface SafetensorsLayout {
  metadata: Record<string, string>;
  /** In data-offset order; `begin` / `end` are offsets into `bytes`. */
  entries: { name: string; shape: number[]; begin: number; end: number }[];
  bytes: Uint8Array;
}

/**
 * Decodes and structurally validates a safetensors file holding only F32 tensors: the header length
 * against the file size, UTF-8 and JSON of the header, `__metadata__` (strings only), each entry's
 * dtype, shape and data_offsets, and that the tensors tile the data section exactly (contiguous, in
 * bounds, no gaps or overlaps, no trailing bytes). Errors are `ModelFormatError`s prefixed with `op`.
 */
export function decodeSafetensors(input: Uint8Array | ArrayBuffer, op = 'decodeSafetensors', what = 'safetensors file'): DecodedSafetensors {
  return materialize(readSafetensorsLayout(input, op, what));
}

/** Every tensor of a layout copied out (the copies share nothing with the file's bytes). */
export function materialize(layout: SafetensorsLayout): DecodedSafetensors {
  const tensors: NamedTensor[] = layout.entries.map((t) => ({ name: t.name, shape: t.shape, data: readF32(layout.bytes, t.begin, t.end) }));
  return { metadata: layout.metadata, tensors, byName: new Map(tensors.map((t) => [t.name, t])) };
}

/** `decodeSafetensors`'s validation, allocating nothing but the parsed header. */
export function readSafetensorsLayout(input: Uint8Array | ArrayBuffer, op: string, what: string): SafetensorsLayout {
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
  if (bytes.length < 8) notSafetensors(`truncated: the file has ${plural(bytes.length, 'byte')}, fewer than the 8-byte header length field`);
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

  const layout = found.map((t) => ({ name: t.name, shape: t.shape, begin: dataStart + t.begin, end: dataStart + t.end }));
  return { metadata, entries: layout, bytes };
}
