/**
 * Numeric gradient checking: central differences against an analytic gradient.
 *
 * Three forms, from low to high level:
 * - `gradcheck(loss, targets, opts)`: any scalar function `loss()` of some Float32 tensors, and the
 *   analytic gradient for each. Each checked element x is set to x + eps and x - eps in place (then
 *   restored bit for bit), and `numeric = (L+ - L-) / (x+ - x-)`, all in float64. (`x+ - x-` is
 *   `2·eps` up to the float32 rounding of the perturbed values; dividing by the actual step removes
 *   that rounding from the estimate.)
 * - `gradcheckOp(forward, backward, inputs, opts)`: an op `y = forward()` of named input tensors with
 *   its backward `backward(dy) → {name: grad}`; the loss is `L = Σ y·r` for a seeded random `r`, so
 *   `dL/dy = r` and the analytic gradients are `backward(r)`.
 * - `gradcheckLayer(layer, inputShapeWithBatch, opts)`: a `Layer` (or a model, which implements the
 *   same interface), with the same loss `L = Σ y·r`; checks `dx` and every `param.grad`.
 *
 * An element passes when `|a - n| <= atol + rtol · max(|a|, |n|)` (a analytic, n numeric). The
 * report names the worst element: the one with the largest `|a - n| / (atol + rtol · max(|a|, |n|))`.
 *
 * Float32 caveats: the defaults (eps 1e-2, atol 1e-3, rtol 1e-2) suit small shapes with values of
 * order 1. Functions with kinks (ReLU at 0, max-pool ties) need inputs at least eps away from the
 * kink, or the numeric derivative straddles it.
 *
 * ```ts
 * const report = gradcheckLayer(new Conv2D({ outChannels: 2, kernelSize: 3 }), [2, 5, 5, 3], { seed: 1 });
 * if (!report.ok) throw new Error(report.message);
 * ```
 */
import { Tensor, unravel, type Shape } from './tensor/tensor.js';
import { Rng } from './tensor/random.js';
import type { Layer, Param } from './layers/layer.js';

export interface GradcheckOptions {
  /** Perturbation size; default 1e-2 (float32 needs a large step). */
  eps?: number;
  /** Absolute tolerance; default 1e-3. */
  atol?: number;
  /** Relative tolerance; default 1e-2. */
  rtol?: number;
  /** Check at most this many elements per tensor, a seeded random subset; default Infinity (all). */
  maxElements?: number;
  /** Seed for the element subset (and, in gradcheckOp/gradcheckLayer, for r and the input); default 0. */
  seed?: number;
}

/** A tensor whose elements `gradcheck` perturbs, with its analytic gradient. */
export interface GradcheckTarget {
  /** Name used in the report: 'x', 'w', 'conv1.weight'... */
  name: string;
  /** The tensor `loss()` reads; its data is perturbed in place and restored. */
  value: Tensor;
  /** The analytic gradient dL/dvalue, as many elements as `value`. */
  grad: Tensor | ArrayLike<number>;
}

/** One checked element. */
export interface GradcheckElement {
  tensor: string;
  /** Flat (row-major) index into the tensor. */
  index: number;
  /** Coordinates of `index` in the tensor's shape. */
  coords: number[];
  analytic: number;
  numeric: number;
  /** |analytic - numeric| */
  absError: number;
  /** |analytic - numeric| / max(|analytic|, |numeric|) (0 when both are 0). */
  relError: number;
}

export interface GradcheckTensorReport {
  name: string;
  shape: number[];
  /** Elements checked (all, or a subset when the tensor has more than maxElements). */
  checked: number;
  failures: number;
  maxAbsError: number;
  maxRelError: number;
  /** This tensor's worst element (null when nothing was checked). */
  worst: GradcheckElement | null;
}

export interface GradcheckReport {
  /** True when every checked element is within tolerance. */
  ok: boolean;
  checked: number;
  failures: number;
  /** The worst element over all tensors (null when nothing was checked). */
  worst: GradcheckElement | null;
  tensors: GradcheckTensorReport[];
  eps: number;
  atol: number;
  rtol: number;
  /** A one-paragraph summary naming the worst element; use it as an assertion message. */
  message: string;
}

interface Resolved {
  eps: number;
  atol: number;
  rtol: number;
  maxElements: number;
  seed: number;
}

