import { checkTensorSize, type Shape } from '../tensor/tensor.js';

/**
 * Padding of a convolution or pooling window.
 * - `'valid'`: none.
 * - `'same'`: TensorFlow's SAME (ONNX SAME_UPPER). Output size `ceil(H / s)`; total padding
 *   `max((Ho - 1) * s + (f - 1) * d + 1 - H, 0)`, the smaller half on top/left, the extra row/column bottom/right.
 * - `p`: p rows and columns on every side.
 * - `[p, q]`: p rows top and bottom, q columns left and right.
 * - `[top, bottom, left, right]`.
 */
export type Padding = 'valid' | 'same' | number | [number, number] | [number, number, number, number];

/**
 * How a convolution kernel's window moves over the input: stride, padding, dilation (kernel-level;
 * the window's size is the filter's [kH, kW]). Not the layer's options: those are `Conv2DOptions`
 * (src/layers/conv2d.ts: channels, kernel size, bias, init) and `DepthwiseConv2DOptions`.
 */
export interface ConvWindowOptions {
  /** Step of the window, `[strideH, strideW]`; default 1. */
  stride?: number | [number, number];
  /** Default `'valid'`. */
  padding?: Padding;
  /** Spacing between kernel taps, `[dilationH, dilationW]`; default 1. */
  dilation?: number | [number, number];
}

/**
 * A pooling kernel's window: its size, stride and padding (kernel-level). The layers' options are
 * `PoolOptions` (src/layers/pooling.ts).
 */
export interface PoolWindowOptions {
  kernelSize: number | [number, number];
  /** Defaults to `kernelSize`. */
  stride?: number | [number, number];
  /** Default `'valid'`. Padded cells are never picked by max pooling and never counted by average pooling. */
  padding?: Padding;
}

/**
 * Everything a convolution kernel needs, computed once (the only place output sizes and padding
 * are computed). Input coordinates of a tap: `iy = oy * strideH + ky * dilationH - padTop`,
 * `ix = ox * strideW + kx * dilationW - padLeft`; taps outside `[0, inH) x [0, inW)` read zero.
 *
 * Output size (PyTorch's "Shape:"): `outH = floor((inH + padTop + padBottom - dilationH * (kH - 1) - 1) / strideH) + 1`.
 */
export interface Conv2DInfo {
  batch: number;
  inH: number;
  inW: number;
  inC: number;
  outH: number;
  outW: number;
  outC: number;
  kH: number;
  kW: number;
  strideH: number;
  strideW: number;
  dilationH: number;
  dilationW: number;
  padTop: number;
  padBottom: number;
  padLeft: number;
  padRight: number;
}

/** A pooling window over each channel independently; the same geometry as Conv2DInfo with dilation 1. */
export interface Pool2DInfo {
  batch: number;
  inH: number;
  inW: number;
  channels: number;
  outH: number;
  outW: number;
  kH: number;
  kW: number;
  strideH: number;
  strideW: number;
  padTop: number;
  padBottom: number;
  padLeft: number;
  padRight: number;
}

export { MAX_TENSOR_ELEMENTS, checkTensorSize } from '../tensor/tensor.js';

/** Throws unless `v` (a size computed from the options) is a safe integer, so the geometry is exact. */
function checkSafe(op: string, what: string, v: number): number {
  if (!Number.isSafeInteger(v)) throw new Error(`${op}: ${what} is ${v}, beyond 2^53: the options are too large to compute with exactly`);
  return v;
}

function pair(op: string, arg: string, v: number | [number, number] | undefined, dflt: number, min: number): [number, number] {
  const p: unknown[] = v === undefined ? [dflt, dflt] : typeof v === 'number' ? [v, v] : Array.isArray(v) ? v : [v];
  if (p.length !== 2) throw new Error(`${op}: ${arg} must be a number or [h, w], got ${JSON.stringify(v)}`);
  for (const x of p) {
    if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < min) {
      throw new Error(`${op}: ${arg} must be ${min === 1 ? 'a positive' : 'a non-negative'} integer or a pair of them, got ${JSON.stringify(v)}`);
    }
  }
  return p as [number, number];
}

