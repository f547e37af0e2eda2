/**
 * How a `stride train` run starts: fresh (a new optimizer) or from a checkpoint (`--resume`: its
 * configuration merged with the flags given, its model, optimizer state, history and shuffle Rng),
 * and where the model comes from: the checkpoint, a model file, or a preset built once the data
 * says how many classes there are.
 */
import type { Json } from '../../model/checkpoint.js';
import type { EpochMetrics } from '../../model/fit.js';
import { isPreset } from '../../model/presets.js';
import type { Sequential } from '../../model/sequential.js';
import type { Optimizer } from '../../optim/optimizer.js';
import { loadCheckpoint, hasCheckpoint } from '../../node/checkpoint.js';
import type { LoadedData } from '../data.js';
import { infoFromMetadata, readModelFile, resolveModel, type CliModelInfo } from '../models.js';
import { CliError, usageError } from '../util.js';
import { CONFIG_KEYS, FIXED_ON_RESUME, buildOptimizer, kebab, type RawOptions, type TrainConfig } from './config.js';

/** The state a run starts from. */
export interface RunStart {
  /** The run's configuration: the flags, or on resume the checkpoint's with the flags given on top. */
  config: TrainConfig;
  optimizer: Optimizer;
  /** Epochs already done (0 for a fresh run). */
  startEpoch: number;
  /** The metrics of the epochs already done. */
  history: EpochMetrics[];
  /** The shuffle/augmentation Rng state to continue from (resuming only). */
  rngState: number[] | null;
  /** The configuration the checkpoint was trained with (resuming only). */
  savedConfig: TrainConfig | null;
  /** The checkpoint's model and what its model file records about its data (resuming only). */
  resumed: { model: Sequential; info: CliModelInfo } | null;
}

/** A fresh run from the flags, or with `--resume` the checkpoint in `--checkpoint` continued. */
export async function startRun(raw: RawOptions, config: TrainConfig, given: (option: string) => boolean): Promise<RunStart> {
  if (raw.resume && raw.checkpoint !== undefined) return resumeRun(raw.checkpoint, config, given);
  const optimizer = buildOptimizer(config);
  // Record the base learning rate itself: on resume the optimizer's lr is the last scheduled one.
  if (config.lr === null) config.lr = optimizer.lr;
  return { config, optimizer, startEpoch: 0, history: [], rngState: null, savedConfig: null, resumed: null };
}

async function resumeRun(dir: string, flags: TrainConfig, given: (option: string) => boolean): Promise<RunStart> {
  if (!(await hasCheckpoint(dir))) throw new CliError(`--resume: no checkpoint in '${dir}' (expected ${dir}/checkpoint.json)`);
  const ck = await loadCheckpoint(dir);
  const saved = savedTrainConfig(ck.config);
  if (saved === null) throw new CliError(`--resume: the checkpoint in '${dir}' was not written by 'stride train' (no training config)`);
  const config: TrainConfig = { ...saved };
  for (const k of CONFIG_KEYS) {
    if (!given(k)) continue;
    if (FIXED_ON_RESUME.includes(k) && JSON.stringify(flags[k]) !== JSON.stringify(saved[k])) {
      throw usageError(`--resume: --${kebab(k)} cannot change when resuming (the checkpoint was trained with ${JSON.stringify(saved[k])}, got ${JSON.stringify(flags[k])})`);
    }
    copyKey(config, flags, k);
  }
  const info = infoFromMetadata(ck.modelMetadata);
  if (ck.optimizer === null) throw new CliError(`--resume: the checkpoint in '${dir}' has no optimizer state`);
  const optimizer = ck.optimizer;
  if (given('lr') && config.lr !== null) optimizer.lr = config.lr;
  // The records are the EpochMetrics this command saved (JSON of them, see runTraining).
  const history = (ck.metrics as unknown as EpochMetrics[]).map((r) => ({ ...r }));
  const ts = ck.trainerState as { rng?: number[] } | null;
  if (!Array.isArray(ts?.rng)) throw new CliError(`--resume: the checkpoint in '${dir}' has no shuffle Rng state`);
  return { config, optimizer, startEpoch: ck.epoch, history, rngState: ts.rng, savedConfig: saved, resumed: { model: ck.model, info } };
}

/** The training config of a checkpoint `stride train` wrote (an object naming a model), else null. */
function savedTrainConfig(json: Json): TrainConfig | null {
  if (json === null || typeof json !== 'object' || Array.isArray(json) || typeof json.model !== 'string') return null;
  // Written by this command from a TrainConfig; fields are taken as they were saved.
  return json as unknown as TrainConfig;
}

function copyKey<K extends keyof TrainConfig>(to: TrainConfig, from: TrainConfig, k: K): void {
  to[k] = from[k];
}

/**
 * Where the model comes from and so the image shape: the checkpoint's or a model file's model
 * decides it (a file's is checked against --image-size/--channels); a preset takes
 * --image-size/--channels (default 28x28x1) and is built later by `buildModel`.
 */
export type ModelSource =
  | { kind: 'model'; model: Sequential; shape: [number, number, number]; info: CliModelInfo }
  | { kind: 'preset'; shape: [number, number, number]; info: CliModelInfo };

export async function modelSource(config: TrainConfig, resumed: RunStart['resumed']): Promise<ModelSource> {
  if (resumed !== null) {
    const s = resumed.model.inputShape;
    return { kind: 'model', model: resumed.model, shape: [s[0], s[1], s[2]], info: resumed.info };
  }
  const shape: [number, number, number] = [config.imageSize?.[0] ?? 28, config.imageSize?.[1] ?? 28, config.channels ?? 1];
  if (isPreset(config.model.toLowerCase())) return { kind: 'preset', shape, info: {} };
  const file = await readModelFile(config.model);
  const s = file.model.inputShape;
  if (s.length !== 3 || (s[2] !== 1 && s[2] !== 3)) throw new CliError(`model '${config.model}' takes input [${s.join(', ')}], not images [H, W, 1 or 3]`);
  if (config.imageSize !== null && (config.imageSize[0] !== s[0] || config.imageSize[1] !== s[1])) {
    throw usageError(`--image-size ${config.imageSize.join('x')} does not match the model file's input ${s[0]}x${s[1]}`);
  }
  if (config.channels !== null && config.channels !== s[2]) throw usageError(`--channels ${config.channels} does not match the model file's input channels ${s[2]}`);
  return { kind: 'model', model: file.model, shape: [s[0], s[1], s[2]], info: file.info };
}

/** The model to train (a preset is built here, for the data's classes) and the facts its file will record. */
export async function buildModel(config: TrainConfig, source: ModelSource, data: LoadedData): Promise<{ model: Sequential; info: CliModelInfo }> {
  const model =
    source.kind === 'model' ? source.model : (await resolveModel(config.model, { inputShape: source.shape, numClasses: data.classNames.length, seed: config.seed })).model;
  const k = model.outputShape[model.outputShape.length - 1];
  if (model.outputShape.length !== 1 || k < data.classNames.length) {
    throw new CliError(`model '${config.model}' outputs [${model.outputShape.join(', ')}] but the data has ${data.classNames.length} classes`);
  }
  const info: CliModelInfo = { ...source.info, classNames: [...data.classNames], data: data.name };
  if (isPreset(config.model.toLowerCase())) info.preset = config.model.toLowerCase();
  return { model, info };
}
