/**
 * In-memory labelled image datasets (browser-safe).
 *
 * Storage is compact and shared: images are one `Uint8Array` (pixels 0..255) or `Float32Array`
 * in NHWC order `[N, H, W, C]`, labels one `Int32Array` or `Uint8Array` `[N]`. A `Dataset` is a
 * view of that storage through an index list, so `subset`, `take`, `shuffled` and
 * `splitValidation` never copy pixels, and `batches` converts to float32 one batch at a time.
 *
 * Normalisation (applied when a batch is filled): for a stored value `p` in channel `c`,
 *   `x = (p / divisor - mean[c]) / std[c]`,
 * with `divisor = 255` for `Uint8Array` storage and `1` for `Float32Array` storage (float images
 * are taken to be in [0, 1] already). The default is `mean = 0, std = 1`, so `x = p / 255`.
 *
 * ```ts
 * const ds = new Dataset({ images, labels, height: 28, width: 28, channels: 1 });
 * const { train, validation } = ds.splitValidation(0.1, { rng: new Rng(1) });
 * for (const { x, y } of train.batches(64, { shuffle: true, rng: new Rng(2) })) {
 *   // x: Tensor [B, 28, 28, 1] float32, y: Int32Array [B]
 * }
 * ```
 */
import { Tensor } from '../tensor/tensor.js';
import type { Rng } from '../tensor/random.js';
import { drawTransform, resolveAugment, type AugmentOptions, type ResolvedAugment, type SampleTransform } from './augment.js';

export type ImageStorage = Uint8Array | Float32Array;
export type LabelStorage = Int32Array | Uint8Array;

/** Per-channel mean and standard deviation, on the `p / divisor` scale (a number applies to every channel). */
export interface Normalization {
  mean: number | readonly number[];
  std: number | readonly number[];
}

export interface DatasetInit {
  /** Pixels, NHWC `[N, H, W, C]`, length `N * height * width * channels`. */
  images: ImageStorage;
  /** Class index of each image, in `[0, classNames.length)`. */
  labels: LabelStorage;
  height: number;
  width: number;
  channels: number;
  /** Names of the classes, index = label. Default: `'0', '1', …` up to the largest label. */
  classNames?: readonly string[];
  /** Default: none (`x = p / divisor`). */
  normalization?: Normalization | null;
  /** Which stored samples this dataset sees, in order (default: all of them, 0..N-1). */
  indices?: Int32Array;
}

/** One mini-batch. */
export interface Batch {
  /** Normalised (and possibly augmented) images, float32 NHWC `[B, H, W, C]`. A fresh tensor per batch. */
  x: Tensor;
  /** Labels `[B]`. */
  y: Int32Array;
  /** Positions of these samples within the dataset (`0 … length-1`). */
  indices: Int32Array;
}

export interface BatchOptions {
  /** Visit the samples in a random order drawn from `rng` (default false: dataset order). */
  shuffle?: boolean;
  /** The generator for the shuffle and (by default) the augmentation. Required when either is on. */
  rng?: Rng;
  /** Drop a last batch smaller than `batchSize` (default false). */
  dropLast?: boolean;
  /** Seeded random shift and flip; see `augment.ts`. Off by default. */
  augment?: AugmentOptions;
}

export interface SplitOptions {
  /**
   * Choose the validation samples at random from this generator. Without it the split is still
   * deterministic: the LAST `round(fraction * n)` samples (of each class, when stratified) go to
   * validation.
   */
  rng?: Rng;
  /** Split each class separately so both parts keep the class proportions (default true). */
  stratified?: boolean;
}

interface Resolved {
  mean: Float64Array;
  std: Float64Array;
}

/** An in-memory labelled image dataset: a view of shared, compact NHWC storage. */
export class Dataset {
  readonly images: ImageStorage;
  readonly labels: LabelStorage;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  readonly classNames: readonly string[];
  /** Positions of this dataset's samples in the storage (do not mutate). */
  readonly indices: Int32Array;
  /** The normalisation in use, per channel, or null for `x = p / divisor`. */
  readonly normalization: { mean: readonly number[]; std: readonly number[] } | null;
  /** 255 for Uint8Array storage, 1 for Float32Array storage. */
  readonly divisor: number;
  private readonly norm: Resolved;
  private lut: Float32Array | null = null;

