/**
 * `stride train`'s checks of its flags and output paths, done before anything long happens (a run
 * must not end unsaved), and where the model file goes when `-o` is not given.
 */
import { basename, extname } from 'node:path';
import { hasCheckpoint, readIndex } from '../../node/checkpoint.js';
import { isMnist } from '../data.js';
import { checkDistinct, checkOutputDir, checkOutputFile, freePath, shellQuote } from '../outputs.js';
import { CliError, usageError } from '../util.js';
import type { RawOptions, TrainConfig } from './config.js';

/**
 * Throws for flags that cannot work together and for every path train would fail to write:
 * `--resume` without `--checkpoint`, a `--plot` that is not .svg/.png, two outputs on one path, a
 * `--checkpoint` folder holding a run that would be started over, an existing `--out` without `--force`.
 */
export async function checkRunOptions(raw: RawOptions, given: (option: string) => boolean): Promise<void> {
  if (raw.resume && raw.checkpoint === undefined) throw usageError('--resume needs --checkpoint DIR (the directory to resume from)');
  if (raw.plot !== undefined) {
    const ext = extname(raw.plot).toLowerCase();
    if (ext !== '.svg' && ext !== '.png') throw usageError(`--plot '${raw.plot}': the file name must end in .svg or .png`);
  }
  checkDistinct([
    ['--out', raw.save ? raw.out : undefined, 'file'],
    ['--plot', raw.plot, 'file'],
    ['--checkpoint', raw.checkpoint, 'path'],
  ]);
  if (raw.checkpoint !== undefined) {
    await checkOutputDir(raw.checkpoint, '--checkpoint');
    if (!raw.resume && !raw.force && (await hasCheckpoint(raw.checkpoint))) throw await startOverError(raw.checkpoint, given('epochs') ? (raw.epochs as number) : null);
  }
  if (raw.save && raw.out !== undefined) await checkOutputFile(raw.out, '--out', { overwrite: raw.force === true, hint: 'model.safetensors' });
  if (raw.plot !== undefined) await checkOutputFile(raw.plot, '--plot', { overwrite: true });
}

/** Where the trained model is written (none with `--no-save`), and a note when the default name was taken. */
export interface ModelOutput {
  path: string | undefined;
  note: string | null;
}

/** The model file of the run: `-o`, or the default name, which never replaces an existing file (e.g. `npm start`'s): it takes the next free name. */
export async function modelOutput(raw: RawOptions, config: TrainConfig): Promise<ModelOutput> {
  if (raw.save && raw.out !== undefined) return { path: raw.out, note: null };
  if (!raw.save) return { path: undefined, note: null };
  const wanted = defaultOutPath(config);
  const path = await freePath(wanted);
  const note = path !== wanted ? `${wanted} exists, so the model will be saved to ${path} (-o FILE --force replaces a file)` : null;
  await checkOutputFile(path, '--out', { overwrite: false });
  return { path, note };
}

function defaultOutPath(c: TrainConfig): string {
  const model = c.model.includes('/') || c.model.includes('.') ? basename(c.model, extname(c.model)) : c.model;
  const data = isMnist(c.data) ? 'mnist' : basename(c.data.replace(/[/\\]+$/, '')) || 'data';
  return `models/${model}-${data}.safetensors`;
}

/** Starting over in a folder that holds a checkpoint would delete it after the first epoch: say how to resume. */
async function startOverError(dir: string, epochs: number | null): Promise<CliError> {
  let at = '';
  try {
    const index = await readIndex('train', dir);
    if (index !== null) at = ` (after epoch ${index.latest.epoch})`;
  } catch {
    // An unreadable index still blocks starting over; the epoch is only for the message.
  }
  const cmd = `stride train --resume --checkpoint ${shellQuote(dir)}${epochs !== null ? ` --epochs ${epochs}` : ''}`;
  return usageError(
    `--checkpoint '${dir}' already holds a checkpoint${at}; to continue it: ${cmd}; to start a new run there instead (its checkpoint is replaced after the first epoch), add --force`,
  );
}
