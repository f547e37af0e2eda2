/**
 * Atomic file writes (Node only), the one implementation every writer uses (model files,
 * checkpoints, PNGs, the MNIST cache): write a temporary file in the same directory (same
 * filesystem, so the rename is atomic), flush it to disk (fsync), rename it over the target, then
 * fsync the directory so the rename itself is durable. A reader, or a process restarted after a
 * crash, sees either the old file or the complete new one, never a partial file. On any error the
 * temporary file is removed and the old file is untouched.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import fsp, { type FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, basename, join } from 'node:path';

/** A unique temporary name in the same directory as `path`. */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** Writes `data` to `path` atomically and durably, creating the directory if needed. */
export async function writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
  await fsp.mkdir(dirname(path), { recursive: true });
  const tmp = tempPathFor(path);
  let handle: FileHandle | null = null;
  try {
    handle = await fsp.open(tmp, 'wx');
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    handle = null;
    await fsp.rename(tmp, path);
  } catch (e) {
    if (handle !== null) await handle.close().catch(() => {});
    await fsp.rm(tmp, { force: true }).catch(() => {});
    throw e;
  }
  await syncDir(dirname(path));
}

/** fsync a directory so renames and new entries in it survive a power loss (a no-op where unsupported). */
export async function syncDir(dir: string): Promise<void> {
  let handle: FileHandle | null = null;
  try {
    handle = await fsp.open(dir, 'r');
    await handle.sync();
  } catch {
    // Some platforms (Windows) cannot open or fsync a directory; the rename is still atomic there.
  } finally {
    await handle?.close().catch(() => {});
  }
}

/**
 * Synchronous variant for writers that stream into an open file descriptor: `write(fd)` fills the
 * temporary file, which is fsynced and renamed to `path`.
 */
export function writeFileAtomicSync(path: string, write: (fd: number) => void): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = tempPathFor(path);
  let fd: number | null = null;
  try {
    fd = openSync(tmp, 'wx');
    write(fd);
    fsyncSync(fd);
    closeSync(fd);
    fd = null;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== null) closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** Synchronous whole-buffer variant. */
export function writeBufferAtomicSync(path: string, data: Uint8Array): void {
  writeFileAtomicSync(path, (fd) => writeFileSync(fd, data));
}
