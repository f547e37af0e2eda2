/**
 * Reference global average pooling: the mean of each channel over the whole image (average
 * pooling, seed 002 "Pooling layers", with one window as large as the input). x NHWC [N, H, W, C]
 * → y [N, C]. Every cell is a real cell, so each mean divides by H · W, and the gradient of the
 * mean sends dy / (H · W) to every cell of its channel.
 */
import { Tensor, type Shape } from '../../tensor/tensor.js';

/** y[b,c] = (1 / (H·W)) Σ_{h,w} x[b,h,w,c]. */
export function globalAvgPool2d(x: Tensor): Tensor {
  const [n, h, w, c] = x.shape;
  const y = new Float32Array(n * c);
  for (let b = 0; b < n; b++)
    for (let ch = 0; ch < c; ch++) {
      let sum = 0;
      for (let iy = 0; iy < h; iy++)
        for (let ix = 0; ix < w; ix++) sum += x.data[((b * h + iy) * w + ix) * c + ch];
      y[b * c + ch] = sum / (h * w);
    }
  return new Tensor(y, [n, c]);
}

/** dx[b,h,w,c] = dy[b,c] / (H·W), for an input of shape `xShape` [N, H, W, C]. */
export function globalAvgPool2dBackward(dy: Tensor, xShape: Shape): Tensor {
  const [n, h, w, c] = xShape;
  const dx = new Float32Array(n * h * w * c);
  for (let b = 0; b < n; b++)
    for (let iy = 0; iy < h; iy++)
      for (let ix = 0; ix < w; ix++)
        for (let ch = 0; ch < c; ch++) dx[((b * h + iy) * w + ix) * c + ch] = dy.data[b * c + ch] / (h * w);
  return new Tensor(dx, [n, h, w, c]);
}
