/**
 * Reference average pooling (seed 002, "Pooling layers": the average of each window, per channel).
 * Each window divides by the number of its real (unpadded) cells, so a 'same' border window is the
 * mean of what it actually covers (TensorFlow's forward; ONNX AveragePool count_include_pad = 0).
 * The backward pass is the exact gradient of that forward: each real cell receives dy / count.
 */
import { Tensor } from '../../tensor/tensor.js';
import type { Pool2DInfo } from '../conv-info.js';

/** The window's clipped row and column ranges [y0, y1) x [x0, x1) in input coordinates. */
function windowBounds(info: Pool2DInfo, oy: number, ox: number): [number, number, number, number] {
  const y0 = oy * info.strideH - info.padTop;
  const x0 = ox * info.strideW - info.padLeft;
  return [Math.max(y0, 0), Math.min(y0 + info.kH, info.inH), Math.max(x0, 0), Math.min(x0 + info.kW, info.inW)];
}

/** y[b,oy,ox,c] = (1 / count) Σ over the window's real cells of x[b,iy,ix,c]. */
export function avgPool2d(x: Tensor, info: Pool2DInfo): Tensor {
  const { batch, inH, inW, outH, outW, channels } = info;
  const y = new Float32Array(batch * outH * outW * channels);
  for (let b = 0; b < batch; b++)
    for (let oy = 0; oy < outH; oy++)
      for (let ox = 0; ox < outW; ox++) {
        const [y0, y1, x0, x1] = windowBounds(info, oy, ox);
        const count = (y1 - y0) * (x1 - x0);
        for (let c = 0; c < channels; c++) {
          let sum = 0;
          for (let iy = y0; iy < y1; iy++)
            for (let ix = x0; ix < x1; ix++) sum += x.data[((b * inH + iy) * inW + ix) * channels + c];
          y[((b * outH + oy) * outW + ox) * channels + c] = sum / count;
        }
      }
  return new Tensor(y, [batch, outH, outW, channels]);
}

/** dx[b,iy,ix,c] += dy[b,oy,ox,c] / count for every real cell of every window that covers it. */
export function avgPool2dBackward(dy: Tensor, x: Tensor, info: Pool2DInfo): Tensor {
  const { batch, inH, inW, outH, outW, channels } = info;
  const dx = new Float64Array(x.size);
  for (let b = 0; b < batch; b++)
    for (let oy = 0; oy < outH; oy++)
      for (let ox = 0; ox < outW; ox++) {
        const [y0, y1, x0, x1] = windowBounds(info, oy, ox);
        const count = (y1 - y0) * (x1 - x0);
        for (let c = 0; c < channels; c++) {
          const g = dy.data[((b * outH + oy) * outW + ox) * channels + c] / count;
          for (let iy = y0; iy < y1; iy++)
            for (let ix = x0; ix < x1; ix++) dx[((b * inH + iy) * inW + ix) * channels + c] += g;
        }
      }
  return new Tensor(Float32Array.from(dx), [batch, inH, inW, channels]);
}
