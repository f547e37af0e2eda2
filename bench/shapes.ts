/**
 * The workloads of /work/shared/WORKLOADS.md as data: convolution cases (W1), the pooling case
 * (W2) and the two models (W3, W4), with their output sizes and FLOP counts.
 *
 * The geometry here is written out independently of src/kernels/conv-info.ts on purpose: it is
 * also what the peers (TensorFlow.js, ConvNetJS) are given, and test/bench/flops.test.ts checks
 * that both agree.
 */

export type ConvPadding = 'same' | 'valid';

/** One W1 case: NHWC input [n, h, w, inC], filter [k, k, inC, outC]. */
export interface ConvCase {
  name: string;
  n: number;
  h: number;
  w: number;
  inC: number;
  k: number;
  outC: number;
  stride: number;
  padding: ConvPadding;
}

/** W1: one convolution layer (WORKLOADS.md table). */
export const W1_CASES: readonly ConvCase[] = Object.freeze([
  { name: 'c1', n: 32, h: 28, w: 28, inC: 1, k: 5, outC: 32, stride: 1, padding: 'same' },
  { name: 'c2', n: 32, h: 14, w: 14, inC: 32, k: 5, outC: 64, stride: 1, padding: 'same' },
  { name: 'c3', n: 32, h: 32, w: 32, inC: 64, k: 3, outC: 64, stride: 1, padding: 'same' },
  { name: 'c4', n: 32, h: 56, w: 56, inC: 64, k: 3, outC: 128, stride: 2, padding: 'valid' },
]);

/** A W1 case as tensor shapes and conv options (for the benches that call the kernels directly). */
export function w1Geometry(c: ConvCase): { x: [number, number, number, number]; k: number; outC: number; opts: { stride: number; padding: ConvPadding } } {
  return { x: [c.n, c.h, c.w, c.inC], k: c.k, outC: c.outC, opts: { stride: c.stride, padding: c.padding } };
}

/** The W1 cases by name, as w1Geometry gives them. */
export const W1_GEOMETRY = Object.freeze(Object.fromEntries(W1_CASES.map((c) => [c.name, w1Geometry(c)])));

/** W2: max pooling 2x2 stride 2, forward + backward, N = 32, 28 x 28 x 32. */
export const W2_CASE = Object.freeze({ name: 'maxpool 2x2/2', n: 32, h: 28, w: 28, c: 32, k: 2, stride: 2 });

/**
 * Output size along one axis. 'same' (TensorFlow): ceil(in / stride). 'valid': the windows that
 * fit, floor((in - k) / stride) + 1. Throws when a 'valid' window does not fit.
 */
export function convOutSize(inSize: number, k: number, stride: number, padding: ConvPadding): number {
  if (![inSize, k, stride].every((v) => Number.isInteger(v) && v >= 1)) {
    throw new Error(`convOutSize: inSize, k and stride must be positive integers, got ${inSize}, ${k}, ${stride}`);
  }
  if (padding === 'same') return Math.ceil(inSize / stride);
  if (padding === 'valid') {
    if (k > inSize) throw new Error(`convOutSize: a ${k}-wide window does not fit an input of ${inSize} with 'valid' padding`);
    return Math.floor((inSize - k) / stride) + 1;
  }
  throw new Error(`convOutSize: padding must be 'same' or 'valid', got ${JSON.stringify(padding)}`);
}

/**
 * Total padding along one axis for 'same' (TensorFlow): max((out - 1) * stride + k - in, 0), the
 * smaller half before. ConvNetJS takes one symmetric `pad`, so it can express a case only when
 * both halves are equal.
 */
export function samePadding(inSize: number, k: number, stride: number): { before: number; after: number } {
  const out = convOutSize(inSize, k, stride, 'same');
  const total = Math.max((out - 1) * stride + k - inSize, 0);
  const before = Math.floor(total / 2);
  return { before, after: total - before };
}

/** [Ho, Wo] of a case. */
export function convOutShape(c: ConvCase): [number, number] {
  return [convOutSize(c.h, c.k, c.stride, c.padding), convOutSize(c.w, c.k, c.stride, c.padding)];
}

