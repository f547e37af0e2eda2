import { Rng } from './random.js';
import { recycleFloat32 } from './storage.js';

export type Shape = readonly number[];

const EMPTY = new Float32Array(0);
/** The storage the constructor adopts instead of `data` (set by `fromExternal` and `reshape` for one call). */
let adopting: Storage | null = null;

/** A nested array of numbers, as written by hand: `[[1, 2], [3, 4]]`. */
export type NestedArray = number | NestedArray[];

/**
 * Values a backend keeps outside JavaScript (the wasm backend: a block of WebAssembly memory) until
 * they are read: see `Tensor.fromExternal`.
 */
export interface ExternalValues {
  /** Copies the values into a Float32Array and releases the external memory (called once). */
  download(): Float32Array;
  /** Releases the external memory without reading it (called once, instead of `download`). */
  release(): void;
}

/**
 * Where a tensor's values are: a Float32Array, or external memory (`ext`) until the first read of
 * `data`. Shared by a tensor and the tensors `reshape` makes from it, so a download or a dispose is
 * seen by all of them.
 */
interface Storage {
  data: Float32Array | null;
  ext: ExternalValues | null;
  disposed: boolean;
}

/** Storage still external, made inside `withExternalOutputs` (downloaded when it ends). */
const scopeExternal = new Set<Storage>();
let scopeDepth = 0;

/**
 * Runs `f` with `externalOutputsWanted()` true: a backend may then leave kernel outputs in its own
 * memory (`Tensor.fromExternal`), so the next kernel reads them without a copy. Sequential's
 * `trainStep` and `predict` run their layers this way and dispose every intermediate. Whatever is
 * still external when the outermost call ends is downloaded into an ordinary Float32Array (so no
 * tensor that escapes the scope, or that a layer keeps, can lose its values or hold a backend's
 * memory); a tensor read from JavaScript (`data`) inside the scope is downloaded then.
 */
export function withExternalOutputs<T>(f: () => T): T {
  scopeDepth++;
  try {
    return f();
  } finally {
    if (--scopeDepth === 0) {
      for (const s of [...scopeExternal]) download(s);
      scopeExternal.clear();
    }
  }
}

/** Whether the caller runs inside `withExternalOutputs` (a backend's kernels ask this). */
export function externalOutputsWanted(): boolean {
  return scopeDepth > 0;
}

function download(s: Storage): Float32Array {
  const ext = s.ext!;
  s.ext = null;
  scopeExternal.delete(s);
  s.data = ext.download();
  return s.data;
}

/**
 * A dense float32 tensor in row-major (C) order. No autograd: layers and kernels pass gradients
 * explicitly, as the seeds do.
 *
 * Conventions (see docs/conventions.md): activations are NHWC `[N, H, W, C]`, convolution filters
 * are HWIO `[fh, fw, Cin, Cout]`, dense weights are `[in, out]`.
 */
export class Tensor {
  #store: Storage;
  readonly #size: number;
  readonly shape: Shape;

  constructor(data: Float32Array, shape: Shape) {
    const store = adopting;
    adopting = null;
    if (store === null && !(data instanceof Float32Array)) {
      throw new Error(`Tensor: data must be a Float32Array, got ${describe(data)}`);
    }
    checkShape('Tensor', 'shape', shape);
    const size = shapeSize(shape);
    if (store === null && data.length !== size) {
      throw new Error(`Tensor: data length ${data.length} does not match shape [${shape.join(', ')}] (expected ${size} elements)`);
    }
    this.#store = store ?? { data, ext: null, disposed: false };
    this.#size = size;
    this.shape = Object.freeze([...shape]);
  }

  /**
   * For backends: a tensor of `shape` whose values live in the backend's memory (`values`) until
   * JavaScript reads `data`, which downloads them once (the tensor is then an ordinary one).
   * Kernels of the same backend read such a tensor in place (see `external`). Made inside
   * `withExternalOutputs`, which downloads whatever is still external when it ends.
   */
  static fromExternal(values: ExternalValues, shape: Shape): Tensor {
    const store: Storage = { data: null, ext: values, disposed: false };
    adopting = store;
    let t: Tensor;
    try {
      t = new Tensor(EMPTY, shape);
    } finally {
      adopting = null;
    }
    if (scopeDepth > 0) scopeExternal.add(store);
    return t;
  }

  /**
   * The values, row-major: a Float32Array (empty once the tensor is disposed). For a tensor whose
   * values a backend kept in its own memory (`Tensor.fromExternal`), the first read copies them out.
   */
  get data(): Float32Array {
    const s = this.#store;
    return s.data ?? download(s);
  }

  /** The backend memory holding the values, or null when they are in a Float32Array (`data`). */
  get external(): ExternalValues | null {
    return this.#store.ext;
  }

  /**
   * Whether `this` and `other` share their values: one tensor, a `reshape` of the other, or arrays
   * on one ArrayBuffer (a view of part of it, as `predict` makes for a batch).
   */
  sharesStorage(other: Tensor): boolean {
    const a = this.#store;
    const b = other.#store;
    if (a === b) return true;
    if (a.disposed || b.disposed || a.data === null || b.data === null) return false;
    return a.data.buffer === b.data.buffer;
  }

