/**
 * Image files to datasets and tensors (Node only; decoding by `sharp`).
 *
 * Folder layout (the torchvision `ImageFolder` convention): `root/<class name>/<image>` with
 * extensions .png, .jpg, .jpeg, .webp (any case). Classes are the sub-folders of `root` sorted by
 * name (JavaScript string order), label = index in that list; the images of a class are its files
 * sorted by name. Only files directly inside a class folder count; names starting with '.' (files
 * or folders, e.g. `.DS_Store`, `.ipynb_checkpoints`) and files with other extensions are ignored.
 *
 * Every image goes through the same steps (`decodeImage`):
 * 1. decode, apply the EXIF orientation, composite any transparency onto the background (black;
 *    white with `invert`), so a pixel looks as it does on that background whatever colour a
 *    transparent pixel happens to store; convert to 8-bit sRGB;
 * 2. resize to `height x width` with `fit` (Lanczos-3):
 *    - 'fill' (default): stretch to exactly that size, ignoring the aspect ratio. It keeps every
 *      pixel and matches torchvision `Resize((h, w))` and Keras `image_dataset_from_directory`;
 *    - 'contain': scale to fit inside, centred, padded with the background (keeps the aspect ratio
 *      and the whole image; good for digits and drawings);
 *    - 'cover': scale to cover, then crop the centre (keeps the aspect ratio, loses the edges);
 * 3. for `channels: 1`, grey = round(0.299 R + 0.587 G + 0.114 B) (ITU-R BT.601 luma on the
 *    sRGB values, the formula of PIL's `convert('L')`); a grey image passes through unchanged;
 * 4. with `invert` (dark ink on light paper, or on transparent pixels as canvases and paint
 *    programs export it), every byte v becomes 255 - v: a light drawing on black, as MNIST is.
 *    The background of steps 1 and 2 is then white (paper), so transparent pixels and the
 *    padding of 'contain' end up black like the rest of the background, not as white bars.
 *
 * Pixels are stored as bytes (0..255, NHWC); the dataset normalises them to `p / 255` per batch.
 */
import { readdirSync, statSync, type Dirent } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import sharp from 'sharp';
import { readRegularFile } from './read-file.js';
import { Dataset, type Normalization } from '../data/dataset.js';
import type { Tensor } from '../tensor/tensor.js';

export type ResizeFit = 'fill' | 'contain' | 'cover';

export interface ImageDecodeOptions {
  height: number;
  width: number;
  /** 1: grayscale (BT.601 luma), 3: RGB. */
  channels: 1 | 3;
  /** How to reach `height x width` (default 'fill'; see the module docs). */
  fit?: ResizeFit;
  /** Dark ink on a light or transparent background: invert (255 - v) to a light drawing on black (default false). */
  invert?: boolean;
}

export interface ImageFolderOptions extends ImageDecodeOptions {
  /** Skip unreadable images with a warning instead of throwing (default false). */
  skipBad?: boolean;
  /**
   * The class list, in label order (e.g. the one a model was trained with). Every listed class
   * must have a folder, and every folder must be listed. Default: the folders, sorted.
   */
  classes?: readonly string[];
  /** Images decoded at once (default 4). */
  concurrency?: number;
  /** Called with each warning as it happens (they are also returned). */
  onWarning?: (message: string) => void;
}

export interface ImageFolderResult {
  dataset: Dataset;
  /** The file of each sample, in dataset order. */
  files: string[];
  /** One message per skipped file (only with `skipBad`). */
  warnings: string[];
}

/** The extensions `loadImageFolder` picks up (compared lower-case). */
export const IMAGE_EXTENSIONS: readonly string[] = Object.freeze(['.png', '.jpg', '.jpeg', '.webp']);

/**
 * Loads `root/<class>/*.{png,jpg,jpeg,webp}` into a Dataset of bytes `[N, height, width, channels]`.
 * Throws when `root` is missing or not a folder, has no class folders, or a class has no images,
 * and for an unreadable image (naming the file) unless `skipBad` is set.
 *
 * ```ts
 * const { dataset, warnings } = await loadImageFolder('data/train', { height: 28, width: 28, channels: 1 });
 * ```
 */
