/**
 * `stride train`'s training loop: `fit` with the progress line, a checkpoint after every epoch
 * (`--checkpoint DIR`), the per-batch values for `--plot`, and a diverged run turned into a
 * message that says what was kept and what to try.
 */
import type { Dataset } from '../../data/dataset.js';
import { randomAffine } from '../../data/affine.js';
import type { Json } from '../../model/checkpoint.js';
import { fit, TrainingDivergedError, type EpochInfo, type EpochMetrics, type FitResult } from '../../model/fit.js';
import type { Sequential } from '../../model/sequential.js';
import { saveCheckpoint } from '../../node/checkpoint.js';
import type { Rng } from '../../tensor/random.js';
import { batchEpoch, type BatchRecord } from '../../viz/plot.js';
import { infoMetadata, type CliModelInfo } from '../models.js';
import { shellQuote } from '../outputs.js';
import { Progress, formatLr } from '../progress.js';
import { CliError, type Output } from '../util.js';
import type { RunStart } from './start.js';
import type { SchedulePlan } from './schedule.js';

/** What the loop trains: the model, its data, and where checkpoints go. */
export interface TrainingJob {
  run: RunStart;
  plan: SchedulePlan;
  model: Sequential;
  /** The facts the checkpoints' model files record. */
  info: CliModelInfo;
  train: Dataset;
  validation: Dataset | undefined;
  /** The shuffle/augmentation generator (already at the checkpoint's state on resume). */
  rng: Rng;
  /** `--checkpoint DIR`, if given. */
  checkpoint: string | undefined;
}

export interface TrainingOutcome {
  result: FitResult;
  /** Every batch's training loss and accuracy, for the plot. */
  batches: BatchRecord[];
}

/** Trains epochs `startEpoch + 1 … epochs`, checkpointing after each; throws a CliError when training diverges. */
export async function runTraining(job: TrainingJob, out: Output): Promise<TrainingOutcome> {
  const { run, plan, model, checkpoint } = job;
  const { config, optimizer } = run;
  const progress = new Progress(out);
  const batches: BatchRecord[] = [];
  // The last epoch whose checkpoint is on disk (for the message if training diverges).
  let savedEpoch: number | null = run.startEpoch > 0 ? run.startEpoch : null;
  try {
    const result = await fit(model, job.train, {
      epochs: config.epochs,
      batchSize: config.batchSize,
      optimizer,
      schedule: plan.schedule,
      validation: job.validation,
      earlyStopping: config.earlyStopping !== null ? { patience: config.earlyStopping } : undefined,
      rng: job.rng,
      augment: config.augment > 0 ? { shift: config.augment } : undefined,
      transform: config.rotate > 0 || config.scale > 0 ? randomAffine({ degrees: config.rotate, scale: config.scale }) : undefined,
      startEpoch: run.startEpoch,
      history: run.history,
      onBatch: (b) => {
        progress.batch(b);
        batches.push({ epoch: batchEpoch(b.epoch, b.batch, b.batches), loss: b.loss, accuracy: b.accuracy });
      },
      onEpoch: async (e: EpochInfo) => {
        progress.epoch(e);
        if (checkpoint !== undefined) {
          const saved = await saveCheckpoint(checkpoint, {
            model,
            optimizer,
            epoch: e.epoch,
            metrics: e.history.map(epochJson),
            config,
            trainerState: { rng: e.rng.getState() },
            modelMetadata: infoMetadata(job.info),
          });
          savedEpoch = e.epoch;
          out.event({ event: 'checkpoint', epoch: e.epoch, path: saved.path });
        }
      },
    });
    return { result, batches };
  } catch (e) {
    if (!(e instanceof TrainingDivergedError)) throw e;
    throw divergedError(e, checkpoint !== undefined ? savedEpoch : null, checkpoint, plan.baseLr);
  } finally {
    progress.clear();
  }
}

/** The message for a run whose loss or weights became non-finite: what, when, what was kept, what to try. */
function divergedError(e: TrainingDivergedError, savedEpoch: number | null, checkpoint: string | undefined, lr: number): CliError {
  const kept =
    checkpoint !== undefined && savedEpoch !== null
      ? `the checkpoint of epoch ${savedEpoch} in '${checkpoint}' is kept (to continue from it: stride train --resume --checkpoint ${shellQuote(checkpoint)} --lr ${formatLr(lr / 10)})`
      : 'nothing was saved';
  return new CliError(`training diverged in epoch ${e.epoch}: ${e.detail}; ${kept}; try a lower --lr (it was ${formatLr(lr)})`);
}

/** An epoch record as the JSON a checkpoint stores: its keys in their order (resuming reads them back, start.ts). */
function epochJson(r: EpochMetrics): Json {
  const o: { [key: string]: Json } = {};
  for (const [k, v] of Object.entries(r)) if (v !== undefined) o[k] = v;
  return o;
}