function resolve(op: string, opts: GradcheckOptions): Resolved {
  const r: Resolved = {
    eps: opts.eps ?? 1e-2,
    atol: opts.atol ?? 1e-3,
    rtol: opts.rtol ?? 1e-2,
    maxElements: opts.maxElements ?? Infinity,
    seed: opts.seed ?? 0,
  };
  if (!(r.eps > 0) || !Number.isFinite(r.eps)) throw new Error(`${op}: eps must be a positive finite number, got ${opts.eps}`);
  if (!(r.atol >= 0)) throw new Error(`${op}: atol must be a non-negative number, got ${opts.atol}`);
  if (!(r.rtol >= 0)) throw new Error(`${op}: rtol must be a non-negative number, got ${opts.rtol}`);
  if (!(r.maxElements >= 1)) throw new Error(`${op}: maxElements must be at least 1, got ${opts.maxElements}`);
  return r;
}

/** The indices to check: all of them, or a sorted seeded subset of `max` distinct ones. */
function pickIndices(size: number, max: number, rng: Rng): number[] {
  if (size <= max) return Array.from({ length: size }, (_, i) => i);
  const all = Array.from({ length: size }, (_, i) => i);
  for (let i = 0; i < max; i++) {
    const j = i + rng.int(size - i);
    const t = all[i];
    all[i] = all[j];
    all[j] = t;
  }
  return all.slice(0, max).sort((a, b) => a - b);
}

const fmtNum = (v: number): string => (Number.isFinite(v) ? v.toPrecision(6) : String(v));
const fmtShape = (s: readonly number[]): string => `[${s.join(', ')}]`;

/** How far past the tolerance an element is: > 1 fails. NaN anywhere counts as Infinity. */
function badness(a: number, n: number, atol: number, rtol: number): number {
  if (Number.isNaN(a) || Number.isNaN(n)) return Infinity;
  const diff = Math.abs(a - n);
  if (!Number.isFinite(diff)) return Infinity;
  const tol = atol + rtol * Math.max(Math.abs(a), Math.abs(n));
  return tol === 0 ? (diff === 0 ? 0 : Infinity) : diff / tol;
}

function describeElement(e: GradcheckElement): string {
  return (
    `tensor '${e.tensor}' index ${e.index} (coords ${fmtShape(e.coords)}): analytic ${fmtNum(e.analytic)}, ` +
    `numeric ${fmtNum(e.numeric)}, abs error ${fmtNum(e.absError)}, rel error ${fmtNum(e.relError)}`
  );
}

/**
 * Checks analytic gradients against central differences of `loss()`.
 *
 * `loss()` must read the CURRENT contents of every target's `value.data` each time it is called
 * (no caching of derived values) and be deterministic; it is called `2 · (elements checked) + 2`
 * times. Every perturbed element is restored exactly, including when `loss()` throws.
 */
