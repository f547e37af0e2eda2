/**
 * ONNX export of a Sequential (browser-safe, no dependencies): `exportOnnx(model) → Uint8Array`,
 * the bytes of an ONNX `ModelProto` that onnxruntime, Netron, etc. read.
 *
 * The graph takes Stride's layout: input `[N, H, W, C]` (NHWC) float32 with a symbolic batch
 * dimension `N`; the output has the model's output shape with the same batch dimension. ONNX's
 * Conv / MaxPool / AveragePool / GlobalAveragePool / BatchNormalization want channels at axis 1
 * (NCHW), so a Transpose NHWC → NCHW is inserted where a run of such layers begins, and one
 * NCHW → NHWC before a Flatten (so the flattened order is Stride's NHWC order) or at the end.
 *
 * | Stride layer     | ONNX                                                                              |
 * | ---------------- | --------------------------------------------------------------------------------- |
 * | Conv2D           | Conv: W HWIO → OIHW, pads [top, left, bottom, right] from conv-info, strides, dilations |
 * | DepthwiseConv2D  | Conv, group = C: W [kH, kW, C, M] → [C*M, 1, kH, kW]; pads, strides, dilations as Conv2D |
 * | MaxPool2D        | MaxPool (explicit pads)                                                           |
 * | AvgPool2D        | AveragePool, count_include_pad = 0 (padded cells are not counted, as in Stride)   |
 * | GlobalAvgPool2D  | GlobalAveragePool + Flatten → [N, C]                                               |
 * | Flatten          | Flatten(axis = 1) on NHWC data                                                    |
 * | Dense            | Gemm(x, W [in, out], b)                                                           |
 * | BatchNorm        | BatchNormalization (inference: running mean / variance, epsilon)                  |
 * | ReLU, LeakyReLU, Sigmoid, Tanh | Relu, LeakyRelu(alpha), Sigmoid, Tanh                               |
 * | Softmax          | Softmax over the channel / last axis                                              |
 * | Dropout          | nothing (the identity at inference)                                               |
 *
 * Padding is never recomputed here: Conv2D and pooling pads come from `computeConv2DInfo` /
 * `computePool2DInfo` (src/kernels/conv-info.ts), so 'same' becomes explicit asymmetric pads.
 *
 * ```ts
 * const bytes = exportOnnx(model, { opset: 13 });   // write to 'model.onnx'
 * ```
 */
import type { Shape } from '../tensor/tensor.js';
import { computeConv2DInfo, computeDepthwiseConv2DInfo, computePool2DInfo } from '../kernels/conv-info.js';
import type { Layer } from '../layers/layer.js';
import { MaxPool2D, AvgPool2D } from '../layers/pooling.js';
import { Softmax } from '../layers/activations.js';
import { Dropout } from '../layers/dropout.js';
import { builtinLayerType, type LayerOf, type LayerType } from '../layers/registry.js';
import { Sequential } from '../model/sequential.js';
import { ProtoWriter } from './protobuf.js';

export interface OnnxExportOptions {
  /** ONNX opset version of the default domain, 13 to 21 (default 13). */
  opset?: number;
  /** Name of the graph input (default 'input'). */
  inputName?: string;
  /** Name of the graph output (default 'probabilities' if the model ends with Softmax, else 'logits'). */
  outputName?: string;
  /** The batch dimension: a symbolic name (default 'N') or a fixed size. */
  batchDim?: string | number;
  /**
   * The class names in label order (one per output class), stored as `stride.class_names` (a JSON
   * array): ONNX has no place for them in the graph, so without this a consumer sees only indices.
   */
  classNames?: readonly string[];
  /** How images become the input values (e.g. "value = byte / 255, white digit on black"), stored as `stride.preprocessing`. */
  preprocessing?: string;
  /** More `metadata_props` (string keys and values); the `stride.*` keys exportOnnx writes are reserved. */
  metadata?: Readonly<Record<string, string>>;
}

/** The metadata_props keys exportOnnx writes itself. */
const OWN_KEYS = ['stride.architecture', 'stride.input', 'stride.output', 'stride.class_names', 'stride.preprocessing'];

/** The opsets `exportOnnx` writes. */
export const ONNX_OPSETS = { min: 13, max: 21 } as const;

/** The IR version released with each opset (onnx/docs/Versioning.md). */
function irVersionFor(opset: number): number {
  if (opset <= 14) return 7;
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  return 10;
}

