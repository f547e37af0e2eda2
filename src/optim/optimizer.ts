/**
 * The optimizer contract and the machinery every optimizer shares: the step counter, per-parameter
 * state (a `Map<Param, Float32Array[]>`, one array per named "slot" such as Adam's `m` and `v`),
 * checkpointing (`stateDict` / `loadStateDict`), hyperparameter specs, and option validation.
 *
 * A training step is:
 * ```ts
 * opt.zeroGrad(params);        // grads := 0
 * model.backward(...);         // layers ADD into param.grad
 * opt.step(params);            // params -= update(grad, state)
 * ```
 *
 * **Weight decay and `Param.decay`.** Weight decay (L2 in SGD/Adam/RMSProp, decoupled in AdamW) is
 * applied only to parameters whose `decay` flag is true: weights of convolutions and dense layers,
 * not biases or normalisation scales/shifts. This is what practitioners set up by hand in PyTorch with
 * two parameter groups (PyTorch itself decays every parameter it is given). Pass `decayAll: true` to
 * any optimizer to decay every parameter, PyTorch's default behaviour.
 *
 * **Numerics.** Each element's update is computed in float64 (JavaScript numbers) from the float32
 * value, gradient and state, and rounded once when it is stored back into the Float32Arrays. State
 * lives only in Float32Arrays and the step counter, so a run resumed from a `stateDict` continues
 * bit-identically.
 */
import type { Param } from '../layers/layer.js';

/** Hyperparameter values: numbers and flags only, so a spec is plain JSON. */
export type HyperValue = number | boolean;

/** The hyperparameters every optimizer has. */
export interface BaseHyper {
  /** Learning rate, >= 0. */
  lr: number;
  /** Weight-decay coefficient, >= 0 (its meaning is per optimizer: L2 or decoupled). */
  weightDecay: number;
  /** Decay every parameter, ignoring `Param.decay` (PyTorch's behaviour). Default false. */
  decayAll: boolean;
}

/** An optimizer's name and complete hyperparameters: `createOptimizer(spec.kind, spec.hyper)` rebuilds it. */
export interface OptimizerSpec {
  /** Registry name: 'sgd', 'adam', 'adamw' or 'rmsprop'. */
  kind: string;
  hyper: Record<string, HyperValue>;
}

/**
 * A checkpoint of an optimizer for one ordered list of parameters: its spec, the number of steps
 * taken, and each state slot as one Float32Array per parameter, in the order of the `params` array
 * given to `stateDict`. `shapes` records each parameter's shape so a reload can check it.
 */
export interface OptimizerStateDict extends OptimizerSpec {
  step: number;
  slots: Record<string, Float32Array[]>;
  shapes?: number[][];
}

/**
 * What `loadStateDict` accepts: an `OptimizerStateDict`, or the same after a trip through JSON where
 * the slot arrays became plain number arrays.
 */
export interface OptimizerStateDictInput extends OptimizerSpec {
  step: number;
  slots: Record<string, ArrayLike<number>[]>;
  shapes?: readonly (readonly number[])[];
}

/**
 * Base class of SGD, Adam, AdamW and RMSProp. Subclasses supply the option parser (`resolve`), the
 * names of their per-parameter state slots, and the element-wise `update`; everything else is here.
 */
export abstract class Optimizer<H extends BaseHyper = BaseHyper> {
  /** Registry name, e.g. 'adam'. */
  abstract readonly kind: string;
  /** Hyperparameters, validated. Only `lr` may change after construction (and on `loadStateDict`). */
  protected h: H;
  private steps = 0;
  private readonly state = new Map<Param, Float32Array[]>();

  /** `name` is the class name used in error messages: 'SGD', 'Adam', ... */
  protected constructor(
    readonly name: string,
    hyper: H,
  ) {
    this.h = hyper;
  }

  /** Validates raw options (unknown keys, ranges) and fills in defaults. Throws naming the optimizer and argument. */
  protected abstract resolve(opts: Record<string, unknown>): H;

  /** The names of the per-parameter state slots for these hyperparameters, e.g. ['m', 'v']. */
  protected abstract slotNames(hyper: H): readonly string[];

  /**
   * Updates one parameter in place. `w` is the value, `g` the gradient, `slots` the state arrays
   * (in `slotNames` order, zero before the first step), `t` the 1-based step number, and `wd` the
   * weight-decay coefficient for this parameter (0 when the parameter is excluded from decay).
   */
  protected abstract update(w: Float32Array, g: Float32Array, slots: Float32Array[], t: number, wd: number): void;

  /** The learning rate. Setting it (e.g. from a schedule) validates it: a finite number >= 0. */
  get lr(): number {
    return this.h.lr;
  }

  set lr(value: number) {
    checkNonNegative(this.name, 'lr', value);
    this.h.lr = value;
  }