export function gradcheck(loss: () => number, targets: GradcheckTarget[], opts: GradcheckOptions = {}): GradcheckReport {
  const o = resolve('gradcheck', opts);
  if (typeof loss !== 'function') throw new Error(`gradcheck: loss must be a function () => number, got ${typeof loss}`);
  if (!Array.isArray(targets)) throw new Error(`gradcheck: targets must be an array of {name, value, grad}, got ${typeof targets}`);
  const names = new Set<string>();
  for (const t of targets) {
    if (!(t?.value instanceof Tensor)) throw new Error(`gradcheck: target '${t?.name}' value must be a Tensor`);
    if (names.has(t.name)) throw new Error(`gradcheck: duplicate target name '${t.name}'`);
    names.add(t.name);
    const gLen = t.grad instanceof Tensor ? t.grad.size : t.grad?.length;
    if (gLen !== t.value.size) {
      const gShape = t.grad instanceof Tensor ? ` shape ${fmtShape(t.grad.shape)}` : '';
      throw new Error(
        `gradcheck: target '${t.name}' grad has ${gLen} elements${gShape}, expected ${t.value.size} (value shape ${fmtShape(t.value.shape)})`,
      );
    }
    if (t.grad instanceof Tensor && t.grad.shape.some((d, i) => d !== t.value.shape[i])) {
      throw new Error(`gradcheck: target '${t.name}' grad has shape ${fmtShape(t.grad.shape)}, expected ${fmtShape(t.value.shape)}`);
    }
  }
  const evalLoss = (): number => {
    const v = loss();
    if (typeof v !== 'number') throw new Error(`gradcheck: loss() must return a number, got ${typeof v}`);
    return v;
  };
  const l0 = evalLoss();
  const l1 = evalLoss();
  if (!Object.is(l0, l1)) {
    throw new Error(
      `gradcheck: loss() is not deterministic (${l0} then ${l1} with the same inputs); hold any randomness fixed (e.g. a dropout mask) before checking`,
    );
  }

  const rng = new Rng(o.seed);
  const tensors: GradcheckTensorReport[] = [];
  let worst: GradcheckElement | null = null;
  let worstBad = -1;
  let checked = 0;
  let failures = 0;
  for (const t of targets) {
    const data = t.value.data;
    const grad = t.grad instanceof Tensor ? t.grad.data : t.grad;
    const rep: GradcheckTensorReport = { name: t.name, shape: [...t.value.shape], checked: 0, failures: 0, maxAbsError: 0, maxRelError: 0, worst: null };
    let tWorstBad = -1;
    for (const i of pickIndices(data.length, o.maxElements, rng)) {
      const orig = data[i];
      let lPlus: number;
      let lMinus: number;
      let step: number;
      try {
        data[i] = orig + o.eps;
        const xPlus = data[i];
        lPlus = evalLoss();
        data[i] = orig - o.eps;
        const xMinus = data[i];
        lMinus = evalLoss();
        step = xPlus - xMinus;
      } finally {
        data[i] = orig;
      }
      const numeric = (lPlus - lMinus) / step;
      const analytic = Number(grad[i]);
      const absError = Math.abs(analytic - numeric);
      const scale = Math.max(Math.abs(analytic), Math.abs(numeric));
      const relError = absError === 0 ? 0 : scale === 0 ? Infinity : absError / scale;
      const bad = badness(analytic, numeric, o.atol, o.rtol);
      rep.checked++;
      if (bad > 1) rep.failures++;
      if (!(absError <= rep.maxAbsError)) rep.maxAbsError = absError; // NaN-sticky
      if (!(relError <= rep.maxRelError)) rep.maxRelError = relError;
      if (bad > tWorstBad) {
        tWorstBad = bad;
        rep.worst = { tensor: t.name, index: i, coords: unravel(i, t.value.shape), analytic, numeric, absError, relError };
      }
    }
    if (rep.worst !== null && tWorstBad > worstBad) {
      worstBad = tWorstBad;
      worst = rep.worst;
    }
    checked += rep.checked;
    failures += rep.failures;
    tensors.push(rep);
  }
  const ok = failures === 0;
  const tol = `|a - n| <= ${o.atol} + ${o.rtol}·max(|a|, |n|), eps ${o.eps}`;
  const per = tensors.map((r) => `${r.name} ${fmtShape(r.shape)}: ${r.failures}/${r.checked} failed, max abs ${fmtNum(r.maxAbsError)}`).join('; ');
  const message =
    `gradcheck ${ok ? 'passed' : 'FAILED'}: ${failures} of ${checked} elements out of tolerance (${tol}). ` +
    (worst ? `Worst: ${describeElement(worst)}. ` : '') +
    `Per tensor: ${per || 'none'}.`;
  return { ok, checked, failures, worst, tensors, eps: o.eps, atol: o.atol, rtol: o.rtol, message };
}

/** Σ y·r in float64. */
function dot64(y: Tensor, r: Tensor): number {
  let s = 0;
  for (let i = 0; i < y.size; i++) s += y.data[i] * r.data[i];
  return s;
}

function randomNormal(shape: Shape, rng: Rng): Tensor {
  const t = Tensor.zeros(shape);
  for (let i = 0; i < t.size; i++) t.data[i] = rng.normal(0, 1);
  return t;
}

