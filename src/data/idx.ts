/**
 * A strict parser for IDX files, the format the original MNIST files (and Fashion-MNIST, EMNIST)
 * are distributed in (browser-safe: bytes in, typed-array views out, nothing read or allocated
 * beyond the views).
 *
 * Layout (big-endian): bytes 0-1 are zero; byte 2 is the element type (0x08 = unsigned byte, the
 * only type MNIST uses and the only one accepted here); byte 3 is the number of dimensions d; then
 * d uint32 sizes; then the `prod(sizes)` elements, row-major. An images file is `[N, rows, cols]`
 * (magic 0x00000803) and a labels file `[N]` (magic 0x00000801).
 *
 * Everything is checked before a view is made: the magic, the dimensions, that the file holds
 * exactly the header plus `prod(sizes)` bytes (truncated and padded files are both refused), the
 * label range, and that an images file and a labels file hold the same count. Each error names the
 * file and says what was expected and what was found. A gzip-compressed file (bytes 1f 8b) is
 * refused with that reason; the Node loader decompresses such files before parsing.
 *
 * ```ts
 * const images = parseIdxImages(bytesOfImages, 'train-images-idx3-ubyte');   // { count, rows, cols, pixels }
 * const labels = parseIdxLabels(bytesOfLabels, 'train-labels-idx1-ubyte', 10);
 * ```
 */

/** One parsed IDX file of unsigned bytes: its sizes and a view of its elements (no copy). */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

export interface IdxImages {
  count: number;
  rows: number;
  cols: number;
  /** `count * rows * cols` bytes, row-major, a view of the input. */
  pixels: Uint8Array;
}

export interface IdxLabels {
  count: number;
  /** `count` bytes, a view of the input. */
  labels: Uint8Array;
}

const UBYTE = 0x08;

const hex = (v: number): string => `0x${(v >>> 0).toString(16).padStart(8, '0')}`;

/**
 * Parses an IDX file of unsigned bytes with `ndims` dimensions. `file` names the file in errors.
 * Throws when the magic, the dimension count or the size does not match.
 */
export function parseIdx(bytes: Uint8Array, file: string, ndims: number): IdxArray {
  const where = `parseIdx: '${file}'`;
  const expectedMagic = (UBYTE << 8) | ndims;
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    throw new Error(`${where} is gzip-compressed (starts with 1f 8b); decompress it first (expected IDX magic ${hex(expectedMagic)})`);
  }
  if (bytes.length < 4) throw new Error(`${where} is truncated: ${bytes.length} bytes, shorter than the 4-byte IDX magic number`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new Error(`${where} is not an IDX file: magic number ${hex(magic)}, expected ${hex(expectedMagic)} (first two bytes must be zero)`);
  }
  if (bytes[2] !== UBYTE) {
    throw new Error(`${where}: element type 0x${bytes[2].toString(16).padStart(2, '0')}, expected 0x08 (unsigned byte); magic ${hex(magic)}, expected ${hex(expectedMagic)}`);
  }
  if (bytes[3] !== ndims) {
    throw new Error(`${where}: ${bytes[3]} dimensions, expected ${ndims}; magic ${hex(magic)}, expected ${hex(expectedMagic)}`);
  }
  const headerBytes = 4 + 4 * ndims;
  if (bytes.length < headerBytes) {
    throw new Error(`${where} is truncated: ${bytes.length} bytes, shorter than the ${headerBytes}-byte header of a ${ndims}-dimensional IDX file`);
  }
  const dims: number[] = [];
  for (let i = 0; i < ndims; i++) dims.push(view.getUint32(4 + 4 * i, false));
  // A product of uint32s can exceed 2^53; it is only compared, never allocated.
  const elements = dims.reduce((p, d) => p * d, 1);
  const expected = headerBytes + elements;
  if (bytes.length !== expected) {
    const what = bytes.length < expected ? 'truncated' : 'padded';
    throw new Error(`${where} is ${what}: ${bytes.length} bytes, expected ${expected} (a ${headerBytes}-byte header + ${dims.join(' x ')} bytes)`);
  }
  return { dims, data: bytes.subarray(headerBytes) };
}

/** An images file `[N, rows, cols]` of unsigned bytes; `expect` fixes the sizes (e.g. 28 x 28, N = 60000). */
export function parseIdxImages(bytes: Uint8Array, file: string, expect: { count?: number; rows?: number; cols?: number } = {}): IdxImages {
  const { dims, data } = parseIdx(bytes, file, 3);
  const [count, rows, cols] = dims;
  if (rows === 0 || cols === 0) throw new Error(`parseIdx: '${file}': images of ${rows} x ${cols} pixels, expected at least 1 x 1`);
  if ((expect.rows !== undefined && rows !== expect.rows) || (expect.cols !== undefined && cols !== expect.cols)) {
    throw new Error(`parseIdx: '${file}': images of ${rows} x ${cols} pixels, expected ${expect.rows ?? rows} x ${expect.cols ?? cols}`);
  }
  if (expect.count !== undefined && count !== expect.count) throw new Error(`parseIdx: '${file}': ${count} images, expected ${expect.count}`);
  return { count, rows, cols, pixels: data };
}

/** A labels file `[N]` of unsigned bytes, each < `numClasses`; `expectCount` fixes N. */
export function parseIdxLabels(bytes: Uint8Array, file: string, numClasses: number, expectCount?: number): IdxLabels {
  const { dims, data } = parseIdx(bytes, file, 1);
  const count = dims[0];
  if (expectCount !== undefined && count !== expectCount) throw new Error(`parseIdx: '${file}': ${count} labels, expected ${expectCount}`);
  for (let i = 0; i < count; i++) {
    if (data[i] >= numClasses) throw new Error(`parseIdx: '${file}': label ${data[i]} at index ${i}, expected 0..${numClasses - 1}`);
  }
  return { count, labels: data };
}

/** Throws unless an images file and its labels file hold the same number of samples. */
export function checkIdxPair(images: IdxImages, imagesFile: string, labels: IdxLabels, labelsFile: string): void {
  if (images.count !== labels.count) {
    throw new Error(`parseIdx: '${imagesFile}' holds ${images.count} images but '${labelsFile}' holds ${labels.count} labels; expected the same count`);
  }
}
