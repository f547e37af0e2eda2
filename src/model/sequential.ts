import { Tensor, withExternalOutputs, type Shape } from '../tensor/tensor.js';
import { Rng } from '../tensor/random.js';
import { Param, checkInput, fmtShape, noCache, positiveInt, type Layer, type LayerSpec } from '../layers/layer.js';
import { layerFromSpec } from '../layers/registry.js';
import { Conv2D } from '../layers/conv2d.js';
import { Dense } from '../layers/dense.js';
import { DepthwiseConv2D } from '../layers/depthwise-conv2d.js';
import { BatchNorm } from '../layers/batch-norm.js';
import { Optimizer } from '../optim/optimizer.js';
import { ReLU } from '../layers/activations.js';
import { MaxPool2D } from '../layers/pooling.js';
import { maxPool2dRelu, maxPool2dReluBackward } from '../kernels/ops.js';
import type { WeightedLayer } from '../layers/weighted.js';
import { checkLoss, computeLoss, crossEntropyLoss, type LabelLoss, type Loss, type LossTargets, type TensorLoss } from '../losses/loss.js';
import { countCorrect } from '../metrics.js';

export { countCorrect };

/** What an optimizer must offer a model (see src/optim). */
export interface StepOptimizer {
  step(params: Param[]): void;
  zeroGrad(params: Param[]): void;
}

/** What `trainStep` returns: the batch's mean loss, and (for a loss with label targets) how many predictions were right. */
export interface StepResult {
  loss: number;
  /** Rows whose arg max is the label; present only when the loss takes labels (no accuracy for a tensor loss). */
  correct?: number;
}

/** Options of `trainStep`: the loss (default `crossEntropyLoss`, softmax cross-entropy on logits). */
export interface TrainStepOptions<L extends Loss = Loss> {
  loss?: L;
}

/** Options of `evaluate`. */
export interface EvaluateOptions<L extends Loss = Loss> {
  /** Default 256. */
  batchSize?: number;
  /** Default `crossEntropyLoss`. */
  loss?: L;
}

export interface SequentialOptions {
  /** One example's shape, without the batch dimension: [H, W, C] for images. */
  inputShape: Shape;
  /** Seeds initialisation and every later random draw of the model (dropout masks). Default 0. */
  seed?: number;
  /**
   * Run each Conv2D or Dense followed by a ReLU as one fused call in `trainStep`, `predict` and
   * `evaluate` (the same numbers, bit for bit; fewer passes over memory). Default true; see
   * `Sequential.fuse`.
   */
  fuse?: boolean;
}

export interface SequentialSpec extends LayerSpec {
  type: 'Sequential';
  config: { inputShape: number[]; layers: LayerSpec[] };
}

/**
 * A stack of layers (seed 002, "Complete CNN": CONV → POOL → ... → FC). Building it infers every
 * layer's shape from `inputShape`, so a shape error appears at construction and names the layer.
 *
 * ```ts
 * const model = new Sequential([
 *   new Conv2D({ outChannels: 8, kernelSize: 3, padding: 'same' }), new ReLU(), new MaxPool2D({ kernelSize: 2 }),
 *   new Flatten(), new Dense({ units: 10 }),
 * ], { inputShape: [28, 28, 1], seed: 1 });
 * const { loss, correct } = model.trainStep(x, labels, new SGD({ lr: 0.01 }));   // softmax cross-entropy
 * const { loss: mse } = regressor.trainStep(x, targets, optimizer, { loss: mseLoss }); // a Tensor target, no `correct`
 * ```
 *
 * A Sequential is itself a Layer: `backward` returns dx and adds into every parameter's gradient.
 */
