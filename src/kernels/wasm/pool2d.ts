/**
 * WebAssembly max and average pooling, forward and backward (glue for assembly/pool2d.ts), with
 * the reference's rules: see reference/max-pool2d.ts and reference/avg-pool2d.ts.
 */
import type { Tensor } from '../../tensor/tensor.js';
import { compactPool2DInfo, fitsInt32, type Pool2DInfo } from '../conv-info.js';
import { maxPool2d as maxRef, maxPool2dBackward as maxBackRef } from '../reference/max-pool2d.js';
import { avgPool2d as avgRef, avgPool2dBackward as avgBackRef } from '../reference/avg-pool2d.js';
import { maxPool2dRelu as maxReluRef, maxPool2dReluBackward as maxReluBackRef } from '../reference/fused.js';
import type { Runtime } from './runtime.js';

type PoolFn = 'maxPool' | 'avgPool';

/**
 * Runs a pooling kernel, threads splitting the batch; forward (dy = null) returns y, backward
 * returns dx (zeroed by the kernel); `relu` (max pooling only) puts a ReLU before the pool (modes 2, 3). The parameter block is int32: a stride that does not matter
 * is made small first (compactPool2DInfo); a geometry that still does not fit runs on the reference.
 */
function pool(rt: Runtime, fn: PoolFn, x: Tensor, dy: Tensor | null, fullInfo: Pool2DInfo, relu = false): Tensor {
  const info = compactPool2DInfo(fullInfo);
  if (!fitsInt32(info)) {
    if (relu) return dy === null ? maxReluRef(x, fullInfo) : maxReluBackRef(dy, x, fullInfo);
    if (fn === 'maxPool') return dy === null ? maxRef(x, fullInfo) : maxBackRef(dy, x, fullInfo);
    return dy === null ? avgRef(x, fullInfo) : avgBackRef(dy, x, fullInfo);
  }
  const { batch, inH, inW, channels, outH, outW, kH, kW, strideH, strideW, padTop, padLeft } = info;
  rt.reset();
  const xP = rt.input(x);
  const outSize = dy === null ? batch * outH * outW * channels : x.size;
  const o = rt.outputBlock(outSize);
  const dyP = dy === null ? 0 : rt.input(dy);
  const p = rt.putParams('pool', {
    x: xP, N: batch, H: inH, W: inW, C: channels, Ho: outH, Wo: outW, kH, kW, sH: strideH, sW: strideW, pT: padTop, pL: padLeft,
    y: dy === null ? o.p : 0, dy: dyP, dx: dy === null ? 0 : o.p, mode: (dy === null ? 0 : 1) + (relu ? 2 : 0),
  });
  return rt.runTo(fn, p, batch, 1, o, dy === null ? [batch, outH, outW, channels] : x.shape);
}

export const maxPool2dWasm = (rt: Runtime, x: Tensor, info: Pool2DInfo): Tensor => pool(rt, 'maxPool', x, null, info);
export const maxPool2dBackwardWasm = (rt: Runtime, dy: Tensor, x: Tensor, info: Pool2DInfo): Tensor => pool(rt, 'maxPool', x, dy, info);
export const avgPool2dWasm = (rt: Runtime, x: Tensor, info: Pool2DInfo): Tensor => pool(rt, 'avgPool', x, null, info);
export const avgPool2dBackwardWasm = (rt: Runtime, dy: Tensor, x: Tensor, info: Pool2DInfo): Tensor => pool(rt, 'avgPool', x, dy, info);
/** maxPool2d(relu(x)) in one pass (Conv2D -> ReLU -> MaxPool2D fused; x is the pre-activation). */
export const maxPool2dReluWasm = (rt: Runtime, x: Tensor, info: Pool2DInfo): Tensor => pool(rt, 'maxPool', x, null, info, true);
/** reluBackward(maxPool2dBackward(dy, relu(x)), x) in one pass, from the pre-activation x. */
export const maxPool2dReluBackwardWasm = (rt: Runtime, dy: Tensor, x: Tensor, info: Pool2DInfo): Tensor => pool(rt, 'maxPool', x, dy, info, true);
