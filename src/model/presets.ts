/**
 * Named model architectures (browser-safe), so the CLI, the demos and the benchmarks build the
 * same networks. Every preset takes the input shape and the number of classes, so it fits MNIST
 * ([28, 28, 1], 10 classes) and any image folder alike.
 *
 * ```ts
 * const model = createPreset('lenet', { inputShape: [28, 28, 1], numClasses: 10, seed: 1 });
 * ```
 */
import type { Shape } from '../tensor/tensor.js';
import type { Layer } from '../layers/layer.js';
import { Conv2D } from '../layers/conv2d.js';
import { Dense } from '../layers/dense.js';
import { Flatten, MaxPool2D } from '../layers/pooling.js';
import { ReLU } from '../layers/activations.js';
import { Sequential } from './sequential.js';

export interface PresetOptions {
  /** One example's shape [H, W, C]; default [28, 28, 1] (MNIST). */
  inputShape?: Shape;
  /** Number of output logits; default 10. */
  numClasses?: number;
  /** Initialisation seed (see `SequentialOptions.seed`); default 0. */
  seed?: number;
}

interface Preset {
  description: string;
  layers: (numClasses: number) => Layer[];
}

const presets: Record<string, Preset> = {
  lenet: {
    description: 'conv 5x5x32 same, relu, maxpool 2, conv 5x5x64 same, relu, maxpool 2, flatten, dense 256, relu, dense (WORKLOADS.md W3 lenet)',
    layers: (k) => [
      new Conv2D({ outChannels: 32, kernelSize: 5, padding: 'same' }),
      new ReLU(),
      new MaxPool2D({ kernelSize: 2 }),
      new Conv2D({ outChannels: 64, kernelSize: 5, padding: 'same' }),
      new ReLU(),
      new MaxPool2D({ kernelSize: 2 }),
      new Flatten(),
      new Dense({ units: 256 }),
      new ReLU(),
      new Dense({ units: k }),
    ],
  },
  small: {
    description: 'conv 5x5x8 same, relu, maxpool 2, conv 5x5x16 same, relu, maxpool 3, flatten, dense (the ConvNetJS MNIST demo; WORKLOADS.md W3 small)',
    layers: (k) => [
      new Conv2D({ outChannels: 8, kernelSize: 5, padding: 'same' }),
      new ReLU(),
      new MaxPool2D({ kernelSize: 2 }),
      new Conv2D({ outChannels: 16, kernelSize: 5, padding: 'same' }),
      new ReLU(),
      new MaxPool2D({ kernelSize: 3 }),
      new Flatten(),
      new Dense({ units: k }),
    ],
  },
  tiny: {
    description: 'conv 3x3x4 same, relu, maxpool 4, flatten, dense (for tests and quick experiments)',
    layers: (k) => [
      new Conv2D({ outChannels: 4, kernelSize: 3, padding: 'same' }),
      new ReLU(),
      new MaxPool2D({ kernelSize: 4 }),
      new Flatten(),
      new Dense({ units: k }),
    ],
  },
};

/** The preset names `createPreset` accepts. */
export const presetNames = (): string[] => Object.keys(presets);

/** One line per preset: its name and layers. */
export const presetDescriptions = (): { name: string; description: string }[] =>
  Object.entries(presets).map(([name, p]) => ({ name, description: p.description }));

/** True when `name` is a preset (exact, lower-case name). */
export const isPreset = (name: string): boolean => Object.hasOwn(presets, name);

/** Builds a fresh, seeded model from a preset name. */
export function createPreset(name: string, opts: PresetOptions = {}): Sequential {
  if (!isPreset(name)) throw new Error(`createPreset: unknown preset '${name}', expected one of ${presetNames().join(', ')}`);
  const inputShape = opts.inputShape ?? [28, 28, 1];
  const numClasses = opts.numClasses ?? 10;
  if (!Number.isInteger(numClasses) || numClasses < 2) throw new Error(`createPreset: numClasses must be an integer >= 2, got ${String(numClasses)}`);
  return new Sequential(presets[name].layers(numClasses), { inputShape, seed: opts.seed ?? 0 });
}