// ONNX enum values (onnx.proto).
const FLOAT = 1;
const ATTR = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7 } as const;

type Attr = { name: string } & ({ f: number } | { i: number } | { ints: readonly number[] } | { s: string });

interface Node {
  op: string;
  inputs: string[];
  outputs: string[];
  name: string;
  attrs: Attr[];
}

type Layout = 'NHWC' | 'NCHW' | 'plain';

const NHWC_TO_NCHW = [0, 3, 1, 2];
const NCHW_TO_NHWC = [0, 2, 3, 1];

function attrProto(a: Attr): ProtoWriter {
  // AttributeProto: name 1, f 2, i 3, s 4, floats 7, ints 8, type 20.
  const w = new ProtoWriter().string(1, a.name);
  if ('f' in a) w.float(2, a.f).int64(20, ATTR.FLOAT);
  else if ('i' in a) w.int64(3, a.i).int64(20, ATTR.INT);
  else if ('s' in a) w.string(4, a.s).int64(20, ATTR.STRING);
  else {
    for (const v of a.ints) w.int64(8, v);
    w.int64(20, ATTR.INTS);
  }
  return w;
}

function nodeProto(n: Node): ProtoWriter {
  // NodeProto: input 1, output 2, name 3, op_type 4, attribute 5.
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name).string(4, n.op);
  for (const a of n.attrs) w.message(5, attrProto(a));
  return w;
}

function tensorProto(name: string, dims: readonly number[], data: Float32Array): ProtoWriter {
  // TensorProto: dims 1, data_type 2, name 8, raw_data 9 (little-endian).
  const w = new ProtoWriter();
  for (const d of dims) w.int64(1, d);
  w.int64(2, FLOAT).string(8, name);
  const raw = new Uint8Array(data.length * 4);
  const view = new DataView(raw.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i], true);
  return w.bytes(9, raw);
}

function valueInfo(name: string, batch: string | number, dims: readonly number[]): ProtoWriter {
  // ValueInfoProto{name 1, type 2: TypeProto{tensor_type 1: {elem_type 1, shape 2: {dim 1: {dim_value 1 | dim_param 2}}}}}
  const shape = new ProtoWriter();
  const dim = (d: string | number) => (typeof d === 'number' ? new ProtoWriter().int64(1, d) : new ProtoWriter().string(2, d));
  shape.message(1, dim(batch));
  for (const d of dims) shape.message(1, dim(d));
  const tensorType = new ProtoWriter().int64(1, FLOAT).message(2, shape);
  return new ProtoWriter().string(1, name).message(2, new ProtoWriter().message(1, tensorType));
}

/** HWIO [kH, kW, inC, outC] → OIHW [outC, inC, kH, kW]. */
function hwioToOihw(w: Float32Array, kH: number, kW: number, inC: number, outC: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let oc = 0; oc < outC; oc++)
    for (let ic = 0; ic < inC; ic++)
      for (let ky = 0; ky < kH; ky++)
        for (let kx = 0; kx < kW; kx++) out[((oc * inC + ic) * kH + ky) * kW + kx] = w[((ky * kW + kx) * inC + ic) * outC + oc];
  return out;
}

/**
 * Depthwise [kH, kW, C, M] → ONNX grouped Conv [C*M, 1, kH, kW]: with group = C, output channel
 * c*M + m reads input channel c only, the same channel order as Stride's.
 */
function depthwiseToGrouped(w: Float32Array, kH: number, kW: number, C: number, M: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let c = 0; c < C; c++)
    for (let m = 0; m < M; m++)
      for (let ky = 0; ky < kH; ky++)
        for (let kx = 0; kx < kW; kx++) out[((c * M + m) * kH + ky) * kW + kx] = w[((ky * kW + kx) * C + c) * M + m];
  return out;
}

/** Builds the node list, tracking the current value, its logical (NHWC) shape and physical layout. */
class GraphBuilder {
  nodes: Node[] = [];
  inits: ProtoWriter[] = [];
  value: string;
  layout: Layout;
  private count = 0;

  constructor(input: string, inputShape: Shape) {
    this.value = input;
    this.layout = inputShape.length === 3 ? 'NHWC' : 'plain';
  }

  add(op: string, name: string, inputs: string[], attrs: Attr[] = []): string {
    const out = `${name}/${op}_${this.count++}`;
    this.nodes.push({ op, inputs, outputs: [out], name: out, attrs });
    this.value = out;
    return out;
  }

