/**
 * The compact dataset file (browser-safe): a labelled image dataset as raw bytes a page can fetch
 * from its own origin, a few MB for thousands of digits instead of tens of MB of JSON.
 *
 * Layout (little-endian; docs/worker.md has the full table):
 *
 * | offset | size | field                                                                 |
 * | ------ | ---- | --------------------------------------------------------------------- |
 * | 0      | 8    | magic `STRIDEDS` (ASCII)                                              |
 * | 8      | 4    | version (u32) = 1                                                     |
 * | 12     | 4    | header length in bytes (u32, multiple of 4; pixels start here)        |
 * | 16     | 4    | train count (u32)                                                     |
 * | 20     | 4    | test count (u32)                                                      |
 * | 24     | 4    | height (u32)                                                          |
 * | 28     | 4    | width (u32)                                                           |
 * | 32     | 4    | channels (u32)                                                        |
 * | 36     | 4    | number of classes K (u32, 1..256)                                     |
 * | 40     | 4    | CRC-32 of every byte after offset 44 (class names, pixels, labels)    |
 * | 44     | 4    | reserved, 0                                                           |
 * | 48     | ...  | K class names: u16 byte length + UTF-8 bytes each; zero padding to 4  |
 * | header | N·H·W·C | pixels, uint8, NHWC, train samples first, then test            |
 * | ...    | N    | labels, uint8                                                         |
 *
 * N = train count + test count, and the file is exactly header + N·(H·W·C + 1) bytes. A file may
 * also be gzip-compressed as a whole (`readCompactDataset` and `loadCompactDataset` unpack it with
 * the platform's `DecompressionStream`). The writer is deterministic: the same datasets give the
 * same bytes.
 *
 * ```ts
 * const { train, test } = await loadCompactDataset('./digits.bin');   // in a page or a worker
 * ```
 */
import { Dataset } from './dataset.js';
import { crc32Update } from '../model/crc32.js';

/** The first 8 bytes of a compact dataset file. */
export const COMPACT_MAGIC = 'STRIDEDS';
/** The format version this Stride writes and reads. */
export const COMPACT_VERSION = 1;
/** Bytes of the fixed part of the header, before the class names. */
const FIXED = 48;
const CRC_FROM = 44;

/** A decoded compact dataset: both splits are views of one shared storage (no pixels copied). */
export interface CompactDataset {
  train: Dataset;
  test: Dataset;
  classNames: readonly string[];
  height: number;
  width: number;
  channels: number;
  /** The file's version field. */
  version: number;
}

/** What `encodeCompactDataset` writes. Both datasets must have the same image shape and classes. */
export interface CompactDatasetInput {
  train: Dataset;
  test: Dataset;
  /** Default: `train.classNames`. */
  classNames?: readonly string[];
}

/** A byte string that is not a valid compact dataset; the message says what is wrong. */
export class CompactDatasetError extends Error {
  override name = 'CompactDatasetError';
}

/**
 * Writes two datasets (in their view order, as raw uint8 pixels: normalisation is not stored) as
 * one compact file. Float32 storage in [0, 1] is stored as `round(v * 255)`.
 */
