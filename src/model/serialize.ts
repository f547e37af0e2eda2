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
 * docs/model-format.md is the full specification. The layers below this file: the safetensors
 * container (src/model/safetensors.ts), the Stride envelope of format, version and checksum
 * (src/model/stride-file.ts, shared with checkpoints) and CRC-32 (src/model/crc32.ts).
 *
 * ```ts
 * const bytes = serializeModel(model);            // Uint8Array
 * const again = deserializeModel(bytes);          // a new Sequential with the same weights
 * ```
 */
import { Tensor, type Shape } from '../tensor/tensor.js';
import { Sequential, type SequentialSpec } from './sequential.js';
import { ModelFormatError, copyF32Into } from './safetensors.js';
import { CHECKSUM_KEY, checkFinite, encodeStrideFile, parseMetaJson, readStrideLayout } from './stride-file.js';

/** The value of `__metadata__['stride.format']` in a model file. */
export const MODEL_FORMAT = 'stride-model';

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
  // Everything is validated on the file's own bytes (structure, checksum, the tensors the
  // architecture implies) before anything is allocated; weights are then copied straight into the model.
  const file = readStrideLayout(bytes, MODEL_FORMAT, op);
  const byName = new Map(file.entries.map((t) => [t.name, t]));
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
  checkTensorsMatch(fail, planned, file.entries, byName);
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
  checkTensorsMatch(fail, expected.map(({ name, tensor }) => ({ name, shape: tensor.shape })), file.entries, byName);
  for (const { name, tensor } of expected) {
    const t = byName.get(name)!;
    copyF32Into(tensor.data, file.bytes, t.begin, t.end);
    if (!opts.allowNaN) checkFinite(op, { name, shape: tensor.shape, data: tensor.data });
  }
  return { model, checksum: file.metadata[CHECKSUM_KEY], metadata: file.metadata };
}

/** Fails unless the file holds exactly the `expected` tensors, with the same shapes. */
function checkTensorsMatch(
  fail: (msg: string) => never,
  expected: readonly { name: string; shape: Shape }[],
  present: readonly { name: string; shape: Shape }[],
  byName: ReadonlyMap<string, { shape: Shape }>,
): void {
  const expectedNames = new Set(expected.map((t) => t.name));
  const missing = expected.filter((t) => !byName.has(t.name)).map((t) => `'${t.name}'`);
  const unknown = present.filter((t) => !expectedNames.has(t.name)).map((t) => `'${t.name}'`);
  if (missing.length > 0 || unknown.length > 0) {
    const parts: string[] = [];
    if (missing.length > 0) parts.push(`missing tensor${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
    if (unknown.length > 0) parts.push(`unknown tensor${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}`);
    fail(`${parts.join('; ')} (the architecture has ${expected.length}: ${expected.map((t) => t.name).join(', ') || 'none'})`);
  }
  for (const { name, shape } of expected) {
    const t = byName.get(name)!;
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
