/**
 * Training checkpoints, the browser-safe part: everything a run needs to resume bit-identically,
 * encoded as two Stride files (docs/model-format.md, "Checkpoints"):
 *
 * - `model.safetensors`: the model file (`serializeModel`): architecture, weights, BatchNorm
 *   statistics and the model's Rng state (dropout masks);
 * - `state.safetensors`: the optimizer's state slots as tensors (`optimizer.<slot>.<param>`), the
 *   trainer's tensors (`trainer.<name>`), and in `__metadata__['stride.checkpoint']` a JSON record of
 *   the epoch, the optimizer's kind/hyperparameters/step count, the metrics history, the training
 *   config, the trainer's JSON state (e.g. the shuffle Rng's state) and the model file's checksum.
 *
 * src/node/checkpoint.ts writes these into a directory atomically; here they are bytes.
 *
 * ```ts
 * const files = encodeCheckpoint({ model, optimizer, epoch: 3, metrics, config, trainerState: { shuffleRng: rng.getState() } });
 * const ck = decodeCheckpoint(files);   // ck.model, ck.optimizer (state restored), ck.epoch, ...
 * ```
 */
import { Tensor } from '../tensor/tensor.js';
import type { Param } from '../layers/layer.js';
import type { Optimizer, OptimizerSpec, OptimizerStateDict, OptimizerStateDictInput } from '../optim/optimizer.js';
import { optimizerFromSpec } from '../optim/registry.js';
import { Sequential } from './sequential.js';
import { firstNonFinite } from './fit.js';
import { readModel, serializeModel, type LoadOptions } from './serialize.js';
import { ModelFormatError, type NamedTensor } from './safetensors.js';
import { CHECKSUM_KEY, checkFinite, decodeStrideFile, encodeStrideFile, parseMetaJson } from './stride-file.js';

/** The value of `__metadata__['stride.format']` in a checkpoint's state file. */
export const CHECKPOINT_FORMAT = 'stride-checkpoint';
/** The metadata key of the checkpoint's JSON record. */
export const CHECKPOINT_KEY = 'stride.checkpoint';

/** Plain JSON data (what survives `JSON.stringify` / `JSON.parse` unchanged). */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** What a checkpoint needs from an optimizer (every optimizer in src/optim has it). */
export interface CheckpointOptimizer {
  toSpec(): OptimizerSpec;
  stateDict(params: readonly Param[]): OptimizerStateDict;
  loadStateDict(params: readonly Param[], state: OptimizerStateDictInput): void;
}

/** What to save at the end of an epoch. */
export interface CheckpointInput {
  model: Sequential;
  /** The optimizer whose state (moments, step count, lr) must survive; null for none. */
  optimizer?: CheckpointOptimizer | null;
  /** The number of completed epochs (a resumed run starts at epoch `epoch + 1`, 1-based). */
  epoch: number;
  /** The metrics history, one JSON record per epoch, e.g. `{ epoch: 1, loss: 0.3, valAccuracy: 0.9 }`. */
  metrics?: Json[];
  /** The training configuration (batch size, lr, seed, ...), as given to the trainer. */
  config?: Json;
  /** Any other JSON state of the trainer, e.g. `{ shuffleRng: shuffleRng.getState() }`. */
  trainerState?: Json;
  /** Named float32 tensors of the trainer (e.g. an EMA of the weights). */
  trainerTensors?: Record<string, Float32Array | Tensor>;
  /**
   * Extra `__metadata__` entries of the checkpoint's model file (`serializeModel`'s `metadata`, e.g. the
   * class names), so the model file inside a checkpoint is as complete as a saved model.
   */
  modelMetadata?: Record<string, string>;
}

/** A decoded checkpoint: everything rebuilt, ready to continue training. */
export interface Checkpoint {
  model: Sequential;
  /** Rebuilt from its spec with its state loaded for `model.params()`; null if none was saved. */
  optimizer: Optimizer | null;
  epoch: number;
  metrics: Json[];
  config: Json;
  trainerState: Json;
  trainerTensors: Record<string, Tensor>;
  /** Every `__metadata__` entry of the model file (the `modelMetadata` saved, and Stride's own keys). */
  modelMetadata: Record<string, string>;
}

/** The two files of a checkpoint. */
export interface CheckpointFiles {
  /** `model.safetensors`: a regular model file. */
  model: Uint8Array;
  /** `state.safetensors`: optimizer and trainer state. */
  state: Uint8Array;
}

/** The JSON record stored in `__metadata__['stride.checkpoint']`. */
interface CheckpointRecord {
  epoch: number;
  metrics: Json[];
  config: Json;
  trainerState: Json;
  /** The checksum of the model file saved with this state (detects mixed-up files). */
  modelChecksum: string;
  optimizer: { kind: string; hyper: Record<string, number | boolean>; step: number; slots: string[]; params: string[] } | null;
  trainerTensors: string[];
}