  /** The number of `step` calls so far (restored by `loadStateDict`). Adam's bias correction uses it. */
  get stepCount(): number {
    return this.steps;
  }

  /** A copy of the hyperparameters. */
  get hyper(): Readonly<H> {
    return { ...this.h };
  }

  /**
   * One update of every parameter in `params` from its current `grad`. All parameters share the step
   * counter, so pass the same list every step. Gradients are not cleared: call `zeroGrad`.
   */
  step(params: readonly Param[]): void {
    checkParams(this.name, 'step', params);
    // Check every param before changing any, so a bad list leaves the optimizer and model untouched.
    for (let i = 0; i < params.length; i++) {
      const p = params[i];
      if (p.grad.data.length !== p.value.data.length) {
        throw new Error(`${this.name}.step: params[${i}] ('${p.name}') has a grad of ${p.grad.data.length} elements but a value of ${p.value.data.length}`);
      }
      this.slotsFor(i, p);
    }
    this.steps += 1;
    const t = this.steps;
    const wd = this.h.weightDecay;
    const decayAll = this.h.decayAll;
    for (let i = 0; i < params.length; i++) {
      const p = params[i];
      this.update(p.value.data, p.grad.data, this.state.get(p)!, t, decayAll || p.decay ? wd : 0);
    }
  }

  /** Sets every gradient in `params` to zero (in place; the Tensors are kept). */
  zeroGrad(params: readonly Param[]): void {
    checkParams(this.name, 'zeroGrad', params);
    for (let i = 0; i < params.length; i++) params[i].grad.data.fill(0);
  }

  /** The name and hyperparameters, as JSON-able data. */
  toSpec(): OptimizerSpec {
    return { kind: this.kind, hyper: this.hyperRecord() };
  }

  /**
   * A snapshot (copies) of the optimizer's state for `params`, in that order. A parameter that has
   * not been stepped yet gets zero slots, which is exactly its fresh state.
   */
  stateDict(params: readonly Param[]): OptimizerStateDict {
    const op = `${this.name}.stateDict`;
    checkParams(this.name, 'stateDict', params);
    checkUnique(op, params);
    const names = this.slotNames(this.h);
    const slots: Record<string, Float32Array[]> = {};
    names.forEach((name, k) => {
      slots[name] = params.map((p) => {
        const s = this.state.get(p);
        return s ? s[k].slice() : new Float32Array(p.value.size);
      });
    });
    return {
      kind: this.kind,
      hyper: this.hyperRecord(),
      step: this.steps,
      slots,
      shapes: params.map((p) => [...p.value.shape]),
    };
  }

  /**
   * Restores a `stateDict` taken with the same parameter list (same count, order and shapes):
   * hyperparameters (including `lr`), the step counter and every slot (copied). Everything is
   * validated first; on any mismatch it throws a message naming what differs and changes nothing.
   */
  loadStateDict(params: readonly Param[], state: OptimizerStateDictInput): void {
    const op = `${this.name}.loadStateDict`;
    checkParams(this.name, 'loadStateDict', params);
    checkUnique(op, params);
    if (state === null || typeof state !== 'object') throw new Error(`${op}: state must be an object, got ${describe(state)}`);
    if (state.kind !== this.kind) throw new Error(`${op}: state.kind is ${describe(state.kind)}, expected '${this.kind}'`);
    if (typeof state.step !== 'number' || !Number.isInteger(state.step) || state.step < 0) {
      throw new Error(`${op}: state.step must be a non-negative integer, got ${describe(state.step)}`);
    }
    if (state.hyper === null || typeof state.hyper !== 'object') throw new Error(`${op}: state.hyper must be an object, got ${describe(state.hyper)}`);
    const hyper = this.resolve(state.hyper);
    if (state.shapes !== undefined) {
      if (!Array.isArray(state.shapes) || state.shapes.length !== params.length) {
        throw new Error(`${op}: the state was saved for ${Array.isArray(state.shapes) ? state.shapes.length : '?'} params, got ${params.length} params`);
      }
      params.forEach((p, i) => {
        const s = state.shapes![i];
        if (!Array.isArray(s) || s.length !== p.value.shape.length || s.some((d, j) => d !== p.value.shape[j])) {
          throw new Error(`${op}: params[${i}] ('${p.name}') has shape ${fmt(p.value.shape)} but the state was saved for shape ${Array.isArray(s) ? fmt(s) : describe(s)}`);
        }
      });
    }
    const names = this.slotNames(hyper);
    const slots = state.slots;
    if (slots === null || typeof slots !== 'object') throw new Error(`${op}: state.slots must be an object, got ${describe(slots)}`);
    const got = Object.keys(slots).sort();
    const want = [...names].sort();
    if (got.length !== want.length || got.some((k, i) => k !== want[i])) {
      throw new Error(`${op}: state.slots has [${got.join(', ')}], expected [${want.join(', ')}]`);
    }
    for (const name of names) {
      const arrays = slots[name];
      if (!Array.isArray(arrays) || arrays.length !== params.length) {
        throw new Error(`${op}: state.slots.${name} has ${Array.isArray(arrays) ? arrays.length : describe(arrays)} arrays, expected ${params.length} (one per param)`);
      }
      params.forEach((p, i) => {
        const a = arrays[i];
        const n = a !== null && typeof a === 'object' && typeof a.length === 'number' ? a.length : -1;
        if (n !== p.value.size) {
          throw new Error(`${op}: state.slots.${name}[${i}] has ${n < 0 ? describe(a) : `${n} elements`}, but params[${i}] ('${p.name}', shape ${fmt(p.value.shape)}) has ${p.value.size}`);
        }
      });
    }
    // Everything checked: commit.
    this.h = hyper;
    this.steps = state.step;
    this.state.clear();
    params.forEach((p, i) => {
      this.state.set(
        p,
        names.map((name) => Float32Array.from(slots[name][i])),
      );
    });
  }

