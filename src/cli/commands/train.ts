/**
 * `stride train`: train a preset or a model file on MNIST or an image folder, with progress, per-epoch
 * checkpoints (`--checkpoint DIR`, `--resume`), a final test evaluation and confusion matrix, and
 * the model saved to `--out`.
 *
 * Resuming: every checkpoint stores the run's configuration, metrics history, optimizer state and
 * the shuffle/augmentation Rng state (the model file inside it stores the weights and the model's
 * own Rng). `train --resume --checkpoint DIR --epochs N` restores all of that and continues, so
 * `train --epochs 2` and `train --epochs 1` + `train --resume --epochs 2` give the same bytes.
 */
import type { Command } from 'commander';
import { Rng } from '../../tensor/random.js';
import { selectBackend } from '../backend.js';
import { dataRecord } from '../provenance.js';
import { duration, makeOutput } from '../util.js';
import { configFrom, type RawOptions } from '../train/config.js';
import { loadTrainingData, splitTrainingData } from '../train/data.js';
import { runTraining } from '../train/loop.js';
import { checkRunOptions, modelOutput } from '../train/outputs.js';
import { reportStart, reportTest, saveTrainedModel, writePlot } from '../train/report.js';
import { planSchedule } from '../train/schedule.js';
import { buildModel, modelSource, startRun } from '../train/start.js';

export { TRAIN_DEFAULTS, trainOptimizerOptions, type TrainConfig, type TrainRunOptions } from '../train/config.js';

/**
 * The steps of a run, in order (src/cli/train/): check the flags and every output path; start fresh
 * or from the checkpoint; choose the model file's name; select the backend; find the model (and so
 * the image shape); load and check the data; build the model; split off validation; plan the
 * learning rates; report the plan; train; evaluate on the test set; save the model and the plot.
 */
export async function trainCommand(raw: RawOptions, cmd: Command): Promise<void> {
  const out = makeOutput(raw.json);
  const started = performance.now();
  const given = (k: string): boolean => cmd.getOptionValueSource(k) === 'cli';
  await checkRunOptions(raw, given);
  const run = await startRun(raw, configFrom(raw), given);
  const { config } = run;
  const target = await modelOutput(raw, config);
  const backend = await selectBackend(raw.backend, raw.threads, (m) => out.warn(m));

  const rootRng = new Rng(config.seed);
  const splitRng = rootRng.fork();
  const trainRng = rootRng.fork();
  const source = await modelSource(config, run.resumed);
  const data = await loadTrainingData(config, source.shape, source.info, raw.skipBad === true, out);
  const { model, info } = await buildModel(config, source, data);
  const { train, validation } = splitTrainingData(data, config, splitRng);
  // Which images the model is trained and tested on, for `eval` (provenance.ts).
  info.dataset = dataRecord(data, config, validation?.length ?? 0);
  if (config.earlyStopping !== null && config.epochs <= run.startEpoch) out.warn('--early-stopping has no effect: no epochs left to run');
  const plan = planSchedule(run);
  if (run.rngState !== null) trainRng.setState(run.rngState);

  reportStart(out, { run, plan, model, shape: source.shape, data, train, validation, backend, checkpoint: raw.checkpoint, outNote: target.note });
  const { result, batches } = await runTraining({ run, plan, model, info, train, validation, rng: trainRng, checkpoint: raw.checkpoint }, out);
  if (run.startEpoch >= config.epochs) out.info(`nothing to train: the checkpoint has ${run.startEpoch} epochs and --epochs is ${config.epochs}`);

  const test = reportTest(out, model, data);
  if (target.path !== undefined) await saveTrainedModel(out, model, info, target.path);
  if (raw.plot !== undefined) await writePlot(out, raw.plot, `${config.model} on ${data.name}`, result, batches, test.accuracy);
  const seconds = (performance.now() - started) / 1000;
  out.info(`done in ${duration(seconds)}`);
  out.event({ event: 'done', seconds, stopReason: result.stopReason, epochs: result.lastEpoch, testAccuracy: test.accuracy });
}