export class Sequential implements Layer {
  readonly type = 'Sequential';
  readonly layers: readonly Layer[];
  readonly inputShape: Shape;
  /** The output shape of each layer, without the batch dimension. */
  readonly shapes: readonly Shape[];
  readonly rng: Rng;
  /**
   * Whether `trainStep`, `predict` and `evaluate` run each Conv2D or Dense followed by a ReLU as one
   * fused call (`forwardRelu`; ops conv2dRelu, denseRelu). The results are the same bit for bit;
   * false runs every layer on its own. `forward` and `backward` never fuse: they give every layer's
   * output (`made`). The model's layers, spec, file and ONNX export do not change either way.
   */
  fuse: boolean;
  /** fusible[i]: layers[i] is a Conv2D or Dense with a ReLU after it, run as one call when fusing. */
  private readonly fusible: readonly boolean[];
  /** pooled[i]: layers[i] is a Conv2D with a ReLU and then exactly a MaxPool2D after it (a fused triple). */
  private readonly pooled: readonly boolean[];
  private trained = false;
  /**
   * The groups of layers the last training forward pass ran, in order (backward runs them in
   * reverse): a single layer, a fused pair (Conv2D/Dense + ReLU), or a fused triple (Conv2D + ReLU
   * + MaxPool2D, with its pre-activation z kept for the pool's backward).
   */
  private groups: { start: number; len: 1 | 2 | 3; z?: Tensor }[] = [];

  constructor(layers: Layer[], opts: SequentialOptions) {
    if (!Array.isArray(layers) || layers.length === 0) throw new Error('Sequential: layers must be a non-empty array');
    checkInputShape('Sequential', opts?.inputShape);
    this.inputShape = Object.freeze([...opts.inputShape]);
    this.rng = new Rng(opts.seed ?? 0);
    this.layers = Object.freeze([...layers]);
    const shapes: Shape[] = [];
    let shape: Shape = this.inputShape;
    layers.forEach((layer, i) => {
      try {
        shape = layer.build(shape, this.rng);
      } catch (e) {
        throw new Error(`Sequential: layer ${i} (${layer.type}) cannot take input ${fmtShape(shape)}: ${(e as Error).message}`, { cause: e });
      }
      shapes.push(Object.freeze([...shape]));
    });
    this.shapes = Object.freeze(shapes);
    if (opts.fuse !== undefined && typeof opts.fuse !== 'boolean') throw new Error(`Sequential: opts.fuse must be true or false, got ${JSON.stringify(opts.fuse)}`);
    this.fuse = opts.fuse ?? true;
    this.fusible = Object.freeze(this.layers.map((l, i) => fusesWithRelu(l) && this.layers[i + 1]?.constructor === ReLU));
    this.pooled = Object.freeze(this.fusible.map((f, i) => f && this.layers[i].constructor === Conv2D && this.layers[i + 2]?.constructor === MaxPool2D));
  }

  get outputShape(): Shape {
    return this.shapes[this.shapes.length - 1];
  }

  /**
   * What the model of `spec` would hold, without building it (nothing is allocated): each layer's
   * output shape and every tensor as `{ layer, name, shape }`, in `modelTensors` order (each layer's
   * params, then its buffers). Throws what `fromSpec` would throw for an invalid spec.
   */
  static planSpec(spec: SequentialSpec | LayerSpec): { shapes: Shape[]; tensors: { layer: number; name: string; shape: Shape }[] } {
    const config = specConfig(spec);
    const layers = config.layers.map(layerFromSpec);
    checkInputShape('Sequential', config.inputShape);
    const shapes: Shape[] = [];
    const tensors: { layer: number; name: string; shape: Shape }[] = [];
    let shape: Shape = config.inputShape;
    layers.forEach((layer, i) => {
      if (layer.plan === undefined) throw new Error(`Sequential.planSpec: layer ${i} (${layer.type}) has no plan()`);
      let plan;
      try {
        plan = layer.plan(shape);
      } catch (e) {
        throw new Error(`Sequential: layer ${i} (${layer.type}) cannot take input ${fmtShape(shape)}: ${(e as Error).message}`, { cause: e });
      }
      for (const t of plan.tensors) tensors.push({ layer: i, name: t.name, shape: t.shape });
      shape = plan.output;
      shapes.push(shape);
    });
    return { shapes, tensors };
  }

  /** Rebuilds a model from `toSpec()` output (weights are freshly initialised from the seed). */
  static fromSpec(spec: SequentialSpec | LayerSpec, seed = 0): Sequential {
    const config = specConfig(spec);
    return new Sequential(config.layers.map(layerFromSpec), { inputShape: config.inputShape, seed });
  }

  build(inputShape: Shape): Shape {
    if (inputShape.length !== this.inputShape.length || inputShape.some((d, i) => d !== this.inputShape[i])) {
      throw new Error(`Sequential.build: built for ${fmtShape(this.inputShape)}, got ${fmtShape(inputShape)}`);
    }
    return this.outputShape;
  }