export function encodeCompactDataset(input: CompactDatasetInput): Uint8Array {
  const op = 'encodeCompactDataset';
  const { train, test } = input ?? ({} as CompactDatasetInput);
  for (const [name, ds] of [['train', train], ['test', test]] as const) {
    if (!(ds instanceof Dataset)) throw new Error(`${op}: input.${name} must be a Dataset, got ${ds === null ? 'null' : typeof ds}`);
  }
  if (train.height !== test.height || train.width !== test.width || train.channels !== test.channels) {
    throw new Error(`${op}: train images are ${train.height}x${train.width}x${train.channels} but test images are ${test.height}x${test.width}x${test.channels}; expected the same shape`);
  }
  const classNames = input.classNames ?? train.classNames;
  if (!Array.isArray(classNames) || classNames.some((c) => typeof c !== 'string')) throw new Error(`${op}: classNames must be an array of strings`);
  if (classNames.length < 1 || classNames.length > 256) throw new Error(`${op}: classNames has ${classNames.length} entries, expected 1 to 256 (labels are stored as uint8)`);
  for (const [name, ds] of [['train', train], ['test', test]] as const) {
    if (ds.numClasses > classNames.length) {
      throw new Error(`${op}: input.${name} has ${ds.numClasses} classes, more than the ${classNames.length} class names`);
    }
  }
  const names = classNames.map((c) => new TextEncoder().encode(c));
  names.forEach((b, k) => {
    if (b.length > 0xffff) throw new Error(`${op}: classNames[${k}] is ${b.length} bytes of UTF-8, expected at most 65535`);
  });
  const namesBytes = names.reduce((s, b) => s + 2 + b.length, 0);
  const header = FIXED + Math.ceil(namesBytes / 4) * 4;
  const per = train.height * train.width * train.channels;
  const n = train.length + test.length;
  const total = header + n * (per + 1);
  if (total > 0xffffffff) throw new Error(`${op}: ${n} images of ${per} bytes make ${total} bytes, more than the format's 4 GiB`);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) out[i] = COMPACT_MAGIC.charCodeAt(i);
  [COMPACT_VERSION, header, train.length, test.length, train.height, train.width, train.channels, classNames.length].forEach((v, i) => view.setUint32(8 + 4 * i, v, true));
  let p = FIXED;
  for (const b of names) {
    view.setUint16(p, b.length, true);
    out.set(b, p + 2);
    p += 2 + b.length;
  }
  let px = header;
  let lb = header + n * per;
  for (const [name, ds] of [['train', train], ['test', test]] as const) {
    for (let i = 0; i < ds.length; i++) {
      const s = ds.indices[i];
      if (ds.images instanceof Uint8Array) {
        out.set(ds.images.subarray(s * per, (s + 1) * per), px);
      } else {
        for (let j = 0; j < per; j++) {
          const v = ds.images[s * per + j];
          if (!(v >= 0 && v <= 1)) throw new Error(`${op}: input.${name} sample ${i} holds the value ${v}; float images must be in [0, 1]`);
          out[px + j] = Math.round(v * 255);
        }
      }
      px += per;
      out[lb++] = ds.labels[s];
    }
  }
  view.setUint32(40, crc32Update(0, out.subarray(CRC_FROM)), true);
  return out;
}

/** True when the bytes start like a gzip stream (RFC 1952: 0x1f 0x8b). */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Decodes a compact dataset file, strictly: the magic, the version, every size, the exact length
 * (a truncated or padded file is refused), the checksum and every label are checked. The datasets
 * are views of `bytes` (not copied). For a gzip-compressed file use `readCompactDataset`.
 */