/** Names of the model's trainable parameters, in `model.params()` order: `layers.<i>.<name>`. */
export function paramNames(model: Sequential): string[] {
  return model.layers.flatMap((l, i) => l.params().map((p) => `layers.${i}.${p.name}`));
}

/** Throws unless `v` is plain JSON that survives a round trip exactly (no NaN, undefined, typed arrays, ...). */
export function checkJson(op: string, path: string, v: unknown): void {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`${op}: ${path} is ${v}, which JSON cannot hold`);
    return;
  }
  if (Array.isArray(v)) {
    v.forEach((e, i) => checkJson(op, `${path}[${i}]`, e));
    return;
  }
  if (typeof v === 'object') {
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) {
      const name = (v as object).constructor?.name ?? 'object';
      const hint = ArrayBuffer.isView(v) || v instanceof Tensor ? '; put tensors in trainerTensors' : '';
      throw new Error(`${op}: ${path} is a ${name}, not plain JSON${hint}`);
    }
    for (const [k, e] of Object.entries(v)) checkJson(op, `${path}.${k}`, e);
    return;
  }
  throw new Error(`${op}: ${path} is a ${typeof v}, not JSON`);
}

/** Encodes a checkpoint as its two files. Validates the input first. */
export function encodeCheckpoint(input: CheckpointInput): CheckpointFiles {
  const op = 'encodeCheckpoint';
  if (input === null || typeof input !== 'object') throw new Error(`${op}: expected {model, optimizer, epoch, ...}, got ${String(input)}`);
  const { model, optimizer = null, epoch, metrics = [], config = null, trainerState = null, trainerTensors = {}, modelMetadata } = input;
  if (!(model instanceof Sequential)) throw new Error(`${op}: model must be a Sequential`);
  if (typeof epoch !== 'number' || !Number.isSafeInteger(epoch) || epoch < 0) {
    throw new Error(`${op}: epoch must be a non-negative integer (completed epochs), got ${JSON.stringify(epoch)}`);
  }
  if (!Array.isArray(metrics)) throw new Error(`${op}: metrics must be an array (one record per epoch), got ${typeof metrics}`);
  checkJson(op, 'metrics', metrics);
  checkJson(op, 'config', config);
  checkJson(op, 'trainerState', trainerState);
  if (trainerTensors === null || typeof trainerTensors !== 'object') throw new Error(`${op}: trainerTensors must be an object of tensors`);

  // loadCheckpoint refuses NaN and infinities, so a checkpoint holding them could never be resumed:
  // refuse to write one (the previous checkpoint on disk stays the latest).
  const refuse = (what: string, value: number, j: number): never => {
    throw new Error(`${op}: ${what} holds ${value} (element ${j}); a checkpoint must hold finite values (training diverged? try a lower learning rate)`);
  };
  const finite = (what: string, data: ArrayLike<number>): void => {
    for (let j = 0; j < data.length; j++) if (!Number.isFinite(data[j])) refuse(what, data[j], j);
  };
  const bad = firstNonFinite(model);
  if (bad !== null) refuse(`parameter ${bad.name}`, bad.value, bad.index);
  const tensors: NamedTensor[] = [];
  let optRecord: CheckpointRecord['optimizer'] = null;
  if (optimizer !== null) {
    if (typeof optimizer.stateDict !== 'function' || typeof optimizer.toSpec !== 'function') {
      throw new Error(`${op}: optimizer must have stateDict(params) and toSpec() (see src/optim)`);
    }
    const params = model.params();
    const names = paramNames(model);
    const sd = optimizer.stateDict(params);
    const slots = Object.keys(sd.slots);
    for (const slot of slots) {
      sd.slots[slot].forEach((data, i) => {
        finite(`optimizer state '${slot}' of ${names[i]}`, data);
        tensors.push({ name: `optimizer.${slot}.${names[i]}`, shape: params[i].value.shape, data });
      });
    }
    optRecord = { kind: sd.kind, hyper: { ...sd.hyper }, step: sd.step, slots, params: names };
  }
  const trainerNames = Object.keys(trainerTensors);
  for (const name of trainerNames) {
    const t = trainerTensors[name];
    if (t instanceof Tensor) tensors.push({ name: `trainer.${name}`, shape: t.shape, data: t.data });
    else if (t instanceof Float32Array) tensors.push({ name: `trainer.${name}`, shape: [t.length], data: t });
    else throw new Error(`${op}: trainerTensors.${name} must be a Tensor or Float32Array`);
    finite(`trainer tensor '${name}'`, tensors[tensors.length - 1].data);
  }

  const modelBytes = serializeModel(model, modelMetadata === undefined ? {} : { metadata: modelMetadata });
  const modelChecksum = readChecksum(modelBytes);
  const record: CheckpointRecord = { epoch, metrics, config, trainerState, modelChecksum, optimizer: optRecord, trainerTensors: trainerNames };
  const state = encodeStrideFile(CHECKPOINT_FORMAT, tensors, { [CHECKPOINT_KEY]: JSON.stringify(record) });
  return { model: modelBytes, state };
}