/**
 * Gradient check of an op. `forward()` computes the op's output from the CURRENT values of `inputs`
 * (it closes over them); `backward(dy)` returns the analytic gradient of every input named in
 * `inputs`, keyed by the input's name or by 'd' + name, so a kernel's `{dx, dw, db}` fits inputs
 * `{x, w, b}` (extra keys are ignored; a missing one throws). Uses `L = Σ forward() · r`, r ~ N(0, 1)
 * seeded by `opts.seed` (or `opts.dy` if given).
 *
 * ```ts
 * const x = Tensor.randn([1, 5, 5, 2], { seed: 1 }), w = Tensor.randn([3, 3, 2, 4], { seed: 2 });
 * const rep = gradcheckOp(() => conv2d(x, w, null, o), (dy) => conv2dBackward(dy, x, w, o), { x, w });
 * ```
 */
export function gradcheckOp(
  forward: () => Tensor,
  backward: (dy: Tensor) => { [key: string]: Tensor },
  inputs: Record<string, Tensor>,
  opts: GradcheckOptions & { dy?: Tensor } = {},
): GradcheckReport {
  const o = resolve('gradcheckOp', opts);
  const y0 = forward();
  if (!(y0 instanceof Tensor)) throw new Error(`gradcheckOp: forward() must return a Tensor`);
  const r = opts.dy ?? randomNormal(y0.shape, new Rng(o.seed + 0x5eed));
  if (r.size !== y0.size) throw new Error(`gradcheckOp: dy has shape ${fmtShape(r.shape)}, expected the output shape ${fmtShape(y0.shape)}`);
  const grads = backward(r);
  const targets: GradcheckTarget[] = Object.entries(inputs).map(([name, value]) => {
    const g = grads[name] ?? grads[`d${name}`];
    if (g === undefined) {
      throw new Error(`gradcheckOp: backward(dy) returned no gradient for input '${name}' (expected key '${name}' or 'd${name}', got ${Object.keys(grads).join(', ')})`);
    }
    return { name, value, grad: g };
  });
  return gradcheck(() => dot64(forward(), r), targets, opts);
}

export interface GradcheckLayerOptions extends GradcheckOptions {
  /** The input x (shape inputShapeWithBatch); default N(0, 1) seeded by `seed`. Pass one for kinked layers. */
  input?: Tensor;
  /**
   * Call `layer.build(inputShape without batch, rng)` first; default true. Pass false for a layer or
   * model that is already built (a Sequential builds itself) and pass the Rng it was built with as
   * `rng` if it has randomness such as Dropout.
   */
  build?: boolean;
  /**
   * The Rng given to build (default `new Rng(seed)`); its state is replayed before every forward.
   * When omitted and the layer has an `rng: Rng` property (Sequential's `model.rng`), that one is
   * replayed instead.
   */
  rng?: Rng;
}

/**
 * Report names for a layer's params: a model's `namedParams()` ('0.weight') when it has one and it
 * matches params(), else each Param's name, made unique with '#index' when names repeat.
 */
function paramNames(layer: Layer, params: Param[]): string[] {
  const named = (layer as unknown as { namedParams?: () => { name: string; param: Param }[] }).namedParams;
  if (typeof named === 'function') {
    const list = named.call(layer);
    if (list.length === params.length && list.every((e, k) => e.param === params[k])) return list.map((e) => e.name);
  }
  return params.map((p, k) => (params.filter((q) => q.name === p.name).length > 1 ? `${p.name}#${k}` : p.name));
}

/** The gradients a layer check compared, and the dy it used, alongside the report. */
export interface GradcheckLayerReport extends GradcheckReport {
  /** The input the layer was checked at. */
  input: Tensor;
  /** dL/dy, the random r of L = Σ y·r. */
  dy: Tensor;
}

/**
 * Gradient check of a Layer (or of a whole model implementing Layer): checks the returned dx and
 * every parameter's gradient against central differences of `L = Σ layer.forward(x, true) · r`
 * (float64 sum, r ~ N(0, 1) seeded).
 *
 * - Training mode throughout: the analytic gradient comes from `forward(x, true)` then `backward(r)`,
 *   and every numeric evaluation also calls `forward(x, true)`, so what is checked is the training
 *   path that backward differentiates (e.g. BatchNorm with batch statistics).
 * - Randomness is held fixed (Dropout is checked WITH its mask, not in inference mode): the state of
 *   one Rng is saved after build and restored before EVERY forward call, so a layer that draws from
 *   that Rng replays the same mask each time. The Rng is `opts.rng` if given, else the layer's own
 *   `rng` property if it has one (Sequential's `model.rng`, which it hands to every layer's build;
 *   Dropout keeps the Rng it was built with there too), else the Rng this function passed to build.
 *   A layer whose randomness comes from anywhere else makes the loss non-deterministic; the check
 *   detects that (two identical forwards disagree) and throws rather than report noise.
 * - The "adds into param.grad" contract is checked too: every param.grad is pre-filled with seeded
 *   random values g0 before backward, and the analytic gradient is taken as `param.grad - g0`; a
 *   backward that overwrites (or ignores) param.grad fails.
 * - Side effects are undone: param values, param grads and buffers (BatchNorm running statistics,
 *   which training-mode forwards update) are restored when the check ends.
 */
