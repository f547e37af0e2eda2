/**
 * Learning-rate schedules: pure functions from a time t (an epoch or a step number, 0-based, your
 * choice of unit) to a learning rate, built from a JSON-able spec.
 *
 * ```text
 * constant     lr(t) = lr
 * step         lr(t) = lr · gamma^floor(t / stepSize)                     (PyTorch StepLR)
 * exponential  lr(t) = lr · gamma^t                                        (PyTorch ExponentialLR)
 * cosine       lr(t) = minLr + (lr − minLr) · (1 + cos(π · t / tMax)) / 2 for t ≤ tMax,
 *              minLr after tMax                                            (CosineAnnealingLR, no restarts)
 * ```
 * Optional linear warmup of `warmup` units comes first and shifts the schedule: for t < warmup,
 * `lr(t) = warmupStart + (lr − warmupStart) · t / warmup`, and after it the schedule above is
 * evaluated at `t − warmup` (so a cosine schedule still anneals over its full tMax).
 *
 * ```ts
 * const schedule = createSchedule({ kind: 'cosine', lr: 0.1, tMax: 30, minLr: 1e-4, warmup: 2 });
 * for (let epoch = 0; epoch < 32; epoch++) { opt.lr = schedule(epoch); trainOneEpoch(); }
 * ```
 */
import { checkNonNegative, checkOptions, checkPositive } from './optimizer.js';

interface Warmup {
  /** Length of the linear warmup, in the schedule's units (default 0: none). */
  warmup?: number;
  /** Learning rate at t = 0 when warming up (default 0). */
  warmupStart?: number;
}

export type ScheduleSpec =
  | ({ kind: 'constant'; lr: number } & Warmup)
  | ({ kind: 'step'; lr: number; stepSize: number; gamma?: number } & Warmup)
  | ({ kind: 'exponential'; lr: number; gamma: number } & Warmup)
  | ({ kind: 'cosine'; lr: number; tMax: number; minLr?: number } & Warmup);

export type ScheduleKind = ScheduleSpec['kind'];

/** A learning-rate schedule: call it with t >= 0. `spec` is the complete, validated spec (defaults filled in). */
export interface Schedule {
  (t: number): number;
  readonly spec: Readonly<ScheduleSpec>;
}

const WARMUP_KEYS = ['kind', 'lr', 'warmup', 'warmupStart'];
const KEYS: Record<ScheduleKind, string[]> = {
  constant: WARMUP_KEYS,
  step: [...WARMUP_KEYS, 'stepSize', 'gamma'],
  exponential: [...WARMUP_KEYS, 'gamma'],
  cosine: [...WARMUP_KEYS, 'tMax', 'minLr'],
};

/** The kinds `createSchedule` accepts. */
export const scheduleKinds: readonly ScheduleKind[] = Object.freeze(Object.keys(KEYS) as ScheduleKind[]);

/** Validates `spec` (unknown kinds and keys, ranges) and returns the schedule function. */
export function createSchedule(spec: ScheduleSpec): Schedule {
  const kind = (spec as { kind?: unknown } | null)?.kind;
  if (typeof kind !== 'string' || !Object.hasOwn(KEYS, kind)) {
    throw new Error(`createSchedule: unknown schedule kind ${typeof kind === 'string' ? `'${kind}'` : String(kind)}, expected one of ${scheduleKinds.join(', ')}`);
  }
  const op = `createSchedule(${kind})`;
  const o = checkOptions(op, spec, KEYS[kind as ScheduleKind]);
  const lr = checkNonNegative(op, 'lr', o.lr);
  const warmup = checkNonNegative(op, 'warmup', o.warmup ?? 0);
  const warmupStart = checkNonNegative(op, 'warmupStart', o.warmupStart ?? 0);
  let full: ScheduleSpec;
  let main: (t: number) => number;
  switch (kind as ScheduleKind) {
    case 'constant':
      full = { kind: 'constant', lr, warmup, warmupStart };
      main = () => lr;
      break;
    case 'step': {
      const stepSize = checkPositive(op, 'stepSize', o.stepSize);
      const gamma = checkNonNegative(op, 'gamma', o.gamma ?? 0.1);
      full = { kind: 'step', lr, stepSize, gamma, warmup, warmupStart };
      main = (t) => lr * Math.pow(gamma, Math.floor(t / stepSize));
      break;
    }
    case 'exponential': {
      const gamma = checkNonNegative(op, 'gamma', o.gamma);
      full = { kind: 'exponential', lr, gamma, warmup, warmupStart };
      main = (t) => lr * Math.pow(gamma, t);
      break;
    }
    case 'cosine': {
      const tMax = checkPositive(op, 'tMax', o.tMax);
      const minLr = checkNonNegative(op, 'minLr', o.minLr ?? 0);
      if (minLr > lr) throw new Error(`${op}: minLr must be <= lr, got minLr ${minLr} and lr ${lr}`);
      full = { kind: 'cosine', lr, tMax, minLr, warmup, warmupStart };
      main = (t) => (t >= tMax ? minLr : minLr + ((lr - minLr) * (1 + Math.cos((Math.PI * t) / tMax))) / 2);
      break;
    }
  }
  const schedule = (t: number): number => {
    if (typeof t !== 'number' || !Number.isFinite(t) || t < 0) {
      throw new Error(`schedule(${kind}): t must be a finite number >= 0, got ${String(t)}`);
    }
    if (t < warmup) return warmupStart + ((lr - warmupStart) * t) / warmup;
    return main(t - warmup);
  };
  return Object.assign(schedule, { spec: Object.freeze(full) });
}
