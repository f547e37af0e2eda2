import { Tensor, type Shape } from '../tensor/tensor.js';
import type { Rng } from '../tensor/random.js';

/**
 * A trainable parameter: its value and the gradient that `backward` accumulates into it.
 * `optimizer.zeroGrad(params)` resets the gradients.
 */
export class Param {
  grad: Tensor;
  /**
   * @internal Set by `Sequential.trainStep` instead of zeroing `grad` for the built-in layers, which
   * add into their gradients only through `addGrad`: the first `addGrad` of the step then copies its
   * values in (no zero fill, and a copy instead of an add), and clears the flag. trainStep zeroes any
   * gradient still flagged when the step ends or throws, so outside it `grad` is always what
   * zeroGrad-then-backward gives.
   */
  gradPending = false;
  constructor(
    /** Local name within its layer: 'weight', 'bias', 'gamma', 'beta'. */
    readonly name: string,
    public value: Tensor,
    /** Decoupled/L2 weight decay applies to this parameter (true for weights, false for biases and norms). */
    readonly decay: boolean = true,
  ) {
    this.grad = Tensor.zeros(value.shape);
  }
}

/**
 * What a layer would create for an input shape, computed without allocating anything: its output
 * shape and the shapes of its tensors (params, then buffers, in `params()` / `buffers()` order).
 * A model file's loader compares these with the file before building the model, so a tampered
 * architecture cannot make it allocate more than the file holds.
 */
export interface LayerPlan {
  output: Shape;
  tensors: { name: string; shape: Shape }[];
}

/** A JSON-serialisable description of a layer: its type tag and the options it was built with. */
export interface LayerSpec {
  type: string;
  config: Record<string, unknown>;
}

/**
 * The contract between layers, models and optimizers (convnetjs's layer interface, made explicit):
 * - `build` creates parameters once from the input shape (without the batch dimension) and returns
 *   the output shape, so a model infers every shape when it is constructed;
 * - `forward(x, training)` caches what `backward` needs only when `training` is true;
 * - `backward(dy)` RETURNS a new dx and ADDS into every `param.grad`; `backwardParams(dy)`, where a
 *   layer has it, adds into the same `param.grad` with the same numbers but computes no dx (a
 *   network's first weighted layer: nobody uses its dx);
 * - neither keeps its input or output beyond the next forward: `Sequential.predict` disposes each
 *   intermediate activation once the next layer has used it, and `trainStep` disposes the step's
 *   activations and gradients after the optimizer step (see tensor/storage.ts).
 */
export interface Layer {
  /** The registry key and JSON tag: 'Conv2D', 'Dense', ... */
  readonly type: string;
  build(inputShape: Shape, rng: Rng): Shape;
  /** `build`'s output shape and tensor shapes without building (every built-in layer has it). */
  plan?(inputShape: Shape): LayerPlan;
  forward(x: Tensor, training: boolean): Tensor;
  backward(dy: Tensor): Tensor;
  /** `backward` without dx: the same param.grad additions, bit for bit (optional). */
  backwardParams?(dy: Tensor): void;
  /** Trainable parameters, in a fixed order ([] for ReLU, pooling, Flatten). */
  params(): Param[];
  /** Non-trainable state that a model file must keep (BatchNorm's running statistics). */
  buffers(): { name: string; value: Tensor }[];
  /** The options this layer was made with; `fromSpec(toSpec(l))` rebuilds it. */
  toSpec(): LayerSpec;
  /** Multiply-adds x 2 of one forward pass for one example, after build. */
  flops(): number;
  /** Only the non-default options, as PyTorch's extra_repr. */
  toString(): string;
}

/** Throws the standard error for backward without a training forward. */
export function noCache(type: string): never {
  throw new Error(`${type}.backward: call forward(x, true) first`);
}

/** Shape as text for messages. */
export const fmtShape = (s: Shape): string => `[${s.join(', ')}]`;

/** Checks a layer's input against the shape it was built for (any batch size). */
export function checkInput(type: string, x: Tensor, inputShape: Shape | undefined): void {
  if (inputShape === undefined) throw new Error(`${type}.forward: call build(inputShape, rng) first (or put the layer in a Sequential)`);
  if (!(x instanceof Tensor)) throw new Error(`${type}.forward: x must be a Tensor`);
  x.assertLive(`${type}.forward`, 'x');
  const ok = x.rank === inputShape.length + 1 && inputShape.every((d, i) => x.shape[i + 1] === d);
  if (!ok) throw new Error(`${type}.forward: x has shape ${fmtShape(x.shape)}, expected [N, ${inputShape.join(', ')}]`);
}

/**
 * Adds g into p.grad, or copies it in when trainStep has flagged the gradient as not yet zeroed
 * (`Param.gradPending`): the same numbers as zeroing first (0 + g is g; -0 + 0 aside, which both
 * compare equal), without the fill and the add.
 */
export function addGrad(p: Param, g: Tensor): void {
  if (p.gradPending) {
    if (g.size !== p.grad.size) throw new Error(`addGrad: a gradient of ${g.size} elements for '${p.name}', whose grad holds ${p.grad.size}`);
    p.grad.data.set(g.data);
    p.gradPending = false;
  } else accumulate(p.grad, g);
}

/**
 * Adds src into dst elementwise (gradient accumulation). Eight at a time, all loads before the
 * stores: 1.3x faster than one at a time on Dense(3136 -> 256)'s dW (docs/wasm.md, issue 11); the
 * same float32 sums.
 */
export function accumulate(dst: Tensor, src: Tensor): void {
  const d = dst.data;
  const s = src.data;
  const n = d.length;
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const a0 = d[i] + s[i], a1 = d[i + 1] + s[i + 1], a2 = d[i + 2] + s[i + 2], a3 = d[i + 3] + s[i + 3];
    const a4 = d[i + 4] + s[i + 4], a5 = d[i + 5] + s[i + 5], a6 = d[i + 6] + s[i + 6], a7 = d[i + 7] + s[i + 7];
    d[i] = a0; d[i + 1] = a1; d[i + 2] = a2; d[i + 3] = a3; d[i + 4] = a4; d[i + 5] = a5; d[i + 6] = a6; d[i + 7] = a7;
  }
  for (; i < n; i++) d[i] += s[i];
}

/** Reads an option that must be a positive integer. */
export function positiveInt(op: string, arg: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new Error(`${op}: ${arg} must be a positive integer, got ${JSON.stringify(v)}`);
  return v;
}
