/**
 * The public functional API. Each op validates its arguments at the boundary (errors name the op,
 * the argument, and expected against actual), computes the geometry once with conv-info, and runs
 * the current backend's kernel. Later, faster kernels sit behind the same functions.
 */
import { Tensor, checkShape, checkTensorSize, type Shape } from '../tensor/tensor.js';
import { getKernels } from './backend.js';
import { computeConv2DInfo, computeDepthwiseConv2DInfo, computePool2DInfo, type ConvWindowOptions, type PoolWindowOptions } from './conv-info.js';

const fmt = (s: Shape): string => `[${s.join(', ')}]`;

/** Throws unless `t` is a Tensor (with a message naming the op and argument). */
export function checkTensor(op: string, arg: string, t: unknown): asserts t is Tensor {
  if (!(t instanceof Tensor)) {
    const got = t === null ? 'null' : t === undefined ? 'undefined' : ((t as object).constructor?.name ?? typeof t);
    throw new Error(`${op}: ${arg} must be a Tensor, got ${got}`);
  }
  t.assertLive(op, arg);
}

/** Throws unless `t` has exactly `shape`. */
export function checkShapeEquals(op: string, arg: string, t: Tensor, shape: Shape): void {
  if (t.rank !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new Error(`${op}: ${arg} has shape ${fmt(t.shape)}, expected ${fmt(shape)}`);
  }
}

/**
 * 2-D convolution (cross-correlation, as in every deep-learning framework and the seeds).
 * x NHWC [N, H, W, Cin], w HWIO [fh, fw, Cin, Cout], b [Cout] or null → y [N, Ho, Wo, Cout] with
 * `Ho = floor((H + padTop + padBottom - dilation * (fh - 1) - 1) / stride) + 1`.
 *
 * ```ts
 * const y = conv2d(x, w, b, { stride: 2, padding: 'same' });
 * ```
 */
export function conv2d(x: Tensor, w: Tensor, b: Tensor | null, opts: ConvWindowOptions = {}): Tensor {
  checkTensor('conv2d', 'x', x);
  checkTensor('conv2d', 'w', w);
  const info = computeConv2DInfo('conv2d', x.shape, w.shape, opts);
  if (b !== null && b !== undefined) {
    checkTensor('conv2d', 'b', b);
    checkShapeEquals('conv2d', 'b', b, [info.outC]);
  }
  return getKernels().conv2d(x, w, b ?? null, info);
}

/**
 * Gradients of `conv2d` with respect to x (seed dA_prev), w (dW) and b (db), given dy (dZ),
 * the gradient of the loss with respect to its output.
 */
export function conv2dBackward(dy: Tensor, x: Tensor, w: Tensor, opts: ConvWindowOptions = {}): { dx: Tensor; dw: Tensor; db: Tensor } {
  checkTensor('conv2dBackward', 'dy', dy);
  checkTensor('conv2dBackward', 'x', x);
  checkTensor('conv2dBackward', 'w', w);
  const info = computeConv2DInfo('conv2dBackward', x.shape, w.shape, opts);
  checkShapeEquals('conv2dBackward', 'dy', dy, [info.batch, info.outH, info.outW, info.outC]);
  return getKernels().conv2dBackward(dy, x, w, info);
}

/**
 * dx of `conv2d` alone (seed dA_prev, equation (1)), for an input of shape `xShape`: what a layer
 * with frozen weights passes back. Equals `conv2dBackward(dy, x, w, opts).dx` bit for bit.
 */
export function conv2dBackwardInput(dy: Tensor, w: Tensor, xShape: Shape, opts: ConvWindowOptions = {}): Tensor {
  checkTensor('conv2dBackwardInput', 'dy', dy);
  checkTensor('conv2dBackwardInput', 'w', w);
  const info = computeConv2DInfo('conv2dBackwardInput', xShape, w.shape, opts);
  checkShapeEquals('conv2dBackwardInput', 'dy', dy, [info.batch, info.outH, info.outW, info.outC]);
  return getKernels().conv2dBackwardInput(dy, w, info);
}