export function gradcheckLayer(layer: Layer, inputShapeWithBatch: Shape, opts: GradcheckLayerOptions = {}): GradcheckLayerReport {
  const o = resolve('gradcheckLayer', opts);
  if (!Array.isArray(inputShapeWithBatch) || inputShapeWithBatch.length < 1) {
    throw new Error(`gradcheckLayer: inputShapeWithBatch must be a shape [N, ...], got ${JSON.stringify(inputShapeWithBatch)}`);
  }
  const name = layer?.type ?? 'layer';
  const buildRng = opts.rng ?? new Rng(o.seed);
  if (opts.build !== false) layer.build(inputShapeWithBatch.slice(1), buildRng);
  // The Rng whose state is replayed before every forward: opts.rng, else one the layer exposes as a
  // public `rng` (Sequential's model.rng, which it passes to every layer), else the one given to build.
  const exposed = (layer as unknown as { rng?: unknown }).rng;
  const rng = opts.rng ?? (exposed instanceof Rng ? exposed : buildRng);
  const data = new Rng(o.seed + 0xda7a);
  const x = opts.input ?? randomNormal(inputShapeWithBatch, data);
  if (x.shape.length !== inputShapeWithBatch.length || x.shape.some((d, i) => d !== inputShapeWithBatch[i])) {
    throw new Error(`gradcheckLayer: input has shape ${fmtShape(x.shape)}, expected ${fmtShape(inputShapeWithBatch)}`);
  }
  const params = layer.params();
  const buffers = layer.buffers();
  const savedValues = params.map((p) => p.value.data.slice());
  const savedGrads = params.map((p) => p.grad.data.slice());
  const savedBuffers = buffers.map((b) => b.value.data.slice());
  const rngState = rng.getState();
  const forward = (): Tensor => {
    rng.setState(rngState);
    return layer.forward(x, true);
  };
  try {
    const y0 = forward();
    const r = randomNormal(y0.shape, data);
    const g0 = params.map((p) => {
      const g = randomNormal(p.grad.shape, data);
      p.grad.data.set(g.data);
      return g;
    });
    const xBefore = x.data.slice();
    const dx = layer.backward(r);
    if (!(dx instanceof Tensor) || dx.size !== x.size || dx.shape.some((d, i) => d !== x.shape[i])) {
      throw new Error(`gradcheckLayer: ${name}.backward returned ${dx instanceof Tensor ? `shape ${fmtShape(dx.shape)}` : String(dx)}, expected dx of shape ${fmtShape(x.shape)}`);
    }
    if (x.data.some((v, i) => !Object.is(v, xBefore[i]))) throw new Error(`gradcheckLayer: ${name}.backward mutated its cached input x`);
    const targets: GradcheckTarget[] = [{ name: 'x', value: x, grad: dx }];
    const names = paramNames(layer, params);
    params.forEach((p, k) => {
      const analytic = new Float64Array(p.grad.size);
      for (let i = 0; i < analytic.length; i++) analytic[i] = p.grad.data[i] - g0[k].data[i];
      targets.push({ name: names[k], value: p.value, grad: analytic });
    });
    const report = gradcheck(() => dot64(forward(), r), targets, opts);
    return { ...report, message: `${name}: ${report.message}`, input: x, dy: r };
  } finally {
    params.forEach((p, k) => {
      p.value.data.set(savedValues[k]);
      p.grad.data.set(savedGrads[k]);
    });
    buffers.forEach((b, k) => b.value.data.set(savedBuffers[k]));
    rng.setState(rngState);
  }
}
