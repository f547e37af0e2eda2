/**
 * RMSProp (Hinton, Coursera lecture 6e, 2012) with optional momentum and L2 weight decay, with
 * PyTorch's `torch.optim.RMSprop` semantics (not centered; ε added outside the square root; no bias
 * correction, so the average starts at 0). Per element:
 *
 * ```text
 * g ← g + weightDecay · w                   (L2; only if param.decay or decayAll)
 * s ← α · s + (1 − α) · g²                  (α is Keras's `rho`)
 * d = g / (√s + ε)
 * if momentum > 0:  b ← momentum · b + d,  w ← w − lr · b
 * else:             w ← w − lr · d
 * ```
 *
 * ```ts
 * const opt = new RMSProp({ lr: 1e-3, alpha: 0.9 });
 * ```
 */
import { Optimizer, checkBoolean, checkNonNegative, checkOptions, checkPositive, checkUnitInterval, type BaseHyper, type OptimizerSpec } from './optimizer.js';

export interface RMSPropOptions {
  /** Learning rate, default 0.01 (PyTorch's). */
  lr?: number;
  /** Decay rate of the squared-gradient average, in [0, 1), default 0.99. */
  alpha?: number;
  /** Keras's name for `alpha`; give one or the other. */
  rho?: number;
  /** Added to √s in the denominator, > 0, default 1e-8. */
  eps?: number;
  /** Momentum factor in [0, 1), default 0. */
  momentum?: number;
  /** L2 coefficient added to the gradient (g += weightDecay · w), default 0. */
  weightDecay?: number;
  /** Decay every parameter, not only those with `decay === true`. Default false. */
  decayAll?: boolean;
}

export interface RMSPropHyper extends BaseHyper {
  alpha: number;
  eps: number;
  momentum: number;
}

const KEYS = ['lr', 'alpha', 'rho', 'eps', 'momentum', 'weightDecay', 'decayAll'];

function resolveRMSProp(opts: RMSPropOptions | Record<string, unknown>): RMSPropHyper {
  const o = checkOptions('RMSProp', opts, KEYS);
  if (o.alpha !== undefined && o.rho !== undefined) {
    throw new Error(`RMSProp: give alpha or rho (the same option), not both; got alpha ${String(o.alpha)} and rho ${String(o.rho)}`);
  }
  return {
    lr: checkNonNegative('RMSProp', 'lr', o.lr ?? 0.01),
    alpha: checkUnitInterval('RMSProp', o.rho !== undefined ? 'rho' : 'alpha', o.alpha ?? o.rho ?? 0.99),
    eps: checkPositive('RMSProp', 'eps', o.eps ?? 1e-8),
    momentum: checkUnitInterval('RMSProp', 'momentum', o.momentum ?? 0),
    weightDecay: checkNonNegative('RMSProp', 'weightDecay', o.weightDecay ?? 0),
    decayAll: checkBoolean('RMSProp', 'decayAll', o.decayAll ?? false),
  };
}

export class RMSProp extends Optimizer<RMSPropHyper> {
  readonly kind = 'rmsprop';

  constructor(opts: RMSPropOptions = {}) {
    super('RMSProp', resolveRMSProp(opts));
  }

  /** Rebuilds an RMSProp from `toSpec()`. */
  static fromSpec(spec: OptimizerSpec): RMSProp {
    if (spec?.kind !== 'rmsprop') throw new Error(`RMSProp.fromSpec: spec.kind must be 'rmsprop', got ${String(spec?.kind)}`);
    return new RMSProp(spec.hyper);
  }

  protected resolve(opts: Record<string, unknown>): RMSPropHyper {
    return resolveRMSProp(opts);
  }

  protected slotNames(h: RMSPropHyper): readonly string[] {
    return h.momentum > 0 ? ['squareAvg', 'momentumBuffer'] : ['squareAvg'];
  }

  protected update(w: Float32Array, g: Float32Array, slots: Float32Array[], _t: number, wd: number): void {
    const { lr, alpha, eps, momentum } = this.h;
    const sq = slots[0];
    const buf = momentum > 0 ? slots[1] : sq;
    for (let i = 0; i < w.length; i++) {
      const wi = w[i];
      const gi = g[i] + wd * wi;
      const si = alpha * sq[i] + (1 - alpha) * gi * gi;
      sq[i] = si;
      const d = gi / (Math.sqrt(si) + eps);
      if (momentum > 0) {
        const b = momentum * buf[i] + d;
        buf[i] = b;
        w[i] = wi - lr * b;
      } else {
        w[i] = wi - lr * d;
      }
    }
  }
}
