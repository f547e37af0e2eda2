/**
 * WebAssembly max and average pooling, forward and backward (glue for assembly/pool2d.ts), with
 * the reference's rules: see reference/max-pool2d.ts and reference/avg-pool2d.ts.
 */
import { Tensor } from '../../tensor/tensor.js';
import type { Pool2DInfo } from '../conv-info.js';
import { FN_AVGPOOL, FN_MAXPOOL, type Runtime } from './runtime.js';

type PoolFn = typeof FN_MAXPOOL | typeof FN_AVGPOOL;

/** Runs a pooling kernel, threads splitting the batch; forward (dy = null) returns y, backward returns dx (zeroed by the kernel). */
function pool(rt: Runtime, fn: PoolFn, x: Tensor, dy: Tensor | null, info: Pool2DInfo): Tensor {
  const { batch, inH, inW, channels, outH, outW, kH, kW, strideH, strideW, padTop, padLeft } = info;
  rt.reset();
  const xP = rt.put(x.data);
  const outSize = dy === null ? batch * outH * outW * channels : x.size;
  const out = rt.alloc(outSize);
  const dyP = dy === null ? 0 : rt.put(dy.data);
  const p = rt.putI32([xP, batch, inH, inW, channels, outH, outW, kH, kW, strideH, strideW, padTop, padLeft, dy === null ? out : 0, dyP, dy === null ? 0 : out, dy === null ? 0 : 1]);
  const y = rt.runWithOutput(fn, p, batch, 1, outSize);
  return new Tensor(rt.readInto(y, out, outSize), dy === null ? [batch, outH, outW, channels] : x.shape);
}

export const maxPool2dWasm = (rt: Runtime, x: Tensor, info: Pool2DInfo): Tensor => pool(rt, FN_MAXPOOL, x, null, info);
export const maxPool2dBackwardWasm = (rt: Runtime, dy: Tensor, x: Tensor, info: Pool2DInfo): Tensor => pool(rt, FN_MAXPOOL, x, dy, info);
export const avgPool2dWasm = (rt: Runtime, x: Tensor, info: Pool2DInfo): Tensor => pool(rt, FN_AVGPOOL, x, null, info);
export const avgPool2dBackwardWasm = (rt: Runtime, dy: Tensor, x: Tensor, info: Pool2DInfo): Tensor => pool(rt, FN_AVGPOOL, x, dy, info);