/**
 * dw and db of `conv2d` alone (equations (2) and (3)), for a filter of shape `wShape`: a network's
 * first layer, whose dx nobody uses. Equals `conv2dBackward`'s dw and db bit for bit.
 */
export function conv2dBackwardFilter(dy: Tensor, x: Tensor, wShape: Shape, opts: ConvWindowOptions = {}): { dw: Tensor; db: Tensor } {
  checkTensor('conv2dBackwardFilter', 'dy', dy);
  checkTensor('conv2dBackwardFilter', 'x', x);
  const info = computeConv2DInfo('conv2dBackwardFilter', x.shape, wShape, opts);
  checkShapeEquals('conv2dBackwardFilter', 'dy', dy, [info.batch, info.outH, info.outW, info.outC]);
  return getKernels().conv2dBackwardFilter(dy, x, info);
}

/**
 * Depthwise 2-D convolution: each input channel convolved with its own `M` filters (the channel
 * multiplier), no sum over channels. x NHWC [N, H, W, C], w [fh, fw, C, M], b [C * M] or null →
 * y [N, Ho, Wo, C * M], output channel `c * M + m` from input channel c and filter m; Ho and Wo as
 * for conv2d (same stride, padding and dilation options).
 *
 * ```ts
 * const y = depthwiseConv2d(x, w, b, { stride: 2, padding: 'same' }); // MobileNet's depthwise layer
 * ```
 */
export function depthwiseConv2d(x: Tensor, w: Tensor, b: Tensor | null, opts: ConvWindowOptions = {}): Tensor {
  checkTensor('depthwiseConv2d', 'x', x);
  checkTensor('depthwiseConv2d', 'w', w);
  const info = computeDepthwiseConv2DInfo('depthwiseConv2d', x.shape, w.shape, opts);
  if (b !== null && b !== undefined) {
    checkTensor('depthwiseConv2d', 'b', b);
    checkShapeEquals('depthwiseConv2d', 'b', b, [info.outC]);
  }
  return getKernels().depthwiseConv2d(x, w, b ?? null, info);
}

/** Gradients of `depthwiseConv2d` with respect to x, w and b, given dy (equations (1)-(3)). */
export function depthwiseConv2dBackward(dy: Tensor, x: Tensor, w: Tensor, opts: ConvWindowOptions = {}): { dx: Tensor; dw: Tensor; db: Tensor } {
  checkTensor('depthwiseConv2dBackward', 'dy', dy);
  checkTensor('depthwiseConv2dBackward', 'x', x);
  checkTensor('depthwiseConv2dBackward', 'w', w);
  const info = computeDepthwiseConv2DInfo('depthwiseConv2dBackward', x.shape, w.shape, opts);
  checkShapeEquals('depthwiseConv2dBackward', 'dy', dy, [info.batch, info.outH, info.outW, info.outC]);
  return getKernels().depthwiseConv2dBackward(dy, x, w, info);
}

/**
 * dw and db of `depthwiseConv2d` alone (equations (2) and (3)), for a filter of shape `wShape`
 * [fh, fw, C, M]: a network's first layer, whose dx nobody uses. Equals `depthwiseConv2dBackward`'s
 * dw and db bit for bit.
 */
export function depthwiseConv2dBackwardFilter(
  dy: Tensor,
  x: Tensor,
  wShape: Shape,
  opts: Parameters<typeof computeDepthwiseConv2DInfo>[3] = {}, // depthwiseConv2d's window options
): { dw: Tensor; db: Tensor } {
  checkTensor('depthwiseConv2dBackwardFilter', 'dy', dy);
  checkTensor('depthwiseConv2dBackwardFilter', 'x', x);
  checkShape('depthwiseConv2dBackwardFilter', 'wShape', wShape);
  const info = computeDepthwiseConv2DInfo('depthwiseConv2dBackwardFilter', x.shape, wShape, opts);
  checkShapeEquals('depthwiseConv2dBackwardFilter', 'dy', dy, [info.batch, info.outH, info.outW, info.outC]);
  return getKernels().depthwiseConv2dBackwardFilter(dy, x, info);
}