export function decodeCompactDataset(input: Uint8Array | ArrayBuffer): CompactDataset {
  const op = 'decodeCompactDataset';
  const bytes = input instanceof ArrayBuffer ? new Uint8Array(input) : input;
  if (!(bytes instanceof Uint8Array)) throw new CompactDatasetError(`${op}: expected a Uint8Array or ArrayBuffer, got ${input === null ? 'null' : typeof input}`);
  if (isGzip(bytes)) throw new CompactDatasetError(`${op}: the bytes are gzip-compressed; use readCompactDataset (async) or gunzip them first`);
  if (bytes.length < FIXED) throw new CompactDatasetError(`${op}: truncated: ${bytes.length} bytes, shorter than the ${FIXED}-byte header`);
  let magic = '';
  for (let i = 0; i < 8; i++) magic += String.fromCharCode(bytes[i]);
  if (magic !== COMPACT_MAGIC) throw new CompactDatasetError(`${op}: bad magic ${JSON.stringify(magic)}, expected ${JSON.stringify(COMPACT_MAGIC)}: not a Stride compact dataset file`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u32 = (at: number): number => view.getUint32(at, true);
  const version = u32(8);
  if (version !== COMPACT_VERSION) throw new CompactDatasetError(`${op}: version ${version}, expected ${COMPACT_VERSION} (written by another Stride version)`);
  const [header, nTrain, nTest, height, width, channels, k, checksum] = [12, 16, 20, 24, 28, 32, 36, 40].map(u32);
  for (const [name, v] of [['height', height], ['width', width], ['channels', channels]] as const) {
    if (v < 1) throw new CompactDatasetError(`${op}: ${name} is ${v}, expected >= 1`);
  }
  if (k < 1 || k > 256) throw new CompactDatasetError(`${op}: ${k} classes, expected 1 to 256`);
  if (header < FIXED || header % 4 !== 0) throw new CompactDatasetError(`${op}: header length ${header}, expected a multiple of 4 >= ${FIXED}`);
  const per = height * width * channels;
  const n = nTrain + nTest;
  const expected = header + n * (per + 1);
  if (bytes.length < expected) {
    throw new CompactDatasetError(`${op}: truncated: ${bytes.length} bytes, expected ${expected} for ${n} images of ${height}x${width}x${channels} (${nTrain} train + ${nTest} test)`);
  }
  if (bytes.length > expected) throw new CompactDatasetError(`${op}: ${bytes.length} bytes, expected ${expected}: ${bytes.length - expected} extra bytes after the labels`);
  const actual = crc32Update(0, bytes.subarray(CRC_FROM));
  if (actual !== checksum) {
    throw new CompactDatasetError(`${op}: checksum mismatch: the file says crc32 ${hex(checksum)}, its content has ${hex(actual)} (corrupted)`);
  }
  const classNames: string[] = [];
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  let p = FIXED;
  for (let c = 0; c < k; c++) {
    if (p + 2 > header) throw new CompactDatasetError(`${op}: class name ${c} starts at byte ${p}, past the ${header}-byte header`);
    const len = view.getUint16(p, true);
    if (p + 2 + len > header) throw new CompactDatasetError(`${op}: class name ${c} (${len} bytes) runs past the ${header}-byte header`);
    try {
      classNames.push(utf8.decode(bytes.subarray(p + 2, p + 2 + len)));
    } catch {
      throw new CompactDatasetError(`${op}: class name ${c} is not valid UTF-8`);
    }
    p += 2 + len;
  }
  const images = bytes.subarray(header, header + n * per);
  const labels = bytes.subarray(header + n * per, expected);
  for (let i = 0; i < n; i++) {
    if (labels[i] >= k) throw new CompactDatasetError(`${op}: label ${labels[i]} of image ${i}, expected < ${k} classes`);
  }
  const range = (a: number, b: number): Int32Array => Int32Array.from({ length: b - a }, (_, i) => a + i);
  const make = (indices: Int32Array): Dataset => new Dataset({ images, labels, height, width, channels, classNames, indices });
  return { train: make(range(0, nTrain)), test: make(range(nTrain, n)), classNames: Object.freeze(classNames), height, width, channels, version };
}

/** `decodeCompactDataset`, first unpacking a gzip-compressed file with `DecompressionStream`. */
export async function readCompactDataset(input: Uint8Array | ArrayBuffer): Promise<CompactDataset> {
  const bytes = input instanceof ArrayBuffer ? new Uint8Array(input) : input;
  if (bytes instanceof Uint8Array && isGzip(bytes)) return decodeCompactDataset(await gunzip(bytes));
  return decodeCompactDataset(bytes);
}

export interface LoadCompactOptions {
  /** The fetch to use (default: the global one). */
  fetch?: (url: string) => Promise<Response>;
}

/**
 * Fetches a compact dataset file (plain or gzip-compressed) and decodes it. In a page, a relative
 * URL resolves against the page (or the worker script): the file comes from the page's own origin.
 */
export async function loadCompactDataset(url: string | URL, opts: LoadCompactOptions = {}): Promise<CompactDataset> {
  const op = 'loadCompactDataset';
  const f = opts.fetch ?? (typeof fetch === 'function' ? (u: string) => fetch(u) : undefined);
  if (f === undefined) throw new Error(`${op}: no fetch in this environment; pass opts.fetch or use readCompactDataset(bytes)`);
  const href = String(url);
  let res: Response;
  try {
    res = await f(href);
  } catch (e) {
    throw new Error(`${op}: cannot fetch ${href}: ${(e as Error).message}`, { cause: e });
  }
  if (!res.ok) throw new Error(`${op}: ${href} answered HTTP ${res.status} ${res.statusText}`.trimEnd());
  const bytes = new Uint8Array(await res.arrayBuffer());
  try {
    return await readCompactDataset(bytes);
  } catch (e) {
    throw new CompactDatasetError(`${op}: ${href}: ${(e as Error).message}`, { cause: e });
  }
}

async function gunzip(bytes: Uint8Array): Promise<Uint8Array> {
  if (typeof DecompressionStream !== 'function') {
    throw new CompactDatasetError('readCompactDataset: the file is gzip-compressed and this platform has no DecompressionStream; gunzip it first');
  }
  try {
    const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('gzip'));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (e) {
    throw new CompactDatasetError(`readCompactDataset: cannot gunzip the file: ${(e as Error).message}`, { cause: e });
  }
}

const hex = (v: number): string => (v >>> 0).toString(16).padStart(8, '0');