  /**
   * Runs every layer; with `training`, caches what backward needs (and dropout is active).
   * `made`, if given, receives every layer's output (trainStep disposes them after the step).
   */
  forward(x: Tensor, training = false, made?: Tensor[]): Tensor {
    return this.run(x, training, false, made);
  }

  /**
   * `forward`, with fused groups when `fused` (then `made` gets one output per group, and a
   * triple's pre-activation z). A triple Conv2D -> ReLU -> MaxPool2D runs the convolution alone
   * (z), then maxPool2dRelu(z) = maxPool2d(relu(z)): no ReLU pass and no relu(z) block; its
   * backward routes dy through the pool's and the ReLU's masks into dZ in one pass
   * (maxPool2dReluBackward, from z), which the convolution's backward reads.
   */
  private run(x: Tensor, training: boolean, fused: boolean, made?: Tensor[]): Tensor {
    checkInput('Sequential', x, this.inputShape);
    let y = x;
    const L = this.layers.length;
    const groups: { start: number; len: 1 | 2 | 3; z?: Tensor }[] = [];
    for (let i = 0; i < L; i++) {
      const layer = this.layers[i];
      if (fused && this.pooled[i]) {
        const pool = this.layers[i + 2] as MaxPool2D;
        const z = layer.forward(y, training);
        made?.push(z);
        checkInput(pool.type, z, this.shapes[i + 1]);
        y = maxPool2dRelu(z, pool.opts);
        groups.push({ start: i, len: 3, z });
        i += 2;
      } else if (fused && this.fusible[i]) {
        y = (layer as WeightedLayer).forwardRelu(y, training);
        groups.push({ start: i, len: 2 });
        i++; // the ReLU ran inside forwardRelu
      } else {
        y = layer.forward(y, training);
        groups.push({ start: i, len: 1 });
      }
      made?.push(y);
    }
    this.trained = training;
    this.groups = groups;
    return y;
  }

  /** The backward pass of one group of the last forward pass; dx only when `wantDx` (else undefined). */
  private backwardGroup(gr: { start: number; len: 1 | 2 | 3; z?: Tensor }, g: Tensor, wantDx: boolean, made?: Tensor[]): Tensor | undefined {
    const layer = this.layers[gr.start];
    if (gr.len === 3) {
      const dz = maxPool2dReluBackward(g, gr.z!, (this.layers[gr.start + 2] as MaxPool2D).opts);
      made?.push(dz);
      if (wantDx) return layer.backward(dz);
      layer.backwardParams!(dz);
      return undefined;
    }
    if (gr.len === 2) {
      if (wantDx) return (layer as WeightedLayer).backwardRelu(g);
      (layer as WeightedLayer).backwardReluParams(g);
      return undefined;
    }
    if (wantDx || layer.backwardParams === undefined) return layer.backward(g);
    layer.backwardParams(g);
    return undefined;
  }

  /**
   * Backpropagates dy through the layers in reverse; returns dx and accumulates every param.grad.
   * `made`, if given, receives dy and every gradient between layers, dx included.
   */
  backward(dy: Tensor, made?: Tensor[]): Tensor {
    if (!this.trained) noCache('Sequential');
    let g = dy;
    made?.push(g);
    for (let k = this.groups.length - 1; k >= 0; k--) {
      g = this.backwardGroup(this.groups[k], g, true, made)!;
      made?.push(g);
    }
    return g;
  }

  /**
   * `backward` for training: the same param.grad additions, but no gradient is computed that no
   * parameter needs. Layers before the first one with parameters get none, and that first layer
   * computes only its parameters' gradients (`backwardParams`: a first Conv2D skips its dx, the
   * largest of its three gradients for a 1-channel image). `made` as in `backward`.
   */
  backwardToParams(dy: Tensor, made?: Tensor[]): void {
    if (!this.trained) noCache('Sequential');
    const first = this.layers.findIndex((l) => l.params().length > 0);
    if (first < 0) return;
    let g = dy;
    made?.push(g);
    // Groups start at a weighted layer or are single layers, so the first weighted layer starts one.
    for (let k = this.groups.length - 1; k >= 0 && this.groups[k].start >= first; k--) {
      const gr = this.groups[k];
      const dx = this.backwardGroup(gr, g, gr.start > first, made);
      if (dx === undefined) break;
      g = dx;
      made?.push(g);
    }
  }

