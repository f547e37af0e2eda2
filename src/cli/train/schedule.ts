/**
 * The learning-rate plan of a `stride train` run: the base rate, the schedule (with its warmup), and
 * on resume a note of what a changed --epochs or schedule option does to the rates.
 */
import type { EpochMetrics } from '../../model/fit.js';
import { createSchedule, type Schedule, type ScheduleSpec } from '../../optim/schedule.js';
import { formatLr } from '../progress.js';
import { usageError } from '../util.js';
import { buildSchedule, type TrainConfig } from './config.js';
import type { RunStart } from './start.js';

export interface SchedulePlan {
  /** The schedule's base rate: --lr, or the optimizer's default. */
  baseLr: number;
  spec: ScheduleSpec;
  schedule: Schedule;
  /** What resuming changes about the rates, in words (at most one note; none for a fresh run). */
  notes: string[];
}

export function planSchedule(run: RunStart): SchedulePlan {
  const { config, optimizer } = run;
  if (config.warmup > 0 && config.warmup >= config.epochs) {
    throw usageError(`--warmup ${config.warmup} leaves no epoch for the schedule: it must be less than --epochs (${config.epochs})`);
  }
  const baseLr = config.lr ?? optimizer.lr;
  const spec = buildSchedule(config, baseLr);
  let schedule: Schedule;
  try {
    schedule = createSchedule(spec);
  } catch (e) {
    throw usageError((e as Error).message);
  }
  const notes: string[] = [];
  if (run.savedConfig !== null && run.startEpoch < config.epochs) {
    const note = resumeNote(run.savedConfig, config, run.startEpoch, run.history, schedule);
    if (note !== null) notes.push(note);
  }
  return { baseLr, spec, schedule, notes };
}

/**
 * What resuming with a different --epochs (or other schedule options) does to the learning rates,
 * in words; null when nothing about the schedule changed. An exact extension is impossible when the
 * schedule depends on the total (cosine anneals over --epochs, step's default size is epochs/3):
 * epochs 1..start already ran on the old plan.
 */
function resumeNote(saved: TrainConfig, now: TrainConfig, start: number, history: readonly EpochMetrics[], schedule: (t: number) => number): string | null {
  const base = saved.lr ?? 0;
  const before = JSON.stringify(buildSchedule(saved, base));
  const after = JSON.stringify(buildSchedule(now, now.lr ?? base));
  const sameTotal = saved.epochs === now.epochs;
  if (sameTotal && before === after) return null;
  const n = now.epochs;
  const head = sameTotal ? 'the schedule options changed' : `${n > saved.epochs ? 'extending' : 'shortening'} the run from ${saved.epochs} to ${n} epochs`;
  if (!sameTotal && before === after) return `${head}: the ${now.schedule} schedule does not depend on --epochs, so this is the same as a straight ${n}-epoch run`;
  const span = start + 1 === n ? `epoch ${n}` : `epochs ${start + 1}-${n}`;
  const last = history.length > 0 ? history[history.length - 1].lr : null;
  const rates = `lr ${formatLr(schedule(start))} in epoch ${start + 1}${last !== null && start > 0 ? `, after ${formatLr(last)} in epoch ${start}` : ''}`;
  const onlyTotal = JSON.stringify(buildSchedule({ ...saved, epochs: n }, base)) === after;
  if (onlyTotal) {
    return `${head}: the ${now.schedule} schedule is re-planned over ${n} epochs, so ${span} get the rates a run of ${n} epochs has there (${rates}); epochs 1-${start} were trained on the ${saved.epochs}-epoch plan, so this is not the same model as a straight ${n}-epoch run`;
  }
  return `${head}: ${span} follow the new ${now.schedule} schedule (${rates}); this is not the same model as a straight run with these options`;
}