/** Max pooling over each channel. x NHWC → [N, Ho, Wo, C]. Padded cells are never picked. */
export function maxPool2d(x: Tensor, opts: PoolWindowOptions): Tensor {
  checkTensor('maxPool2d', 'x', x);
  return getKernels().maxPool2d(x, computePool2DInfo('maxPool2d', x.shape, opts));
}

/** Gradient of maxPool2d: each window's gradient goes to its first maximum. */
export function maxPool2dBackward(dy: Tensor, x: Tensor, opts: PoolWindowOptions): Tensor {
  checkTensor('maxPool2dBackward', 'dy', dy);
  checkTensor('maxPool2dBackward', 'x', x);
  const info = computePool2DInfo('maxPool2dBackward', x.shape, opts);
  checkShapeEquals('maxPool2dBackward', 'dy', dy, [info.batch, info.outH, info.outW, info.channels]);
  return getKernels().maxPool2dBackward(dy, x, info);
}

/**
 * `maxPool2d(relu(z), opts)` in one call, from the pre-activation z (a Conv2D, ReLU, MaxPool2D
 * triple, as Sequential runs it in training): the same numbers, with no ReLU pass over z.
 */
export function maxPool2dRelu(z: Tensor, opts: PoolWindowOptions): Tensor {
  checkTensor('maxPool2dRelu', 'z', z);
  return getKernels().maxPool2dRelu(z, computePool2DInfo('maxPool2dRelu', z.shape, opts));
}

/** Gradient of maxPool2dRelu with respect to z: reluBackward(maxPool2dBackward(dy, relu(z)), z), in one pass. */
export function maxPool2dReluBackward(dy: Tensor, z: Tensor, opts: PoolWindowOptions): Tensor {
  checkTensor('maxPool2dReluBackward', 'dy', dy);
  checkTensor('maxPool2dReluBackward', 'z', z);
  const info = computePool2DInfo('maxPool2dReluBackward', z.shape, opts);
  checkShapeEquals('maxPool2dReluBackward', 'dy', dy, [info.batch, info.outH, info.outW, info.channels]);
  return getKernels().maxPool2dReluBackward(dy, z, info);
}

/** Average pooling over each channel, dividing by the number of real (unpadded) cells in the window. */
export function avgPool2d(x: Tensor, opts: PoolWindowOptions): Tensor {
  checkTensor('avgPool2d', 'x', x);
  return getKernels().avgPool2d(x, computePool2DInfo('avgPool2d', x.shape, opts));
}

/** The exact gradient of avgPool2d. */
export function avgPool2dBackward(dy: Tensor, x: Tensor, opts: PoolWindowOptions): Tensor {
  checkTensor('avgPool2dBackward', 'dy', dy);
  checkTensor('avgPool2dBackward', 'x', x);
  const info = computePool2DInfo('avgPool2dBackward', x.shape, opts);
  checkShapeEquals('avgPool2dBackward', 'dy', dy, [info.batch, info.outH, info.outW, info.channels]);
  return getKernels().avgPool2dBackward(dy, x, info);
}

/** Throws unless `shape` is a valid NHWC input of global average pooling: rank 4, H·W > 0. */
function checkGlobalPoolShape(op: string, arg: string, shape: Shape): void {
  checkShape(op, arg, shape);
  if (shape.length !== 4) throw new Error(`${op}: ${arg} must be rank 4 [N, H, W, C], got rank ${shape.length} shape ${fmt(shape)}`);
  if (shape[1] * shape[2] === 0) throw new Error(`${op}: ${arg} must have H and W >= 1 (the mean of no cells is undefined), got shape ${fmt(shape)}`);
}

/**
 * Global average pooling: the mean of each channel over H and W. x NHWC [N, H, W, C] → y [N, C],
 * `y[b,c] = (1 / (H·W)) Σ_{h,w} x[b,h,w,c]`.
 */