  params(): Param[] {
    return this.layers.flatMap((l) => l.params());
  }

  buffers(): { name: string; value: Tensor }[] {
    return this.layers.flatMap((l, i) => l.buffers().map((b) => ({ name: `${i}.${b.name}`, value: b.value })));
  }

  /** Every parameter with a model-wide name `<layer index>.<param name>` (e.g. '0.weight'). */
  namedParams(): { name: string; param: Param }[] {
    return this.layers.flatMap((l, i) => l.params().map((p) => ({ name: `${i}.${p.name}`, param: p })));
  }

  /** The number of trainable values. */
  paramCount(): number {
    return this.params().reduce((n, p) => n + p.value.size, 0);
  }

  flops(): number {
    return this.layers.reduce((n, l) => n + l.flops(), 0);
  }

  /**
   * One step of mini-batch training: zero the gradients, forward, loss, backward, optimizer step.
   * The loss is `opts.loss` (see src/losses/loss.ts), softmax cross-entropy on logits by default.
   * With a loss that takes labels it returns the batch's mean loss and how many predictions (arg
   * max, first on ties) were right; with a loss that takes a target Tensor, only the loss.
   */
  trainStep(x: Tensor, labels: ArrayLike<number>, optimizer: StepOptimizer, opts?: TrainStepOptions<LabelLoss>): { loss: number; correct: number };
  trainStep(x: Tensor, target: Tensor, optimizer: StepOptimizer, opts: { loss: TensorLoss }): { loss: number };
  trainStep(x: Tensor, targets: LossTargets, optimizer: StepOptimizer, opts?: TrainStepOptions): StepResult;
  trainStep(x: Tensor, targets: LossTargets, optimizer: StepOptimizer, opts: TrainStepOptions = {}): StepResult {
    const op = 'Sequential.trainStep';
    const loss = opts?.loss ?? crossEntropyLoss;
    checkLoss(op, loss);
    const params = this.params();
    const pending = zeroGradsFor(this.layers, optimizer, params);
    // Every activation and gradient of the step, to be disposed after it. Inside
    // withExternalOutputs, a backend may keep them in its own memory (the wasm backend: each
    // layer's output stays in wasm memory for the next layer, with no copy in or out); only the
    // logits and the parameters' gradients are read from JavaScript.
    const made: Tensor[] = [];
    return withExternalOutputs(() => {
      let out: Tensor, value: number;
      try {
        out = this.run(x, true, this.fuse, made);
        if (loss.targets === 'labels' && out.rank !== 2) throw new Error(`${op}: the model must output logits [N, classes], got [N, ${this.outputShape.join(', ')}]`);
        let grad: Tensor;
        ({ loss: value, grad } = computeLoss(op, loss, out, targets));
        this.backwardToParams(grad, made);
      } finally {
        // A gradient no layer wrote (or every gradient, when the step threw) is zeroed, as zeroGrad would have.
        for (const p of pending) {
          if (p.gradPending) {
            p.grad.data.fill(0);
            p.gradPending = false;
          }
        }
      }
      optimizer.step(params);
      const correct = loss.targets === 'labels' ? countCorrect(out, targets as ArrayLike<number>) : undefined;
      // Everything made in this step is dead now: the activations (the layers' caches hold them, so
      // backward cannot run again without a new forward) and the gradients between layers. Disposing
      // them lets the next step reuse their memory (tensor/storage.ts). The caller's x (and target) is never disposed.
      this.trained = false;
      if (targets instanceof Tensor) disposeAllBut(made, x, targets);
      else disposeAllBut(made, x);
      return correct === undefined ? { loss: value } : { loss: value, correct };
    });
  }

