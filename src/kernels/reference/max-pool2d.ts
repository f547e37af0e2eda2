/**
 * Reference max pooling (seed 002, "Pooling layers": the maximum of each window, per channel; no
 * parameters). Padded cells are never candidates. Ties go to the first maximum in row-major window
 * order (ky, then kx), in the forward pass and the backward pass alike. A NaN in a window wins the
 * window (NaN propagates, as in PyTorch).
 */
import { Tensor } from '../../tensor/tensor.js';
import type { Pool2DInfo } from '../conv-info.js';

/** The flat index into x of the window's maximum (the first one on ties). */
function argmaxOfWindow(x: Float32Array, info: Pool2DInfo, b: number, oy: number, ox: number, c: number): number {
  const { inH, inW, channels, kH, kW, strideH, strideW, padTop, padLeft } = info;
  let best = -Infinity;
  let bestIndex = -1;
  for (let ky = 0; ky < kH; ky++) {
    const iy = oy * strideH + ky - padTop;
    if (iy < 0 || iy >= inH) continue;
    for (let kx = 0; kx < kW; kx++) {
      const ix = ox * strideW + kx - padLeft;
      if (ix < 0 || ix >= inW) continue;
      const i = ((b * inH + iy) * inW + ix) * channels + c;
      const v = x[i];
      if (bestIndex === -1 || v > best || (Number.isNaN(v) && !Number.isNaN(best))) {
        best = v;
        bestIndex = i;
      }
    }
  }
  return bestIndex; // never -1: conv-info guarantees every window holds a real cell
}

/** y[b,oy,ox,c] = max over the window's real cells of x[b,iy,ix,c]. */
export function maxPool2d(x: Tensor, info: Pool2DInfo): Tensor {
  const { batch, outH, outW, channels } = info;
  const y = new Float32Array(batch * outH * outW * channels);
  for (let b = 0; b < batch; b++)
    for (let oy = 0; oy < outH; oy++)
      for (let ox = 0; ox < outW; ox++)
        for (let c = 0; c < channels; c++) {
          y[((b * outH + oy) * outW + ox) * channels + c] = x.data[argmaxOfWindow(x.data, info, b, oy, ox, c)];
        }
  return new Tensor(y, [batch, outH, outW, channels]);
}

/** The whole gradient of a window goes to its maximum: dx[argmax] += dy[b,oy,ox,c]. */
export function maxPool2dBackward(dy: Tensor, x: Tensor, info: Pool2DInfo): Tensor {
  const { batch, inH, inW, outH, outW, channels } = info;
  const dx = new Float64Array(batch * inH * inW * channels);
  for (let b = 0; b < batch; b++)
    for (let oy = 0; oy < outH; oy++)
      for (let ox = 0; ox < outW; ox++)
        for (let c = 0; c < channels; c++) {
          dx[argmaxOfWindow(x.data, info, b, oy, ox, c)] += dy.data[((b * outH + oy) * outW + ox) * channels + c];
        }
  return new Tensor(Float32Array.from(dx), [batch, inH, inW, channels]);
}