  init(name: string, dims: readonly number[], data: Float32Array): string {
    this.inits.push(tensorProto(name, dims, data));
    return name;
  }

  /** Puts rank-4 data in the given layout, adding a Transpose if needed. */
  toLayout(target: 'NHWC' | 'NCHW', name: string): void {
    if (this.layout === 'plain' || this.layout === target) return;
    this.add('Transpose', name, [this.value], [{ name: 'perm', ints: target === 'NCHW' ? NHWC_TO_NCHW : NCHW_TO_NHWC }]);
    this.layout = target;
  }
}

/**
 * Exports a Sequential as an ONNX model (inference graph). Throws for a layer type without an
 * ONNX mapping, naming it. See the module comment for the mapping and layouts.
 */
export function exportOnnx(model: Sequential, opts: OnnxExportOptions = {}): Uint8Array {
  const op = 'exportOnnx';
  if (!(model instanceof Sequential)) throw new Error(`${op}: model must be a Sequential`);
  const opset = opts.opset ?? ONNX_OPSETS.min;
  if (!Number.isInteger(opset) || opset < ONNX_OPSETS.min || opset > ONNX_OPSETS.max) {
    throw new Error(`${op}: opts.opset must be an integer from ${ONNX_OPSETS.min} to ${ONNX_OPSETS.max}, got ${JSON.stringify(opts.opset)}`);
  }
  const batch = opts.batchDim ?? 'N';
  if (!(typeof batch === 'string' ? batch.length > 0 : Number.isInteger(batch) && batch > 0)) {
    throw new Error(`${op}: opts.batchDim must be a non-empty name or a positive integer, got ${JSON.stringify(batch)}`);
  }
  const inputName = opts.inputName ?? 'input';
  const last = model.layers.filter((l) => !(l instanceof Dropout)).pop();
  const outputName = opts.outputName ?? (last instanceof Softmax ? 'probabilities' : 'logits');
  if (inputName === '' || outputName === '' || inputName === outputName) {
    throw new Error(`${op}: inputName and outputName must be distinct non-empty strings, got '${inputName}' and '${outputName}'`);
  }

  const props = metadataProps(op, model, opts, last instanceof Softmax);

  const g = new GraphBuilder(inputName, model.inputShape);
  model.layers.forEach((layer, i) => {
    const name = `layers.${i}`;
    addLayer(g, layer, name, i === 0 ? model.inputShape : model.shapes[i - 1], i);
  });
  g.toLayout('NHWC', 'output');
  if (g.value === inputName) g.add('Identity', 'output', [g.value]);
  // The last node writes the graph output.
  const lastNode = g.nodes[g.nodes.length - 1];
  lastNode.outputs = [outputName];

  // GraphProto: node 1, name 2, initializer 5, doc_string 10, input 11, output 12.
  const graph = new ProtoWriter();
  for (const n of g.nodes) graph.message(1, nodeProto(n));
  graph.string(2, 'stride');
  for (const t of g.inits) graph.message(5, t);
  graph.string(10, `Stride ${model.toString()}; input ${inputName} is NHWC [N, ${model.inputShape.join(', ')}]`);
  graph.message(11, valueInfo(inputName, batch, model.inputShape));
  graph.message(12, valueInfo(outputName, batch, model.outputShape));

  // ModelProto: ir_version 1, producer_name 2, graph 7, opset_import 8 {domain 1, version 2}, metadata_props 14 {key 1, value 2}.
  const m = new ProtoWriter();
  m.int64(1, irVersionFor(opset));
  m.string(2, 'stride');
  m.message(7, graph);
  m.message(8, new ProtoWriter().string(1, '').int64(2, opset));
  for (const [key, value] of props) m.message(14, new ProtoWriter().string(1, key).string(2, value));
  return m.finish();
}

/**
 * The `metadata_props` entries: the architecture, what the input and output hold (layout, value
 * range, class names or the fact that they are not carried) and the caller's own entries.
 */
