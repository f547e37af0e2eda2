/**
 * WebAssembly max and average pooling, forward and backward (glue for assembly/pool2d.ts), with
 * the reference's rules: see reference/max-pool2d.ts and reference/avg-pool2d.ts.
 */
import { Tensor } from '../../tensor/tensor.js';
import type { Pool2DInfo } from '../conv-info.js';
import type { Runtime } from './runtime.js';

type PoolFn = 'maxPool' | 'avgPool';

/** Runs a pooling kernel; forward (dy = null) returns y, backward returns dx. */
function pool(rt: Runtime, fn: PoolFn, x: Tensor, dy: Tensor | null, info: Pool2DInfo): Tensor {
  const { batch, inH, inW, channels, outH, outW, kH, kW, strideH, strideW, padTop, padLeft } = info;
  rt.reset();
  const xP = rt.put(x.data);
  const outSize = dy === null ? batch * outH * outW * channels : x.size;
  const out = dy === null ? rt.alloc(outSize) : rt.zeros(outSize);
  const dyP = dy === null ? 0 : rt.put(dy.data);
  const p = rt.putI32([xP, batch, inH, inW, channels, outH, outW, kH, kW, strideH, strideW, padTop, padLeft, dy === null ? out : 0, dyP, dy === null ? 0 : out]);
  rt.exports[fn](p, dy === null ? 0 : 1);
  return new Tensor(rt.read(out, outSize), dy === null ? [batch, outH, outW, channels] : x.shape);
}

export const maxPool2dWasm = (rt: Runtime, x: Tensor, info: Pool2DInfo): Tensor => pool(rt, 'maxPool', x, null, info);
export const maxPool2dBackwardWasm = (rt: Runtime, dy: Tensor, x: Tensor, info: Pool2DInfo): Tensor => pool(rt, 'maxPool', x, dy, info);
export const avgPool2dWasm = (rt: Runtime, x: Tensor, info: Pool2DInfo): Tensor => pool(rt, 'avgPool', x, null, info);
export const avgPool2dBackwardWasm = (rt: Runtime, dy: Tensor, x: Tensor, info: Pool2DInfo): Tensor => pool(rt, 'avgPool', x, dy, info);