export function globalAvgPool2d(x: Tensor): Tensor {
  checkTensor('globalAvgPool2d', 'x', x);
  checkGlobalPoolShape('globalAvgPool2d', 'x', x.shape);
  return getKernels().globalAvgPool2d(x);
}

/** The gradient of globalAvgPool2d for an input of shape `xShape`: dx[b,h,w,c] = dy[b,c] / (H·W). */
export function globalAvgPool2dBackward(dy: Tensor, xShape: Shape): Tensor {
  checkTensor('globalAvgPool2dBackward', 'dy', dy);
  checkGlobalPoolShape('globalAvgPool2dBackward', 'xShape', xShape);
  checkShapeEquals('globalAvgPool2dBackward', 'dy', dy, [xShape[0], xShape[3]]);
  return getKernels().globalAvgPool2dBackward(dy, xShape);
}

function checkDense(op: string, x: Tensor, w: Tensor): void {
  checkTensor(op, 'x', x);
  checkTensor(op, 'w', w);
  if (x.rank !== 2) throw new Error(`${op}: x must be rank 2 [N, in], got rank ${x.rank} shape ${fmt(x.shape)}`);
  if (w.rank !== 2) throw new Error(`${op}: w must be rank 2 [in, out], got rank ${w.rank} shape ${fmt(w.shape)}`);
  if (x.shape[1] !== w.shape[0]) {
    throw new Error(`${op}: feature mismatch: x has ${x.shape[1]} features (shape ${fmt(x.shape)}) but w expects ${w.shape[0]} (shape ${fmt(w.shape)})`);
  }
  checkTensorSize(op, 'the output', [x.shape[0], w.shape[1]]);
}

/** Fully connected layer: y = x · w + b, x [N, in], w [in, out], b [out] or null → [N, out]. */
export function dense(x: Tensor, w: Tensor, b: Tensor | null): Tensor {
  checkDense('dense', x, w);
  if (b !== null && b !== undefined) {
    checkTensor('dense', 'b', b);
    checkShapeEquals('dense', 'b', b, [w.shape[1]]);
  }
  return getKernels().dense(x, w, b ?? null);
}

/** Gradients of dense: dx = dy · wᵀ, dw = xᵀ · dy, db = Σ_n dy. */
export function denseBackward(dy: Tensor, x: Tensor, w: Tensor): { dx: Tensor; dw: Tensor; db: Tensor } {
  checkDense('denseBackward', x, w);
  checkTensor('denseBackward', 'dy', dy);
  checkShapeEquals('denseBackward', 'dy', dy, [x.shape[0], w.shape[1]]);
  return getKernels().denseBackward(dy, x, w);
}

function checkSame(op: string, a: Tensor, aName: string, b: Tensor, bName: string): void {
  checkTensor(op, aName, a);
  checkTensor(op, bName, b);
  checkShapeEquals(op, aName, a, b.shape);
}

/** max(0, x), elementwise. */
export function relu(x: Tensor): Tensor {
  checkTensor('relu', 'x', x);
  return getKernels().relu(x);
}
export function reluBackward(dy: Tensor, x: Tensor): Tensor {
  checkSame('reluBackward', dy, 'dy', x, 'x');
  return getKernels().reluBackward(dy, x);
}

/** x for x > 0, alpha · x otherwise. */
export function leakyRelu(x: Tensor, alpha = 0.01): Tensor {
  checkTensor('leakyRelu', 'x', x);
  if (!Number.isFinite(alpha)) throw new Error(`leakyRelu: alpha must be a finite number, got ${alpha}`);
  return getKernels().leakyRelu(x, alpha);
}
export function leakyReluBackward(dy: Tensor, x: Tensor, alpha = 0.01): Tensor {
  checkSame('leakyReluBackward', dy, 'dy', x, 'x');
  if (!Number.isFinite(alpha)) throw new Error(`leakyReluBackward: alpha must be a finite number, got ${alpha}`);
  return getKernels().leakyReluBackward(dy, x, alpha);
}

