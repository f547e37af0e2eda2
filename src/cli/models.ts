/**
 * Models for the CLI: a preset name or a model file, plus the few facts about the training data a
 * model file carries for `predict` and `eval` (class names, which dataset, how images were resized).
 *
 * Those facts live in the model file's safetensors `__metadata__` under `stride.cli` (a JSON
 * object), next to the keys `serializeModel` writes, so they are covered by the file's checksum and
 * any loader (`loadModel`) still reads the file as an ordinary model.
 */
import { statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Sequential } from '../model/sequential.js';
import { createPreset, isPreset, presetNames } from '../model/presets.js';
import { readModel, serializeModel } from '../model/serialize.js';
import { readFileChecked, writeFileAtomic } from '../node/model-file.js';
import type { ResizeFit } from '../node/image-folder.js';
import { CliError, pathProblem, personMessage } from './util.js';
import { parseDataRecord, type DataRecord } from './provenance.js';

/** The metadata key of the CLI's facts. */
export const CLI_META_KEY = 'stride.cli';

/** The CLI's facts about a model's training data, stored under `stride.cli` (not the worker's `ModelInfo`, which describes the network). */
export interface CliModelInfo {
  /** Class names in label order. */
  classNames?: string[];
  /** 'mnist' or the training folder. */
  data?: string;
  /** How images were resized to the model's input ('fill' unless set). */
  fit?: ResizeFit;
  /** The preset the model was built from, if any. */
  preset?: string;
  /** Which images it was trained and tested on (see provenance.ts). */
  dataset?: DataRecord;
}

export interface LoadedModel {
  model: Sequential;
  info: CliModelInfo;
  /** 'lenet' (preset) or the file path. */
  source: string;
  isFile: boolean;
}

/** Builds a preset or reads a model file. `presetOpts` shape a preset (ignored for files). */
export async function resolveModel(spec: string, presetOpts: { inputShape: number[]; numClasses: number; seed: number }): Promise<LoadedModel> {
  if (isPreset(spec.toLowerCase())) {
    const name = spec.toLowerCase();
    return { model: createPreset(name, presetOpts), info: { preset: name }, source: name, isFile: false };
  }
  return readModelFile(spec);
}

/** Reads a model file written by `stride train` or `saveModel`; errors name the file. */
export async function readModelFile(path: string): Promise<LoadedModel> {
  let isFile: boolean;
  try {
    isFile = statSync(path).isFile();
  } catch (e) {
    const problem = pathProblem(e) ?? `cannot be read (${(e as Error).message})`;
    const looksLikeName = !/[./\\]/.test(path);
    throw new CliError(
      looksLikeName && problem === 'does not exist'
        ? `unknown model '${path}': not a preset (${presetNames().join(', ')}) and no such file`
        : `model file '${path}' ${problem}`,
    );
  }
  let read;
  try {
    // Not a regular file: readFileChecked says what it is (a checkpoint folder, a directory, a FIFO, a device).
    const bytes = await readFileChecked('loadModel', path);
    if (!isFile) throw new CliError(`model '${path}' is not a file`);
    read = readModel(bytes, {}, `loadModel: ${path}`);
  } catch (e) {
    if (e instanceof CliError) throw e;
    // The library's message names its op (loadModel:) for programmers; a person gets the file and the reason.
    // The library's hint for programmers ("pass { allowNaN: true }") means nothing on the command line.
    const message = personMessage((e as Error).message, path).replace(
      /; pass \{ allowNaN: true \} to load it anyway$/,
      ': its weights are not finite numbers, so it cannot be used (the training that wrote it diverged: train again, e.g. with a lower --lr)',
    );
    throw new CliError(`model file '${path}': ${message}`, 1);
  }
  const { model, metadata } = read;
  return { model, info: infoFromMetadata(metadata), source: path, isFile: true };
}

/** The CLI's facts from a model file's `__metadata__` (empty when it has none). */
export function infoFromMetadata(metadata: Record<string, string>): CliModelInfo {
  return parseInfo(metadata[CLI_META_KEY]);
}

/** The `__metadata__` entries that carry `info` (for `serializeModel` and checkpoints' model files). */
export function infoMetadata(info: CliModelInfo): Record<string, string> {
  return { [CLI_META_KEY]: JSON.stringify(info) };
}

function parseInfo(text: string | undefined): CliModelInfo {
  if (text === undefined) return {};
  try {
    const v = JSON.parse(text) as CliModelInfo;
    if (v === null || typeof v !== 'object') return {};
    const info: CliModelInfo = {};
    if (Array.isArray(v.classNames) && v.classNames.every((c) => typeof c === 'string')) info.classNames = v.classNames;
    if (typeof v.data === 'string') info.data = v.data;
    if (v.fit === 'fill' || v.fit === 'contain' || v.fit === 'cover') info.fit = v.fit;
    if (typeof v.preset === 'string') info.preset = v.preset;
    const dataset = parseDataRecord(v.dataset);
    if (dataset !== undefined) info.dataset = dataset;
    return info;
  } catch {
    return {};
  }
}

/** The bytes of a model file with `info` in its metadata. Same model and info → same bytes. */
export function modelFileBytes(model: Sequential, info: CliModelInfo): Uint8Array {
  return serializeModel(model, { metadata: infoMetadata(info) });
}

/** Writes the model file atomically (creating its directory). */
export async function writeModelFile(model: Sequential, info: CliModelInfo, path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, modelFileBytes(model, info));
}
