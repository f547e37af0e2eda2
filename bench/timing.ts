/**
 * Timing of one workload row across several implementations, interleaved (WORKLOADS.md "How to
 * compare"): each implementation is calibrated on one image, then the timed repetitions run in
 * rounds, one call of every implementation per round, so a burst of load from other jobs on the
 * shared machine hits all of them alike.
 *
 * Slow implementations (the reference backend, ConvNetJS, TensorFlow.js cpu's filter gradient) get
 * a time budget: they run a sub-batch of the workload's images and/or fewer repetitions, and the
 * result says so. Every figure is per image actually processed, so a sub-batch changes the noise,
 * not the meaning (all of these process the images of a batch independently).
 */

/** The median of a non-empty list (mean of the two middle values for an even count). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error('median: empty list');
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** How to time one implementation on one row. */
export interface RunPlan {
  /** Images per call (the workload's batch, or fewer when too slow). */
  n: number;
  /** Timed repetitions. */
  reps: number;
  /** One untimed call at n before timing (only for fast implementations). */
  warmup: boolean;
}

/**
 * Chooses batch and repetitions from the time of one call on one image `t1Ms`.
 * - `minReps` full-batch calls fit the budget: the full batch, as many repetitions as fit
 *   (between `minReps` and `maxReps`), after a warm-up call.
 * - `slowReps` full-batch calls fit: the full batch, that many (or up to `minReps - 1`) repetitions,
 *   with a warm-up call when it costs at most a quarter of the budget.
 * - Otherwise: `slowReps` repetitions of the largest sub-batch that fits the budget (at least one
 *   image; at least one repetition).
 */
export function planRuns(t1Ms: number, fullN: number, budgetMs: number, minReps: number, maxReps: number, slowReps = 3): RunPlan {
  if (!(t1Ms >= 0) || !Number.isInteger(fullN) || fullN < 1 || !(budgetMs > 0) || minReps < 1 || maxReps < minReps) {
    throw new Error(`planRuns: bad arguments t1Ms=${t1Ms} fullN=${fullN} budgetMs=${budgetMs} minReps=${minReps} maxReps=${maxReps}`);
  }
  const t = Math.max(t1Ms, 1e-3);
  const perCall = t * fullN;
  const fit = Math.floor(budgetMs / perCall);
  if (fit >= minReps) return { n: fullN, reps: Math.min(maxReps, fit), warmup: true };
  const reps = Math.max(1, Math.min(slowReps, minReps));
  if (fit >= reps) return { n: fullN, reps: fit, warmup: perCall <= budgetMs / 4 };
  const n = Math.min(fullN, Math.max(1, Math.floor(budgetMs / (reps * t))));
  if (n > 1) return { n, reps, warmup: false };
  return { n: 1, reps: Math.max(1, Math.min(reps, Math.floor(budgetMs / t))), warmup: false };
}

/** One call of an implementation at a fixed batch, prepared outside the timed region. */
export interface Runner {
  /** Synchronous for in-process libraries; onnxruntime-web's session.run is asynchronous (awaited inside the timed region). */
  run(): void | Promise<void>;
  dispose?(): void;
}

/** An implementation of one row. */
export interface RunnableSubject {
  /** Display name: 'Stride wasm', 'tfjs-cpu', 'ConvNetJS'. */
  impl: string;
  cannot?: undefined;
  /** Untimed, before make() and before every timed call (e.g. selects a backend). */
  activate?(): void | Promise<void>;
  /** Inputs for a call on n images. */
  make(n: number): Runner | Promise<Runner>;
  /**
   * Images of the calibration call (default 1). For a library with a large fixed cost per call
   * (onnxruntime-web), one image overstates the time per image and so plans too few repetitions.
   */
  calibrationBatch?: number;
  /**
   * Milliseconds to wait, untimed, after each of this implementation's timed calls before the next
   * implementation's: for a library whose threads keep a core busy after its call returns
   * (onnxruntime-web: about 16 ms of CPU in the 50 ms after a W4 batch), which would otherwise be
   * counted in the time of whichever implementation runs next.
   */
  settleMs?: number;
}

/** An implementation that cannot express the row at all (nothing is run). */
export interface CannotSubject {
  impl: string;
  cannot: string;
}

export type Subject = RunnableSubject | CannotSubject;

export interface Measurement {
  impl: string;
  status: 'ok' | 'cannot';
  /** For 'cannot': why (the error's first line, or the subject's reason). */
  message?: string;
  /** Images per timed call. */
  n: number;
  /** Timed calls. */
  reps: number;
  /** Milliseconds of each timed call. */
  samples: number[];
  /** Median milliseconds per call of n images. */
  medianMs: number;
  /** Median milliseconds per image. */
  msPerImage: number;
}

export interface TimingOptions {
  /** Workload batch size (images per call when fast enough). */
  fullN: number;
  /** Time allowed for the timed calls of one implementation. */
  budgetMs: number;
  minReps: number;
  maxReps: number;
  /** Called with each finished measurement (progress output). */
  onResult?: (m: Measurement) => void;
  /** Called before every call with what is about to run and, when known, how long it may take before it counts as a hang. */
  beat?: (label: string, timeoutMs?: number) => void;
  /** Prefix of the beat labels (the row). */
  label?: string;
}

