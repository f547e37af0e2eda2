/**
 * Writing images as PNG (Node only; encoding by `sharp`), for `edges`, `visualize` and friends.
 */
import sharp from 'sharp';
import { Tensor } from '../tensor/tensor.js';
import { writeFileAtomic } from './atomic.js';

export interface PngOptions {
  /** Required for plain arrays; for a Tensor, read from its shape (and checked if given). */
  height?: number;
  width?: number;
  /** 1 (grayscale) or 3 (RGB). Default: from the Tensor's shape, else 1. */
  channels?: 1 | 3;
  /**
   * How float values map to bytes (ignored for Uint8Array data, which is written as is):
   * - 'unit' (default): `round(clamp(v, 0, 1) * 255)`, for images normalised as `p / 255`;
   * - 'minmax': the smallest value becomes 0 and the largest 255 (all 0 when they are equal),
   *   for filter responses and feature maps of any sign;
   * - `[low, high]`: `low` becomes 0 and `high` 255, clamped outside.
   * NaN becomes 0.
   */
  range?: 'unit' | 'minmax' | readonly [number, number];
}

/**
 * Encodes `data` as a PNG. `data` is a Tensor `[H, W]`, `[H, W, C]` or `[1, H, W, C]`, or a flat
 * HWC array of `height * width * channels` values.
 */
export async function encodePng(data: Tensor | Float32Array | Uint8Array | readonly number[], opts: PngOptions = {}): Promise<Buffer> {
  const { height, width, channels, values } = resolveImage('encodePng', data, opts);
  let bytes: Uint8Array;
  if (values instanceof Uint8Array) {
    if (opts.range !== undefined) throw new Error(`encodePng: range does not apply to Uint8Array data (bytes are written as they are)`);
    bytes = values;
  } else {
    bytes = toBytes('encodePng', values, opts.range ?? 'unit');
  }
  const img = sharp(bytes, { raw: { width, height, channels } });
  // A one-channel raw input would otherwise be written as RGB.
  return (channels === 1 ? img.toColourspace('b-w') : img).png().toBuffer();
}

/** Encodes `data` (see `encodePng`) and writes it to `path` atomically (temporary file + rename). */
export async function writePng(path: string, data: Tensor | Float32Array | Uint8Array | readonly number[], opts: PngOptions = {}): Promise<void> {
  await writeFileAtomic(path, await encodePng(data, opts));
}

function resolveImage(
  op: string,
  data: Tensor | Float32Array | Uint8Array | readonly number[],
  opts: PngOptions,
): { height: number; width: number; channels: 1 | 3; values: ArrayLike<number> } {
  let height = opts.height;
  let width = opts.width;
  let channels: number | undefined = opts.channels;
  let values: ArrayLike<number>;
  if (data instanceof Tensor) {
    const s = data.shape;
    let dims: number[];
    if (s.length === 2) dims = [s[0], s[1], 1];
    else if (s.length === 3) dims = [s[0], s[1], s[2]];
    else if (s.length === 4 && s[0] === 1) dims = [s[1], s[2], s[3]];
    else throw new Error(`${op}: data must be a Tensor [H, W], [H, W, C] or [1, H, W, C], got shape [${s.join(', ')}]`);
    for (const [name, given, actual] of [['height', height, dims[0]], ['width', width, dims[1]], ['channels', channels, dims[2]]] as const) {
      if (given !== undefined && given !== actual) throw new Error(`${op}: ${name} ${given} does not match the tensor shape [${s.join(', ')}] (${actual})`);
    }
    [height, width, channels] = dims;
    values = data.data;
  } else if (data instanceof Float32Array || data instanceof Uint8Array || Array.isArray(data)) {
    values = data;
    channels = channels ?? 1;
  } else {
    throw new Error(`${op}: data must be a Tensor, Float32Array, Uint8Array or number[]`);
  }
  for (const [name, v] of [['height', height], ['width', width]] as const) {
    if (!Number.isInteger(v) || (v as number) <= 0) throw new Error(`${op}: ${name} must be a positive integer, got ${String(v)}`);
  }
  if (channels !== 1 && channels !== 3) throw new Error(`${op}: channels must be 1 or 3, got ${String(channels)}`);
  const expected = height! * width! * channels;
  if (values.length !== expected) {
    throw new Error(`${op}: data has ${values.length} values, expected height * width * channels = ${height} * ${width} * ${channels} = ${expected}`);
  }
  return { height: height!, width: width!, channels, values };
}

function toBytes(op: string, values: ArrayLike<number>, range: NonNullable<PngOptions['range']>): Uint8Array {
  let low = 0;
  let high = 1;
  if (range === 'minmax') {
    low = Infinity;
    high = -Infinity;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v < low) low = v;
      if (v > high) high = v;
    }
  } else if (Array.isArray(range)) {
    [low, high] = range;
    if (!Number.isFinite(low) || !Number.isFinite(high) || !(high > low)) throw new Error(`${op}: range must be [low, high] with low < high, got [${range.join(', ')}]`);
  } else if (range !== 'unit') {
    throw new Error(`${op}: range must be 'unit', 'minmax' or [low, high], got ${String(range)}`);
  }
  const bytes = new Uint8Array(values.length);
  const span = high - low;
  if (!(span > 0)) return bytes; // minmax of constant (or empty/NaN) data: all 0
  for (let i = 0; i < values.length; i++) {
    const t = (values[i] - low) / span;
    bytes[i] = t > 0 ? (t < 1 ? Math.round(t * 255) : 255) : 0; // NaN fails t > 0 and becomes 0
  }
  return bytes;
}
