/**
 * WebAssembly depthwise convolution, forward and backward (glue for assembly/depthwise-conv2d.ts),
 * with the reference's rules (reference/depthwise-conv2d.ts). Threads split output rows (forward)
 * or images (backward); dw and db are summed per thread in scratch, then over the threads here.
 */
import { Tensor } from '../../tensor/tensor.js';
import { compactConv2DInfo, fitsInt32, type DepthwiseConv2DInfo } from '../conv-info.js';
import { depthwiseConv2d as forwardRef, depthwiseConv2dBackward as backwardRef, depthwiseConv2dBackwardFilter as filterRef } from '../reference/depthwise-conv2d.js';
import type { ParamValues } from './abi.js';
import type { Runtime } from './runtime.js';

/** The block's geometry fields; the pointers are filled in by each call. */
function geometry(info: DepthwiseConv2DInfo): Omit<ParamValues<'depthwise'>, 'x' | 'wgt' | 'bias' | 'y' | 'dy' | 'dx' | 'scratch' | 'scratchStride'> {
  const { batch, inH, inW, inC, outH, outW, kH, kW, strideH, strideW, dilationH, dilationW, padTop, padLeft, channelMultiplier } = info;
  return {
    N: batch, H: inH, W: inW, C: inC, M: channelMultiplier, Ho: outH, Wo: outW, kH, kW,
    sH: strideH, sW: strideW, dilH: dilationH, dilW: dilationW, pT: padTop, pL: padLeft,
  };
}

/** The same geometry with strides and dilations that do not matter made small; null if it still does not fit int32. */
function compact(full: DepthwiseConv2DInfo): DepthwiseConv2DInfo | null {
  const info = { ...full, ...compactConv2DInfo(full) };
  return fitsInt32(info) && info.batch * info.outH * info.outW * info.outC <= 2 ** 31 - 1 ? info : null;
}

export function depthwiseConv2dWasm(rt: Runtime, x: Tensor, w: Tensor, bias: Tensor | null, full: DepthwiseConv2DInfo): Tensor {
  const info = compact(full);
  if (info === null) return forwardRef(x, w, bias, full);
  const { batch, outH, outW, outC } = info;
  rt.reset();
  const xP = rt.input(x);
  const wP = rt.input(w);
  const bP = bias === null ? 0 : rt.input(bias);
  const n = batch * outH * outW * outC;
  const y = rt.outputBlock(n);
  const p = rt.putParams('depthwise', { ...geometry(info), x: xP, wgt: wP, bias: bP, y: y.p, dy: 0, dx: 0, scratch: 0, scratchStride: 0 });
  return rt.runTo('depthwiseForward', p, batch * outH, 1, y, [batch, outH, outW, outC]);
}

/**
 * The backward job: dw and db summed over the threads' scratch, and dx when `withDx` (the kernel
 * skips equation (1) when the block's dx pointer is 0).
 */
function backward(rt: Runtime, dy: Tensor, x: Tensor, w: Tensor | null, wShape: readonly number[], info: DepthwiseConv2DInfo): { dx: Tensor | null; dw: Tensor; db: Tensor } {
  const { batch, outC } = info;
  const wSize = wShape.reduce((a, b) => a * b, 1);
  rt.reset();
  const xP = rt.input(x);
  const wP = w === null ? 0 : rt.input(w);
  const dyP = rt.input(dy);
  const dxO = w === null ? null : rt.outputBlock(x.size);
  const dxP = dxO === null ? 0 : dxO.p;
  const per = wSize + outC; // dw, then db
  const stride = Math.ceil((per * 4) / 64) * 64;
  const threads = rt.threads;
  const scratch = rt.zeros((stride / 4) * threads);
  const p = rt.putParams('depthwise', { ...geometry(info), x: xP, wgt: wP, bias: 0, y: 0, dy: dyP, dx: dxP, scratch, scratchStride: stride });
  let dx: Tensor | null = null;
  if (dxO === null) rt.run('depthwiseBackward', p, batch, 1);
  else dx = rt.runTo('depthwiseBackward', p, batch, 1, dxO, x.shape);
  // Sum the threads' shares (a thread that ran no chunk left zeros).
  const sum = new Float32Array(per);
  const f32 = rt.f32;
  for (let t = 0; t < threads; t++) {
    const base = (scratch + t * stride) >> 2;
    for (let i = 0; i < per; i++) sum[i] += f32[base + i];
  }
  return { dx, dw: new Tensor(sum.slice(0, wSize), [...wShape]), db: new Tensor(sum.slice(wSize), [outC]) };
}

export function depthwiseConv2dBackwardWasm(rt: Runtime, dy: Tensor, x: Tensor, w: Tensor, full: DepthwiseConv2DInfo): { dx: Tensor; dw: Tensor; db: Tensor } {
  const info = compact(full);
  if (info === null) return backwardRef(dy, x, w, full);
  const { dx, dw, db } = backward(rt, dy, x, w, w.shape, info);
  return { dx: dx!, dw, db };
}

/** dw and db alone (equations (2), (3)): the same job with dx skipped, so the same sums bit for bit. */
export function depthwiseConv2dBackwardFilterWasm(rt: Runtime, dy: Tensor, x: Tensor, full: DepthwiseConv2DInfo): { dw: Tensor; db: Tensor } {
  const info = compact(full);
  if (info === null) return filterRef(dy, x, full);
  const { dw, db } = backward(rt, dy, x, null, [info.kH, info.kW, info.inC, info.channelMultiplier], info);
  return { dw, db };
}