  constructor(init: DatasetInit) {
    const op = 'Dataset';
    const { images, labels, height, width, channels } = init;
    if (!(images instanceof Uint8Array) && !(images instanceof Float32Array)) {
      throw new Error(`${op}: images must be a Uint8Array (0..255) or Float32Array, got ${describe(images)}`);
    }
    if (!(labels instanceof Int32Array) && !(labels instanceof Uint8Array)) {
      throw new Error(`${op}: labels must be an Int32Array or Uint8Array, got ${describe(labels)}`);
    }
    for (const [name, v] of [['height', height], ['width', width], ['channels', channels]] as const) {
      if (!Number.isInteger(v) || v <= 0) throw new Error(`${op}: ${name} must be a positive integer, got ${String(v)}`);
    }
    const per = height * width * channels;
    const n = labels.length;
    if (images.length !== n * per) {
      throw new Error(
        `${op}: images has ${images.length} values, expected labels.length * height * width * channels = ${n} * ${height} * ${width} * ${channels} = ${n * per}`,
      );
    }
    let maxLabel = -1;
    for (let i = 0; i < n; i++) {
      const l = labels[i];
      if (l < 0) throw new Error(`${op}: labels[${i}] is ${l}, expected a class index >= 0`);
      if (l > maxLabel) maxLabel = l;
    }
    let classNames: readonly string[];
    if (init.classNames !== undefined) {
      if (!Array.isArray(init.classNames) || init.classNames.some((c) => typeof c !== 'string')) {
        throw new Error(`${op}: classNames must be an array of strings`);
      }
      if (maxLabel >= init.classNames.length) {
        const at = labels.findIndex((l) => l === maxLabel);
        throw new Error(`${op}: labels[${at}] is ${maxLabel}, expected < classNames.length = ${init.classNames.length}`);
      }
      classNames = Object.freeze([...init.classNames]);
    } else {
      classNames = Object.freeze(Array.from({ length: maxLabel + 1 }, (_, k) => String(k)));
    }
    let indices: Int32Array;
    if (init.indices !== undefined) {
      if (!(init.indices instanceof Int32Array)) throw new Error(`${op}: indices must be an Int32Array, got ${describe(init.indices)}`);
      for (let i = 0; i < init.indices.length; i++) {
        const s = init.indices[i];
        if (s < 0 || s >= n) throw new Error(`${op}: indices[${i}] is ${s}, expected in [0, ${n})`);
      }
      indices = init.indices;
    } else {
      indices = new Int32Array(n);
      for (let i = 0; i < n; i++) indices[i] = i;
    }
    this.images = images;
    this.labels = labels;
    this.height = height;
    this.width = width;
    this.channels = channels;
    this.classNames = classNames;
    this.indices = indices;
    this.divisor = images instanceof Uint8Array ? 255 : 1;
    const norm = resolveNormalization(op, init.normalization ?? null, channels);
    this.norm = norm ?? { mean: new Float64Array(channels), std: new Float64Array(channels).fill(1) };
    this.normalization = norm === null ? null : Object.freeze({ mean: Object.freeze([...norm.mean]), std: Object.freeze([...norm.std]) });
  }

  /** The number of samples in this view. */
  get length(): number {
    return this.indices.length;
  }

  get numClasses(): number {
    return this.classNames.length;
  }

  /** `[height, width, channels]` of one image. */
  get imageShape(): [number, number, number] {
    return [this.height, this.width, this.channels];
  }

  /** The label of sample `i` (a position in this dataset). */
  label(i: number): number {
    return this.labels[this.indices[this.checkPosition('Dataset.label', i)]];
  }

  /** Sample `i`, normalised, as a Tensor `[1, H, W, C]` (no augmentation). */
  image(i: number): Tensor {
    const s = this.indices[this.checkPosition('Dataset.image', i)];
    const out = new Float32Array(this.height * this.width * this.channels);
    this.fill(out, 0, s, null);
    return new Tensor(out, [1, this.height, this.width, this.channels]);
  }

