/**
 * The network builder's state and arithmetic, without the DOM (so the browser test can import it).
 *
 * The network is kept as the Sequential spec JSON the library serializes (`model.toSpec()`), and
 * every shape, parameter count and FLOP figure comes from building it with `Sequential.fromSpec`:
 * the page never re-implements the geometry (src/kernels/conv-info.ts is the only place it lives).
 */
import { Sequential, createPreset, layerFromSpec, type LayerSpec, type SequentialSpec } from 'stride-cnn';

export type NetSpec = SequentialSpec;

/** The presets the builder offers as starting points (src/model/presets.ts). */
export const STARTERS = ['small', 'lenet', 'tiny'] as const;
export type Starter = (typeof STARTERS)[number];

export const INPUT_SHAPE = [28, 28, 1];
export const NUM_CLASSES = 10;

/** A preset's spec, as the CLI would build it for MNIST. */
export function starterSpec(name: Starter): NetSpec {
  return createPreset(name, { inputShape: INPUT_SHAPE, numClasses: NUM_CLASSES }).toSpec();
}

/** What "Add layer" inserts for each type: small, valid defaults a learner can then edit. */
export const NEW_LAYER: Record<string, () => LayerSpec> = {
  Conv2D: () => ({ type: 'Conv2D', config: { outChannels: 8, kernelSize: 3, stride: 1, padding: 'same', dilation: 1 } }),
  MaxPool2D: () => ({ type: 'MaxPool2D', config: { kernelSize: 2 } }),
  AvgPool2D: () => ({ type: 'AvgPool2D', config: { kernelSize: 2 } }),
  Dense: () => ({ type: 'Dense', config: { units: 64 } }),
  ReLU: () => ({ type: 'ReLU', config: {} }),
  LeakyReLU: () => ({ type: 'LeakyReLU', config: { alpha: 0.01 } }),
  Tanh: () => ({ type: 'Tanh', config: {} }),
  Sigmoid: () => ({ type: 'Sigmoid', config: {} }),
  Dropout: () => ({ type: 'Dropout', config: { rate: 0.25 } }),
  BatchNorm: () => ({ type: 'BatchNorm', config: {} }),
  Flatten: () => ({ type: 'Flatten', config: {} }),
  GlobalAvgPool2D: () => ({ type: 'GlobalAvgPool2D', config: {} }),
};

export const LAYER_TYPES = Object.keys(NEW_LAYER);

/** An editable option of a layer type, as the builder shows it. */
export interface Field {
  key: string;
  label: string;
  kind: 'int' | 'float' | 'padding';
  min: number;
  max: number;
  step?: number;
  /** Shown (and stored as absent) when the option is not set, e.g. a pool's stride. */
  optionalDefault?: string;
}

const conv: Field[] = [
  { key: 'outChannels', label: 'filters', kind: 'int', min: 1, max: 512 },
  { key: 'kernelSize', label: 'kernel', kind: 'int', min: 1, max: 31 },
  { key: 'stride', label: 'stride', kind: 'int', min: 1, max: 8 },
  { key: 'padding', label: 'padding', kind: 'padding', min: 0, max: 15 },
  { key: 'dilation', label: 'dilation', kind: 'int', min: 1, max: 8 },
];
const pool: Field[] = [
  { key: 'kernelSize', label: 'window', kind: 'int', min: 1, max: 28 },
  { key: 'stride', label: 'stride', kind: 'int', min: 1, max: 28, optionalDefault: '= window' },
  { key: 'padding', label: 'padding', kind: 'padding', min: 0, max: 14 },
];

export const FIELDS: Record<string, Field[]> = {
  Conv2D: conv,
  MaxPool2D: pool,
  AvgPool2D: pool,
  Dense: [{ key: 'units', label: 'units', kind: 'int', min: 1, max: 4096 }],
  LeakyReLU: [{ key: 'alpha', label: 'alpha', kind: 'float', min: 0, max: 1, step: 0.01 }],
  Dropout: [{ key: 'rate', label: 'rate', kind: 'float', min: 0, max: 0.95, step: 0.05 }],
};

/** One row of the summary, from the built model. */
export interface Row {
  index: number;
  type: string;
  label: string;
  /** Output shape without the batch dimension; null for rows after an error. */
  shape: number[] | null;
  params: number;
  flops: number;
}

export interface Analysis {
  rows: Row[];
  ok: boolean;
  /** Totals of the whole model (when ok). */
  totalParams: number;
  totalFlops: number;
  outputShape: number[] | null;
  /** The failing layer's index and the library's message, made readable. */
  error: { index: number; title: string; detail: string } | null;
}

/**
 * Builds the spec with the library and reads back every layer's shape, parameters and FLOPs.
 * A bad option (layer constructor) or an impossible shape (Sequential's shape inference) becomes
 * `error`, with the rows before it still filled in from a model built up to that layer.
 */
