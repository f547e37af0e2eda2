/**
 * Adam (Kingma & Ba, 2015, Algorithm 1) with optional L2 weight decay added to the gradient, as
 * `torch.optim.Adam(weight_decay=...)`. Per element, at step t = 1, 2, ...:
 *
 * ```text
 * g ← g + weightDecay · w                 (L2; only if param.decay or decayAll)
 * m ← β1 · m + (1 − β1) · g
 * v ← β2 · v + (1 − β2) · g²
 * m̂ = m / (1 − β1^t)                      (bias correction DIVIDES; convnetjs multiplies, a bug)
 * v̂ = v / (1 − β2^t)
 * w ← w − lr · m̂ / (√v̂ + ε)
 * ```
 * With L2 the decay term is rescaled by 1/√v̂ like the gradient; for decay that is not, use AdamW.
 *
 * ```ts
 * const opt = new Adam({ lr: 1e-3 });
 * ```
 */
import { Optimizer, checkBoolean, checkNonNegative, checkOptions, checkPositive, checkUnitInterval, type BaseHyper, type OptimizerSpec } from './optimizer.js';

export interface AdamOptions {
  /** Learning rate (α in the paper), default 0.001. */
  lr?: number;
  /** Decay rate of the first moment, in [0, 1), default 0.9. */
  beta1?: number;
  /** Decay rate of the second moment, in [0, 1), default 0.999. */
  beta2?: number;
  /** Added to √v̂ in the denominator, > 0, default 1e-8. */
  eps?: number;
  /** L2 coefficient added to the gradient (g += weightDecay · w), default 0. */
  weightDecay?: number;
  /** Decay every parameter, not only those with `decay === true`. Default false. */
  decayAll?: boolean;
}

export interface AdamHyper extends BaseHyper {
  beta1: number;
  beta2: number;
  eps: number;
}

const KEYS = ['lr', 'beta1', 'beta2', 'eps', 'weightDecay', 'decayAll'];

/** Parses Adam-family options; shared with AdamW, which differs only in the weightDecay default. */
export function resolveAdam(name: string, opts: AdamOptions | Record<string, unknown>, defaultWeightDecay: number): AdamHyper {
  const o = checkOptions(name, opts, KEYS);
  return {
    lr: checkNonNegative(name, 'lr', o.lr ?? 0.001),
    beta1: checkUnitInterval(name, 'beta1', o.beta1 ?? 0.9),
    beta2: checkUnitInterval(name, 'beta2', o.beta2 ?? 0.999),
    eps: checkPositive(name, 'eps', o.eps ?? 1e-8),
    weightDecay: checkNonNegative(name, 'weightDecay', o.weightDecay ?? defaultWeightDecay),
    decayAll: checkBoolean(name, 'decayAll', o.decayAll ?? false),
  };
}

/**
 * The Adam update of one parameter, in place. `l2` is added to the gradient as `l2 · w`;
 * `decoupled` shrinks the weight directly, `w ← w − lr · decoupled · w` (AdamW). The decoupled
 * decay uses the weight from before this step, as the paper's Algorithm 2 line 12 does.
 */
export function adamUpdate(w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, h: AdamHyper, t: number, l2: number, decoupled: number): void {
  const { lr, beta1, beta2, eps } = h;
  const bc1 = 1 - Math.pow(beta1, t);
  const bc2 = 1 - Math.pow(beta2, t);
  for (let i = 0; i < w.length; i++) {
    const wi = w[i];
    const gi = g[i] + l2 * wi;
    const mi = beta1 * m[i] + (1 - beta1) * gi;
    const vi = beta2 * v[i] + (1 - beta2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    const mHat = mi / bc1;
    const vHat = vi / bc2;
    w[i] = wi - lr * decoupled * wi - (lr * mHat) / (Math.sqrt(vHat) + eps);
  }
}

export class Adam extends Optimizer<AdamHyper> {
  readonly kind = 'adam';

  constructor(opts: AdamOptions = {}) {
    super('Adam', resolveAdam('Adam', opts, 0));
  }

  /** Rebuilds an Adam from `toSpec()`. */
  static fromSpec(spec: OptimizerSpec): Adam {
    if (spec?.kind !== 'adam') throw new Error(`Adam.fromSpec: spec.kind must be 'adam', got ${String(spec?.kind)}`);
    return new Adam(spec.hyper);
  }

  protected resolve(opts: Record<string, unknown>): AdamHyper {
    return resolveAdam('Adam', opts, 0);
  }

  protected slotNames(): readonly string[] {
    return ['m', 'v'];
  }

  protected update(w: Float32Array, g: Float32Array, slots: Float32Array[], t: number, wd: number): void {
    adamUpdate(w, g, slots[0], slots[1], this.h, t, wd, 0);
  }
}