  /** How many samples of each class this view holds, `[numClasses]`. */
  classCounts(): Int32Array {
    const counts = new Int32Array(this.numClasses);
    for (let i = 0; i < this.indices.length; i++) counts[this.labels[this.indices[i]]]++;
    return counts;
  }

  /** The samples at `positions` (positions in this dataset), in that order. Shares the storage. */
  subset(positions: ArrayLike<number>): Dataset {
    const idx = new Int32Array(positions.length);
    for (let i = 0; i < positions.length; i++) {
      const p = positions[i];
      if (!Number.isInteger(p) || p < 0 || p >= this.length) {
        throw new Error(`Dataset.subset: positions[${i}] is ${String(p)}, expected an integer in [0, ${this.length})`);
      }
      idx[i] = this.indices[p];
    }
    return this.view(idx, this.normalization);
  }

  /** Samples `start … end-1` (clamped to the dataset, like Array.slice without negatives). Shares the storage. */
  slice(start: number, end: number = this.length): Dataset {
    for (const [name, v] of [['start', start], ['end', end]] as const) {
      if (!Number.isInteger(v) || v < 0) throw new Error(`Dataset.slice: ${name} must be a non-negative integer, got ${String(v)}`);
    }
    const a = Math.min(start, this.length);
    const b = Math.max(a, Math.min(end, this.length));
    return this.view(this.indices.slice(a, b), this.normalization);
  }

  /** The first `n` samples (all of them when `n >= length`). Shares the storage. */
  take(n: number): Dataset {
    if (!Number.isInteger(n) || n < 0) throw new Error(`Dataset.take: n must be a non-negative integer, got ${String(n)}`);
    return this.slice(0, n);
  }

  /** The same samples in a random order drawn from `rng` (one `rng.permutation(length)`). Shares the storage. */
  shuffled(rng: Rng): Dataset {
    checkRng('Dataset.shuffled', 'rng', rng);
    return this.subset(rng.permutation(this.length));
  }

  /**
   * Splits into train and validation views (no pixels copied). For each class when `stratified`
   * (the default), else for the whole set, `round(fraction * n)` samples go to validation: chosen
   * by `rng` (classes in label order, one `rng.shuffle` of that class's positions each) or, without
   * an rng, the last ones. Both parts keep the dataset's order. `splitValidation(f, rng)` is short
   * for `splitValidation(f, { rng })`.
   */
  splitValidation(fraction: number, options: SplitOptions | Rng = {}): { train: Dataset; validation: Dataset } {
    const op = 'Dataset.splitValidation';
    const opts: SplitOptions = isRng(options) ? { rng: options } : options;
    if (typeof fraction !== 'number' || !(fraction >= 0 && fraction <= 1)) {
      throw new Error(`${op}: fraction must be a number in [0, 1], got ${String(fraction)}`);
    }
    if (opts.rng !== undefined) checkRng(op, 'opts.rng', opts.rng);
    const stratified = opts.stratified ?? true;
    const groups: number[][] = [];
    if (stratified) {
      for (let k = 0; k < this.numClasses; k++) groups.push([]);
      for (let i = 0; i < this.length; i++) groups[this.labels[this.indices[i]]].push(i);
    } else {
      groups.push(Array.from({ length: this.length }, (_, i) => i));
    }
    const isVal = new Uint8Array(this.length);
    for (const g of groups) {
      const nVal = Math.round(fraction * g.length);
      if (opts.rng !== undefined) {
        opts.rng.shuffle(g);
        for (let j = 0; j < nVal; j++) isVal[g[j]] = 1;
      } else {
        for (let j = g.length - nVal; j < g.length; j++) isVal[g[j]] = 1;
      }
    }
    const train: number[] = [];
    const validation: number[] = [];
    for (let i = 0; i < this.length; i++) (isVal[i] ? validation : train).push(i);
    return { train: this.subset(train), validation: this.subset(validation) };
  }

  /** The same samples with another normalisation (`null`: `x = p / divisor`). Shares the storage. */
  withNormalization(normalization: Normalization | null): Dataset {
    return this.view(this.indices, normalization);
  }