/** Normalises `stride` / `dilation` / `kernelSize`-style options to `[h, w]`, validating them. */
export function normalizePair(op: string, arg: string, v: number | [number, number] | undefined, dflt: number): [number, number] {
  return pair(op, arg, v, dflt, 1);
}

/** Validates a padding option's form and values (its size against an input is checked by the ops). */
export function checkPadding(op: string, padding: Padding | undefined): void {
  resolvePadding(op, padding, 1, 1, 1, 1, 1, 1);
}

/**
 * Resolves a padding option for one spatial axis pair to `[top, bottom, left, right]` and the output size.
 * `effH`/`effW` are the effective window extents `(k - 1) * d + 1`.
 */
function resolvePadding(
  op: string,
  padding: Padding | undefined,
  inH: number,
  inW: number,
  effH: number,
  effW: number,
  strideH: number,
  strideW: number,
): [number, number, number, number] {
  const p = padding ?? 'valid';
  if (p === 'valid') return [0, 0, 0, 0];
  if (p === 'same') {
    const outH = Math.ceil(inH / strideH);
    const outW = Math.ceil(inW / strideW);
    const totalH = Math.max((outH - 1) * strideH + effH - inH, 0);
    const totalW = Math.max((outW - 1) * strideW + effW - inW, 0);
    const top = Math.floor(totalH / 2);
    const left = Math.floor(totalW / 2);
    return [top, totalH - top, left, totalW - left];
  }
  let arr: unknown[];
  if (typeof p === 'number') arr = [p, p, p, p];
  else if (Array.isArray(p) && p.length === 2) arr = [p[0], p[0], p[1], p[1]];
  else if (Array.isArray(p) && p.length === 4) arr = [...p];
  else {
    throw new Error(`${op}: padding must be 'valid', 'same', a number, [padH, padW] or [top, bottom, left, right], got ${JSON.stringify(p)}`);
  }
  for (const x of arr) {
    if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0) {
      throw new Error(`${op}: padding must hold non-negative integers, got ${JSON.stringify(p)}`);
    }
  }
  return arr as [number, number, number, number];
}

function checkRank4(op: string, arg: string, shape: Shape, layout: string): void {
  if (shape.length !== 4) {
    throw new Error(`${op}: ${arg} must be rank 4 ${layout}, got rank ${shape.length} shape [${shape.join(', ')}]`);
  }
}

/**
 * Validates a convolution's arguments and computes its geometry.
 * `xShape` is NHWC `[N, H, W, Cin]`; `wShape` is HWIO `[fh, fw, Cin, Cout]`.
 */
export function computeConv2DInfo(op: string, xShape: Shape, wShape: Shape, opts: ConvWindowOptions = {}): Conv2DInfo {
  checkRank4(op, 'x', xShape, '[N, H, W, Cin]');
  checkRank4(op, 'w', wShape, '[fh, fw, Cin, Cout]');
  const [batch, inH, inW, inC] = xShape;
  const [kH, kW, wInC, outC] = wShape;
  if (wInC !== inC) {
    throw new Error(`${op}: channel mismatch: x has Cin = ${inC} (shape [${xShape.join(', ')}]) but w expects Cin = ${wInC} (shape [${wShape.join(', ')}])`);
  }
  if (batch < 1 || inH < 1 || inW < 1 || inC < 1) throw new Error(`${op}: x must have positive dimensions, got [${xShape.join(', ')}]`);
  if (kH < 1 || kW < 1 || outC < 1) throw new Error(`${op}: w must have positive dimensions, got [${wShape.join(', ')}]`);
  const o = opts ?? {}; // null is "no options", as undefined
  if (typeof o !== 'object') throw new Error(`${op}: opts must be an object {stride, padding, dilation}, got ${typeof o} ${String(o)}`);
  const [strideH, strideW] = normalizePair(op, 'stride', o.stride, 1);
  const [dilationH, dilationW] = normalizePair(op, 'dilation', o.dilation, 1);
  const effH = checkSafe(op, 'the effective kernel height (kH - 1) * dilationH + 1', (kH - 1) * dilationH + 1);
  const effW = checkSafe(op, 'the effective kernel width (kW - 1) * dilationW + 1', (kW - 1) * dilationW + 1);
  const [padTop, padBottom, padLeft, padRight] = resolvePadding(op, o.padding, inH, inW, effH, effW, strideH, strideW);
  const paddedH = checkSafe(op, 'the padded height', inH + padTop + padBottom);
  const paddedW = checkSafe(op, 'the padded width', inW + padLeft + padRight);
  if (effH > paddedH || effW > paddedW) {
    throw new Error(
      `${op}: kernel larger than the padded input: effective kernel ${effH}x${effW} (w ${kH}x${kW}, dilation ${dilationH}x${dilationW}) > padded input ${paddedH}x${paddedW} (x ${inH}x${inW}, padding [${padTop}, ${padBottom}, ${padLeft}, ${padRight}])`,
    );
  }
  const outH = Math.floor((paddedH - effH) / strideH) + 1;
  const outW = Math.floor((paddedW - effW) / strideW) + 1;
  checkTensorSize(op, 'the output', [batch, outH, outW, outC]);
  return { batch, inH, inW, inC, outH, outW, outC, kH, kW, strideH, strideW, dilationH, dilationW, padTop, padBottom, padLeft, padRight };
}