/** 1 / (1 + e^-x), elementwise. */
export function sigmoid(x: Tensor): Tensor {
  checkTensor('sigmoid', 'x', x);
  return getKernels().sigmoid(x);
}
/** Takes the forward output y. */
export function sigmoidBackward(dy: Tensor, y: Tensor): Tensor {
  checkSame('sigmoidBackward', dy, 'dy', y, 'y');
  return getKernels().sigmoidBackward(dy, y);
}

export function tanh(x: Tensor): Tensor {
  checkTensor('tanh', 'x', x);
  return getKernels().tanh(x);
}
/** Takes the forward output y. */
export function tanhBackward(dy: Tensor, y: Tensor): Tensor {
  checkSame('tanhBackward', dy, 'dy', y, 'y');
  return getKernels().tanhBackward(dy, y);
}

/** Throws unless x has channels on its last axis (rank >= 1, C >= 1 and values) and each of `perChannel` has shape [C]. */
function checkBatchNorm(op: string, x: Tensor, perChannel: Record<string, Tensor>, eps?: number): void {
  checkTensor(op, 'x', x);
  if (x.rank < 1 || x.size === 0) throw new Error(`${op}: x must have rank >= 1 and channels on its last axis, with at least one value each, got shape ${fmt(x.shape)}`);
  const C = x.shape[x.rank - 1];
  for (const [name, t] of Object.entries(perChannel)) {
    checkTensor(op, name, t);
    checkShapeEquals(op, name, t, [C]);
  }
  if (eps !== undefined && !(typeof eps === 'number' && eps > 0 && Number.isFinite(eps))) throw new Error(`${op}: eps must be a positive finite number, got ${String(eps)}`);
}

/**
 * Batch statistics of each channel (the last axis) over all the other axes: `mean[c]` and the
 * biased `variance[c] = (1/M) Σ (x − mean[c])²`, M = x.size / C. What BatchNorm normalises with in training.
 */
export function batchNormStats(x: Tensor): { mean: Tensor; variance: Tensor } {
  checkBatchNorm('batchNormStats', x, {});
  return getKernels().batchNormStats(x);
}

/** Batch normalisation with given statistics: `y = gamma · (x − mean) / sqrt(variance + eps) + beta`, per channel (last axis). */
export function batchNorm(x: Tensor, mean: Tensor, variance: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-5): Tensor {
  checkBatchNorm('batchNorm', x, { mean, variance, gamma, beta }, eps);
  return getKernels().batchNorm(x, mean, variance, gamma, beta, eps);
}

/**
 * Gradients of `batchNorm` in training, where mean and variance are `batchNormStats(x)` (so the
 * gradient flows through them): dx, dgamma = Σ dy · x̂, dbeta = Σ dy.
 */
export function batchNormBackward(dy: Tensor, x: Tensor, mean: Tensor, variance: Tensor, gamma: Tensor, eps = 1e-5): { dx: Tensor; dgamma: Tensor; dbeta: Tensor } {
  checkBatchNorm('batchNormBackward', x, { mean, variance, gamma }, eps);
  checkTensor('batchNormBackward', 'dy', dy);
  checkShapeEquals('batchNormBackward', 'dy', dy, x.shape);
  return getKernels().batchNormBackward(dy, x, mean, variance, gamma, eps);
}

/** Inverted dropout's arithmetic, `y = x ⊙ mask` (mask: 0 or 1 / (1 − rate), drawn by the caller); the gradient is `dropout(dy, mask)`. */
export function dropout(x: Tensor, mask: Tensor): Tensor {
  checkSame('dropout', mask, 'mask', x, 'x');
  return getKernels().dropout(x, mask);
}

/** Softmax over the last axis, computed stably: p_k = e^(z_k − max z) / Σ_j e^(z_j − max z). */
export function softmax(logits: Tensor): Tensor {
  checkTensor('softmax', 'logits', logits);
  if (logits.rank < 1) throw new Error(`softmax: logits must have rank >= 1, got a scalar`);
  return getKernels().softmax(logits);
}

