/**
 * WebAssembly global average pooling, forward and backward (glue for assembly/global-avg-pool2d.ts),
 * with the reference's rule (reference/global-avg-pool2d.ts). One pass over the data and no
 * threads: the work is one add per input value, less than copying the input in.
 */
import { Tensor, type Shape } from '../../tensor/tensor.js';
import type { Runtime } from './runtime.js';

/** y[b,c] = (1 / (H·W)) Σ_{h,w} x[b,h,w,c]. */
export function globalAvgPool2dWasm(rt: Runtime, x: Tensor): Tensor {
  const [n, h, w, c] = x.shape;
  rt.reset();
  const xP = rt.put(x.data);
  const yP = rt.alloc(n * c);
  rt.exports.globalAvgPool(xP, yP, n, h * w, c);
  return new Tensor(rt.read(yP, n * c), [n, c]);
}

/** dx[b,h,w,c] = dy[b,c] / (H·W). */
export function globalAvgPool2dBackwardWasm(rt: Runtime, dy: Tensor, xShape: Shape): Tensor {
  const [n, h, w, c] = xShape;
  rt.reset();
  const dyP = rt.put(dy.data);
  const dxP = rt.alloc(n * h * w * c);
  rt.exports.globalAvgPoolBackward(dyP, dxP, n, h * w, c);
  return new Tensor(rt.read(dxP, n * h * w * c), [n, h, w, c]);
}
