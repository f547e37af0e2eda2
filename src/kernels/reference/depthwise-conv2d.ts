/**
 * Reference depthwise 2-D convolution (MobileNet's depthwise layer): conv2d's loops with the sum
 * over input channels taken away. Each input channel c is convolved with its own M filters
 * (M = channel multiplier) and gives output channels c * M + m; no output mixes two channels.
 *
 * Layouts: x NHWC [N, inH, inW, C], w [kH, kW, C, M], y NHWC [N, outH, outW, C * M]. A tap reads
 *   iy = oy * strideH + ky * dilationH - padTop,   ix = ox * strideW + kx * dilationW - padLeft,
 * as in reference/conv2d.ts, and padded taps read zero. Sums accumulate in float64.
 *
 * It equals conv2d with the block-diagonal filter W[ky,kx,c,c*M+m] = w[ky,kx,c,m] (zero elsewhere),
 * which is how test/kernels/depthwise-conv2d.test.ts checks it.
 */
import { Tensor } from '../../tensor/tensor.js';
import type { DepthwiseConv2DInfo } from '../conv-info.js';

/**
 * Forward (seed 002, "Single Convolution Layer", Z = Σ a_slice · W + b, one channel at a time):
 *   y[b,oy,ox,c*M+m] = bias[c*M+m] + Σ_{ky,kx} x[b,iy,ix,c] · w[ky,kx,c,m].
 */
export function depthwiseConv2d(x: Tensor, w: Tensor, bias: Tensor | null, info: DepthwiseConv2DInfo): Tensor {
  const { batch, inH, inW, inC, outH, outW, outC, kH, kW, strideH, strideW, dilationH, dilationW, padTop, padLeft, channelMultiplier: M } = info;
  const y = new Float32Array(batch * outH * outW * outC);
  for (let b = 0; b < batch; b++) {
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++) {
        for (let c = 0; c < inC; c++) {
          for (let m = 0; m < M; m++) {
            const oc = c * M + m;
            let sum = bias === null ? 0 : bias.data[oc];
            for (let ky = 0; ky < kH; ky++) {
              const iy = oy * strideH + ky * dilationH - padTop;
              if (iy < 0 || iy >= inH) continue; // a padded row: zero
              for (let kx = 0; kx < kW; kx++) {
                const ix = ox * strideW + kx * dilationW - padLeft;
                if (ix < 0 || ix >= inW) continue; // a padded column: zero
                sum += x.data[((b * inH + iy) * inW + ix) * inC + c] * w.data[((ky * kW + kx) * inC + c) * M + m];
              }
            }
            y[((b * outH + oy) * outW + ox) * outC + oc] = sum;
          }
        }
      }
    }
  }
  return new Tensor(y, [batch, outH, outW, outC]);
}

/**
 * Backward (seed 000/002, "Convolutional Layer Backward Pass"), the forward loops again, scattering
 * each dZ[b,oy,ox,c*M+m] (here dy) back. Equations (1)-(3) hold as for conv2d, with W_c the filter
 * of output channel c*M+m, which touches input channel c only:
 *   (1) dA += W_c · dZ_hw:        dx[b,iy,ix,c] += w[ky,kx,c,m] · dy[b,oy,ox,c*M+m]
 *   (2) dW_c += a_slice · dZ_hw:  dw[ky,kx,c,m] += x[b,iy,ix,c] · dy[b,oy,ox,c*M+m]
 *   (3) db = Σ_h Σ_w dZ_hw:       db[c*M+m] += dy[b,oy,ox,c*M+m]
 * Padded taps received no input and pass no gradient back (the bounds checks).
 */
export function depthwiseConv2dBackward(dy: Tensor, x: Tensor, w: Tensor, info: DepthwiseConv2DInfo): { dx: Tensor; dw: Tensor; db: Tensor } {
  const { batch, inH, inW, inC, outH, outW, outC, kH, kW, strideH, strideW, dilationH, dilationW, padTop, padLeft, channelMultiplier: M } = info;
  const dx = new Float64Array(batch * inH * inW * inC);
  const dw = new Float64Array(kH * kW * inC * M);
  const db = new Float64Array(outC);
  for (let b = 0; b < batch; b++) {
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++) {
        for (let c = 0; c < inC; c++) {
          for (let m = 0; m < M; m++) {
            const oc = c * M + m;
            const g = dy.data[((b * outH + oy) * outW + ox) * outC + oc]; // dZ[i, h, w, c]
            db[oc] += g; // (3)
            for (let ky = 0; ky < kH; ky++) {
              const iy = oy * strideH + ky * dilationH - padTop;
              if (iy < 0 || iy >= inH) continue;
              for (let kx = 0; kx < kW; kx++) {
                const ix = ox * strideW + kx * dilationW - padLeft;
                if (ix < 0 || ix >= inW) continue;
                const xi = ((b * inH + iy) * inW + ix) * inC + c;
                const wi = ((ky * kW + kx) * inC + c) * M + m;
                dx[xi] += w.data[wi] * g; // (1)
                dw[wi] += x.data[xi] * g; // (2)
              }
            }
          }
        }
      }
    }
  }
  return {
    dx: new Tensor(Float32Array.from(dx), [batch, inH, inW, inC]),
    dw: new Tensor(Float32Array.from(dw), [kH, kW, inC, M]),
    db: new Tensor(Float32Array.from(db), [outC]),
  };
}

/**
 * dw and db alone: equations (2) and (3), for a first layer, whose dx nobody needs. The same loop
 * order as depthwiseConv2dBackward, so the same sums, bit for bit.
 */
export function depthwiseConv2dBackwardFilter(dy: Tensor, x: Tensor, info: DepthwiseConv2DInfo): { dw: Tensor; db: Tensor } {
  const { batch, inH, inW, inC, outH, outW, outC, kH, kW, strideH, strideW, dilationH, dilationW, padTop, padLeft, channelMultiplier: M } = info;
  const dw = new Float64Array(kH * kW * inC * M);
  const db = new Float64Array(outC);
  for (let b = 0; b < batch; b++) {
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++) {
        for (let c = 0; c < inC; c++) {
          for (let m = 0; m < M; m++) {
            const oc = c * M + m;
            const g = dy.data[((b * outH + oy) * outW + ox) * outC + oc]; // dZ[i, h, w, c]
            db[oc] += g; // (3)
            for (let ky = 0; ky < kH; ky++) {
              const iy = oy * strideH + ky * dilationH - padTop;
              if (iy < 0 || iy >= inH) continue;
              for (let kx = 0; kx < kW; kx++) {
                const ix = ox * strideW + kx * dilationW - padLeft;
                if (ix < 0 || ix >= inW) continue;
                dw[((ky * kW + kx) * inC + c) * M + m] += x.data[((b * inH + iy) * inW + ix) * inC + c] * g; // (2)
              }
            }
          }
        }
      }
    }
  }
  return { dw: new Tensor(Float32Array.from(dw), [kH, kW, inC, M]), db: new Tensor(Float32Array.from(db), [outC]) };
}