function metadataProps(op: string, model: Sequential, opts: OnnxExportOptions, softmax: boolean): [string, string][] {
  const k = model.outputShape[model.outputShape.length - 1];
  const names = opts.classNames;
  if (names !== undefined) {
    if (!Array.isArray(names) || names.some((n) => typeof n !== 'string')) throw new Error(`${op}: classNames must be an array of strings`);
    if (names.length !== k) throw new Error(`${op}: classNames has ${names.length} names but the model outputs ${k} classes`);
  }
  if (opts.preprocessing !== undefined && typeof opts.preprocessing !== 'string') throw new Error(`${op}: preprocessing must be a string`);
  const props: [string, string][] = [
    ['stride.architecture', JSON.stringify(model.toSpec())],
    [
      'stride.input',
      `float32 NHWC [N, ${model.inputShape.join(', ')}]; the values the model was trained on: Stride's image datasets give byte / 255 ` +
        '(0 to 1, no mean/std normalisation)' +
        (opts.preprocessing === undefined ? '' : '; see stride.preprocessing'),
    ],
    [
      'stride.output',
      `${softmax ? 'probabilities' : 'logits'} [N, ${model.outputShape.join(', ')}]` +
        (softmax ? '' : ' (softmax gives probabilities)') +
        (names !== undefined ? '; class i is stride.class_names[i]' : '; class names are not recorded: class i is label i of the training data'),
    ],
  ];
  if (names !== undefined) props.push(['stride.class_names', JSON.stringify(names)]);
  if (opts.preprocessing !== undefined) props.push(['stride.preprocessing', opts.preprocessing]);
  if (opts.metadata !== undefined) {
    if (opts.metadata === null || typeof opts.metadata !== 'object') throw new Error(`${op}: metadata must be an object of string values`);
    for (const [key, value] of Object.entries(opts.metadata)) {
      if (OWN_KEYS.includes(key)) throw new Error(`${op}: metadata key '${key}' is written by exportOnnx; use the classNames / preprocessing options`);
      if (typeof value !== 'string') throw new Error(`${op}: metadata value of '${key}' must be a string, got ${typeof value}`);
      props.push([key, value]);
    }
  }
  return props;
}

/** The nodes of one built-in layer type (its input is `g.value`, in layout `g.layout`). */
type Exporter<K extends LayerType> = (g: GraphBuilder, layer: LayerOf<K>, name: string, inShape: Shape) => void;

function exportPool(g: GraphBuilder, layer: MaxPool2D | AvgPool2D, name: string, inShape: Shape): void {
  const info = computePool2DInfo('exportOnnx', [1, ...inShape], layer.opts);
  g.toLayout('NCHW', name);
  const attrs: Attr[] = [
    { name: 'kernel_shape', ints: [info.kH, info.kW] },
    { name: 'strides', ints: [info.strideH, info.strideW] },
    { name: 'pads', ints: [info.padTop, info.padLeft, info.padBottom, info.padRight] },
  ];
  if (layer instanceof AvgPool2D) attrs.push({ name: 'count_include_pad', i: 0 });
  g.add(layer instanceof MaxPool2D ? 'MaxPool' : 'AveragePool', name, [g.value], attrs);
}

/**
 * The ONNX mapping of every built-in layer, keyed by type tag: tsc refuses this table if a type of
 * the layer registry (LAYER_CLASSES) has no entry, so a new layer cannot be forgotten here.
 */
