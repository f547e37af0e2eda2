/**
 * Checkpoint directories (Node only). Layout of a checkpoint directory `dir`:
 *
 * ```text
 * dir/checkpoint.json            index: which subdirectory is the latest and which the best
 * dir/epoch-3/model.safetensors  the model file (loadModel reads it)
 * dir/epoch-3/state.safetensors  optimizer + trainer state (src/model/checkpoint.ts)
 * dir/epoch-2/...                kept only while it is the best
 * ```
 *
 * Saving is atomic: a new checkpoint is written into a temporary directory (every file fsynced),
 * renamed to its final name (a name that does not exist yet, so the rename is atomic), and only then
 * does `checkpoint.json` (itself replaced atomically) point at it; directories no longer referenced
 * are deleted last. A crash at any moment leaves the previous checkpoint loadable.
 *
 * ```ts
 * await saveCheckpoint('runs/a/ckpt', { model, optimizer, epoch, metrics, config, trainerState: { shuffleRng: rng.getState() } },
 *   { keepBest: { metric: 'valLoss', mode: 'min' } });
 * const ck = await loadCheckpoint('runs/a/ckpt');            // latest; { which: 'best' } for the best
 * ```
 */
import fsp from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { decodeCheckpoint, encodeCheckpoint, type Checkpoint, type CheckpointInput } from '../model/checkpoint.js';
import { MAX_JSON_DEPTH, ModelFormatError, jsonDepth } from '../model/safetensors.js';
import type { LoadOptions } from '../model/serialize.js';
import { readFileChecked, syncDir, writeFileAtomic } from './model-file.js';
import { FileReadError, readRegularFile } from './read-file.js';

/** The index file of a checkpoint directory. */
export const CHECKPOINT_INDEX = 'checkpoint.json';
export const CHECKPOINT_MODEL_FILE = 'model.safetensors';
export const CHECKPOINT_STATE_FILE = 'state.safetensors';
const INDEX_FORMAT = 'stride-checkpoint-index';
/** checkpoint.json is a few hundred bytes; anything over 1 MiB is not one. */
const MAX_INDEX_BYTES = 2 ** 20;
const ENTRY_NAME = /^epoch-\d+(-\d+)?$/;

/** One checkpoint referenced by the index. */
export interface CheckpointEntry {
  /** Subdirectory name, e.g. 'epoch-3'. */
  name: string;
  epoch: number;
}

/** The best checkpoint so far and what made it best. */
export interface BestEntry extends CheckpointEntry {
  metric: string;
  mode: 'min' | 'max';
  value: number;
}

/** Contents of `checkpoint.json`. */
export interface CheckpointIndex {
  format: typeof INDEX_FORMAT;
  version: 1;
  latest: CheckpointEntry;
  best: BestEntry | null;
}

export interface SaveCheckpointOptions {
  /**
   * Also keep the best checkpoint by this metric of the LAST record of `input.metrics`
   * (e.g. `{ metric: 'valLoss', mode: 'min' }`). Without it only the latest checkpoint is kept.
   */
  keepBest?: { metric: string; mode: 'min' | 'max' };
}

export interface SavedCheckpoint {
  /** The directory of this checkpoint, e.g. 'dir/epoch-3'. */
  path: string;
  /** Whether it became the best (always false without `keepBest`). */
  isBest: boolean;
  index: CheckpointIndex;
}

export interface LoadCheckpointOptions extends LoadOptions {
  /** Which checkpoint of a checkpoint directory to load (default 'latest'). */
  which?: 'latest' | 'best';
}

/**
 * Saves a checkpoint into `dir` (created if needed) atomically and updates the index; keeps the
 * latest and (with `keepBest`) the best checkpoint and deletes the others.
 */
