/**
 * ConvNetJS (npm `convnetjs` 0.3, CommonJS, node_modules/convnetjs/build/convnet.js): the parts
 * the benchmark uses, typed. ConvNetJS works on one image at a time (a `Vol`, HWC order: index
 * ((sx * y) + x) * depth + d, the same as one NHWC image), in Float64Array storage.
 *
 * Its initialisation draws from Math.random; `withSeededMathRandom` makes it repeatable.
 */
import { createRequire } from 'node:module';
import { Rng } from '../../src/tensor/random.js';

export interface Vol {
  sx: number;
  sy: number;
  depth: number;
  w: Float64Array;
  dw: Float64Array;
}

export interface CnnLayer {
  in_act: Vol;
  out_act: Vol;
  /** ConvLayer and PoolLayer: output width and height. */
  out_sx?: number;
  out_sy?: number;
  forward(v: Vol, isTraining?: boolean): Vol;
  backward(): void;
}

export interface CnnNet {
  layers: CnnLayer[];
  makeLayers(defs: object[]): void;
  forward(v: Vol, isTraining?: boolean): Vol;
  backward(y: number): number;
  getPrediction(): number;
}

export interface CnnTrainer {
  batch_size: number;
  train(x: Vol, y: number): { loss: number; cost_loss: number };
}

export interface ConvNetJS {
  REVISION: string;
  Vol: new (sx: number, sy: number, depth: number, c?: number) => Vol;
  ConvLayer: new (opt: { in_sx: number; in_sy: number; in_depth: number; sx: number; filters: number; stride: number; pad: number }) => CnnLayer;
  PoolLayer: new (opt: { in_sx: number; in_sy: number; in_depth: number; sx: number; stride: number; pad?: number }) => CnnLayer;
  Net: new () => CnnNet;
  Trainer: new (net: CnnNet, opts: object) => CnnTrainer;
}

/** The version from node_modules/convnetjs/package.json. */
export interface ConvNetJSEnv {
  cnn: ConvNetJS;
  version: string;
}

export function loadConvNetJS(): { env: ConvNetJSEnv | null; error?: string } {
  try {
    const require = createRequire(import.meta.url);
    const cnn = require('convnetjs') as ConvNetJS;
    const version = (require('convnetjs/package.json') as { version: string }).version;
    return { env: { cnn, version } };
  } catch (e) {
    return { env: null, error: `cannot load convnetjs: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}` };
  }
}

/** Runs fn with Math.random drawing from a seeded generator (ConvNetJS initialisation). */
export function withSeededMathRandom<T>(seed: number, fn: () => T): T {
  const rng = new Rng(seed);
  const orig = Math.random;
  Math.random = () => rng.next();
  try {
    return fn();
  } finally {
    Math.random = orig;
  }
}

/** A Vol holding image i of an NHWC batch (h, w, c per image). */
export function volFrom(cnn: ConvNetJS, data: Float32Array, i: number, h: number, w: number, c: number): Vol {
  const v = new cnn.Vol(w, h, c, 0);
  const per = h * w * c;
  for (let j = 0; j < per; j++) v.w[j] = data[i * per + j];
  return v;
}