  /**
   * Per-channel mean and (population) standard deviation of `p / divisor` over this view, for
   * `withNormalization`. Compute it on the training split and apply the same values to the others.
   * A channel with zero spread gets std 1.
   */
  computeNormalization(): { mean: number[]; std: number[] } {
    const C = this.channels;
    const per = this.height * this.width * C;
    const sum = new Float64Array(C);
    const sumSq = new Float64Array(C);
    for (let i = 0; i < this.indices.length; i++) {
      const base = this.indices[i] * per;
      for (let j = 0; j < per; j++) {
        const v = this.images[base + j] / this.divisor;
        sum[j % C] += v;
        sumSq[j % C] += v * v;
      }
    }
    const count = (this.indices.length * per) / C;
    const mean: number[] = [];
    const std: number[] = [];
    for (let c = 0; c < C; c++) {
      const m = count > 0 ? sum[c] / count : 0;
      const variance = count > 0 ? Math.max(0, sumSq[c] / count - m * m) : 0;
      mean.push(m);
      std.push(variance > 0 ? Math.sqrt(variance) : 1);
    }
    return { mean, std };
  }

  /** How many batches `batches(batchSize, { dropLast })` yields. */
  numBatches(batchSize: number, dropLast = false): number {
    checkBatchSize('Dataset.numBatches', batchSize);
    return dropLast ? Math.floor(this.length / batchSize) : Math.ceil(this.length / batchSize);
  }

  /**
   * Mini-batches of normalised float32 images. With `shuffle`, the order is one
   * `rng.permutation(length)`, drawn when `batches` is called; augmentation draws per sample, in
   * batch order, as the batches are consumed (see `drawTransform`). The same seed gives the same
   * batches bit for bit. Only one batch is converted at a time; the storage is never copied.
   */
  batches(batchSize: number, opts: BatchOptions = {}): IterableIterator<Batch> {
    const op = 'Dataset.batches';
    checkBatchSize(op, batchSize);
    const aug = resolveAugment(op, opts.augment);
    if (opts.shuffle && opts.rng === undefined) throw new Error(`${op}: shuffle: true needs an rng (e.g. new Rng(seed)) so the order is reproducible`);
    if (opts.rng !== undefined) checkRng(op, 'opts.rng', opts.rng);
    const augRng = opts.augment?.rng ?? opts.rng;
    if (aug !== null && augRng === undefined) throw new Error(`${op}: augmentation needs an rng (opts.rng or opts.augment.rng) so it is reproducible`);
    if (opts.augment?.rng !== undefined) checkRng(op, 'opts.augment.rng', opts.augment.rng);
    const order = opts.shuffle ? opts.rng!.permutation(this.length) : null;
    const count = this.numBatches(batchSize, opts.dropLast ?? false);
    return this.generate(batchSize, count, order, aug, augRng ?? null);
  }

  private *generate(batchSize: number, count: number, order: Int32Array | null, aug: ResolvedAugment | null, rng: Rng | null): Generator<Batch> {
    const per = this.height * this.width * this.channels;
    for (let k = 0; k < count; k++) {
      const start = k * batchSize;
      const B = Math.min(batchSize, this.length - start);
      const x = new Float32Array(B * per);
      const y = new Int32Array(B);
      const positions = new Int32Array(B);
      for (let b = 0; b < B; b++) {
        const pos = order === null ? start + b : order[start + b];
        const s = this.indices[pos];
        positions[b] = pos;
        y[b] = this.labels[s];
        this.fill(x, b * per, s, aug === null ? null : drawTransform(rng!, aug));
      }
      yield { x: new Tensor(x, [B, this.height, this.width, this.channels]), y, indices: positions };
    }
  }

