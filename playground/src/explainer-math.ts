/**
 * Item 6, backprop step by step (seeds 000 and 001), without the DOM. Every final number is the
 * library's: Z from `conv2d`, dA/dW/db from `conv2dBackward`, pools from `maxPool2d(Backward)` and
 * `avgPool2d(Backward)`, the check from `gradcheckOp`. The page replays the seed's loops to show
 * the partial sums, and `finalChecks` asserts that those partial sums end equal to the library's.
 *
 * Layouts as in the library: x is NHWC [1, n, n, C], W is HWIO [f, f, C, 1] (one filter, so one
 * output channel), dZ is [1, nH, nW, 1]. A tap of output (h, w) reads
 * `iy = h * stride + ky * dilation - padding` (docs/conventions.md), zero outside the input.
 */
import {
  Rng,
  Tensor,
  avgPool2d,
  avgPool2dBackward,
  computeConv2DInfo,
  conv2d,
  conv2dBackward,
  gradcheck,
  maxPool2d,
  maxPool2dBackward,
  type Conv2DInfo,
  type GradcheckReport,
} from 'stride-cnn';

export interface ExplainerParams {
  /** Input height = width. */
  n: number;
  channels: number;
  /** Filter height = width. */
  f: number;
  stride: number;
  padding: number;
  dilation: number;
  seed: number;
}

export const DEFAULT_PARAMS: ExplainerParams = { n: 4, channels: 1, f: 2, stride: 1, padding: 0, dilation: 1, seed: 1 };

/** One multiply of the sliding window: `a_slice[ky, kx, ic] * W[ky, kx, ic]`. */
export interface Tap {
  ky: number;
  kx: number;
  ic: number;
  /** Coordinates in the unpadded input (may be outside: a padding zero). */
  iy: number;
  ix: number;
  inside: boolean;
  a: number;
  w: number;
}

export interface Problem {
  params: ExplainerParams;
  info: Conv2DInfo;
  x: Tensor;
  w: Tensor;
  b: Tensor;
  dZ: Tensor;
  /** conv2d(x, w, b). */
  z: Tensor;
  /** conv2dBackward(dZ, x, w). */
  grads: { dx: Tensor; dw: Tensor; db: Tensor };
  /** The taps of each output position, in row-major (h, w) order. */
  windows: Tap[][];
}

const opts = (p: ExplainerParams) => ({ stride: p.stride, padding: p.padding, dilation: p.dilation });

/** Small integers a learner can add up: x in 0..4, W in -1..1, b = 1, dZ in -2..2. */
export function makeProblem(p: ExplainerParams): Problem {
  const rng = new Rng(p.seed);
  const { n, channels: c, f } = p;
  const x = new Tensor(Float32Array.from({ length: n * n * c }, () => rng.int(5)), [1, n, n, c]);
  const w = new Tensor(Float32Array.from({ length: f * f * c }, () => rng.int(3) - 1), [f, f, c, 1]);
  const b = new Tensor(Float32Array.of(1), [1]);
  const info = computeConv2DInfo('explainer', x.shape, w.shape, opts(p));
  const dZ = new Tensor(Float32Array.from({ length: info.outH * info.outW }, () => rng.int(5) - 2), [1, info.outH, info.outW, 1]);
  const z = conv2d(x, w, b, opts(p));
  const grads = conv2dBackward(dZ, x, w, opts(p));
  const windows: Tap[][] = [];
  for (let oh = 0; oh < info.outH; oh++)
    for (let ow = 0; ow < info.outW; ow++) {
      const taps: Tap[] = [];
      for (let ky = 0; ky < f; ky++)
        for (let kx = 0; kx < f; kx++)
          for (let ic = 0; ic < c; ic++) {
            const iy = oh * info.strideH + ky * info.dilationH - info.padTop;
            const ix = ow * info.strideW + kx * info.dilationW - info.padLeft;
            const inside = iy >= 0 && iy < n && ix >= 0 && ix < n;
            taps.push({ ky, kx, ic, iy, ix, inside, a: inside ? x.data[(iy * n + ix) * c + ic] : 0, w: w.data[(ky * f + kx) * c + ic] });
          }
      windows.push(taps);
    }
  return { params: p, info, x, w, b, dZ, z, grads, windows };
}

