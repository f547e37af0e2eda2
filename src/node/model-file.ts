/**
 * Model files on disk (Node only). The format is in src/model/serialize.ts and docs/model-format.md.
 *
 * ```ts
 * await saveModel(model, 'runs/mnist/model.safetensors');
 * const model = await loadModel('runs/mnist/model.safetensors');
 * ```
 */
import fsp from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic.js';
import { FileReadError, MAX_READ_BYTES, readRegularFile } from './read-file.js';
import { Sequential } from '../model/sequential.js';
import { readModel, serializeModel, type LoadOptions, type ReadModel, type SaveOptions } from '../model/serialize.js';
import { ModelFormatError } from '../model/safetensors.js';

// Atomic writes live in one place (./atomic.ts); re-exported for the callers that import them from here.
export { writeFileAtomic, syncDir } from './atomic.js';
export { readRegularFile, readRegularFileSync, FileReadError } from './read-file.js';

/**
 * The largest model or checkpoint file read: what one buffer holds (`MAX_READ_BYTES`). The format
 * itself bounds nothing smaller (a safetensors data section has no limit), but a FIFO or device
 * is refused whatever the limit (see ./read-file.ts).
 */
export const MAX_MODEL_FILE_BYTES = MAX_READ_BYTES;

/**
 * Reads a whole model or checkpoint file (a regular file only, see ./read-file.ts) with errors
 * that name the path: missing, a directory (a checkpoint directory is named as such), a FIFO or
 * device, too large, empty.
 */
export async function readFileChecked(op: string, path: string, what = 'model file'): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = await readRegularFile(path, { what, op, maxBytes: MAX_MODEL_FILE_BYTES });
  } catch (e) {
    if (e instanceof FileReadError && e.code === 'EISDIR' && (await isCheckpointDir(path))) {
      throw new ModelFormatError(
        `${op}: ${path} is a checkpoint folder, not a model file; load it with loadCheckpoint (the CLI: train --resume ${path}), or pass its model file ${join(path, '<epoch-N>', 'model.safetensors')}`,
        { cause: e },
      );
    }
    throw e;
  }
  if (bytes.length === 0) throw new ModelFormatError(`${op}: ${path} is empty (0 bytes)`);
  return bytes;
}

/** Whether `dir` looks like a checkpoint folder (its index, or one checkpoint's state file). */
async function isCheckpointDir(dir: string): Promise<boolean> {
  for (const name of ['checkpoint.json', 'state.safetensors']) {
    try {
      if ((await fsp.stat(join(dir, name))).isFile()) return true;
    } catch {
      // not there
    }
  }
  return false;
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