  /** Writes stored sample `s`, normalised and transformed, to `out[offset …]`. */
  private fill(out: Float32Array, offset: number, s: number, t: SampleTransform | null): void {
    const H = this.height;
    const W = this.width;
    const C = this.channels;
    const base = s * H * W * C;
    const src = this.images;
    const { mean, std } = this.norm;
    const lut = src instanceof Uint8Array ? this.getLut() : null;
    if (t === null || (t.dy === 0 && t.dx === 0 && !t.flip)) {
      const n = H * W * C;
      if (lut !== null) {
        if (C === 1) for (let j = 0; j < n; j++) out[offset + j] = lut[src[base + j]];
        else for (let j = 0; j < n; j++) out[offset + j] = lut[(j % C) * 256 + src[base + j]];
      } else {
        for (let j = 0; j < n; j++) out[offset + j] = (src[base + j] / this.divisor - mean[j % C]) / std[j % C];
      }
      return;
    }
    for (let oy = 0; oy < H; oy++) {
      const sy = oy - t.dy;
      for (let ox = 0; ox < W; ox++) {
        const shiftedX = ox - t.dx;
        const sx = t.flip ? W - 1 - shiftedX : shiftedX;
        const inside = sy >= 0 && sy < H && shiftedX >= 0 && shiftedX < W;
        const o = offset + (oy * W + ox) * C;
        const i = base + (sy * W + sx) * C;
        for (let c = 0; c < C; c++) {
          // Outside the image the raw pixel is 0 (black), normalised like any other pixel.
          const p = inside ? src[i + c] : 0;
          out[o + c] = lut !== null ? lut[c * 256 + p] : (p / this.divisor - mean[c]) / std[c];
        }
      }
    }
  }

  /** For Uint8 storage: the normalised value of every byte in every channel, `[C * 256]`. */
  private getLut(): Float32Array {
    if (this.lut === null) {
      const C = this.channels;
      const lut = new Float32Array(C * 256);
      for (let c = 0; c < C; c++) {
        for (let p = 0; p < 256; p++) lut[c * 256 + p] = (p / 255 - this.norm.mean[c]) / this.norm.std[c];
      }
      this.lut = lut;
    }
    return this.lut;
  }

  private view(indices: Int32Array, normalization: Normalization | null): Dataset {
    return new Dataset({
      images: this.images,
      labels: this.labels,
      height: this.height,
      width: this.width,
      channels: this.channels,
      classNames: this.classNames,
      normalization,
      indices,
    });
  }

  private checkPosition(op: string, i: number): number {
    if (!Number.isInteger(i) || i < 0 || i >= this.length) throw new Error(`${op}: index ${String(i)} out of range for a dataset of ${this.length} samples`);
    return i;
  }

  toString(): string {
    return `Dataset(${this.length} x [${this.height}, ${this.width}, ${this.channels}] ${this.images instanceof Uint8Array ? 'uint8' : 'float32'}, ${this.numClasses} classes)`;
  }
}

function resolveNormalization(op: string, n: Normalization | null, channels: number): Resolved | null {
  if (n === null) return null;
  const perChannel = (name: 'mean' | 'std'): Float64Array => {
    const v = n[name];
    const arr = typeof v === 'number' ? new Array<number>(channels).fill(v) : Array.isArray(v) ? v : null;
    if (arr === null || arr.length !== channels) {
      throw new Error(`${op}: normalization.${name} must be a number or an array of ${channels} numbers (one per channel), got ${describe(v)}`);
    }
    arr.forEach((x, c) => {
      if (typeof x !== 'number' || !Number.isFinite(x) || (name === 'std' && x <= 0)) {
        throw new Error(`${op}: normalization.${name}[${c}] must be a finite number${name === 'std' ? ' > 0' : ''}, got ${String(x)}`);
      }
    });
    return Float64Array.from(arr);
  };
  return { mean: perChannel('mean'), std: perChannel('std') };
}

function checkBatchSize(op: string, batchSize: number): void {
  if (!Number.isInteger(batchSize) || batchSize <= 0) throw new Error(`${op}: batchSize must be a positive integer, got ${String(batchSize)}`);
}

function isRng(v: unknown): v is Rng {
  return v !== null && typeof v === 'object' && typeof (v as Rng).permutation === 'function' && typeof (v as Rng).int === 'function';
}

function checkRng(op: string, arg: string, rng: unknown): void {
  if (!isRng(rng)) throw new Error(`${op}: ${arg} must be an Rng, got ${describe(rng)}`);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (Array.isArray(v)) return `array of length ${v.length}`;
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return `${typeof v} ${String(v)}`;
}
