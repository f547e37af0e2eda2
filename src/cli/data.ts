/**
 * Where the CLI's images come from: the embedded MNIST split (`--data mnist`) or an image folder
 * (`--data DIR`, `root/<class>/<image>`), with `--limit` for quick runs.
 */
import { statSync } from 'node:fs';
import { Dataset } from '../data/dataset.js';
import { loadMnistSplits } from '../node/mnist.js';
import { loadImageFolder, type ResizeFit } from '../node/image-folder.js';
import { CliError } from './util.js';

export interface ImageSpec {
  height: number;
  width: number;
  channels: 1 | 3;
  fit?: ResizeFit;
}

export interface LoadedData {
  /** 'mnist' or the folder path, for messages. */
  name: string;
  train: Dataset;
  test: Dataset;
  classNames: readonly string[];
  /** How the test split was made, for the log. */
  testSource: string;
}

/** `name` is 'mnist' (case-insensitive) or a folder. */
export const isMnist = (name: string): boolean => name.toLowerCase() === 'mnist';

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
}

/**
 * Loads training and test data. MNIST: the embedded split (per digit, the first 80% train and the
 * rest test). An image folder: the folder is the training set and `testData` the test set; without
 * `testData`, the last 20% of each class's images (in file order) are held out as the test set.
 */
export async function loadData(opts: LoadDataOptions): Promise<LoadedData> {
  if (isMnist(opts.data)) {
    const { height, width, channels } = opts.image;
    if (height !== 28 || width !== 28 || channels !== 1) {
      throw new CliError(`--data mnist holds 28x28 grey images, but the model takes ${height}x${width}x${channels}`);
    }
    if (opts.testData !== undefined) throw new CliError('--test-data applies to image folders, not to --data mnist');
    const { train, test } = loadMnistSplits({ onWarning: opts.onWarning });
    return {
      name: 'mnist',
      train: limitBalanced(train, opts.limit),
      test: limitBalanced(test, opts.testLimit),
      classNames: train.classNames,
      testSource: 'the embedded MNIST test split (per digit, the last 20% of the samples)',
    };
  }
  const all = await loadFolder(opts.data, opts.image, opts.classes, opts.onWarning);
  let train: Dataset;
  let test: Dataset;
  let testSource: string;
  if (opts.testData !== undefined) {
    train = all;
    test = await loadFolder(opts.testData, opts.image, all.classNames, opts.onWarning, '--test-data');
    testSource = opts.testData;
  } else {
    ({ train, validation: test } = all.splitValidation(0.2));
    testSource = `the last 20% of each class in ${opts.data}`;
  }
  return { name: opts.data, train: limitBalanced(train, opts.limit), test: limitBalanced(test, opts.testLimit), classNames: all.classNames, testSource };
}

/**
 * One labelled dataset for `eval` and `visualize`: the MNIST split, or an image folder split the
 * way `train` splits it when there is no --test-data: 'test' = the last 20% of each class's images,
 * 'train' = the rest, 'all' = every image.
 */
export async function loadEvalData(data: string, split: 'test' | 'train' | 'all', image: ImageSpec, classes: readonly string[] | undefined, limit: number | undefined): Promise<Dataset> {
  let train: Dataset;
  let test: Dataset;
  if (isMnist(data)) {
    const { height, width, channels } = image;
    if (height !== 28 || width !== 28 || channels !== 1) throw new CliError(`--data mnist holds 28x28 grey images, but the model takes ${height}x${width}x${channels}`);
    ({ train, test } = loadMnistSplits());
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

async function loadFolder(dir: string, image: ImageSpec, classes: readonly string[] | undefined, onWarning?: (m: string) => void, flag = '--data'): Promise<Dataset> {
  let isDir: boolean;
  try {
    isDir = statSync(dir).isDirectory();
  } catch (e) {
    const problem = (e as NodeJS.ErrnoException).code === 'ELOOP' ? 'is a loop of symbolic links' : 'no such folder';
    throw new CliError(`${flag} '${dir}': ${problem} (expected 'mnist' or a folder of class sub-folders)`);
  }
  if (!isDir) throw new CliError(`${flag} '${dir}' is not a folder (expected 'mnist' or a folder of class sub-folders)`);
  const { dataset } = await loadImageFolder(dir, { ...image, classes, onWarning });
  return dataset;
}
