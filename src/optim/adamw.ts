/**
 * AdamW: Adam with decoupled weight decay (Loshchilov & Hutter, "Decoupled Weight Decay
 * Regularization", ICLR 2019, Algorithm 2), as `torch.optim.AdamW`. Per element, at step t:
 *
 * ```text
 * m ← β1 · m + (1 − β1) · g                (g is the raw gradient: no L2 term)
 * v ← β2 · v + (1 − β2) · g²
 * m̂ = m / (1 − β1^t),  v̂ = v / (1 − β2^t)
 * w ← w − lr · weightDecay · w − lr · m̂ / (√v̂ + ε)     (decay only if param.decay or decayAll)
 * ```
 * The decay is not divided by √v̂, so every weight shrinks by the same factor (1 − lr · weightDecay)
 * per step; with Adam's L2 it would not. As in PyTorch the decay is scaled by lr (the paper scales it
 * by the schedule multiplier η_t only); default weightDecay is 0.01, PyTorch's.
 */
import { Optimizer, type OptimizerSpec } from './optimizer.js';
import { adamUpdate, resolveAdam, type AdamHyper, type AdamOptions } from './adam.js';

export type AdamWOptions = AdamOptions;

export class AdamW extends Optimizer<AdamHyper> {
  readonly kind = 'adamw';

  constructor(opts: AdamWOptions = {}) {
    super('AdamW', resolveAdam('AdamW', opts, 0.01));
  }

  /** Rebuilds an AdamW from `toSpec()`. */
  static fromSpec(spec: OptimizerSpec): AdamW {
    if (spec?.kind !== 'adamw') throw new Error(`AdamW.fromSpec: spec.kind must be 'adamw', got ${String(spec?.kind)}`);
    return new AdamW(spec.hyper);
  }

  protected resolve(opts: Record<string, unknown>): AdamHyper {
    return resolveAdam('AdamW', opts, 0.01);
  }

  protected slotNames(): readonly string[] {
    return ['m', 'v'];
  }

  protected update(w: Float32Array, g: Float32Array, slots: Float32Array[], t: number, wd: number): void {
    adamUpdate(w, g, slots[0], slots[1], this.h, t, 0, wd);
  }
}
