/**
 * Which images a model was trained and tested on, recorded in its model file by `stride train`
 * (the `dataset` field of the `stride.cli` metadata, so under the file's checksum), and what
 * `eval` and `visualize` evaluate on because of it.
 *
 * The point: a model trained on all of `data/train` with `--test-data data/test` must never be
 * "evaluated on the test split" of `data/train` (the last 20% of each class, training images).
 * `eval` takes what the user names (`--data`), or the recorded test set, or refuses and says why.
 */
import { realpathSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Dataset } from '../data/dataset.js';
import { loadImageFolder } from '../node/image-folder.js';
import { isMnist, isMnist10k, limitBalanced, loadEvalData, type ImageSpec, type LoadedData } from './data.js';
import { CliError, pathProblem, personMessage } from './util.js';

/** One set of images a model saw. */
export interface DataPart {
  /** 'mnist' (a built-in dataset) or the folder as given on the command line. */
  source: string;
  /** The folder's absolute path (folders only), to recognise it from another working directory. */
  path?: string;
  /**
   * Which images of `source`: its 'train' or 'test' split (for a folder: the first 80% or the
   * last 20% of each class's files, in file order), or 'all' of them.
   */
  split: 'train' | 'test' | 'all';
  /** Images in that split (before --limit). */
  total: number;
  /** Images used: the first `count` of the split, class-balanced (`--limit`, `--test-limit`). */
  count: number;
}

/** The record `stride train` writes. */
export interface DataRecord {
  train: DataPart;
  test: DataPart;
  /** Images of `train` held out for validation (`--val-split`), if any. */
  validation?: number;
}

export type EvalSplit = 'train' | 'test' | 'all';

/** An image folder (not a built-in name such as 'mnist' or 'mnist-10k', which wins over a folder of that name, as in loadData). */
const isFolder = (p: string): boolean => {
  if (isMnist(p) || isMnist10k(p)) return false;
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};

/** The record of a training run: `data` as `loadData` returned it (before `--val-split`), the data names and limits as given. */
export function dataRecord(
  data: LoadedData,
  run: { data: string; testData: string | null; limit: number | null; testLimit: number | null },
  validation: number,
): DataRecord {
  // With a limit the split's own size is not known here (loadData has applied it): total 0 = unknown.
  const part = (source: string, split: DataPart['split'], ds: Dataset, limit: number | null): DataPart => {
    const p: DataPart = { source, split, total: limit === null ? ds.length : 0, count: ds.length };
    if (isFolder(source)) p.path = resolve(source);
    return p;
  };
  const trainSplit = isFolder(run.data) && run.testData !== null ? 'all' : 'train';
  const train = part(run.data, trainSplit, data.train, run.limit);
  const test = run.testData !== null ? part(run.testData, 'all', data.test, run.testLimit) : part(run.data, 'test', data.test, run.testLimit);
  const rec: DataRecord = { train, test };
  if (validation > 0) rec.validation = validation;
  return rec;
}

/** Reads a record back from parsed JSON; undefined for anything malformed (the file is then treated as having none). */
export function parseDataRecord(v: unknown): DataRecord | undefined {
  const part = (p: unknown): DataPart | undefined => {
    if (p === null || typeof p !== 'object') return undefined;
    const o = p as Record<string, unknown>;
    if (typeof o.source !== 'string' || !['train', 'test', 'all'].includes(o.split as string)) return undefined;
    if (!Number.isSafeInteger(o.total) || !Number.isSafeInteger(o.count)) return undefined;
    if (o.path !== undefined && typeof o.path !== 'string') return undefined;
    const r: DataPart = { source: o.source, split: o.split as DataPart['split'], total: o.total as number, count: o.count as number };
    if (typeof o.path === 'string') r.path = o.path;
    return r;
  };
  if (v === null || typeof v !== 'object') return undefined;
  const o = v as Record<string, unknown>;
  const train = part(o.train);
  const test = part(o.test);
  if (train === undefined || test === undefined) return undefined;
  const rec: DataRecord = { train, test };
  if (Number.isSafeInteger(o.validation) && (o.validation as number) > 0) rec.validation = o.validation as number;
  return rec;
}

/**
 * Checks, before any training, that the loaded data can train and test a classifier: at least two
 * classes, and a test set with images in it. Returns warnings (classes without test images).
 */