  /**
   * Inference in batches (no caches kept): returns the outputs for every example.
   *
   * Intermediate activations are disposed as soon as the next layer has consumed them, so their
   * memory is reused by the next batch (see tensor/storage.ts); only the returned tensor is new.
   * Layers must therefore not keep their inference inputs or outputs (no built-in layer does).
   */
  predict(x: Tensor, batchSize = 256): Tensor {
    checkInput('Sequential.predict', x, this.inputShape);
    positiveInt('Sequential.predict', 'batchSize', batchSize);
    const n = x.shape[0];
    if (n <= batchSize) return this.infer(x);
    const per = x.size / n;
    const outPer = this.outputShape.reduce((a, b) => a * b, 1);
    const out = new Float32Array(n * outPer);
    for (let s = 0; s < n; s += batchSize) {
      const e = Math.min(n, s + batchSize);
      const xb = new Tensor(x.data.subarray(s * per, e * per), [e - s, ...this.inputShape]);
      const yb = this.infer(xb);
      out.set(yb.data, s * outPer);
      if (!yb.sharesStorage(x) && !yb.sharesStorage(xb)) yb.dispose();
    }
    return new Tensor(out, [n, ...this.outputShape]);
  }

  /**
   * forward(x, false), disposing each intermediate once the next layer has used it. The
   * intermediates may stay in the backend's memory (withExternalOutputs); the result is read out.
   * With `fuse`, Conv2D/Dense -> ReLU runs as one call, and Conv2D/Dense -> ReLU -> MaxPool2D pools
   * before the ReLU (the same numbers).
   */
  private infer(x: Tensor): Tensor {
    checkInput('Sequential', x, this.inputShape);
    const y = withExternalOutputs(() => {
      let y = x;
      const L = this.layers.length;
      for (let i = 0; i < L; i++) {
        const layer = this.layers[i];
        let next: Tensor;
        if (this.fuse && this.pooled[i]) {
          // Conv2D -> ReLU -> MaxPool2D: max pooling commutes with the ReLU (max_w relu(z) =
          // relu(max_w z); NaN wins either way, and every window holds a real cell), so one pass
          // pools z and applies the ReLU to the pooled values (maxPool2dRelu).
          const z = layer.forward(y, false);
          checkInput('MaxPool2D', z, this.shapes[i + 1]);
          next = maxPool2dRelu(z, (this.layers[i + 2] as MaxPool2D).opts);
          z.dispose();
          i += 2;
        } else if (this.fuse && this.fusible[i]) {
          next = (layer as WeightedLayer).forwardRelu(y, false);
          i++;
        } else {
          next = layer.forward(y, false);
        }
        // Dispose y unless it is the caller's input or shares its values with the next output
        // (Flatten reshapes, Dropout at inference returns its input).
        if (!y.sharesStorage(x) && !next.sharesStorage(y)) y.dispose();
        y = next;
      }
      return y;
    });
    this.trained = false;
    return y;
  }

  /**
   * Mean loss over a set, in batches (inference mode), with `opts.loss` (default softmax
   * cross-entropy); with a loss that takes labels, also the accuracy. A number for `opts` is the
   * batch size (the older signature).
   */
  evaluate(x: Tensor, labels: ArrayLike<number>, opts?: number | EvaluateOptions<LabelLoss>): { loss: number; accuracy: number };
  evaluate(x: Tensor, target: Tensor, opts: EvaluateOptions<TensorLoss> & { loss: TensorLoss }): { loss: number };
  evaluate(x: Tensor, targets: LossTargets, opts?: number | EvaluateOptions): { loss: number; accuracy?: number };
  evaluate(x: Tensor, targets: LossTargets, opts: number | EvaluateOptions = {}): { loss: number; accuracy?: number } {
    const op = 'Sequential.evaluate';
    const o = typeof opts === 'number' ? { batchSize: opts } : (opts ?? {});
    const batchSize = o.batchSize ?? 256;
    positiveInt(op, 'batchSize', batchSize);
    const loss = o.loss ?? crossEntropyLoss;
    checkLoss(op, loss);
    const out = this.predict(x, batchSize);
    const { loss: value } = computeLoss(op, loss, out, targets);
    if (loss.targets === 'tensor') return { loss: value };
    const labels = targets as ArrayLike<number>;
    return { loss: value, accuracy: countCorrect(out, labels) / labels.length };
  }

  toSpec(): SequentialSpec {
    return { type: 'Sequential', config: { inputShape: [...this.inputShape], layers: this.layers.map((l) => l.toSpec()) } };
  }

