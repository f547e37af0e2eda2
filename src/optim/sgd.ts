/**
 * Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay, with
 * PyTorch's `torch.optim.SGD` semantics (dampening 0). Per element, with g the gradient:
 *
 * ```text
 * g ← g + weightDecay · w                       (L2; only if param.decay or decayAll)
 * if momentum > 0:  b ← momentum · b + g         (b starts at 0, so b = g after the first step)
 *                   g ← nesterov ? g + momentum · b : b
 * w ← w − lr · g
 * ```
 * Nesterov is the reformulation of Sutskever et al. (2013) used by PyTorch and Keras.
 *
 * ```ts
 * const opt = new SGD({ lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
 * opt.zeroGrad(params); model.backward(dlogits); opt.step(params);
 * ```
 */
import { Optimizer, checkBoolean, checkNonNegative, checkOptions, checkUnitInterval, type BaseHyper, type OptimizerSpec } from './optimizer.js';

export interface SGDOptions {
  /** Learning rate, default 0.01. */
  lr?: number;
  /** Momentum factor in [0, 1), default 0 (plain SGD). */
  momentum?: number;
  /** Nesterov momentum (needs momentum > 0), default false. */
  nesterov?: boolean;
  /** L2 coefficient added to the gradient (g += weightDecay · w), default 0. */
  weightDecay?: number;
  /** Decay every parameter, not only those with `decay === true`. Default false. */
  decayAll?: boolean;
}

export interface SGDHyper extends BaseHyper {
  momentum: number;
  nesterov: boolean;
}

const KEYS = ['lr', 'momentum', 'nesterov', 'weightDecay', 'decayAll'];

function resolveSGD(opts: SGDOptions | Record<string, unknown>): SGDHyper {
  const o = checkOptions('SGD', opts, KEYS);
  const h: SGDHyper = {
    lr: checkNonNegative('SGD', 'lr', o.lr ?? 0.01),
    momentum: checkUnitInterval('SGD', 'momentum', o.momentum ?? 0),
    nesterov: checkBoolean('SGD', 'nesterov', o.nesterov ?? false),
    weightDecay: checkNonNegative('SGD', 'weightDecay', o.weightDecay ?? 0),
    decayAll: checkBoolean('SGD', 'decayAll', o.decayAll ?? false),
  };
  if (h.nesterov && h.momentum === 0) throw new Error('SGD: nesterov requires momentum > 0, got momentum 0');
  return h;
}

export class SGD extends Optimizer<SGDHyper> {
  readonly kind = 'sgd';

  constructor(opts: SGDOptions = {}) {
    super('SGD', resolveSGD(opts));
  }

  /** Rebuilds an SGD from `toSpec()`. */
  static fromSpec(spec: OptimizerSpec): SGD {
    if (spec?.kind !== 'sgd') throw new Error(`SGD.fromSpec: spec.kind must be 'sgd', got ${String(spec?.kind)}`);
    return new SGD(spec.hyper);
  }

  protected resolve(opts: Record<string, unknown>): SGDHyper {
    return resolveSGD(opts);
  }

  protected slotNames(h: SGDHyper): readonly string[] {
    return h.momentum > 0 ? ['momentumBuffer'] : [];
  }

  protected update(w: Float32Array, g: Float32Array, slots: Float32Array[], _t: number, wd: number): void {
    const { lr, momentum, nesterov } = this.h;
    if (momentum === 0) {
      for (let i = 0; i < w.length; i++) {
        const wi = w[i];
        w[i] = wi - lr * (g[i] + wd * wi);
      }
      return;
    }
    const buf = slots[0];
    for (let i = 0; i < w.length; i++) {
      const wi = w[i];
      const gi = g[i] + wd * wi;
      const b = momentum * buf[i] + gi;
      buf[i] = b;
      w[i] = wi - lr * (nesterov ? gi + momentum * b : b);
    }
  }
}