  /** Whether `dispose()` was called (on this tensor or one sharing its values through `reshape`). */
  get isDisposed(): boolean {
    return this.#store.disposed;
  }

  /** Throws, naming `op`, if the tensor was disposed. */
  assertLive(op: string, arg = 'tensor'): void {
    if (this.#store.disposed) throw new Error(`${op}: ${arg} was disposed (shape [${this.shape.join(', ')}]): its memory has been given back`);
  }

  /**
   * Gives the tensor's memory back for reuse by later kernel outputs (see tensor/storage.ts) and
   * makes the tensor unusable: its `data` becomes an empty array, and every op and layer throws when
   * given it. Tensors made by `reshape` from it share its memory and are disposed with it. Optional:
   * tensors that are never disposed are garbage-collected as usual. Calling it twice does nothing.
   */
  dispose(): void {
    const s = this.#store;
    if (s.disposed) return;
    s.disposed = true;
    if (s.ext !== null) {
      const ext = s.ext;
      s.ext = null;
      scopeExternal.delete(s);
      ext.release();
    } else if (s.data !== null) {
      recycleFloat32(s.data);
    }
    s.data = EMPTY;
  }

  get rank(): number {
    return this.shape.length;
  }

  /** The number of elements (the product of the shape). */
  get size(): number {
    return this.#size;
  }

  /** A tensor of zeros. */
  static zeros(shape: Shape): Tensor {
    checkShape('Tensor.zeros', 'shape', shape);
    checkTensorSize('Tensor.zeros', 'shape', shape);
    return new Tensor(new Float32Array(shapeSize(shape)), shape);
  }

  static ones(shape: Shape): Tensor {
    return Tensor.full(shape, 1);
  }

  static full(shape: Shape, value: number): Tensor {
    checkShape('Tensor.full', 'shape', shape);
    checkTensorSize('Tensor.full', 'shape', shape);
    if (typeof value !== 'number') throw new Error(`Tensor.full: value must be a number, got ${describe(value)}`);
    return new Tensor(new Float32Array(shapeSize(shape)).fill(value), shape);
  }

  /**
   * From a nested array; the shape is read from the nesting and must be rectangular.
   * `Tensor.fromArray([[1, 2], [3, 4]])` has shape [2, 2]. Pass `shape` to reshape flat data.
   */
  static fromArray(values: NestedArray | ArrayLike<number>, shape?: Shape): Tensor {
    if (shape !== undefined) {
      const flat = Array.isArray(values) ? flattenNested('Tensor.fromArray', values as NestedArray[]).flat : Array.from(values as ArrayLike<number>);
      return new Tensor(Float32Array.from(flat), shape);
    }
    if (typeof values === 'number') return new Tensor(Float32Array.of(values), []);
    if (!Array.isArray(values)) return new Tensor(Float32Array.from(values as ArrayLike<number>), [(values as ArrayLike<number>).length]);
    const { flat, shape: inferred } = flattenNested('Tensor.fromArray', values);
    return new Tensor(Float32Array.from(flat), inferred);
  }

  /** Uniform random values in [low, high) from a seed or an Rng. */
  static rand(shape: Shape, options: { seed?: number; rng?: Rng; low?: number; high?: number } | null = {}): Tensor {
    const opts = options ?? {};
    const rng = opts.rng ?? new Rng(opts.seed ?? 0);
    const t = Tensor.zeros(shape);
    const low = opts.low ?? 0;
    const high = opts.high ?? 1;
    for (let i = 0; i < t.data.length; i++) t.data[i] = rng.uniform(low, high);
    return t;
  }

  /** Normal random values from a seed or an Rng. */
  static randn(shape: Shape, options: { seed?: number; rng?: Rng; mean?: number; std?: number } | null = {}): Tensor {
    const opts = options ?? {};
    const rng = opts.rng ?? new Rng(opts.seed ?? 0);
    const t = Tensor.zeros(shape);
    for (let i = 0; i < t.data.length; i++) t.data[i] = rng.normal(opts.mean ?? 0, opts.std ?? 1);
    return t;
  }

  /** The same data under a new shape (shares the values, and `dispose`). One dimension may be -1. */
  reshape(shape: Shape): Tensor {
    this.assertLive('Tensor.reshape');
    if (!Array.isArray(shape)) throw new Error(`Tensor.reshape: shape must be an array of integers, got ${describe(shape)}`);
    const known = shape.filter((d) => d !== -1);
    const unknown = shape.length - known.length;
    if (unknown > 1) throw new Error(`Tensor.reshape: at most one dimension may be -1, got [${shape.join(', ')}]`);
    let resolved = [...shape];
    if (unknown === 1) {
      const prod = shapeSize(known);
      if (prod === 0 || this.size % prod !== 0) {
        throw new Error(`Tensor.reshape: cannot reshape [${this.shape.join(', ')}] (${this.size} elements) to [${shape.join(', ')}]`);
      }
      resolved = shape.map((d) => (d === -1 ? this.size / prod : d));
    }
    checkShape('Tensor.reshape', 'shape', resolved);
    if (shapeSize(resolved) !== this.size) {
      throw new Error(`Tensor.reshape: cannot reshape [${this.shape.join(', ')}] (${this.size} elements) to [${resolved.join(', ')}] (${shapeSize(resolved)} elements)`);
    }
    adopting = this.#store;
    try {
      return new Tensor(EMPTY, resolved);
    } finally {
      adopting = null;
    }
  }

  /** A deep copy. */
  clone(): Tensor {
    this.assertLive('Tensor.clone');
    return new Tensor(this.data.slice(), this.shape);
  }

  /** Nested arrays of numbers, the inverse of `fromArray`. */
  toArray(): NestedArray {
    this.assertLive('Tensor.toArray');
    if (this.rank === 0) return this.data[0];
    const build = (dim: number, offset: number): NestedArray[] => {
      const n = this.shape[dim];
      const stride = shapeSize(this.shape.slice(dim + 1));
      const out: NestedArray[] = [];
      for (let i = 0; i < n; i++) {
        out.push(dim === this.rank - 1 ? this.data[offset + i] : build(dim + 1, offset + i * stride));
      }
      return out;
    };
    return build(0, 0);
  }

  /** One element by coordinates. */
  get(...index: number[]): number {
    this.assertLive('Tensor.get');
    return this.data[this.offset(index)];
  }

  /** The flat offset of a coordinate tuple (row-major). */
  offset(index: readonly number[]): number {
    if (index.length !== this.rank) throw new Error(`Tensor.get: expected ${this.rank} indices, got ${index.length}`);
    let off = 0;
    for (let d = 0; d < this.rank; d++) {
      const i = index[d];
      if (!Number.isInteger(i) || i < 0 || i >= this.shape[d]) {
        throw new Error(`Tensor.get: index ${i} out of range for dimension ${d} of size ${this.shape[d]}`);
      }
      off = off * this.shape[d] + i;
    }
    return off;
  }

  toString(): string {
    return `Tensor(shape=[${this.shape.join(', ')}])`;
  }
}

/**
 * The most elements one tensor may have: 2^31 - 1 (8 GiB of float32). Factories and ops whose
 * result would be larger throw, naming the op and the sizes, before anything is allocated (the
 * WebAssembly kernels index with 32-bit integers; a typed array cannot be much larger anyway).
 */
export const MAX_TENSOR_ELEMENTS = 2 ** 31 - 1;

/** Throws unless a tensor of `shape` (the `what` of `op`, e.g. 'the output') fits MAX_TENSOR_ELEMENTS. */
export function checkTensorSize(op: string, what: string, shape: Shape): void {
  const n = shapeSize(shape);
  if (n > MAX_TENSOR_ELEMENTS) {
    const gib = ((n * 4) / 2 ** 30).toFixed(1);
    throw new Error(
      `${op}: ${what} [${shape.join(', ')}] would have ${n.toLocaleString('en-US')} elements (${gib} GiB of float32), more than the ${MAX_TENSOR_ELEMENTS.toLocaleString('en-US')} a tensor can hold`,
    );
  }
}

/** The number of elements of a shape (1 for a scalar). */
export function shapeSize(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Throws unless every dimension is a non-negative integer. */
export function checkShape(op: string, arg: string, shape: Shape): void {
  if (!Array.isArray(shape)) throw new Error(`${op}: ${arg} must be an array of integers, got ${describe(shape)}`);
  for (let i = 0; i < shape.length; i++) {
    const d: unknown = shape[i];
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) {
      // A string dimension is quoted ("4"), so it cannot be mistaken for the number it looks like.
      const show = (v: unknown): string => (typeof v === 'number' ? String(v) : v === undefined ? 'undefined' : JSON.stringify(v));
      throw new Error(`${op}: ${arg}[${i}] must be a non-negative integer, got ${show(d)} in [${(shape as unknown[]).map(show).join(', ')}]`);
    }
  }
}

/** Coordinates of a flat offset, for error messages. */
export function unravel(offset: number, shape: Shape): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = offset % shape[d];
    offset = Math.floor(offset / shape[d]);
  }
  return idx;
}

function flattenNested(op: string, values: NestedArray[]): { flat: number[]; shape: number[] } {
  const shape: number[] = [];
  let level: NestedArray = values;
  while (Array.isArray(level)) {
    shape.push(level.length);
    if (level.length === 0) break;
    level = level[0];
  }
  const flat: number[] = [];
  const walk = (v: NestedArray, dim: number, path: string): void => {
    if (dim === shape.length) {
      if (typeof v !== 'number') throw new Error(`${op}: ragged array: expected a number at ${path}, got ${describe(v)}`);
      flat.push(v);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[dim]) {
      throw new Error(`${op}: ragged array: expected length ${shape[dim]} at ${path || 'top level'}, got ${Array.isArray(v) ? v.length : describe(v)}`);
    }
    v.forEach((e, i) => walk(e, dim + 1, `${path}[${i}]`));
  };
  walk(values, 0, '');
  return { flat, shape };
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `array of length ${v.length}`;
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return `${typeof v} ${String(v)}`;
}