/** The dot product of window k, in float64: Σ a·W + b. */
export function forwardSum(prob: Problem, k: number): number {
  return prob.windows[k].reduce((s, t) => s + t.a * t.w, 0) + prob.b.data[0];
}

/** The seed's accumulators after the first `steps` output positions of the backward loop. */
export interface Partials {
  /** dA on the padded grid, [(n + 2p) x (n + 2p) x C], as `da_prev_pad` in seed 000. */
  dApad: Float64Array;
  /** dW [f x f x C]. */
  dW: Float64Array;
  db: number;
}

export const paddedSize = (prob: Problem): number => prob.params.n + 2 * prob.params.padding;

/**
 * Replays seed 000's loop for the first `steps` positions (h, w):
 * eq. 1 `da_prev_pad[window] += W * dZ[h, w]`, eq. 2 `dW += a_slice * dZ[h, w]`, eq. 3 `db += dZ[h, w]`.
 */
export function backwardPartials(prob: Problem, steps: number): Partials {
  const { n, channels: c, f, padding: p } = prob.params;
  const np = n + 2 * p;
  const dApad = new Float64Array(np * np * c);
  const dW = new Float64Array(f * f * c);
  let db = 0;
  for (let k = 0; k < steps; k++) {
    const g = prob.dZ.data[k];
    for (const t of prob.windows[k]) {
      dApad[((t.iy + p) * np + (t.ix + p)) * c + t.ic] += t.w * g; // eq. 1
      dW[(t.ky * f + t.kx) * c + t.ic] += t.a * g; // eq. 2
    }
    db += g; // eq. 3
  }
  return { dApad, dW, db };
}