/**
 * The geometry of a depthwise convolution: Conv2DInfo with `outC = inC * channelMultiplier`.
 * Input channel c feeds output channels c * M .. c * M + M - 1 (M = channelMultiplier) and no other.
 */
export interface DepthwiseConv2DInfo extends Conv2DInfo {
  channelMultiplier: number;
}

/**
 * Validates a depthwise convolution's arguments and computes its geometry, with conv2d's checks and
 * messages. `xShape` is NHWC `[N, H, W, C]`; `wShape` is `[fh, fw, C, M]` (M = channel multiplier).
 * The spatial geometry is conv2d's (`computeConv2DInfo` on the same shapes): only the output
 * channel count differs.
 */
export function computeDepthwiseConv2DInfo(op: string, xShape: Shape, wShape: Shape, opts: ConvWindowOptions = {}): DepthwiseConv2DInfo {
  checkRank4(op, 'x', xShape, '[N, H, W, C]');
  checkRank4(op, 'w', wShape, '[fh, fw, C, M]');
  if (wShape[2] !== xShape[3]) {
    throw new Error(`${op}: channel mismatch: x has C = ${xShape[3]} (shape [${xShape.join(', ')}]) but w expects C = ${wShape[2]} (shape [${wShape.join(', ')}])`);
  }
  const info = computeConv2DInfo(op, xShape, wShape, opts);
  const channelMultiplier = wShape[3];
  const outC = checkSafe(op, 'the output channel count C * M', info.inC * channelMultiplier);
  checkTensorSize(op, 'the output', [info.batch, info.outH, info.outW, outC]);
  return { ...info, outC, channelMultiplier };
}

/** FLOPs of a depthwise convolution forward pass: `2 * N * Ho * Wo * C * M * fh * fw` (each output sums fh * fw taps). */
export function depthwiseConv2dFlops(info: DepthwiseConv2DInfo): number {
  return 2 * info.batch * info.outH * info.outW * info.outC * info.kH * info.kW;
}

/**
 * Validates a pooling's arguments and computes its geometry. `xShape` is NHWC.
 * Every padding side must be smaller than the window on that axis, so no window lies wholly in padding.
 */