export async function saveCheckpoint(dir: string, input: CheckpointInput, opts: SaveCheckpointOptions = {}): Promise<SavedCheckpoint> {
  const op = 'saveCheckpoint';
  if (typeof dir !== 'string' || dir === '') throw new Error(`${op}: dir must be a non-empty string, got ${JSON.stringify(dir)}`);
  let bestValue: number | null = null;
  const kb = opts.keepBest;
  if (kb !== undefined) {
    if (kb === null || typeof kb.metric !== 'string' || (kb.mode !== 'min' && kb.mode !== 'max')) {
      throw new Error(`${op}: keepBest must be {metric: string, mode: 'min' | 'max'}, got ${JSON.stringify(kb)}`);
    }
    const last = Array.isArray(input?.metrics) ? input.metrics[input.metrics.length - 1] : undefined;
    const v = last !== null && typeof last === 'object' && !Array.isArray(last) ? last[kb.metric] : undefined;
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new Error(`${op}: keepBest needs a finite number at metrics[last].${kb.metric}, got ${JSON.stringify(v)}`);
    }
    bestValue = v;
  }
  const files = encodeCheckpoint(input); // validates before anything touches the disk

  await fsp.mkdir(dir, { recursive: true });
  const old = await readIndex(op, dir);
  const entries = await fsp.readdir(dir);
  // Leftovers of saves that crashed before a rename (one writer per checkpoint directory).
  for (const e of entries) {
    if (e.startsWith('.tmp-') || e.startsWith(`.${CHECKPOINT_INDEX}.tmp-`)) await fsp.rm(join(dir, e), { recursive: true, force: true });
  }

  let name = `epoch-${input.epoch}`;
  for (let k = 1; entries.includes(name); k++) name = `epoch-${input.epoch}-${k}`;
  const tmp = join(dir, `.tmp-${name}-${randomBytes(4).toString('hex')}`);
  try {
    await fsp.mkdir(tmp);
    await writeDurable(join(tmp, CHECKPOINT_MODEL_FILE), files.model);
    await writeDurable(join(tmp, CHECKPOINT_STATE_FILE), files.state);
    await syncDir(tmp);
    await fsp.rename(tmp, join(dir, name));
  } catch (e) {
    await fsp.rm(tmp, { recursive: true, force: true }).catch(() => {});
    throw e;
  }
  await syncDir(dir);

  const latest: CheckpointEntry = { name, epoch: input.epoch };
  let best: BestEntry | null = null;
  let isBest = false;
  if (kb !== undefined && bestValue !== null) {
    const prev = old?.best ?? null;
    const comparable = prev !== null && prev.metric === kb.metric && prev.mode === kb.mode;
    isBest = !comparable || (kb.mode === 'min' ? bestValue < prev.value : bestValue > prev.value);
    best = isBest ? { ...latest, metric: kb.metric, mode: kb.mode, value: bestValue } : prev;
  }
  const index: CheckpointIndex = { format: INDEX_FORMAT, version: 1, latest, best };
  await writeFileAtomic(join(dir, CHECKPOINT_INDEX), new TextEncoder().encode(JSON.stringify(index, null, 2) + '\n'));

  const keep = new Set([latest.name, best?.name]);
  for (const e of await fsp.readdir(dir)) {
    if (ENTRY_NAME.test(e) && !keep.has(e)) await fsp.rm(join(dir, e), { recursive: true, force: true });
  }
  return { path: join(dir, name), isBest, index };
}