export function checkTrainingData(data: LoadedData, run: { data: string; testData: string | null }): string[] {
  const k = data.classNames.length;
  const where = run.testData ?? run.data;
  if (k < 2) {
    throw new CliError(
      k === 1
        ? `--data '${run.data}': one class folder found ('${data.classNames[0]}'); a classifier needs at least 2, one folder per class (${run.data}/<class>/<image>)`
        : `--data '${run.data}': no classes found`,
    );
  }
  const perClass = new Int32Array(k);
  for (let i = 0; i < data.test.length; i++) perClass[data.test.label(i)]++;
  if (data.test.length === 0) {
    throw new CliError(
      run.testData !== null
        ? `--test-data '${run.testData}' has no images`
        : `the test set is empty: the last 20% of each class of '${run.data}' is held out for testing, and no class has more than 2 images ` +
            `(${classCounts(data.train, k)}); add images, or give a separate test folder with --test-data DIR`,
    );
  }
  const missing = data.classNames.filter((_, c) => perClass[c] === 0);
  return missing.length === 0 ? [] : [`no test images for class${missing.length > 1 ? 'es' : ''} ${missing.map((c) => `'${c}'`).join(', ')} in ${where}: the test accuracy says nothing about ${missing.length > 1 ? 'them' : 'it'}`];
}

function classCounts(ds: Dataset, k: number): string {
  const n = new Int32Array(k);
  for (let i = 0; i < ds.length; i++) n[ds.label(i)]++;
  const shown = Array.from(n.slice(0, 5), (c, i) => `'${ds.classNames[i]}': ${c}`);
  return `training images per class: ${shown.join(', ')}${k > 5 ? ', ...' : ''}`;
}

export interface EvalChoice {
  dataset: Dataset;
  /** 'mnist' or the folder, for JSON. */
  data: string;
  split: EvalSplit;
  /** What the images are, for people: "the test set recorded in the model: data/test (all 120 images)". */
  label: string;
  /** Whether these are images the model was trained on (true), tested on (false), or not known (null). */
  training: boolean | null;
  warnings: string[];
}

const samePath = (a: string, b: string): boolean => {
  const real = (p: string): string => {
    try {
      return realpathSync(p);
    } catch {
      return resolve(p);
    }
  };
  return real(a) === real(b);
};

/** Is the folder `dir` the one a record part names? */
const isPart = (dir: string, p: DataPart): boolean => p.path !== undefined && (samePath(dir, p.path) || samePath(dir, p.source));

/**
 * The images `eval` (and `visualize`) should use. `data`/`split` are the user's `--data` and
 * `--split` (undefined when not given); `record` the model file's record, `fallback` its
 * training data name from before records existed.
 */
