/**
 * Layer type tag → constructor from its config. Model files and `Sequential.fromSpec` look layers up
 * here, never through an if-chain (convnetjs's `fromJSON` wart).
 */
import type { Layer, LayerSpec } from './layer.js';
import { Conv2D, type Conv2DOptions } from './conv2d.js';
import { Dense, type DenseOptions } from './dense.js';
import { MaxPool2D, AvgPool2D, GlobalAvgPool2D, Flatten, type PoolOptions } from './pooling.js';
import { ReLU, LeakyReLU, Sigmoid, Tanh, Softmax } from './activations.js';
import { Dropout } from './dropout.js';
import { BatchNorm, type BatchNormOptions } from './batch-norm.js';

type Factory = (config: Record<string, unknown>) => Layer;

const registry: Record<string, Factory> = {
  Conv2D: (c) => new Conv2D(c as unknown as Conv2DOptions),
  Dense: (c) => new Dense(c as unknown as DenseOptions),
  MaxPool2D: (c) => new MaxPool2D(c as unknown as PoolOptions),
  AvgPool2D: (c) => new AvgPool2D(c as unknown as PoolOptions),
  GlobalAvgPool2D: () => new GlobalAvgPool2D(),
  Flatten: () => new Flatten(),
  ReLU: () => new ReLU(),
  LeakyReLU: (c) => new LeakyReLU(c as { alpha?: number }),
  Sigmoid: () => new Sigmoid(),
  Tanh: () => new Tanh(),
  Softmax: () => new Softmax(),
  Dropout: (c) => new Dropout(c as { rate: number }),
  BatchNorm: (c) => new BatchNorm(c as BatchNormOptions),
};

/** The layer types a model file may contain. */
export const layerTypes = (): string[] => Object.keys(registry);

/** Rebuilds an (unbuilt) layer from its spec. */
export function layerFromSpec(spec: LayerSpec): Layer {
  if (spec === null || typeof spec !== 'object' || typeof spec.type !== 'string') {
    throw new Error(`layerFromSpec: expected {type, config}, got ${JSON.stringify(spec)}`);
  }
  const make = registry[spec.type];
  if (make === undefined || !Object.prototype.hasOwnProperty.call(registry, spec.type)) {
    throw new Error(`layerFromSpec: unknown layer type '${spec.type}'; known: ${layerTypes().join(', ')}`);
  }
  const config = spec.config ?? {};
  if (typeof config !== 'object' || Array.isArray(config)) throw new Error(`layerFromSpec: ${spec.type}.config must be an object`);
  return make(config);
}