  /** A table of layer, output shape, parameter count and FLOPs per example. */
  summary(): string {
    const rows: string[][] = [['#', 'layer', 'output shape', 'params', 'FLOPs']];
    rows.push(['', 'Input', fmtShape(['N', ...this.inputShape] as unknown as number[]), '', '']);
    this.layers.forEach((l, i) => {
      const count = l.params().reduce((n, p) => n + p.value.size, 0);
      rows.push([String(i), l.toString(), fmtShape(['N', ...this.shapes[i]] as unknown as number[]), fmtInt(count), fmtInt(l.flops())]);
    });
    const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
    const line = (r: string[]) => r.map((cell, c) => (c >= 3 ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ');
    const rule = '-'.repeat(widths.reduce((a, b) => a + b + 2, -2));
    return [line(rows[0]), rule, ...rows.slice(1).map(line), rule, `Total params: ${fmtInt(this.paramCount())}    FLOPs per example (forward): ${fmtInt(this.flops())}`].join('\n');
  }

  toString(): string {
    return `Sequential(${this.layers.map((l) => l.toString()).join(', ')})`;
  }
}

/**
 * Whether a layer runs with the ReLU after it as one call (`forwardRelu`) with the same numbers:
 * exactly a Conv2D or a Dense (a subclass may change what forward does).
 */
function fusesWithRelu(l: Layer): boolean {
  return l.constructor === Conv2D || l.constructor === Dense;
}

/** The config of a Sequential spec, checked (for `fromSpec` and `planSpec`). */
function specConfig(spec: SequentialSpec | LayerSpec): SequentialSpec['config'] {
  if (spec?.type !== 'Sequential') throw new Error(`Sequential.fromSpec: expected type 'Sequential', got ${JSON.stringify(spec?.type)}`);
  const config = spec.config as SequentialSpec['config'];
  if (!Array.isArray(config?.layers)) throw new Error('Sequential.fromSpec: config.layers must be an array');
  return config;
}

/** Throws unless `shape` is a non-empty array of positive integers (not 4.5, not "4"). */
function checkInputShape(op: string, shape: unknown): asserts shape is Shape {
  if (!Array.isArray(shape) || shape.length === 0) {
    throw new Error(`${op}: opts.inputShape is required ([H, W, C] for images), got ${JSON.stringify(shape)}`);
  }
  shape.forEach((d: unknown, i) => {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 1) {
      throw new Error(`${op}: opts.inputShape[${i}] must be a positive integer, got ${JSON.stringify(d)} in ${JSON.stringify(shape)}`);
    }
  });
}

const fmtInt = (n: number): string => n.toLocaleString('en-US');

/** Disposes each tensor of `ts`, except those sharing their values with one of `keep`. */
export function disposeAllBut(ts: readonly Tensor[], ...keep: Tensor[]): void {
  for (const t of ts) {
    if (t.isDisposed || keep.some((k) => t.sharesStorage(k))) continue;
    t.dispose();
  }
}

/** The layer classes whose gradients are written only through `addGrad` (their subclasses may not be). */
const ADD_GRAD_LAYERS: ReadonlySet<unknown> = new Set<unknown>([Conv2D, Dense, DepthwiseConv2D, BatchNorm]);

/**
 * What `optimizer.zeroGrad(params)` does at the start of trainStep, with the built-in optimizers'
 * zeroGrad (a fill with zeros) replaced, for the parameters of built-in layers, by flagging the
 * gradient (`Param.gradPending`) so that the layer's backward copies its gradient in instead of adding
 * it to zeros. Returns the flagged parameters. Any other optimizer's zeroGrad (a user's may accumulate
 * over several steps) and any other layer's parameters get the plain zeroGrad.
 */
function zeroGradsFor(layers: readonly Layer[], optimizer: StepOptimizer, params: Param[]): Param[] {
  if (!(optimizer instanceof Optimizer) || optimizer.zeroGrad !== Optimizer.prototype.zeroGrad) {
    optimizer.zeroGrad(params);
    return [];
  }
  // (A Param listed twice would be refused by optimizer.step: optimizers take each Param once.)
  const flagged = new Set<Param>();
  for (const l of layers) if (ADD_GRAD_LAYERS.has(l.constructor)) for (const p of l.params()) flagged.add(p);
  optimizer.zeroGrad(params.filter((p) => !flagged.has(p)));
  const pending = params.filter((p) => flagged.has(p));
  for (const p of pending) p.gradPending = true;
  return pending;
}
