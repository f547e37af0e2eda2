/**
 * The one way Stride reads an input file (Node only): model files, checkpoints, images, the MNIST
 * cache. Only regular files are read. A FIFO would block forever and a device (`/dev/zero`,
 * `/dev/urandom`) would never end, so both are refused with a message naming the path, and so is
 * any file larger than the caller's limit (the most its format can hold), before a byte is read.
 *
 * The path is checked with `stat` before it is opened, and the opened descriptor again with
 * `fstat` (the path could be replaced in between). It is opened with O_NONBLOCK, so even a FIFO
 * swapped in at that moment cannot block the open; on a regular file the flag does nothing.
 */
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import fsp from 'node:fs/promises';

/** The most one read returns: what a single Node Buffer can hold (4 GiB on 64-bit Node 20). */
export const MAX_READ_BYTES = 2 ** 32 - 1;

export interface ReadRegularFileOptions {
  /** What the file is, for messages: 'model file', 'image', 'MNIST cache', ... */
  what: string;
  /** The largest size accepted, in bytes (default `MAX_READ_BYTES`). */
  maxBytes?: number;
  /** Prefix of error messages, e.g. 'loadModel'. Default: none. */
  op?: string;
}

/** An input file that is missing, not a regular file, too large, or unreadable. `code` is the errno code when there is one. */
export class FileReadError extends Error {
  override name = 'FileReadError';
  constructor(
    message: string,
    readonly code?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const O_NONBLOCK = (constants as { O_NONBLOCK?: number }).O_NONBLOCK ?? 0;

/** What a non-regular file is, for messages. */
export function fileKind(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

function prefix(opts: ReadRegularFileOptions): string {
  return opts.op ? `${opts.op}: ` : '';
}

function limitOf(opts: ReadRegularFileOptions): number {
  const max = opts.maxBytes ?? MAX_READ_BYTES;
  if (!Number.isSafeInteger(max) || max < 0) throw new Error(`readRegularFile: maxBytes must be a non-negative integer, got ${String(max)}`);
  return Math.min(max, MAX_READ_BYTES);
}

function statError(e: unknown, path: string, opts: ReadRegularFileOptions): FileReadError {
  const code = (e as NodeJS.ErrnoException).code;
  const p = prefix(opts);
  if (code === 'ENOENT') return new FileReadError(`${p}no such file: ${path}`, code, { cause: e });
  if (code === 'ELOOP') return new FileReadError(`${p}${path}: too many levels of symbolic links (a symlink loop?), cannot read the ${opts.what}`, code, { cause: e });
  if (code === 'ENOTDIR') return new FileReadError(`${p}no such file: ${path} (a part of the path is not a directory)`, code, { cause: e });
  return new FileReadError(`${p}cannot read the ${opts.what} ${path}: ${(e as Error).message}`, code, { cause: e });
}

/** Throws unless `st` is a regular file within the limit. */
function checkStat(st: Stats, path: string, opts: ReadRegularFileOptions, max: number): void {
  const p = prefix(opts);
  if (st.isDirectory()) throw new FileReadError(`${p}${path} is a directory, expected a file`, 'EISDIR');
  if (!st.isFile()) throw new FileReadError(`${p}${path} is ${fileKind(st)}, not a regular file; the ${opts.what} must be a regular file`, 'ENOTREG');
  if (st.size > max) {
    throw new FileReadError(`${p}${path} is ${st.size} bytes, more than the ${max} bytes a ${opts.what} can be`, 'EFBIG');
  }
}

/** Reads exactly `size` bytes from `fd` (synchronously); throws if the file shrank meanwhile. */
function readAll(fd: number, size: number, path: string, opts: ReadRegularFileOptions): Buffer {
  const buf = Buffer.allocUnsafe(size);
  let at = 0;
  while (at < size) {
    const n = readSync(fd, buf, at, Math.min(size - at, 2 ** 30), at);
    if (n === 0) throw new FileReadError(`${prefix(opts)}${path} shrank while it was read (${at} of ${size} bytes)`, 'ESHRANK');
    at += n;
  }
  return buf;
}

/**
 * Reads a whole regular file, refusing FIFOs, devices, directories and files over `maxBytes`
 * (see the module docs). Errors are `FileReadError`s naming the path and what the file is.
 *
 * ```ts
 * const bytes = await readRegularFile('model.safetensors', { what: 'model file', op: 'loadModel' });
 * ```
 */
export async function readRegularFile(path: string, opts: ReadRegularFileOptions): Promise<Buffer> {
  const max = limitOf(opts);
  let st: Stats;
  try {
    st = await fsp.stat(path);
  } catch (e) {
    throw statError(e, path, opts);
  }
  checkStat(st, path, opts, max);
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(path, constants.O_RDONLY | O_NONBLOCK);
  } catch (e) {
    throw statError(e, path, opts);
  }
  try {
    const fst = await handle.stat();
    checkStat(fst, path, opts, max);
    const buf = Buffer.allocUnsafe(fst.size);
    let at = 0;
    while (at < fst.size) {
      const { bytesRead } = await handle.read(buf, at, Math.min(fst.size - at, 2 ** 30), at);
      if (bytesRead === 0) throw new FileReadError(`${prefix(opts)}${path} shrank while it was read (${at} of ${fst.size} bytes)`, 'ESHRANK');
      at += bytesRead;
    }
    return buf;
  } finally {
    await handle.close();
  }
}

/** `readRegularFile`, synchronously. */
export function readRegularFileSync(path: string, opts: ReadRegularFileOptions): Buffer {
  const max = limitOf(opts);
  let st: Stats;
  try {
    st = statSync(path);
  } catch (e) {
    throw statError(e, path, opts);
  }
  checkStat(st, path, opts, max);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | O_NONBLOCK);
  } catch (e) {
    throw statError(e, path, opts);
  }
  try {
    const fst = fstatSync(fd);
    checkStat(fst, path, opts, max);
    return readAll(fd, fst.size, path, opts);
  } finally {
    closeSync(fd);
  }
}
