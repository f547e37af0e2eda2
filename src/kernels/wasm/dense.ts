/**
 * WebAssembly dense layer: y = x · w + b is a 1x1 convolution over a 1x1 image ([I, O] is the HWIO
 * filter with H = W = 1, as reference/dense.ts notes), so it runs on the convolution GEMMs.
 */
import type { Tensor } from '../../tensor/tensor.js';
import type { Conv2DInfo } from '../conv-info.js';
import { conv2dBackwardFilterWasm, conv2dBackwardInputWasm, conv2dWasm, maskedDy } from './conv2d.js';
import type { Runtime } from './runtime.js';

function denseInfo(n: number, inF: number, outF: number): Conv2DInfo {
  return {
    batch: n, inH: 1, inW: 1, inC: inF, outH: 1, outW: 1, outC: outF, kH: 1, kW: 1,
    strideH: 1, strideW: 1, dilationH: 1, dilationW: 1, padTop: 0, padBottom: 0, padLeft: 0, padRight: 0,
  };
}

/** t under another shape, sharing its values (in place, whether in an array or kept in wasm memory). */
const as4 = (t: Tensor, s: number[]): Tensor => t.reshape(s);

/** y[n, o] = b[o] + Σ_i x[n, i] · w[i, o], as reference dense; relu(y) with `relu` (as reference denseRelu). */
export function denseWasm(rt: Runtime, x: Tensor, w: Tensor, bias: Tensor | null, relu = false): Tensor {
  const [n, inF] = x.shape;
  const outF = w.shape[1];
  const y = conv2dWasm(rt, as4(x, [n, 1, 1, inF]), as4(w, [1, 1, inF, outF]), bias, denseInfo(n, inF, outF), relu);
  return as4(y, [n, outF]);
}

/** relu(x · w + bias), as reference denseRelu: the ReLU applied to the GEMM's output block in place. */
export function denseReluWasm(rt: Runtime, x: Tensor, w: Tensor, bias: Tensor | null): Tensor {
  return denseWasm(rt, x, w, bias, true);
}

/** Gradients of relu(x · w + bias) from dy and the output y, as reference denseReluBackward. */
export function denseReluBackwardWasm(rt: Runtime, dy: Tensor, y: Tensor, x: Tensor, w: Tensor, wantDx: boolean): { dx: Tensor | null; dw: Tensor; db: Tensor } {
  const dz = maskedDy(rt, dy, y);
  try {
    if (wantDx) return denseBackwardWasm(rt, dz, x, w);
    const [n, inF] = x.shape;
    const outF = w.shape[1];
    const { dw, db } = conv2dBackwardFilterWasm(rt, as4(dz, [n, 1, 1, outF]), as4(x, [n, 1, 1, inF]), denseInfo(n, inF, outF));
    return { dx: null, dw: as4(dw, [inF, outF]), db };
  } finally {
    dz.dispose();
  }
}

/** dx = dy · wᵀ, dw = xᵀ · dy, db = Σ_n dy, as reference denseBackward. */
export function denseBackwardWasm(rt: Runtime, dy: Tensor, x: Tensor, w: Tensor): { dx: Tensor; dw: Tensor; db: Tensor } {
  const [n, inF] = x.shape;
  const outF = w.shape[1];
  const info = denseInfo(n, inF, outF);
  const dy4 = as4(dy, [n, 1, 1, outF]);
  const dx = conv2dBackwardInputWasm(rt, dy4, as4(w, [1, 1, inF, outF]), info);
  const { dw, db } = conv2dBackwardFilterWasm(rt, dy4, as4(x, [n, 1, 1, inF]), info);
  return { dx: as4(dx, [n, inF]), dw: as4(dw, [inF, outF]), db };
}