export function analyze(spec: NetSpec): Analysis {
  const specs = spec.config.layers;
  const rows: Row[] = specs.map((s, index) => ({ index, type: s.type, label: s.type, shape: null, params: 0, flops: 0 }));
  const fill = (model: Sequential): void => {
    model.layers.forEach((l, i) => {
      rows[i].label = l.toString();
      rows[i].shape = [...model.shapes[i]];
      rows[i].params = l.params().reduce((n, p) => n + p.value.size, 0);
      rows[i].flops = l.flops();
    });
  };
  const fail = (index: number, title: string, detail: string): Analysis => {
    if (index > 0) {
      try {
        fill(Sequential.fromSpec({ ...spec, config: { ...spec.config, layers: specs.slice(0, index) } }));
      } catch {
        // the prefix cannot fail if the full model failed at `index`; nothing more to show if it does
      }
    }
    return { rows, ok: false, totalParams: 0, totalFlops: 0, outputShape: null, error: { index, title, detail } };
  };
  if (specs.length === 0) return fail(0, 'The network has no layers', 'Add a layer to start.');
  // Options first, one layer at a time, so the message can name the row.
  for (let i = 0; i < specs.length; i++) {
    try {
      layerFromSpec(specs[i]);
    } catch (e) {
      return fail(i, `Layer ${i} (${specs[i].type}) has an invalid option`, (e as Error).message);
    }
  }
  let model: Sequential;
  try {
    model = Sequential.fromSpec(spec);
  } catch (e) {
    return fail(...readable((e as Error).message, specs));
  }
  fill(model);
  const last = model.outputShape;
  if (last.length !== 1) {
    return {
      rows,
      ok: false,
      totalParams: model.paramCount(),
      totalFlops: model.flops(),
      outputShape: [...last],
      error: {
        index: specs.length - 1,
        title: `The network ends in [${last.join(', ')}], not in ${NUM_CLASSES} class scores`,
        detail: 'A classifier must end with Flatten (or GlobalAvgPool2D) and a Dense layer whose units are the number of classes.',
      },
    };
  }
  return { rows, ok: true, totalParams: model.paramCount(), totalFlops: model.flops(), outputShape: [...last], error: null };
}

/**
 * Sequential's message `Sequential: layer 6 (MaxPool2D) cannot take input [1, 1, 16]: MaxPool2D: ...`
 * as a title in words and the library's own explanation.
 */
function readable(message: string, specs: LayerSpec[]): [number, string, string] {
  const m = /^Sequential: layer (\d+) \((\w+)\) cannot take input \[([^\]]*)\]: (.*)$/s.exec(message);
  if (m === null) return [specs.length - 1, 'The network cannot be built', message];
  const [, index, type, shape, detail] = m;
  const dims = shape.split(',').map((d) => d.trim());
  return [Number(index), `Layer ${index} (${type}) cannot take an input of ${dims.join(' × ')}`, detail];
}

/** Inserts a new layer of `type` at `at` (0 = first). Returns a new spec; the old one is untouched. */
export function insertLayer(spec: NetSpec, type: string, at: number): NetSpec {
  const make = NEW_LAYER[type];
  if (make === undefined) throw new Error(`insertLayer: unknown layer type '${type}', expected one of ${LAYER_TYPES.join(', ')}`);
  const layers = [...spec.config.layers];
  layers.splice(Math.max(0, Math.min(at, layers.length)), 0, make());
  return { ...spec, config: { ...spec.config, layers } };
}

export function removeLayer(spec: NetSpec, at: number): NetSpec {
  const layers = spec.config.layers.filter((_, i) => i !== at);
  return { ...spec, config: { ...spec.config, layers } };
}

/** Swaps layer `at` with its neighbour `at + by` (by = -1 up, +1 down); out of range is a no-op. */
export function moveLayer(spec: NetSpec, at: number, by: -1 | 1): NetSpec {
  const to = at + by;
  const layers = [...spec.config.layers];
  if (to < 0 || to >= layers.length) return spec;
  [layers[at], layers[to]] = [layers[to], layers[at]];
  return { ...spec, config: { ...spec.config, layers } };
}

/** Sets one option of layer `at`; `undefined` removes it (the library's default applies). */
export function setOption(spec: NetSpec, at: number, key: string, value: unknown): NetSpec {
  const layers = spec.config.layers.map((l, i) => {
    if (i !== at) return l;
    const config = { ...l.config };
    if (value === undefined) delete config[key];
    else config[key] = value;
    return { ...l, config };
  });
  return { ...spec, config: { ...spec.config, layers } };
}

/** A count as the summary prints it: 1,234 / 12.3 k / 4.56 M. */
export function compact(n: number): string {
  if (n < 10_000) return n.toLocaleString('en-US');
  if (n < 1_000_000) return `${(n / 1000).toFixed(1)} k`;
  if (n < 1_000_000_000) return `${(n / 1e6).toFixed(2)} M`;
  return `${(n / 1e9).toFixed(2)} G`;
}