export async function chooseEvalData(
  opts: { data?: string; split?: EvalSplit; limit?: number; model?: string },
  record: DataRecord | undefined,
  fallback: string | undefined,
  image: ImageSpec,
  classes: readonly string[] | undefined,
): Promise<EvalChoice> {
  const warnings: string[] = [];
  const done = (dataset: Dataset, data: string, split: EvalSplit, label: string, training: boolean | null): EvalChoice => {
    if (dataset.length === 0) throw new CliError(`no images to evaluate in ${label}`);
    const d = limitBalanced(dataset, opts.limit);
    return { dataset: d, data, split, label: opts.limit !== undefined && d.length < dataset.length ? `${label}, first ${d.length} (--limit)` : label, training, warnings };
  };
  const checkCount = (ds: Dataset, p: DataPart, what: string): void => {
    if (p.total > 0 && ds.length !== p.total) {
      warnings.push(
        `${what} has ${ds.length} images now but had ${p.total} when the model was trained: the folder changed, so ` +
          (p.split === 'all' ? 'the figures are not comparable' : 'the 80%/20% split moved and may mix training and test images'),
      );
    }
  };

  if (opts.data === undefined && record !== undefined) {
    const { train, test } = record;
    if (opts.split === 'all') {
      if (train.source !== test.source) {
        throw new CliError(
          `--split all: the model was trained on '${train.source}' and tested on '${test.source}'; name the images with --data (--split all then takes every image of that folder)`,
        );
      }
      return done(await load(train, 'all', image, classes), train.source, 'all', `all images of ${train.source} (training and test)`, null);
    }
    const p = opts.split === 'train' ? train : test;
    const ds = await load(p, p.split, image, classes);
    if (p.path !== undefined) checkCount(ds, p, `'${p.source}'`);
    const role = p === train ? 'the training set recorded in the model' : 'the test set recorded in the model';
    const trained = p === train ? limitTraining(ds, p) : ds;
    return done(trained, p.source, p.split, `${role}: ${describe(p.source, p.split, p.path !== undefined)}`, p === train);
  }

  const name = opts.data ?? fallback ?? 'mnist';
  if (!isFolder(name)) {
    // A built-in dataset (or a missing folder: loadEvalData says so).
    const split = opts.split ?? 'test';
    const ds = await loadEvalData(name, split, image, classes, undefined);
    const trainedOn = record !== undefined && record.train.path === undefined && record.train.source === name;
    const training = record === undefined ? null : !trainedOn ? false : split === 'train' ? true : split === 'test' ? false : null;
    return done(ds, name, split, `${name} (${split === 'all' ? 'all images' : `${split} split`})`, training);
  }

  const folder = async (split: EvalSplit): Promise<Dataset> => {
    const all = await loadFolder(name, image, classes);
    if (split === 'all') return all;
    const { train, validation } = all.splitValidation(0.2);
    return split === 'train' ? train : validation;
  };
  if (record !== undefined && isPart(name, record.train)) {
    const p = record.train;
    if (p.split === 'all') {
      // Trained on every image of this folder (its test set was another folder).
      if (opts.split === undefined || opts.split === 'test') {
        throw new CliError(
          `'${name}' is the folder the model was trained on (all of its images); its test set was '${record.test.source}': ` +
            `run 'stride eval ${opts.model ?? 'MODEL'}' without --data to use it, or pass --split train to evaluate on the training images`,
        );
      }
      const ds = await folder('all');
      checkCount(ds, p, `'${name}'`);
      return done(limitTraining(ds, p), name, opts.split, `the training images: all of ${name}`, true);
    }
    // Trained on the first 80% of each class; the last 20% was its test set.
    const split = opts.split ?? 'test';
    const all = await folder('all');
    const { train: first, validation: last } = all.splitValidation(0.2);
    checkCount(first, p, `the training split of '${name}'`);
    if (split === 'train') return done(limitTraining(first, p), name, split, `the training split of ${name} (first 80% of each class)`, true);
    if (split === 'test') return done(last, name, split, `the test split of ${name} (last 20% of each class, held out in training)`, false);
    return done(all, name, split, `all images of ${name} (training and test)`, null);
  }
  if (record !== undefined && isPart(name, record.test)) {
    if (opts.split === 'train') throw new CliError(`'${name}' is the model's test folder (all of it was held out): --split train has no meaning for it`);
    const ds = await folder('all');
    checkCount(ds, record.test, `'${name}'`);
    return done(ds, name, 'all', `the test set: all of ${name}`, false);
  }
  if (record !== undefined) {
    // A folder the model never saw: all of it, unless a split is asked for.
    const split = opts.split ?? 'all';
    return done(await folder(split), name, split, split === 'all' ? `all images of ${name}` : describe(name, split, true), false);
  }
  // A model file without a record (written before stride recorded one, or by saveModel).
  const split = opts.split ?? 'test';
  if (fallback !== undefined && isFolder(fallback) && samePath(fallback, name) && split !== 'all') {
    warnings.push(
      `the model file does not record which images of '${name}' it was trained on (it predates that record): if it was trained with --test-data, ` +
        `the "${split}" images below are training images too`,
    );
  }
  return done(await folder(split), name, split, split === 'all' ? `all images of ${name}` : describe(name, split, true), null);
}

/** The training images of a part: the class-balanced first `count` when `--limit` was used. */
function limitTraining(ds: Dataset, p: DataPart): Dataset {
  return p.count < ds.length ? limitBalanced(ds, p.count) : ds;
}

function describe(source: string, split: EvalSplit, folder: boolean): string {
  if (!folder) return `${source} (${split === 'all' ? 'all images' : `${split} split`})`;
  if (split === 'all') return `all of ${source}`;
  return split === 'test' ? `${source}, last 20% of each class` : `${source}, first 80% of each class`;
}

async function load(p: DataPart, split: EvalSplit, image: ImageSpec, classes: readonly string[] | undefined): Promise<Dataset> {
  if (p.path === undefined) return loadEvalData(p.source, split, image, classes, undefined);
  // Prefer the folder as given (relative to here), else where it was at training time.
  const dir = isFolder(p.source) ? p.source : p.path;
  const all = await loadFolder(dir, image, classes, p.source);
  if (split === 'all') return all;
  const { train, validation } = all.splitValidation(0.2);
  return split === 'train' ? train : validation;
}

async function loadFolder(dir: string, image: ImageSpec, classes: readonly string[] | undefined, shown = dir): Promise<Dataset> {
  let st;
  try {
    st = statSync(dir);
  } catch (e) {
    throw new CliError(`data folder '${shown}' ${pathProblem(e) ?? `cannot be read (${(e as Error).message})`}`);
  }
  if (!st.isDirectory()) throw new CliError(`data '${shown}' is not a folder (expected 'mnist' or a folder of class sub-folders)`);
  try {
    return (await loadImageFolder(dir, { ...image, classes })).dataset;
  } catch (e) {
    throw new CliError(personMessage((e as Error).message));
  }
}
