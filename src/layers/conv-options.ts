/**
 * The options a convolution layer shares (Conv2D, DepthwiseConv2D): validated by name, with the
 * defaults filled in, so a layer's `opts` (and so its model-file spec) records every one.
 */
import { checkPadding, normalizePair, type Padding } from '../kernels/conv-info.js';
import { checkInit, type Init } from './init.js';

export interface ConvLayerOptions {
  kernelSize: number | [number, number];
  stride?: number | [number, number];
  padding?: Padding;
  dilation?: number | [number, number];
  /** Add a bias per output channel (default true). */
  bias?: boolean;
  /** Default 'he'. */
  init?: Init;
}

/** Every shared option, present. */
export type ResolvedConvLayerOptions = Required<Omit<ConvLayerOptions, 'padding'>> & { padding: Padding };

/** Validates the shared options of layer `op` (errors name it and the option) and fills in the defaults. */
export function resolveConvLayerOptions(op: string, opts: ConvLayerOptions): ResolvedConvLayerOptions {
  if (opts.kernelSize === undefined) throw new Error(`${op}: kernelSize is required (a positive integer or [h, w])`);
  normalizePair(op, 'kernelSize', opts.kernelSize, 1);
  normalizePair(op, 'stride', opts.stride, 1);
  normalizePair(op, 'dilation', opts.dilation, 1);
  checkPadding(op, opts.padding);
  if (opts.bias !== undefined && typeof opts.bias !== 'boolean') throw new Error(`${op}: bias must be true or false, got ${JSON.stringify(opts.bias)}`);
  return {
    kernelSize: opts.kernelSize,
    stride: opts.stride ?? 1,
    padding: opts.padding ?? 'valid',
    dilation: opts.dilation ?? 1,
    bias: opts.bias ?? true,
    init: checkInit(op, opts.init ?? 'he'),
  };
}

/** The geometry options of the op (`conv2d`, `depthwiseConv2d`) from a layer's resolved options. */
export function convGeometry(o: ResolvedConvLayerOptions): { stride: number | [number, number]; padding: Padding; dilation: number | [number, number] } {
  return { stride: o.stride, padding: o.padding, dilation: o.dilation };
}