/** The checksum written by `encodeStrideFile` (read back from the header without full decoding). */
function readChecksum(bytes: Uint8Array): string {
  const len = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + len))) as { __metadata__: Record<string, string> };
  return header.__metadata__[CHECKSUM_KEY];
}

/**
 * Decodes and validates a checkpoint's two files and rebuilds the model and optimizer.
 * Validation: both files as model files are validated (structure, format, version, checksum), the
 * state file belongs to this model file (checksum cross-reference), the JSON record is well formed,
 * the optimizer state has exactly one tensor per slot and parameter with the parameter's shape, the
 * trainer tensors listed are present, no tensor is unaccounted for, and (unless `allowNaN`) every
 * value is finite. `op` prefixes error messages.
 */
export function decodeCheckpoint(files: CheckpointFiles, opts: LoadOptions = {}, op = 'decodeCheckpoint'): Checkpoint {
  function fail(msg: string, cause?: unknown): never {
    throw new ModelFormatError(`${op}: ${msg}`, cause === undefined ? undefined : { cause });
  }
  if (files === null || typeof files !== 'object') fail('expected {model, state} bytes');
  const { model, checksum, metadata: modelMetadata } = readModel(files.model, opts, `${op}: model file`);
  const stateOp = `${op}: state file`;
  const state = decodeStrideFile(files.state, CHECKPOINT_FORMAT, stateOp);
  const rec = parseMetaJson(stateOp, state.metadata, CHECKPOINT_KEY) as Partial<CheckpointRecord> | null;
  if (rec === null || typeof rec !== 'object' || Array.isArray(rec)) fail(`state file: ${CHECKPOINT_KEY} must be a JSON object`);
  if (rec.modelChecksum !== checksum) {
    fail(`the state file was saved with a model file of checksum ${String(rec.modelChecksum)}, but the model file has ${checksum} (files from different checkpoints?)`);
  }
  if (typeof rec.epoch !== 'number' || !Number.isSafeInteger(rec.epoch) || rec.epoch < 0) fail(`state file: epoch must be a non-negative integer, got ${JSON.stringify(rec.epoch)}`);
  if (!Array.isArray(rec.metrics)) fail(`state file: metrics must be an array, got ${JSON.stringify(rec.metrics)}`);
  if (!Array.isArray(rec.trainerTensors) || rec.trainerTensors.some((n) => typeof n !== 'string')) fail('state file: trainerTensors must be an array of names');

  const used = new Set<string>();
  const take = (name: string, shape?: readonly number[]): NamedTensor => {
    const t = state.byName.get(name);
    if (t === undefined) return fail(`state file: missing tensor '${name}'`);
    if (shape !== undefined && (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))) {
      fail(`state file: tensor '${name}' has shape [${t.shape.join(', ')}], but the model's parameter has [${shape.join(', ')}]`);
    }
    if (!opts.allowNaN) checkFinite(stateOp, t);
    used.add(name);
    return t;
  };

  let optimizer: Optimizer | null = null;
  if (rec.optimizer !== null && rec.optimizer !== undefined) {
    const o = rec.optimizer;
    const params = model.params();
    const names = paramNames(model);
    if (!Array.isArray(o.params) || o.params.length !== names.length || o.params.some((n, i) => n !== names[i])) {
      fail(`state file: the optimizer state is for parameters [${Array.isArray(o.params) ? o.params.join(', ') : String(o.params)}], but the model has [${names.join(', ')}]`);
    }
    if (!Array.isArray(o.slots) || o.slots.some((s) => typeof s !== 'string')) fail('state file: optimizer.slots must be an array of names');
    const slots: Record<string, Float32Array[]> = {};
    for (const slot of o.slots) slots[slot] = names.map((n, i) => take(`optimizer.${slot}.${n}`, params[i].value.shape).data);
    try {
      optimizer = optimizerFromSpec({ kind: o.kind, hyper: o.hyper });
      optimizer.loadStateDict(params, { kind: o.kind, hyper: o.hyper, step: o.step, slots, shapes: params.map((p) => [...p.value.shape]) });
    } catch (e) {
      fail(`state file: optimizer: ${(e as Error).message}`, e);
    }
  }
  const trainerTensors: Record<string, Tensor> = {};
  for (const name of rec.trainerTensors) {
    const t = take(`trainer.${name}`);
    trainerTensors[name] = new Tensor(t.data, t.shape);
  }
  const extra = state.tensors.filter((t) => !used.has(t.name)).map((t) => `'${t.name}'`);
  if (extra.length > 0) fail(`state file: unknown tensor${extra.length > 1 ? 's' : ''} ${extra.join(', ')}`);
  return {
    model,
    optimizer,
    epoch: rec.epoch,
    metrics: rec.metrics,
    config: rec.config ?? null,
    trainerState: rec.trainerState ?? null,
    trainerTensors,
    modelMetadata,
  };
}
