/**
 * `stride train`'s data: the training and test images at the model's input shape (unreadable
 * images of a folder skipped and reported with `--skip-bad`), checked before any training, and
 * the validation split (`--val-split`).
 */
import { relative } from 'node:path';
import type { Dataset } from '../../data/dataset.js';
import type { Rng } from '../../tensor/random.js';
import { loadData, type LoadedData } from '../data.js';
import type { CliModelInfo } from '../models.js';
import { checkTrainingData } from '../provenance.js';
import { CliError, usageError, type Output } from '../util.js';
import type { TrainConfig } from './config.js';

/** Loads the run's data at `shape`, in the class order and resize mode `info` records; warns about what it skipped and about data that cannot train well. */
export async function loadTrainingData(config: TrainConfig, shape: [number, number, number], info: CliModelInfo, skipBad: boolean, out: Output): Promise<LoadedData> {
  let data: LoadedData;
  try {
    data = await loadData({
      data: config.data,
      testData: config.testData ?? undefined,
      image: { height: shape[0], width: shape[1], channels: shape[2] as 1 | 3, fit: info.fit },
      classes: info.classNames,
      limit: config.limit ?? undefined,
      testLimit: config.testLimit ?? undefined,
      onWarning: (m) => out.warn(m),
      skipBad,
    });
  } catch (e) {
    if (!skipBad && /cannot read image/.test((e as Error).message)) {
      throw new CliError(`${(e as Error).message} (add --skip-bad to leave unreadable images out)`);
    }
    throw e;
  }
  if (data.skipped !== undefined && data.skipped.files.length > 0) {
    const n = data.skipped.files.length;
    out.warn(`--skip-bad: skipped ${n} unreadable image${n === 1 ? '' : 's'} (of ${data.skipped.of}): ${data.skipped.files.map((f) => relative(process.cwd(), f)).join(', ')}`);
  }
  // At least 2 classes and a non-empty test set, before any training.
  for (const w of checkTrainingData(data, config)) out.warn(w);
  return data;
}

/** The training images, less the `--val-split` fraction held out for validation (drawn with `rng`). */
export function splitTrainingData(data: LoadedData, config: TrainConfig, rng: Rng): { train: Dataset; validation: Dataset | undefined } {
  let train: Dataset = data.train;
  let validation: Dataset | undefined;
  if (config.valSplit > 0) {
    ({ train, validation } = data.train.splitValidation(config.valSplit, { rng }));
    if (validation.length === 0) throw usageError(`--val-split ${config.valSplit} leaves no validation images out of ${data.train.length}`);
  }
  if (train.length === 0) throw usageError('no training images (check --limit and --val-split)');
  return { train, validation };
}
