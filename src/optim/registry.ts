/**
 * Optimizers by name, for the CLI and for rebuilding an optimizer from a saved spec or checkpoint.
 * (This lives apart from optimizer.ts because the optimizer classes import the base class from
 * there; a registry in the same file would make an import cycle.)
 *
 * ```ts
 * const opt = createOptimizer('adamw', { lr: 3e-4, weightDecay: 0.05 });
 * const same = optimizerFromSpec(opt.toSpec());
 * ```
 */
import type { Optimizer, OptimizerSpec } from './optimizer.js';
import { SGD, type SGDOptions } from './sgd.js';
import { Adam, type AdamOptions } from './adam.js';
import { AdamW, type AdamWOptions } from './adamw.js';
import { RMSProp, type RMSPropOptions } from './rmsprop.js';

export type OptimizerName = 'sgd' | 'adam' | 'adamw' | 'rmsprop';

const registry: Record<OptimizerName, (opts: Record<string, unknown>) => Optimizer> = {
  sgd: (o) => new SGD(o),
  adam: (o) => new Adam(o),
  adamw: (o) => new AdamW(o),
  rmsprop: (o) => new RMSProp(o),
};

/** The names `createOptimizer` accepts. */
export const optimizerNames: readonly OptimizerName[] = Object.freeze(Object.keys(registry) as OptimizerName[]);

/**
 * A new optimizer by registry name (case-insensitive): 'sgd', 'adam', 'adamw' or 'rmsprop'.
 * Options are validated by the optimizer: unknown keys and out-of-range values throw.
 */
export function createOptimizer(name: 'sgd', opts?: SGDOptions): SGD;
export function createOptimizer(name: 'adam', opts?: AdamOptions): Adam;
export function createOptimizer(name: 'adamw', opts?: AdamWOptions): AdamW;
export function createOptimizer(name: 'rmsprop', opts?: RMSPropOptions): RMSProp;
export function createOptimizer(name: string, opts?: object): Optimizer;
export function createOptimizer(name: string, opts: object = {}): Optimizer {
  const key = typeof name === 'string' ? name.toLowerCase() : name;
  if (typeof key !== 'string' || !Object.hasOwn(registry, key)) {
    throw new Error(`createOptimizer: unknown optimizer ${typeof name === 'string' ? `'${name}'` : String(name)}, expected one of ${optimizerNames.join(', ')}`);
  }
  return registry[key as OptimizerName](opts as Record<string, unknown>);
}

/** Rebuilds an optimizer (fresh state) from `opt.toSpec()`, or from a state dict's `kind` and `hyper`. */
export function optimizerFromSpec(spec: OptimizerSpec): Optimizer {
  if (spec === null || typeof spec !== 'object') throw new Error(`optimizerFromSpec: spec must be an object, got ${String(spec)}`);
  return createOptimizer(spec.kind, spec.hyper);
}