/** FLOPs of one image's forward pass (WORKLOADS.md: 2 * Ho * Wo * Cout * fh * fw * Cin; dX and dW count the same). */
export function convFlopsPerImage(c: ConvCase): number {
  const [ho, wo] = convOutShape(c);
  return 2 * ho * wo * c.outC * c.k * c.k * c.inC;
}

/** FLOPs of the whole case: 2 * N * Ho * Wo * Cout * fh * fw * Cin. */
export function convFlops(c: ConvCase): number {
  return c.n * convFlopsPerImage(c);
}

/** W1 passes. Stride and ConvNetJS compute dX and dW in one fused call ('dX+dW'). */
export type ConvPass = 'forward' | 'dX' | 'dW' | 'dX+dW';

/** FLOPs of a pass relative to the forward pass (dX+dW counts both). */
export function passFlopFactor(pass: ConvPass): number {
  return pass === 'dX+dW' ? 2 : 1;
}

// ---------------------------------------------------------------------------------------------
// Models (W3, W4), described once and built by every library from this description.

export type LayerDesc =
  | { kind: 'conv'; filters: number; k: number; padding: 'same' }
  | { kind: 'relu' }
  | { kind: 'maxpool'; k: number }
  | { kind: 'flatten' }
  | { kind: 'dense'; units: number };

export type ModelName = 'small' | 'lenet';

export const INPUT_SHAPE: readonly [number, number, number] = Object.freeze([28, 28, 1]) as readonly [number, number, number];
export const NUM_CLASSES = 10;

export const MODELS: Readonly<Record<ModelName, readonly LayerDesc[]>> = Object.freeze({
  // The ConvNetJS MNIST demo net.
  small: [
    { kind: 'conv', filters: 8, k: 5, padding: 'same' },
    { kind: 'relu' },
    { kind: 'maxpool', k: 2 },
    { kind: 'conv', filters: 16, k: 5, padding: 'same' },
    { kind: 'relu' },
    { kind: 'maxpool', k: 3 },
    { kind: 'flatten' },
    { kind: 'dense', units: NUM_CLASSES },
  ],
  lenet: [
    { kind: 'conv', filters: 32, k: 5, padding: 'same' },
    { kind: 'relu' },
    { kind: 'maxpool', k: 2 },
    { kind: 'conv', filters: 64, k: 5, padding: 'same' },
    { kind: 'relu' },
    { kind: 'maxpool', k: 2 },
    { kind: 'flatten' },
    { kind: 'dense', units: 256 },
    { kind: 'relu' },
    { kind: 'dense', units: NUM_CLASSES },
  ],
});

/** Shape after each layer ([h, w, c], or [features] once flattened) and the forward FLOPs of one image. */
export function modelShapes(layers: readonly LayerDesc[], input: readonly number[] = INPUT_SHAPE): { shapes: number[][]; flops: number } {
  let shape = [...input];
  let flops = 0;
  const shapes: number[][] = [];
  for (const l of layers) {
    switch (l.kind) {
      case 'conv': {
        const [h, w, c] = shape;
        const ho = convOutSize(h, l.k, 1, l.padding);
        const wo = convOutSize(w, l.k, 1, l.padding);
        flops += 2 * ho * wo * l.filters * l.k * l.k * c;
        shape = [ho, wo, l.filters];
        break;
      }
      case 'maxpool': {
        const [h, w, c] = shape;
        shape = [convOutSize(h, l.k, l.k, 'valid'), convOutSize(w, l.k, l.k, 'valid'), c];
        break;
      }
      case 'flatten':
        shape = [shape.reduce((a, b) => a * b, 1)];
        break;
      case 'dense': {
        const inF = shape.reduce((a, b) => a * b, 1);
        flops += 2 * inF * l.units;
        shape = [l.units];
        break;
      }
      case 'relu':
        break;
    }
    shapes.push(shape);
  }
  return { shapes, flops };
}

/** Forward FLOPs of one image through a model (convolutions and dense layers; ReLU and pooling not counted). */
export function modelFlopsPerImage(name: ModelName): number {
  return modelShapes(MODELS[name]).flops;
}
