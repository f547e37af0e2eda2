/**
 * Seeded random convolution / pooling configurations for tests, and their titles
 * (the test title IS the config: "x=[1,5,7,1] w=[3,2,1,4] s=[2,1] d=[1,2] p=[1,0,2,1]").
 *
 * Every config returned is valid: it was accepted by computeConv2DInfo / computePool2DInfo
 * (the kernel fits the padded input; pooling padding is smaller than the window).
 *
 * ```ts
 * const rng = new Rng(42);
 * for (let i = 0; i < 30; i++) {
 *   const cfg = randomConvConfig(rng);
 *   test(convTitle(cfg), () => { ... conv2d(x, w, b, convOpts(cfg)) ... });
 * }
 * ```
 */
import { Rng } from '../../src/tensor/random.js';
import { computeConv2DInfo, computePool2DInfo, type Padding, type Conv2DInfo, type Pool2DInfo } from '../../src/kernels/conv-info.js';

export type Shape4 = [number, number, number, number];

/** Which form of padding to draw: 'explicit4' is an arbitrary [t, b, l, r]. */
export type PaddingKind = 'valid' | 'same' | 'number' | 'pair' | 'explicit4';
const ALL_PADDING_KINDS: PaddingKind[] = ['valid', 'same', 'number', 'pair', 'explicit4'];

export interface ConvConfig {
  xShape: Shape4; // NHWC
  wShape: Shape4; // HWIO
  stride: [number, number];
  dilation: [number, number];
  padding: Padding;
  /** Whether the test should pass a bias. */
  bias: boolean;
}

export interface ConvConfigOptions {
  maxBatch?: number; // default 2
  maxSize?: number; // max H and W, default 8
  maxChannels?: number; // max Cin and Cout, default 3
  maxKernel?: number; // max kH and kW, default 4
  maxStride?: number; // default 3
  maxDilation?: number; // default 3 (dilation > 1 drawn with probability 1/3)
  paddingKinds?: PaddingKind[]; // default: all
  /** Force some fields (checked for validity with the rest). */
  fixed?: Partial<ConvConfig>;
}

export interface PoolConfig {
  xShape: Shape4; // NHWC
  kernelSize: [number, number];
  stride: [number, number];
  padding: Padding;
}

export interface PoolConfigOptions {
  maxBatch?: number; // default 2
  maxSize?: number; // default 8
  maxChannels?: number; // default 3
  maxKernel?: number; // default 4
  maxStride?: number; // default 3
  paddingKinds?: PaddingKind[];
  fixed?: Partial<PoolConfig>;
}

/** A uniform integer in [lo, hi]. */
export function randInt(rng: Rng, lo: number, hi: number): number {
  return lo + rng.int(hi - lo + 1);
}

function pick<T>(rng: Rng, xs: readonly T[]): T {
  return xs[rng.int(xs.length)];
}

function randomPadding(rng: Rng, kind: PaddingKind, maxPad: [number, number]): Padding {
  const [mh, mw] = maxPad;
  switch (kind) {
    case 'valid':
    case 'same':
      return kind;
    case 'number':
      return randInt(rng, 0, Math.min(mh, mw));
    case 'pair':
      return [randInt(rng, 0, mh), randInt(rng, 0, mw)];
    case 'explicit4':
      return [randInt(rng, 0, mh), randInt(rng, 0, mh), randInt(rng, 0, mw), randInt(rng, 0, mw)];
  }
}

/** A random valid convolution config. Deterministic in the rng state. */
export function randomConvConfig(rng: Rng, opts: ConvConfigOptions = {}): ConvConfig {
  const maxBatch = opts.maxBatch ?? 2;
  const maxSize = opts.maxSize ?? 8;
  const maxC = opts.maxChannels ?? 3;
  const maxK = opts.maxKernel ?? 4;
  const maxS = opts.maxStride ?? 3;
  const maxD = opts.maxDilation ?? 3;
  const kinds = opts.paddingKinds ?? ALL_PADDING_KINDS;
  for (let attempt = 0; attempt < 1000; attempt++) {
    const kH = randInt(rng, 1, maxK);
    const kW = randInt(rng, 1, maxK);
    const inC = randInt(rng, 1, maxC);
    const dil = (): number => (maxD > 1 && rng.int(3) === 0 ? randInt(rng, 2, maxD) : 1);
    const cfg: ConvConfig = {
      xShape: [randInt(rng, 1, maxBatch), randInt(rng, 1, maxSize), randInt(rng, 1, maxSize), inC],
      wShape: [kH, kW, inC, randInt(rng, 1, maxC)],
      stride: [randInt(rng, 1, maxS), randInt(rng, 1, maxS)],
      dilation: [dil(), dil()],
      padding: 'valid',
      bias: rng.int(4) !== 0,
      ...opts.fixed,
    };
    if (opts.fixed?.xShape === undefined && opts.fixed?.wShape !== undefined) cfg.xShape[3] = cfg.wShape[2];
    if (opts.fixed?.wShape === undefined && opts.fixed?.xShape !== undefined) cfg.wShape[2] = cfg.xShape[3];
    if (opts.fixed?.padding === undefined) {
      const effH = (cfg.wShape[0] - 1) * cfg.dilation[0] + 1;
      const effW = (cfg.wShape[1] - 1) * cfg.dilation[1] + 1;
      cfg.padding = randomPadding(rng, pick(rng, kinds), [Math.min(effH, 3), Math.min(effW, 3)]);
    }
    if (tryConvInfo(cfg) !== null) return cfg;
  }
  throw new Error(`randomConvConfig: no valid config found for options ${JSON.stringify(opts)}`);
}