/** Writes a new file and fsyncs it (inside a not-yet-published temporary directory). */
async function writeDurable(path: string, data: Uint8Array): Promise<void> {
  const handle = await fsp.open(path, 'wx');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Reads and validates `dir/checkpoint.json`; null when there is none. */
export async function readIndex(op: string, dir: string): Promise<CheckpointIndex | null> {
  const path = join(dir, CHECKPOINT_INDEX);
  let text: string;
  try {
    text = new TextDecoder().decode(await readRegularFile(path, { what: 'checkpoint index', op, maxBytes: MAX_INDEX_BYTES }));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    if (e instanceof FileReadError) throw e;
    throw new Error(`${op}: cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  const bad = (msg: string): never => {
    throw new ModelFormatError(`${op}: ${path}: ${msg}`);
  };
  let raw: unknown;
  const depth = jsonDepth(text);
  if (depth > MAX_JSON_DEPTH) bad(`nests ${depth} levels deep, more than the ${MAX_JSON_DEPTH} a checkpoint index can have`);
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return bad(`not valid JSON (${(e as Error).message})`);
  }
  const idx = raw as Partial<CheckpointIndex> | null;
  if (idx === null || typeof idx !== 'object' || idx.format !== INDEX_FORMAT) bad(`format must be '${INDEX_FORMAT}', got ${JSON.stringify(idx?.format)}`);
  if (idx!.version !== 1) bad(`version ${JSON.stringify(idx!.version)} is not supported (this Stride reads version 1)`);
  const entry = (what: string, e: unknown): void => {
    const c = e as Partial<CheckpointEntry> | null;
    if (c === null || typeof c !== 'object' || typeof c.name !== 'string' || !ENTRY_NAME.test(c.name) || !Number.isSafeInteger(c.epoch)) {
      bad(`${what} must be {name: 'epoch-N', epoch: N}, got ${JSON.stringify(e)}`);
    }
  };
  entry('latest', idx!.latest);
  if (idx!.best !== null) {
    entry('best', idx!.best);
    const b = idx!.best as Partial<BestEntry>;
    if (typeof b.metric !== 'string' || (b.mode !== 'min' && b.mode !== 'max') || typeof b.value !== 'number') {
      bad(`best must have metric, mode 'min' | 'max' and a numeric value, got ${JSON.stringify(b)}`);
    }
  }
  return idx as CheckpointIndex;
}

/** Whether `dir` holds a checkpoint index (for a trainer's "resume if there is one"). */
export async function hasCheckpoint(dir: string): Promise<boolean> {
  try {
    await fsp.access(join(dir, CHECKPOINT_INDEX));
    return true;
  } catch {
    return false;
  }
}

/**
 * Loads a checkpoint: `path` is a checkpoint directory (its index picks the latest or, with
 * `which: 'best'`, the best) or one checkpoint's own subdirectory (`dir/epoch-3`). Validates both
 * files (see `decodeCheckpoint`) and rebuilds the model and optimizer. Errors name the path.
 */
export async function loadCheckpoint(path: string, opts: LoadCheckpointOptions = {}): Promise<Checkpoint & { path: string }> {
  const op = 'loadCheckpoint';
  if (typeof path !== 'string' || path === '') throw new Error(`${op}: path must be a non-empty string, got ${JSON.stringify(path)}`);
  const which = opts.which ?? 'latest';
  if (which !== 'latest' && which !== 'best') throw new Error(`${op}: which must be 'latest' or 'best', got ${JSON.stringify(which)}`);
  let stat;
  try {
    stat = await fsp.stat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`${op}: no such directory: ${path}`, { cause: e });
    throw new Error(`${op}: cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  if (!stat.isDirectory()) throw new Error(`${op}: ${path} is not a directory (a checkpoint is a directory)`);
  let ckDir = path;
  const index = await readIndex(op, path);
  if (index !== null) {
    const entry = which === 'best' ? index.best : index.latest;
    if (entry === null) throw new Error(`${op}: ${join(path, CHECKPOINT_INDEX)} records no best checkpoint (save with keepBest to keep one)`);
    ckDir = join(path, entry.name);
    try {
      await fsp.access(ckDir);
    } catch (e) {
      throw new ModelFormatError(`${op}: ${join(path, CHECKPOINT_INDEX)} names ${entry.name} as the ${which} checkpoint, but ${ckDir} does not exist`, { cause: e });
    }
  } else {
    try {
      await fsp.access(join(path, CHECKPOINT_STATE_FILE));
    } catch {
      throw new Error(`${op}: ${path} holds no checkpoint (neither ${CHECKPOINT_INDEX} nor ${CHECKPOINT_STATE_FILE})`);
    }
    if (opts.which !== undefined) throw new Error(`${op}: ${path} is a single checkpoint; 'which' needs a checkpoint directory with ${CHECKPOINT_INDEX}`);
  }
  const model = await readFileChecked(op, join(ckDir, CHECKPOINT_MODEL_FILE), 'checkpoint model file');
  const state = await readFileChecked(op, join(ckDir, CHECKPOINT_STATE_FILE), 'checkpoint state file');
  return { ...decodeCheckpoint({ model, state }, opts, `${op}: ${ckDir}`), path: ckDir };
}
