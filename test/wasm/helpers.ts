/**
 * Helpers for the wasm cross-checks: seeded random conv configurations that cover every stride,
 * padding form, dilation, odd channel counts and 1x1 images, and a comparison that names the first
 * bad element.
 */
import { Rng, Tensor, computeConv2DInfo, type Conv2DInfo, type ConvWindowOptions, type Padding } from '../../src/index.js';
import { wasmRuntime } from '../../src/kernels/wasm/index.js';

export interface ConvCase {
  seed: number;
  xShape: [number, number, number, number];
  wShape: [number, number, number, number];
  opts: ConvWindowOptions;
  info: Conv2DInfo;
}

function pick<T>(rng: Rng, xs: readonly T[]): T {
  return xs[rng.int(xs.length)];
}

/** One valid random config per seed (retrying inside the seed's own stream when geometry is impossible). */
export function randomConvCase(seed: number, maxHW = 11): ConvCase {
  const rng = new Rng(seed);
  for (;;) {
    const n = 1 + rng.int(3);
    const oneByOne = rng.int(8) === 0;
    const h = oneByOne ? 1 : 1 + rng.int(maxHW);
    const w = oneByOne ? 1 : 1 + rng.int(maxHW);
    const inC = 1 + rng.int(9);
    const outC = 1 + rng.int(9);
    const kH = 1 + rng.int(5);
    const kW = rng.int(3) === 0 ? kH : 1 + rng.int(5);
    const stride: [number, number] = [1 + rng.int(3), 1 + rng.int(3)];
    const dilation: [number, number] = rng.int(2) === 0 ? [1, 1] : [1 + rng.int(3), 1 + rng.int(3)];
    const p = (): number => rng.int(4);
    const padding: Padding = pick<() => Padding>(rng, [
      () => 'valid',
      () => 'same',
      () => p(),
      () => [p(), p()],
      () => [p(), p(), p(), p()],
    ])();
    const opts: ConvWindowOptions = { stride, dilation, padding };
    try {
      const info = computeConv2DInfo('test', [n, h, w, inC], [kH, kW, inC, outC], opts);
      return { seed, xShape: [n, h, w, inC], wShape: [kH, kW, inC, outC], opts, info };
    } catch {
      // impossible geometry (kernel larger than the padded input): draw again
    }
  }
}

/**
 * A random config for a dW kernel's cross-check (the channel counts the kernel takes drawn by `inC`
 * and `outC`, kernels up to `maxK`, dilations up to `maxDilation`, every stride and padding form,
 * 1-pixel-wide images), retrying inside the seed's own stream when the geometry is impossible.
 */
export function randomDwCase(
  seed: number, maxHW: number,
  k: { inC: (rng: Rng) => number; outC: (rng: Rng) => number; maxK: number; maxDilation: number },
): ConvCase {
  const rng = new Rng(seed);
  for (;;) {
    const n = 1 + rng.int(3);
    const h = 1 + rng.int(maxHW);
    const w = rng.int(6) === 0 ? 1 : 1 + rng.int(maxHW);
    const inC = k.inC(rng);
    const outC = k.outC(rng);
    const kH = 1 + rng.int(k.maxK);
    const kW = rng.int(3) === 0 ? kH : 1 + rng.int(k.maxK);
    const stride: [number, number] = [1 + rng.int(3), 1 + rng.int(3)];
    const dilation: [number, number] = rng.int(2) === 0 ? [1, 1] : [1 + rng.int(k.maxDilation), 1 + rng.int(k.maxDilation)];
    const p = (): number => rng.int(4);
    const pads: (() => Padding)[] = [() => 'valid', () => 'same', () => p(), () => [p(), p()], () => [p(), p(), p(), p()]];
    const opts: ConvWindowOptions = { stride, dilation, padding: pads[rng.int(pads.length)]() };
    try {
      const info = computeConv2DInfo('test', [n, h, w, inC], [kH, kW, inC, outC], opts);
      return { seed, xShape: [n, h, w, inC], wShape: [kH, kW, inC, outC], opts, info };
    } catch {
      // impossible geometry: draw again
    }
  }
}

/** The kernel names the runtime's run() has been called with since `recordJobs()` was first called (cleared by the caller). */
export const jobsRun: string[] = [];
/** Starts recording (wraps the runtime's run once per runtime). */
export function recordJobs(): void {
  const rt = wasmRuntime()!;
  const flag = rt as unknown as { jobsRecorded?: boolean };
  if (flag.jobsRecorded) return;
  const orig = rt.run.bind(rt);
  rt.run = (...a: Parameters<typeof rt.run>): void => {
    jobsRun.push(a[0]);
    orig(...a);
  };
  flag.jobsRecorded = true;
}

export function describeCase(c: ConvCase): string {
  return `seed=${c.seed} x=[${c.xShape}] w=[${c.wShape}] stride=${JSON.stringify(c.opts.stride)} dilation=${JSON.stringify(c.opts.dilation)} padding=${JSON.stringify(c.opts.padding)}`;
}

/**
 * Throws unless |got - want| <= 1e-5 + 1e-4 * max|want| everywhere, naming the first bad index.
 * NaN in `got` fails, except where `want` is NaN too and `nanMatches` is set.
 */
export function assertCloseToRef(got: Tensor, want: Tensor, what: string, context: string, nanMatches = false): void {
  if (got.shape.join() !== want.shape.join()) {
    throw new Error(`${context}: ${what} shape [${got.shape}] != reference [${want.shape}]`);
  }
  let maxRef = 0;
  for (const v of want.data) if (!Number.isNaN(v)) maxRef = Math.max(maxRef, Math.abs(v));
  const tol = 1e-5 + 1e-4 * maxRef;
  for (let i = 0; i < want.data.length; i++) {
    if (nanMatches && Number.isNaN(want.data[i]) && Number.isNaN(got.data[i])) continue;
    const d = Math.abs(got.data[i] - want.data[i]);
    if (!(d <= tol)) {
      throw new Error(`${context}: ${what} differs at flat index ${i}: wasm ${got.data[i]} vs reference ${want.data[i]} (tolerance ${tol})`);
    }
  }
}

/** FNV-1a over the bytes of a float array: detects any change to an input. */
export function checksum(a: Float32Array): number {
  const u = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  let h = 0x811c9dc5;
  for (let i = 0; i < u.length; i++) h = Math.imul(h ^ u[i], 0x01000193);
  return h >>> 0;
}

/** Runs f (synchronous: an async f would see the fields restored at its first await) with `patch` applied to a tuning object, restoring every field afterwards, also when f throws. */
export function withTuning<T extends object, R>(target: T, patch: Partial<T>, f: () => R): R {
  const saved = { ...target };
  Object.assign(target, patch);
  try {
    return f();
  } finally {
    Object.assign(target, saved);
  }
}