  /** `Adam(lr=0.001, weightDecay=0.01)`: the learning rate and every option that differs from its default. */
  toString(): string {
    const defaults = this.hyperRecord(this.resolve({}));
    const shown = Object.entries(this.hyperRecord()).filter(([k, v]) => k === 'lr' || v !== defaults[k]);
    return `${this.name}(${shown.map(([k, v]) => `${k}=${String(v)}`).join(', ')})`;
  }

  /** A copy of the hyperparameters as a plain record. */
  private hyperRecord(h: H = this.h): Record<string, HyperValue> {
    return { ...h } as unknown as Record<string, HyperValue>;
  }

  /** The state arrays of `p`, created (zeros) on its first step. */
  private slotsFor(i: number, p: Param): Float32Array[] {
    let s = this.state.get(p);
    if (s === undefined) {
      s = this.slotNames(this.h).map(() => new Float32Array(p.value.size));
      this.state.set(p, s);
    } else if (s.length > 0 && s[0].length !== p.value.size) {
      throw new Error(`${this.name}.step: params[${i}] ('${p.name}') now has ${p.value.size} elements but its optimizer state has ${s[0].length}`);
    }
    return s;
  }
}

// ---- option validation, shared by the optimizers and schedules ----

/** Throws unless `opts` is a plain object whose keys are all in `allowed`. Returns it typed as a record. */
export function checkOptions(op: string, opts: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) {
    throw new Error(`${op}: options must be an object, got ${describe(opts)}`);
  }
  for (const key of Object.keys(opts)) {
    if (!allowed.includes(key)) throw new Error(`${op}: unknown option '${key}', expected one of ${allowed.join(', ')}`);
  }
  return opts as Record<string, unknown>;
}

/** A finite number >= 0. */
export function checkNonNegative(op: string, arg: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new Error(`${op}: ${arg} must be a finite number >= 0, got ${describe(v)}`);
  return v;
}

/** A finite number > 0. */
export function checkPositive(op: string, arg: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new Error(`${op}: ${arg} must be a finite number > 0, got ${describe(v)}`);
  return v;
}

/** A number in [0, 1): decay rates such as beta1, beta2, alpha, momentum. */
export function checkUnitInterval(op: string, arg: string, v: unknown): number {
  if (typeof v !== 'number' || !(v >= 0 && v < 1)) throw new Error(`${op}: ${arg} must be a number in [0, 1), got ${describe(v)}`);
  return v;
}

export function checkBoolean(op: string, arg: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new Error(`${op}: ${arg} must be true or false, got ${describe(v)}`);
  return v;
}

/** Throws unless `params` is an array of Params. `name.method` names the op; no string is built unless it throws. */
function checkParams(name: string, method: string, params: readonly Param[]): void {
  if (!Array.isArray(params)) throw new Error(`${name}.${method}: params must be an array of Param, got ${describe(params)}`);
  for (let i = 0; i < params.length; i++) {
    const p = params[i] as Partial<Param> | null;
    if (p === null || typeof p !== 'object' || !(p.value?.data instanceof Float32Array) || !(p.grad?.data instanceof Float32Array)) {
      throw new Error(`${name}.${method}: params[${i}] must be a Param (with value and grad Tensors), got ${describe(p)}`);
    }
  }
}

function checkUnique(op: string, params: readonly Param[]): void {
  const seen = new Map<Param, number>();
  params.forEach((p, i) => {
    const j = seen.get(p);
    if (j !== undefined) throw new Error(`${op}: params[${i}] ('${p.name}') is the same Param as params[${j}]`);
    seen.set(p, i);
  });
}

const fmt = (s: readonly number[]): string => `[${s.join(', ')}]`;

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (typeof v === 'string') return `'${v}'`;
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return String(v);
}