/**
 * Gradient of softmax given its output p: dz_k = p_k · (dp_k − Σ_j dp_j · p_j).
 * (For training, prefer softmaxCrossEntropy, whose fused gradient is exact and stable.)
 */
export function softmaxBackward(dp: Tensor, p: Tensor): Tensor {
  checkTensor('softmaxBackward', 'dp', dp);
  checkTensor('softmaxBackward', 'p', p);
  checkShapeEquals('softmaxBackward', 'dp', dp, p.shape);
  return getKernels().softmaxBackward(dp, p);
}

/**
 * `relu(conv2d(x, w, b, opts))` in one call (a Conv2D layer followed by ReLU, as Sequential runs
 * that pair): the same numbers, with one pass and one output fewer on a fast backend.
 */
export function conv2dRelu(x: Tensor, w: Tensor, b: Tensor | null, opts: ConvWindowOptions = {}): Tensor {
  checkTensor('conv2dRelu', 'x', x);
  checkTensor('conv2dRelu', 'w', w);
  const info = computeConv2DInfo('conv2dRelu', x.shape, w.shape, opts);
  if (b !== null && b !== undefined) {
    checkTensor('conv2dRelu', 'b', b);
    checkShapeEquals('conv2dRelu', 'b', b, [info.outC]);
  }
  return getKernels().conv2dRelu(x, w, b ?? null, info);
}

/**
 * Gradients of `conv2dRelu` given dy and its output y: those of conv2dBackward for dZ = dy · [y > 0]
 * (y > 0 exactly where the convolution's output is). `{ dx: false }` skips dx (it is then null).
 */
export function conv2dReluBackward(
  dy: Tensor, y: Tensor, x: Tensor, w: Tensor, opts: ConvWindowOptions = {}, want: { dx?: boolean } = {},
): { dx: Tensor | null; dw: Tensor; db: Tensor } {
  checkTensor('conv2dReluBackward', 'dy', dy);
  checkTensor('conv2dReluBackward', 'y', y);
  checkTensor('conv2dReluBackward', 'x', x);
  checkTensor('conv2dReluBackward', 'w', w);
  const info = computeConv2DInfo('conv2dReluBackward', x.shape, w.shape, opts);
  const outShape = [info.batch, info.outH, info.outW, info.outC];
  checkShapeEquals('conv2dReluBackward', 'dy', dy, outShape);
  checkShapeEquals('conv2dReluBackward', 'y', y, outShape);
  return getKernels().conv2dReluBackward(dy, y, x, w, info, want?.dx ?? true);
}

/** `relu(dense(x, w, b))` in one call (a Dense layer followed by ReLU). */
export function denseRelu(x: Tensor, w: Tensor, b: Tensor | null): Tensor {
  checkDense('denseRelu', x, w);
  if (b !== null && b !== undefined) {
    checkTensor('denseRelu', 'b', b);
    checkShapeEquals('denseRelu', 'b', b, [w.shape[1]]);
  }
  return getKernels().denseRelu(x, w, b ?? null);
}

/** Gradients of `denseRelu` given dy and its output y; `{ dx: false }` skips dx (it is then null). */
export function denseReluBackward(dy: Tensor, y: Tensor, x: Tensor, w: Tensor, want: { dx?: boolean } = {}): { dx: Tensor | null; dw: Tensor; db: Tensor } {
  checkDense('denseReluBackward', x, w);
  checkTensor('denseReluBackward', 'dy', dy);
  checkTensor('denseReluBackward', 'y', y);
  checkShapeEquals('denseReluBackward', 'dy', dy, [x.shape[0], w.shape[1]]);
  checkShapeEquals('denseReluBackward', 'y', y, [x.shape[0], w.shape[1]]);
  return getKernels().denseReluBackward(dy, y, x, w, want?.dx ?? true);
}