const EXPORTERS: { readonly [K in LayerType]: Exporter<K> } = {
  Conv2D: (g, layer, name, inShape) => {
    const w = layer.weight!.value;
    const [kH, kW, inC, outC] = w.shape;
    const info = computeConv2DInfo('exportOnnx', [1, ...inShape], w.shape, {
      stride: layer.opts.stride,
      padding: layer.opts.padding,
      dilation: layer.opts.dilation,
    });
    g.toLayout('NCHW', name);
    const inputs = [g.value, g.init(`${name}.weight`, [outC, inC, kH, kW], hwioToOihw(w.data, kH, kW, inC, outC))];
    if (layer.biasParam) inputs.push(g.init(`${name}.bias`, [outC], layer.biasParam.value.data));
    g.add('Conv', name, inputs, [
      { name: 'kernel_shape', ints: [kH, kW] },
      { name: 'strides', ints: [info.strideH, info.strideW] },
      { name: 'dilations', ints: [info.dilationH, info.dilationW] },
      { name: 'pads', ints: [info.padTop, info.padLeft, info.padBottom, info.padRight] },
      { name: 'group', i: 1 },
    ]);
  },
  DepthwiseConv2D: (g, layer, name, inShape) => {
    const w = layer.weight!.value;
    const [kH, kW, C, M] = w.shape;
    const info = computeDepthwiseConv2DInfo('exportOnnx', [1, ...inShape], w.shape, {
      stride: layer.opts.stride,
      padding: layer.opts.padding,
      dilation: layer.opts.dilation,
    });
    g.toLayout('NCHW', name);
    const inputs = [g.value, g.init(`${name}.weight`, [C * M, 1, kH, kW], depthwiseToGrouped(w.data, kH, kW, C, M))];
    if (layer.biasParam) inputs.push(g.init(`${name}.bias`, [C * M], layer.biasParam.value.data));
    g.add('Conv', name, inputs, [
      { name: 'kernel_shape', ints: [kH, kW] },
      { name: 'strides', ints: [info.strideH, info.strideW] },
      { name: 'dilations', ints: [info.dilationH, info.dilationW] },
      { name: 'pads', ints: [info.padTop, info.padLeft, info.padBottom, info.padRight] },
      { name: 'group', i: C },
    ]);
  },
  MaxPool2D: exportPool,
  AvgPool2D: exportPool,
  GlobalAvgPool2D: (g, _layer, name) => {
    g.toLayout('NCHW', name);
    g.add('GlobalAveragePool', name, [g.value]);
    g.add('Flatten', name, [g.value], [{ name: 'axis', i: 1 }]);
    g.layout = 'plain';
  },
  Flatten: (g, _layer, name) => {
    g.toLayout('NHWC', name);
    g.add('Flatten', name, [g.value], [{ name: 'axis', i: 1 }]);
    g.layout = 'plain';
  },
  Dense: (g, layer, name) => {
    const w = layer.weight!.value;
    const inputs = [g.value, g.init(`${name}.weight`, w.shape, w.data)];
    if (layer.biasParam) inputs.push(g.init(`${name}.bias`, layer.biasParam.value.shape, layer.biasParam.value.data));
    g.add('Gemm', name, inputs);
  },
  BatchNorm: (g, layer, name, inShape) => {
    const c = layer.gamma!.value.size;
    const inputs = (v: string) => [
      v,
      g.init(`${name}.gamma`, [c], layer.gamma!.value.data),
      g.init(`${name}.beta`, [c], layer.beta!.value.data),
      g.init(`${name}.runningMean`, [c], layer.runningMean!.data),
      g.init(`${name}.runningVar`, [c], layer.runningVar!.data),
    ];
    const attrs: Attr[] = [{ name: 'epsilon', f: layer.eps }];
    const rank = inShape.length + 1;
    if (g.layout === 'NHWC' || g.layout === 'NCHW') {
      g.toLayout('NCHW', name);
      g.add('BatchNormalization', name, inputs(g.value), attrs);
    } else if (rank === 2) {
      g.add('BatchNormalization', name, inputs(g.value), attrs);
    } else {
      // Stride normalises the last axis; ONNX normalises axis 1: move the last axis there and back.
      const toFront = [0, rank - 1, ...Array.from({ length: rank - 2 }, (_, k) => k + 1)];
      const back = [0, ...Array.from({ length: rank - 2 }, (_, k) => k + 2), 1];
      g.add('Transpose', name, [g.value], [{ name: 'perm', ints: toFront }]);
      g.add('BatchNormalization', name, inputs(g.value), attrs);
      g.add('Transpose', name, [g.value], [{ name: 'perm', ints: back }]);
    }
  },
  ReLU: (g, _layer, name) => void g.add('Relu', name, [g.value]),
  LeakyReLU: (g, layer, name) => void g.add('LeakyRelu', name, [g.value], [{ name: 'alpha', f: layer.alpha }]),
  Sigmoid: (g, _layer, name) => void g.add('Sigmoid', name, [g.value]),
  Tanh: (g, _layer, name) => void g.add('Tanh', name, [g.value]),
  Softmax: (g, _layer, name) => void g.add('Softmax', name, [g.value], [{ name: 'axis', i: g.layout === 'NCHW' ? 1 : -1 }]),
  // The identity at inference: no node.
  Dropout: () => undefined,
};

/** Adds the nodes of one layer: its type's entry of EXPORTERS (dispatch on tag and class: `builtinLayerType`). */
function addLayer(g: GraphBuilder, layer: Layer, name: string, inShape: Shape, index: number): void {
  const type = builtinLayerType(layer);
  if (type === null) {
    throw new Error(`exportOnnx: layer ${index} (${layer.type}) has no ONNX mapping; supported: ${Object.keys(EXPORTERS).join(', ')}`);
  }
  (EXPORTERS[type] as Exporter<LayerType>)(g, layer as LayerOf<LayerType>, name, inShape);
}
