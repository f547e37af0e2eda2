/**
 * Model files on disk (Node only). The format is in src/model/serialize.ts and docs/model-format.md.
 *
 * ```ts
 * await saveModel(model, 'runs/mnist/model.safetensors');
 * const model = await loadModel('runs/mnist/model.safetensors');
 * ```
 */
import fsp from 'node:fs/promises';
import { writeFileAtomic } from './atomic.js';
import { Sequential } from '../model/sequential.js';
import { ModelFormatError, readModel, serializeModel, type LoadOptions, type ReadModel, type SaveOptions } from '../model/serialize.js';

// Atomic writes live in one place (./atomic.ts); re-exported for the callers that import them from here.
export { writeFileAtomic, syncDir } from './atomic.js';

/** Reads a whole file with errors that name the path: missing, a directory, empty. */
export async function readFileChecked(op: string, path: string): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = await fsp.readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`${op}: no such file: ${path}`, { cause: e });
    if (code === 'EISDIR') throw new Error(`${op}: ${path} is a directory, expected a file`, { cause: e });
    throw new Error(`${op}: cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  if (bytes.length === 0) throw new ModelFormatError(`${op}: ${path} is empty (0 bytes)`);
  return bytes;
}

/**
 * Saves a model (architecture + weights + BatchNorm statistics + Rng state) as one `.safetensors`
 * file, atomically: a crash while saving leaves the previous file intact and no partial file.
 * Creates the parent directory if needed.
 */
export async function saveModel(model: Sequential, path: string, opts: SaveOptions = {}): Promise<void> {
  if (typeof path !== 'string' || path === '') throw new Error(`saveModel: path must be a non-empty string, got ${JSON.stringify(path)}`);
  const bytes = serializeModel(model, opts);
  await writeFileAtomic(path, bytes);
}

/**
 * Loads a model file written by `saveModel` (or `serializeModel`), validating everything (see
 * `deserializeModel`). Errors name the path; format errors are `ModelFormatError`s.
 */
export async function loadModel(path: string, opts: LoadOptions = {}): Promise<Sequential> {
  if (typeof path !== 'string' || path === '') throw new Error(`loadModel: path must be a non-empty string, got ${JSON.stringify(path)}`);
  const bytes = await readFileChecked('loadModel', path);
  return readModel(bytes, opts, `loadModel: ${path}`).model;
}

/** `loadModel`, also returning the file's metadata (including what `saveModel`'s `metadata` added) and checksum. */
export async function loadModelWithMetadata(path: string, opts: LoadOptions = {}): Promise<ReadModel> {
  if (typeof path !== 'string' || path === '') throw new Error(`loadModelWithMetadata: path must be a non-empty string, got ${JSON.stringify(path)}`);
  const bytes = await readFileChecked('loadModelWithMetadata', path);
  return readModel(bytes, opts, `loadModelWithMetadata: ${path}`);
}