/** A random valid pooling config (padding always smaller than the window, as conv-info requires). */
export function randomPoolConfig(rng: Rng, opts: PoolConfigOptions = {}): PoolConfig {
  const maxBatch = opts.maxBatch ?? 2;
  const maxSize = opts.maxSize ?? 8;
  const maxC = opts.maxChannels ?? 3;
  const maxK = opts.maxKernel ?? 4;
  const maxS = opts.maxStride ?? 3;
  const kinds = opts.paddingKinds ?? ALL_PADDING_KINDS;
  for (let attempt = 0; attempt < 1000; attempt++) {
    const cfg: PoolConfig = {
      xShape: [randInt(rng, 1, maxBatch), randInt(rng, 1, maxSize), randInt(rng, 1, maxSize), randInt(rng, 1, maxC)],
      kernelSize: [randInt(rng, 1, maxK), randInt(rng, 1, maxK)],
      stride: [randInt(rng, 1, maxS), randInt(rng, 1, maxS)],
      padding: 'valid',
      ...opts.fixed,
    };
    if (opts.fixed?.padding === undefined) {
      cfg.padding = randomPadding(rng, pick(rng, kinds), [cfg.kernelSize[0] - 1, cfg.kernelSize[1] - 1]);
    }
    if (tryPoolInfo(cfg) !== null) return cfg;
  }
  throw new Error(`randomPoolConfig: no valid config found for options ${JSON.stringify(opts)}`);
}

/** The ConvWindowOptions of a config. */
export function convOpts(cfg: ConvConfig): { stride: [number, number]; dilation: [number, number]; padding: Padding } {
  return { stride: cfg.stride, dilation: cfg.dilation, padding: cfg.padding };
}

/** The PoolWindowOptions of a config. */
export function poolOpts(cfg: PoolConfig): { kernelSize: [number, number]; stride: [number, number]; padding: Padding } {
  return { kernelSize: cfg.kernelSize, stride: cfg.stride, padding: cfg.padding };
}

/** The geometry of a conv config, or null when conv-info rejects it. */
export function tryConvInfo(cfg: ConvConfig): Conv2DInfo | null {
  try {
    return computeConv2DInfo('randomConvConfig', cfg.xShape, cfg.wShape, convOpts(cfg));
  } catch {
    return null;
  }
}

/** The geometry of a pool config, or null when conv-info rejects it. */
export function tryPoolInfo(cfg: PoolConfig): Pool2DInfo | null {
  try {
    return computePool2DInfo('randomPoolConfig', cfg.xShape, poolOpts(cfg));
  } catch {
    return null;
  }
}

const list = (xs: readonly number[]): string => `[${xs.join(',')}]`;
const padText = (p: Padding): string => (typeof p === 'string' || typeof p === 'number' ? String(p) : list(p));

/** "x=[1,5,7,1] w=[3,2,1,4] s=[2,1] d=[1,2] p=[1,0,2,1]" (+ " nobias" when the bias is off). */
export function convTitle(cfg: ConvConfig): string {
  return `x=${list(cfg.xShape)} w=${list(cfg.wShape)} s=${list(cfg.stride)} d=${list(cfg.dilation)} p=${padText(cfg.padding)}${cfg.bias ? '' : ' nobias'}`;
}

/** "x=[1,5,7,1] k=[3,2] s=[2,1] p=same". */
export function poolTitle(cfg: PoolConfig): string {
  return `x=${list(cfg.xShape)} k=${list(cfg.kernelSize)} s=${list(cfg.stride)} p=${padText(cfg.padding)}`;
}
