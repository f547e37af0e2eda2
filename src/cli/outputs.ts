/**
 * Output paths of a long command, checked before it starts: a run that trains for minutes and then
 * cannot save (the path is a folder, its parent is a file, the folder is read-only) loses the work,
 * so every path `train` will write is checked first, with the flag and the path in the message.
 */
import { constants } from 'node:fs';
import fsp from 'node:fs/promises';
import { dirname, resolve, basename, extname, join } from 'node:path';
import { usageError, CliError } from './util.js';

/** What is at `path`: null when nothing is, else the kind of entry (symlinks followed). */
async function kindOf(path: string): Promise<'file' | 'folder' | 'other' | null> {
  try {
    const s = await fsp.stat(path);
    return s.isFile() ? 'file' : s.isDirectory() ? 'folder' : 'other';
  } catch (e) {
    // ENOTDIR: a parent is a file; checkParent names it.
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw new CliError(`cannot inspect '${path}': ${(e as Error).message}`);
  }
}

/**
 * The nearest existing ancestor of `path` must be a writable folder (the missing ones are created
 * on save). `shown` is the path as the user typed it, `flag` the option.
 */
async function checkParent(path: string, flag: string, shown: string): Promise<void> {
  let p = dirname(resolve(path));
  let rel = dirname(shown);
  for (;;) {
    const kind = await kindOf(p);
    if (kind === 'folder') break;
    if (kind !== null) throw usageError(`${flag} '${shown}': '${rel}' is a file, not a folder`);
    const up = dirname(p);
    if (up === p) break;
    p = up;
    rel = dirname(rel);
  }
  try {
    await fsp.access(p, constants.W_OK);
  } catch {
    throw new CliError(`${flag} '${shown}': cannot write into '${p}' (permission denied)`);
  }
}

/**
 * Checks that a file can be written at `path`: it is not a folder or a device, its parent chain
 * does not run into a file, and, unless `overwrite`, nothing is there yet.
 */
export async function checkOutputFile(path: string, flag: string, opts: { overwrite: boolean; hint?: string }): Promise<void> {
  const kind = await kindOf(path);
  if (kind === 'folder') throw usageError(`${flag} '${path}' is a folder; give a file name${opts.hint ? `, e.g. ${join(path, opts.hint)}` : ''}`);
  if (kind === 'other') throw usageError(`${flag} '${path}' is not a regular file`);
  if (kind === 'file') {
    if (!opts.overwrite) throw usageError(`${flag} '${path}' already exists; choose another file, or add --force to replace it`);
    try {
      await fsp.access(path, constants.W_OK);
    } catch {
      throw new CliError(`${flag} '${path}': the file is not writable`);
    }
  }
  await checkParent(path, flag, path);
}

/** Checks that `path` is a folder, or can be created as one, and that files can be created in it. */
export async function checkOutputDir(path: string, flag: string): Promise<void> {
  const kind = await kindOf(path);
  if (kind === 'file' || kind === 'other') throw usageError(`${flag} '${path}' is a file, not a folder`);
  if (kind === null) {
    await checkParent(path, flag, path);
    return;
  }
  try {
    await fsp.access(path, constants.W_OK | constants.X_OK);
  } catch {
    throw new CliError(`${flag} '${path}': cannot write into this folder (permission denied)`);
  }
}

/** Throws when two of the named outputs are the same path (e.g. `-o x.svg --plot x.svg`). */
export function checkDistinct(paths: [flag: string, path: string | undefined, what: 'file' | 'path'][]): void {
  const given = paths.filter((p): p is [string, string, 'file' | 'path'] => p[1] !== undefined);
  for (let i = 0; i < given.length; i++) {
    for (let j = i + 1; j < given.length; j++) {
      if (resolve(given[i][1]) === resolve(given[j][1])) {
        const what = given[i][2] === 'file' && given[j][2] === 'file' ? 'file' : 'path';
        throw usageError(`${given[i][0]} and ${given[j][0]} are the same ${what} ('${given[i][1]}')`);
      }
    }
  }
}

/** `models/a.safetensors` if free, else the first free `models/a-2.safetensors`, `-3`, ... */
export async function freePath(path: string): Promise<string> {
  if ((await kindOf(path)) === null) return path;
  const ext = extname(path);
  const stem = join(dirname(path), basename(path, ext));
  for (let k = 2; ; k++) {
    const p = `${stem}-${k}${ext}`;
    if ((await kindOf(p)) === null) return p;
  }
}

/** Quotes `s` for a POSIX shell when it needs it (for commands printed in messages). */
export function shellQuote(s: string): string {
  return /^[\w./:@%+=,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