/** The unpadded interior of dA_pad: what the seed returns as dA_prev. */
export function cropPadded(prob: Problem, dApad: Float64Array): Float64Array {
  const { n, channels: c, padding: p } = prob.params;
  const np = n + 2 * p;
  const out = new Float64Array(n * n * c);
  for (let iy = 0; iy < n; iy++) for (let ix = 0; ix < n; ix++) for (let ic = 0; ic < c; ic++) out[(iy * n + ix) * c + ic] = dApad[((iy + p) * np + ix + p) * c + ic];
  return out;
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

export interface FinalChecks {
  /** W rotated 180 degrees, as a filter from dZ's one channel to A's C channels: [f, f, 1, C]. */
  wRot: Tensor;
  /** dZ with (stride - 1) zeros between its values (what a stride does to the backward pass). */
  dZUp: Tensor;
  /** conv2d(dZUp, wRot) with full padding d(f - 1), cropped by the forward padding: dA. */
  dAFull: Tensor;
  /** conv2d of each input channel with dZ as the filter (stride and dilation swap roles): dW. */
  dWConv: Tensor;
  /** max |difference| of each route against conv2dBackward. */
  diff: { loopDA: number; loopDW: number; loopDb: number; fullDA: number; convDW: number };
}

/** Tolerance for "equal": the values are small integers, so float32 sums are exact; 1e-4 leaves room for non-integer input. */
export const EQUAL_TOL = 1e-4;

/**
 * Seed 001's identities, computed with conv2d and compared with conv2dBackward:
 * dA = full convolution of dZ with W rotated 180 degrees, dW = convolution of the input with dZ;
 * and the page's partial sums after the last step equal the library's dA, dW and db.
 */
export function finalChecks(prob: Problem): FinalChecks {
  const { n, channels: c, f, stride: s, padding: p, dilation: d } = prob.params;
  const { outH, outW } = prob.info;
  const np = n + 2 * p;
  const eff = (f - 1) * d + 1;
  const wRot = Tensor.zeros([f, f, 1, c]);
  for (let ky = 0; ky < f; ky++) for (let kx = 0; kx < f; kx++) for (let ic = 0; ic < c; ic++) wRot.data[(ky * f + kx) * c + ic] = prob.w.data[((f - 1 - ky) * f + (f - 1 - kx)) * c + ic];
  // Every window start of the padded input, dZ where a window was taken and 0 between (stride > 1).
  const up = np - eff + 1;
  const dZUp = Tensor.zeros([1, up, up, 1]);
  for (let oh = 0; oh < outH; oh++) for (let ow = 0; ow < outW; ow++) dZUp.data[oh * s * up + ow * s] = prob.dZ.data[oh * outW + ow];
  const full = conv2d(dZUp, wRot, null, { padding: eff - 1, dilation: d }); // [1, np, np, C]
  const dAFull = Tensor.zeros([1, n, n, c]);
  for (let iy = 0; iy < n; iy++) for (let ix = 0; ix < n; ix++) for (let ic = 0; ic < c; ic++) dAFull.data[(iy * n + ix) * c + ic] = full.data[((iy + p) * np + ix + p) * c + ic];
  // dW[ky, kx, ic] = Σ x_pad[h·s + ky·d, w·s + kx·d, ic] · dZ[h, w]: a conv of x_ic with dZ as the filter, stride d, dilation s.
  const xT = Tensor.zeros([c, n, n, 1]);
  for (let i = 0; i < n * n; i++) for (let ic = 0; ic < c; ic++) xT.data[ic * n * n + i] = prob.x.data[i * c + ic];
  const dzFilter = new Tensor(prob.dZ.data, [outH, outW, 1, 1]);
  const g = conv2d(xT, dzFilter, null, { padding: p, stride: d, dilation: s }); // [C, >= f, >= f, 1]
  const gh = g.shape[1];
  const gw = g.shape[2];
  const dWConv = Tensor.zeros([f, f, c, 1]);
  for (let ky = 0; ky < f; ky++) for (let kx = 0; kx < f; kx++) for (let ic = 0; ic < c; ic++) dWConv.data[(ky * f + kx) * c + ic] = g.data[(ic * gh + ky) * gw + kx];
  const last = backwardPartials(prob, outH * outW);
  const diff = {
    loopDA: maxDiff(cropPadded(prob, last.dApad), prob.grads.dx.data),
    loopDW: maxDiff(last.dW, prob.grads.dw.data),
    loopDb: Math.abs(last.db - prob.grads.db.data[0]),
    fullDA: maxDiff(dAFull.data, prob.grads.dx.data),
    convDW: maxDiff(dWConv.data, prob.grads.dw.data),
  };
  return { wRot, dZUp, dAFull, dWConv, diff };
}

/** Throws when a route disagrees with conv2dBackward (the page reports it as an error). */
export function assertFinal(fc: FinalChecks): void {
  for (const [k, v] of Object.entries(fc.diff)) {
    if (!(v <= EQUAL_TOL)) throw new Error(`explainer: ${k} differs from conv2dBackward by ${v} (tolerance ${EQUAL_TOL})`);
  }
}

export interface CheckResult {
  report: GradcheckReport;
  /** Largest |a - n| / max(|a|, |n|) over the elements whose gradient is not 0. */
  maxRelError: number;
  /** Largest |a - n| over the elements whose gradient is exactly 0 (relative error means nothing there). */
  maxAbsErrorAtZero: number;
}

/**
 * Stride's gradient check on the same numbers, L = Σ Z · dZ (so dL/dZ is the dZ shown), against
 * conv2dBackward. Each input value is its own gradcheck target, so the page can give the relative
 * error per number: where the true gradient is 0, float32 noise makes any relative error 1, and the
 * absolute error is the meaningful figure.
 */
export function checkGradients(prob: Problem): CheckResult {
  const o = opts(prob.params);
  const scalars = (t: Tensor, name: string, grad: Tensor) =>
    Array.from(t.data, (v, i) => ({ name: `${name}[${i}]`, value: new Tensor(Float32Array.of(v), [1]), grad: [grad.data[i]] }));
  const xs = scalars(prob.x, 'x', prob.grads.dx);
  const ws = scalars(prob.w, 'W', prob.grads.dw);
  const bs = scalars(prob.b, 'b', prob.grads.db);
  const gather = (ts: { value: Tensor }[], shape: readonly number[]) => new Tensor(Float32Array.from(ts, (t) => t.value.data[0]), [...shape]);
  const loss = (): number => {
    const z = conv2d(gather(xs, prob.x.shape), gather(ws, prob.w.shape), gather(bs, prob.b.shape), o);
    let l = 0;
    for (let i = 0; i < z.size; i++) l += z.data[i] * prob.dZ.data[i];
    return l;
  };
  const report = gradcheck(loss, [...xs, ...ws, ...bs]);
  let maxRelError = 0;
  let maxAbsErrorAtZero = 0;
  for (const t of report.tensors) {
    const e = t.worst!;
    if (e.analytic === 0) maxAbsErrorAtZero = Math.max(maxAbsErrorAtZero, e.absError);
    else maxRelError = Math.max(maxRelError, e.relError);
  }
  return { report, maxRelError, maxAbsErrorAtZero };
}

/** The pooling demo: a 4 x 4 input (distinct values, so every window has one maximum), window 2, stride 2. */
export interface PoolDemo {
  x: Tensor;
  dy: Tensor;
  maxY: Tensor;
  maxDx: Tensor;
  avgY: Tensor;
  avgDx: Tensor;
  /** For each output cell, the flat index (iy * 4 + ix) of its window's maximum, found by the page. */
  argmax: number[];
}

export const POOL = { n: 4, k: 2 };

export function poolDemo(seed: number): PoolDemo {
  const rng = new Rng(seed + 7);
  const values = rng.shuffle(Array.from({ length: 16 }, (_, i) => i + 1));
  const x = new Tensor(Float32Array.from(values), [1, 4, 4, 1]);
  const dy = new Tensor(Float32Array.from({ length: 4 }, () => rng.int(4) + 1), [1, 2, 2, 1]);
  const o = { kernelSize: POOL.k, stride: POOL.k };
  const maxY = maxPool2d(x, o);
  const maxDx = maxPool2dBackward(dy, x, o);
  const avgY = avgPool2d(x, o);
  const avgDx = avgPool2dBackward(dy, x, o);
  const argmax: number[] = [];
  for (let oh = 0; oh < 2; oh++)
    for (let ow = 0; ow < 2; ow++) {
      let best = -1;
      for (let ky = 0; ky < 2; ky++)
        for (let kx = 0; kx < 2; kx++) {
          const i = (oh * 2 + ky) * 4 + ow * 2 + kx;
          if (best < 0 || x.data[i] > x.data[best]) best = i;
        }
      argmax.push(best);
    }
  // The mask must route each gradient exactly where the library did, and the average split evenly.
  const routed = new Float32Array(16);
  argmax.forEach((i, k) => (routed[i] += dy.data[k]));
  const split = new Float32Array(16);
  for (let i = 0; i < 16; i++) split[i] = dy.data[Math.floor(Math.floor(i / 4) / 2) * 2 + Math.floor((i % 4) / 2)] / 4;
  if (maxDiff(routed, maxDx.data) > EQUAL_TOL) throw new Error('explainer: the max-pool mask disagrees with maxPool2dBackward');
  if (maxDiff(split, avgDx.data) > EQUAL_TOL) throw new Error('explainer: the even split disagrees with avgPool2dBackward');
  return { x, dy, maxY, maxDx, avgY, avgDx, argmax };
}