const firstLine = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0].slice(0, 200);

async function timeOnce(r: Runner): Promise<number> {
  const t0 = performance.now();
  const p = r.run();
  if (p !== undefined) await p;
  return performance.now() - t0;
}

/**
 * Times every subject on one row: calibration on one image (untimed warm-up, then one timed call,
 * or just the first call when it alone takes a quarter of the budget), a plan per subject, then
 * interleaved rounds. Errors become 'cannot' measurements carrying the error message.
 */
export async function measureRow(subjects: readonly Subject[], opts: TimingOptions): Promise<Measurement[]> {
  interface State {
    s: Subject;
    m: Measurement;
    runner: Runner | null;
    plan: RunPlan | null;
    /** Expected milliseconds per timed call. */
    expectMs: number;
  }
  const cannot = (s: Subject, message: string): Measurement => ({
    impl: s.impl, status: 'cannot', message, n: 0, reps: 0, samples: [], medianMs: NaN, msPerImage: NaN,
  });
  const states: State[] = [];
  for (const s of subjects) {
    if (s.cannot !== undefined) {
      states.push({ s, m: cannot(s, s.cannot), runner: null, plan: null, expectMs: 0 });
      continue;
    }
    let runner: Runner | null = null;
    const beat = (what: string): void => opts.beat?.(`${opts.label ?? ''} ${s.impl} ${what}`.trim());
    try {
      beat('setup');
      await s.activate?.();
      const n0 = Math.max(1, Math.min(opts.fullN, Math.floor(s.calibrationBatch ?? 1)));
      runner = await s.make(n0);
      beat('calibration');
      const first = await timeOnce(runner);
      const t1 = (first >= opts.budgetMs / 4 ? first : await timeOnce(runner)) / n0;
      let plan = planRuns(t1, opts.fullN, opts.budgetMs, opts.minReps, opts.maxReps);
      if (n0 === 1 && plan.n === 1 && t1 >= opts.budgetMs) {
        // One image already takes the whole budget: the calibration call is the measurement.
        runner.dispose?.();
        const m: Measurement = { impl: s.impl, status: 'ok', n: 1, reps: 1, samples: [t1], medianMs: NaN, msPerImage: NaN };
        states.push({ s, m, runner: null, plan: { ...plan, reps: 1 }, expectMs: t1 });
        continue;
      }
      let perImage = t1;
      let warm = false;
      if (plan.n !== n0) {
        runner.dispose?.();
        runner = null;
        runner = await s.make(plan.n);
      }
      if (plan.n > 1 && plan.n < opts.fullN) {
        // One image overstates the per-image time of batched kernels: re-plan from a call at n.
        beat(`refining at n=${plan.n}`);
        const tn = await timeOnce(runner);
        perImage = tn / plan.n;
        const next = planRuns(perImage, opts.fullN, opts.budgetMs, opts.minReps, opts.maxReps);
        if (next.n > plan.n) {
          runner.dispose?.();
          runner = null;
          runner = await s.make(next.n);
          plan = next;
        } else {
          warm = true; // the refining call warmed this size up
        }
      }
      if (plan.warmup && !warm) {
        beat(`warm-up at n=${plan.n}`);
        await timeOnce(runner);
      }
      const m: Measurement = { impl: s.impl, status: 'ok', n: plan.n, reps: plan.reps, samples: [], medianMs: NaN, msPerImage: NaN };
      states.push({ s, m, runner, plan, expectMs: perImage * plan.n });
    } catch (e) {
      runner?.dispose?.();
      states.push({ s, m: cannot(s, firstLine(e)), runner: null, plan: null, expectMs: 0 });
    }
  }
  const rounds = Math.max(0, ...states.map((st) => (st.runner !== null && st.plan !== null ? st.plan.reps : 0)));
  for (let r = 0; r < rounds; r++) {
    for (const st of states) {
      if (st.runner === null || st.plan === null || r >= st.plan.reps) continue;
      try {
        if (st.s.cannot === undefined) await st.s.activate?.();
        opts.beat?.(`${opts.label ?? ''} ${st.s.impl} repetition ${r + 1} at n=${st.plan.n}`.trim(), Math.max(60_000, 20 * st.expectMs));
        st.m.samples.push(await timeOnce(st.runner));
        const settle = st.s.cannot === undefined ? st.s.settleMs : undefined;
        if (settle !== undefined) await new Promise((resolve) => setTimeout(resolve, settle));
      } catch (e) {
        st.runner.dispose?.();
        st.runner = null;
        st.m = cannot(st.s, firstLine(e));
      }
    }
  }
  for (const st of states) {
    st.runner?.dispose?.();
    if (st.m.status === 'ok') {
      st.m.reps = st.m.samples.length;
      st.m.medianMs = median(st.m.samples);
      st.m.msPerImage = st.m.medianMs / st.m.n;
    }
    opts.onResult?.(st.m);
  }
  return states.map((st) => st.m);
}