export async function loadImageFolder(root: string, opts: ImageFolderOptions): Promise<ImageFolderResult> {
  const op = 'loadImageFolder';
  const { height, width, channels } = checkDecodeOptions(op, opts);
  const concurrency = opts.concurrency ?? 4;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`${op}: concurrency must be a positive integer, got ${String(concurrency)}`);
  const { classes, files, labels } = listImageFolder(root, opts.classes);

  const per = height * width * channels;
  const images = new Uint8Array(files.length * per);
  const ok = new Uint8Array(files.length);
  const skipped: { i: number; message: string }[] = [];
  let next = 0;
  // Without skipBad the first failure stops new decodes; the error raised is that of the first bad
  // file in dataset order (every file before it was claimed and finished), whichever decode failed
  // first in time, so the same folder always gives the same message.
  let badIndex = Infinity;
  let badError: Error | undefined;
  const worker = async (): Promise<void> => {
    while (next < files.length && badError === undefined) {
      const i = next++;
      try {
        images.set(await decodeImage(files[i], opts), i * per);
        ok[i] = 1;
      } catch (e) {
        const message = `${op}: ${opts.skipBad ? 'skipped' : 'cannot read'} image '${files[i]}': ${fileProblem(files[i]) ?? (e as Error).message}`;
        if (!opts.skipBad) {
          if (i < badIndex) [badIndex, badError] = [i, new Error(message, { cause: e })];
          continue;
        }
        skipped.push({ i, message });
        opts.onWarning?.(message);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, files.length) }, worker));
  if (badError !== undefined) throw badError;
  // Warnings in file order, whatever order the decodes finished in.
  const warnings = skipped.sort((a, b) => a.i - b.i).map((s) => s.message);

  let keptImages = images;
  let keptLabels = Int32Array.from(labels);
  let keptFiles = files;
  if (warnings.length > 0) {
    const keep = files.map((_, i) => i).filter((i) => ok[i] === 1);
    keptImages = new Uint8Array(keep.length * per);
    keep.forEach((i, j) => keptImages.set(images.subarray(i * per, (i + 1) * per), j * per));
    keptLabels = Int32Array.from(keep, (i) => labels[i]);
    keptFiles = keep.map((i) => files[i]);
    const counts = new Int32Array(classes.length);
    for (const l of keptLabels) counts[l]++;
    const empty = classes.findIndex((_, k) => counts[k] === 0);
    if (empty >= 0) throw new Error(`${op}: class '${classes[empty]}' has no readable images left after skipping bad files (${warnings.length} skipped)`);
  }
  const dataset = new Dataset({ images: keptImages, labels: keptLabels, height, width, channels, classNames: classes });
  return { dataset, files: keptFiles, warnings };
}

/**
 * The classes and image files of an ImageFolder tree, without decoding anything: files in dataset
 * order with their labels. Throws for the same structural problems as `loadImageFolder`.
 */
export function listImageFolder(root: string, classes?: readonly string[]): { classes: string[]; files: string[]; labels: number[] } {
  const op = 'loadImageFolder';
  const dir = resolve(root);
  let st;
  try {
    st = statSync(dir);
  } catch (e) {
    const loop = (e as NodeJS.ErrnoException).code === 'ELOOP';
    throw new Error(`${op}: root folder '${root}' ${loop ? 'is a loop of symbolic links (too many levels of links)' : 'does not exist'}`, { cause: e });
  }
  if (!st.isDirectory()) throw new Error(`${op}: root '${root}' is not a folder`);
  const folders = entries(dir)
    .filter((e) => isDir(dir, e))
    .map((e) => e.name)
    .sort();
  if (folders.length === 0) {
    throw new Error(`${op}: '${root}' has no class folders; expected ${join(root, '<class name>', '<image>.png|jpg|jpeg|webp')}`);
  }
  let names: string[];
  if (classes !== undefined) {
    if (!Array.isArray(classes) || classes.length === 0 || classes.some((c) => typeof c !== 'string')) {
      throw new Error(`${op}: classes must be a non-empty array of folder names`);
    }
    if (new Set(classes).size !== classes.length) throw new Error(`${op}: classes has duplicate names: [${classes.join(', ')}]`);
    const missing = classes.filter((c) => !folders.includes(c));
    if (missing.length) throw new Error(`${op}: class folder(s) ${missing.map((c) => `'${join(root, c)}'`).join(', ')} not found`);
    const extra = folders.filter((f) => !classes.includes(f));
    if (extra.length) throw new Error(`${op}: folder(s) ${extra.map((c) => `'${join(root, c)}'`).join(', ')} are not in classes [${classes.join(', ')}]`);
    names = [...classes];
  } else {
    names = folders;
  }
  const files: string[] = [];
  const labels: number[] = [];
  names.forEach((name, label) => {
    const classDir = join(dir, name);
    const imgs = entries(classDir)
      .filter((e) => IMAGE_EXTENSIONS.includes(extname(e.name).toLowerCase()) && !isDir(classDir, e))
      .map((e) => e.name)
      .sort();
    if (imgs.length === 0) throw new Error(`${op}: class folder '${join(root, name)}' has no images (${IMAGE_EXTENSIONS.join(', ')})`);
    for (const f of imgs) {
      files.push(join(classDir, f));
      labels.push(label);
    }
  });
  return { classes: names, files, labels };
}

/**
 * Decodes one image file (or encoded bytes) to `height * width * channels` bytes, HWC, with the
 * steps in the module docs. A path must name a regular file (a FIFO or device is refused, see
 * ./read-file.ts). Throws sharp's message for unreadable or unsupported data.
 */
