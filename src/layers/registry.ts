/**
 * Layer type tag → constructor from its config. Model files and `Sequential.fromSpec` look layers up
 * here, never through an if-chain (convnetjs's `fromJSON` wart).
 */
import type { Layer, LayerSpec } from './layer.js';
import { Conv2D, type Conv2DOptions } from './conv2d.js';
import { DepthwiseConv2D, type DepthwiseConv2DOptions } from './depthwise-conv2d.js';
import { Dense, type DenseOptions } from './dense.js';
import { MaxPool2D, AvgPool2D, GlobalAvgPool2D, Flatten, type PoolOptions } from './pooling.js';
import { ReLU, LeakyReLU, Sigmoid, Tanh, Softmax } from './activations.js';
import { Dropout } from './dropout.js';
import { BatchNorm, type BatchNormOptions } from './batch-norm.js';

/** Every layer class by its type tag: the one table that registry, model files and ONNX export key on. */
export const LAYER_CLASSES = {
  Conv2D,
  Dense,
  MaxPool2D,
  AvgPool2D,
  GlobalAvgPool2D,
  Flatten,
  ReLU,
  LeakyReLU,
  Sigmoid,
  Tanh,
  Softmax,
  Dropout,
  BatchNorm,
  DepthwiseConv2D,
} as const;

/** A built-in layer type tag. */
export type LayerType = keyof typeof LAYER_CLASSES;
/** The layer class of a type tag. */
export type LayerOf<K extends LayerType> = InstanceType<(typeof LAYER_CLASSES)[K]>;

/** One factory per type; tsc checks that every type of LAYER_CLASSES has one, of its own class. */
const registry: { readonly [K in LayerType]: (config: Record<string, unknown>) => LayerOf<K> } = {
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
  DepthwiseConv2D: (c) => new DepthwiseConv2D(c as unknown as DepthwiseConv2DOptions),
};

/** Whether `type` is a built-in layer type tag. */
export function isLayerType(type: string): type is LayerType {
  return Object.prototype.hasOwnProperty.call(LAYER_CLASSES, type);
}

/**
 * The built-in type of `layer`, checked on the tag AND the class (a subclass with a tag of its own
 * is not mistaken for its base, nor an object of another class with a borrowed tag for a
 * built-in); null if it is not a built-in layer.
 */
export function builtinLayerType(layer: Layer): LayerType | null {
  const t = layer.type;
  return isLayerType(t) && layer instanceof LAYER_CLASSES[t] ? t : null;
}

/** The layer types a model file may contain. */
export const layerTypes = (): string[] => Object.keys(registry);

/** Rebuilds an (unbuilt) layer from its spec. */
export function layerFromSpec(spec: LayerSpec): Layer {
  if (spec === null || typeof spec !== 'object' || typeof spec.type !== 'string') {
    throw new Error(`layerFromSpec: expected {type, config}, got ${JSON.stringify(spec)}`);
  }
  if (!isLayerType(spec.type)) {
    throw new Error(`layerFromSpec: unknown layer type '${spec.type}'; known: ${layerTypes().join(', ')}`);
  }
  const make: (config: Record<string, unknown>) => Layer = registry[spec.type];
  const config = spec.config ?? {};
  if (typeof config !== 'object' || Array.isArray(config)) throw new Error(`layerFromSpec: ${spec.type}.config must be an object`);
  return make(config);
}