export function computePool2DInfo(op: string, xShape: Shape, opts: PoolWindowOptions): Pool2DInfo {
  checkRank4(op, 'x', xShape, '[N, H, W, C]');
  if (opts === undefined || opts === null || opts.kernelSize === undefined) {
    throw new Error(`${op}: opts.kernelSize is required`);
  }
  const [batch, inH, inW, channels] = xShape;
  if (batch < 1 || inH < 1 || inW < 1 || channels < 1) throw new Error(`${op}: x must have positive dimensions, got [${xShape.join(', ')}]`);
  const [kH, kW] = normalizePair(op, 'kernelSize', opts.kernelSize, 1);
  const [strideH, strideW] = normalizePair(op, 'stride', opts.stride ?? [kH, kW], 1);
  const [padTop, padBottom, padLeft, padRight] = resolvePadding(op, opts.padding, inH, inW, kH, kW, strideH, strideW);
  if (Math.max(padTop, padBottom) >= kH || Math.max(padLeft, padRight) >= kW) {
    throw new Error(
      `${op}: padding [${padTop}, ${padBottom}, ${padLeft}, ${padRight}] must be smaller than the window ${kH}x${kW} on each side`,
    );
  }
  const paddedH = checkSafe(op, 'the padded height', inH + padTop + padBottom);
  const paddedW = checkSafe(op, 'the padded width', inW + padLeft + padRight);
  if (kH > paddedH || kW > paddedW) {
    throw new Error(
      `${op}: kernel larger than the padded input: window kernelSize ${kH}x${kW} > padded input ${paddedH}x${paddedW} (x ${inH}x${inW}, padding [${padTop}, ${padBottom}, ${padLeft}, ${padRight}])`,
    );
  }
  const outH = Math.floor((paddedH - kH) / strideH) + 1;
  const outW = Math.floor((paddedW - kW) / strideW) + 1;
  checkTensorSize(op, 'the output', [batch, outH, outW, channels]);
  return { batch, inH, inW, channels, outH, outW, kH, kW, strideH, strideW, padTop, padBottom, padLeft, padRight };
}

/**
 * The same convolution with stride and dilation made as small as they can be without changing
 * anything: a stride on an axis with one output position is never multiplied by a non-zero
 * index, so it becomes the smallest stride that still gives one position (padded - extent + 1);
 * a dilation on an axis with a one-tap kernel spaces nothing, so it becomes 1. The WebAssembly
 * kernels take 32-bit parameters: this lets a call with a stride or dilation of 2^31 or more run
 * there, exactly as the reference runs it.
 */
export function compactConv2DInfo(info: Conv2DInfo): Conv2DInfo {
  const c = { ...info };
  if (c.kH === 1) c.dilationH = 1;
  if (c.kW === 1) c.dilationW = 1;
  const effH = (c.kH - 1) * c.dilationH + 1;
  const effW = (c.kW - 1) * c.dilationW + 1;
  if (c.outH === 1) c.strideH = Math.min(c.strideH, c.inH + c.padTop + c.padBottom - effH + 1);
  if (c.outW === 1) c.strideW = Math.min(c.strideW, c.inW + c.padLeft + c.padRight - effW + 1);
  return c;
}

/** `compactConv2DInfo` for pooling: the stride of an axis with one output position. */
export function compactPool2DInfo(info: Pool2DInfo): Pool2DInfo {
  const c = { ...info };
  if (c.outH === 1) c.strideH = Math.min(c.strideH, c.inH + c.padTop + c.padBottom - c.kH + 1);
  if (c.outW === 1) c.strideW = Math.min(c.strideW, c.inW + c.padLeft + c.padRight - c.kW + 1);
  return c;
}

/** Whether every number of a geometry, and the padded input it implies, fits a signed 32-bit integer. */
export function fitsInt32(info: Conv2DInfo | Pool2DInfo): boolean {
  const max = 2 ** 31 - 1;
  const c = 'inC' in info ? info.inC : info.channels;
  const dH = 'dilationH' in info ? info.dilationH : 1;
  const dW = 'dilationW' in info ? info.dilationW : 1;
  const padded = info.batch * (info.inH + info.padTop + info.padBottom) * (info.inW + info.padLeft + info.padRight) * c;
  const reach = (info.kH - 1) * dH + info.padTop + (info.kW - 1) * dW + info.padLeft;
  return Object.values(info).every((v) => v <= max) && padded <= max && reach <= max;
}

/** FLOPs of a convolution forward pass: `2 * N * Ho * Wo * Cout * fh * fw * Cin` (WORKLOADS.md); dX and dW count the same. */
export function conv2dFlops(info: Conv2DInfo): number {
  return 2 * info.batch * info.outH * info.outW * info.outC * info.kH * info.kW * info.inC;
}