export async function decodeImage(input: string | Uint8Array, opts: ImageDecodeOptions): Promise<Uint8Array> {
  const { height, width, channels, fit, invert } = checkDecodeOptions('decodeImage', opts);
  const v = invert ? 255 : 0;
  const background = { r: v, g: v, b: v };
  // Bytes, never a path, go to sharp: a FIFO or device given as an image must not hang libvips.
  const encoded = typeof input === 'string' ? await readRegularFile(input, { what: 'image' }) : input;
  const { data, info } = await sharp(encoded)
    .rotate()
    .flatten({ background })
    .resize({ width, height, fit, kernel: 'lanczos3', background, position: 'centre' })
    .toColourspace('srgb')
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  if (info.width !== width || info.height !== height || info.channels !== 3 || data.length !== width * height * 3) {
    throw new Error(`decoded to ${info.width}x${info.height}x${info.channels}, expected ${width}x${height}x3`);
  }
  let out: Uint8Array;
  if (channels === 3) {
    out = new Uint8Array(data.buffer, data.byteOffset, data.length);
  } else {
    out = new Uint8Array(width * height);
    for (let p = 0; p < out.length; p++) {
      // round(0.299 R + 0.587 G + 0.114 B) in exact integer arithmetic.
      out[p] = Math.floor((299 * data[3 * p] + 587 * data[3 * p + 1] + 114 * data[3 * p + 2] + 500) / 1000);
    }
  }
  if (invert) for (let p = 0; p < out.length; p++) out[p] = 255 - out[p];
  return out;
}

/**
 * One image file as a normalised Tensor `[1, height, width, channels]`, prepared exactly as
 * `loadImageFolder` prepares each image (for `predict`). `normalization` as in `Dataset`
 * (default: `p / 255`).
 */
export async function loadImage(file: string, opts: ImageDecodeOptions & { normalization?: Normalization | null }): Promise<Tensor> {
  const { height, width, channels } = checkDecodeOptions('loadImage', opts);
  const problem = fileProblem(file);
  if (problem !== undefined) throw new Error(`loadImage: image '${file}' ${problem}`);
  let bytes: Uint8Array;
  try {
    bytes = await decodeImage(file, opts);
  } catch (e) {
    throw new Error(`loadImage: cannot read image '${file}': ${(e as Error).message}`, { cause: e });
  }
  const one = new Dataset({ images: bytes, labels: new Int32Array(1), height, width, channels, normalization: opts.normalization ?? null });
  return one.image(0);
}

/**
 * Why `file` cannot be an image file, in words (undefined when it exists and is not a folder): decoders say
 * "unsupported image format" for a folder and "missing" for a loop of symbolic links.
 */
export function fileProblem(file: string): string | undefined {
  let st;
  try {
    st = statSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') return 'is a loop of symbolic links (too many levels of links)';
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'does not exist';
    if (code === 'EACCES' || code === 'EPERM') return 'cannot be read (permission denied)';
    return `cannot be read (${(e as Error).message})`;
  }
  if (st.isDirectory()) return 'is a folder, not an image file';
  // A FIFO or device: readRegularFile refuses it with its kind ("is a FIFO (named pipe) ...").
  return undefined;
}

function checkDecodeOptions(op: string, opts: ImageDecodeOptions): Required<ImageDecodeOptions> {
  if (opts === null || typeof opts !== 'object') throw new Error(`${op}: options {height, width, channels} are required`);
  for (const name of ['height', 'width'] as const) {
    const v = opts[name];
    if (!Number.isInteger(v) || v <= 0) throw new Error(`${op}: ${name} must be a positive integer, got ${String(v)}`);
  }
  if (opts.channels !== 1 && opts.channels !== 3) throw new Error(`${op}: channels must be 1 or 3, got ${String(opts.channels)}`);
  const fit = opts.fit ?? 'fill';
  if (fit !== 'fill' && fit !== 'contain' && fit !== 'cover') throw new Error(`${op}: fit must be 'fill', 'contain' or 'cover', got ${String(fit)}`);
  if (opts.invert !== undefined && typeof opts.invert !== 'boolean') throw new Error(`${op}: invert must be true or false, got ${String(opts.invert)}`);
  return { height: opts.height, width: opts.width, channels: opts.channels, fit, invert: opts.invert ?? false };
}

function entries(dir: string): Dirent[] {
  return readdirSync(dir, { withFileTypes: true }).filter((e) => !e.name.startsWith('.'));
}

function isDir(parent: string, e: Dirent): boolean {
  if (e.isDirectory()) return true;
  if (!e.isSymbolicLink()) return false;
  try {
    return statSync(join(parent, e.name)).isDirectory();
  } catch {
    return false;
  }
}
