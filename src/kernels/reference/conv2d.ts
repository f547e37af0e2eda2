/**
 * Reference 2-D convolution: the seeds' loops, written out. This is the specification every fast
 * kernel is checked against; it is kept readable, not fast.
 *
 * Layouts: x NHWC [N, inH, inW, inC] (seed A_prev [m, n_H_prev, n_W_prev, n_C_prev]),
 * w HWIO [kH, kW, inC, outC] (seed W [f, f, n_C_prev, n_C]), y NHWC [N, outH, outW, outC] (seed Z).
 * A tap (ky, kx) of output (oy, ox) reads input
 *   iy = oy * strideH + ky * dilationH - padTop,   ix = ox * strideW + kx * dilationW - padLeft,
 * and padded taps (outside the image) read zero. Sums accumulate in float64.
 */
import { Tensor } from '../../tensor/tensor.js';
import type { Conv2DInfo } from '../conv-info.js';

/**
 * Forward (seed 000/002, "Single Convolution Layer": Z = Σ a_slice · W + b):
 *   y[b,oy,ox,oc] = bias[oc] + Σ_{ky,kx,ic} x[b,iy,ix,ic] · w[ky,kx,ic,oc].
 */
export function conv2d(x: Tensor, w: Tensor, bias: Tensor | null, info: Conv2DInfo): Tensor {
  const { batch, inH, inW, inC, outH, outW, outC, kH, kW, strideH, strideW, dilationH, dilationW, padTop, padLeft } = info;
  const y = new Float32Array(batch * outH * outW * outC);
  for (let b = 0; b < batch; b++) {
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++) {
        for (let oc = 0; oc < outC; oc++) {
          let sum = bias === null ? 0 : bias.data[oc];
          for (let ky = 0; ky < kH; ky++) {
            const iy = oy * strideH + ky * dilationH - padTop;
            if (iy < 0 || iy >= inH) continue; // a padded row: zero
            for (let kx = 0; kx < kW; kx++) {
              const ix = ox * strideW + kx * dilationW - padLeft;
              if (ix < 0 || ix >= inW) continue; // a padded column: zero
              for (let ic = 0; ic < inC; ic++) {
                sum += x.data[((b * inH + iy) * inW + ix) * inC + ic] * w.data[((ky * kW + kx) * inC + ic) * outC + oc];
              }
            }
          }
          y[((b * outH + oy) * outW + ox) * outC + oc] = sum;
        }
      }
    }
  }
  return new Tensor(y, [batch, outH, outW, outC]);
}

/**
 * Backward (seed 000/002, "Convolutional Layer Backward Pass"): the forward loop nest again,
 * scattering each upstream gradient dZ[b,oy,ox,oc] (here dy) to where it came from:
 *   (1) dA += W_c · dZ_hw:        dx[b,iy,ix,ic] += w[ky,kx,ic,oc] · dy[b,oy,ox,oc]
 *   (2) dW_c += a_slice · dZ_hw:  dw[ky,kx,ic,oc] += x[b,iy,ix,ic] · dy[b,oy,ox,oc]
 *   (3) db = Σ_h Σ_w dZ_hw:       db[oc] += dy[b,oy,ox,oc]
 * Taps that fell in the padding received no input, so they pass no gradient back (seed 002 slices
 * `da_prev_pad` and drops the pad; here the bounds check does the same).
 */
export function conv2dBackward(dy: Tensor, x: Tensor, w: Tensor, info: Conv2DInfo): { dx: Tensor; dw: Tensor; db: Tensor } {
  const { batch, inH, inW, inC, outH, outW, outC, kH, kW, strideH, strideW, dilationH, dilationW, padTop, padLeft } = info;
  const dx = new Float64Array(batch * inH * inW * inC);
  const dw = new Float64Array(kH * kW * inC * outC);
  const db = new Float64Array(outC);
  for (let b = 0; b < batch; b++) {
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++) {
        for (let oc = 0; oc < outC; oc++) {
          const g = dy.data[((b * outH + oy) * outW + ox) * outC + oc]; // dZ[i, h, w, c]
          db[oc] += g; // (3)
          for (let ky = 0; ky < kH; ky++) {
            const iy = oy * strideH + ky * dilationH - padTop;
            if (iy < 0 || iy >= inH) continue;
            for (let kx = 0; kx < kW; kx++) {
              const ix = ox * strideW + kx * dilationW - padLeft;
              if (ix < 0 || ix >= inW) continue;
              for (let ic = 0; ic < inC; ic++) {
                const xi = ((b * inH + iy) * inW + ix) * inC + ic;
                const wi = ((ky * kW + kx) * inC + ic) * outC + oc;
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
    dw: new Tensor(Float32Array.from(dw), [kH, kW, inC, outC]),
    db: new Tensor(Float32Array.from(db), [outC]),
  };
}

/**
 * dx alone: equation (1) of the loop above, dA += W_c · dZ_hw, for a layer whose dW is not needed
 * (or to read one rule at a time). Same loop order, so the same float64 sums as conv2dBackward.
 */
export function conv2dBackwardInput(dy: Tensor, w: Tensor, info: Conv2DInfo): Tensor {
  const { batch, inH, inW, inC, outH, outW, outC, kH, kW, strideH, strideW, dilationH, dilationW, padTop, padLeft } = info;
  const dx = new Float64Array(batch * inH * inW * inC);
  for (let b = 0; b < batch; b++) {
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++) {
        for (let oc = 0; oc < outC; oc++) {
          const g = dy.data[((b * outH + oy) * outW + ox) * outC + oc]; // dZ[i, h, w, c]
          for (let ky = 0; ky < kH; ky++) {
            const iy = oy * strideH + ky * dilationH - padTop;
            if (iy < 0 || iy >= inH) continue;
            for (let kx = 0; kx < kW; kx++) {
              const ix = ox * strideW + kx * dilationW - padLeft;
              if (ix < 0 || ix >= inW) continue;
              for (let ic = 0; ic < inC; ic++) {
                dx[((b * inH + iy) * inW + ix) * inC + ic] += w.data[((ky * kW + kx) * inC + ic) * outC + oc] * g; // (1)
              }
            }
          }
        }
      }
    }
  }
  return new Tensor(Float32Array.from(dx), [batch, inH, inW, inC]);
}

/**
 * dw and db alone: equations (2) and (3), dW_c += a_slice · dZ_hw and db = Σ dZ_hw, for the first
 * layer of a network, whose dx nobody needs. Same loop order, so the same sums as conv2dBackward.
 */
export function conv2dBackwardFilter(dy: Tensor, x: Tensor, info: Conv2DInfo): { dw: Tensor; db: Tensor } {
  const { batch, inH, inW, inC, outH, outW, outC, kH, kW, strideH, strideW, dilationH, dilationW, padTop, padLeft } = info;
  const dw = new Float64Array(kH * kW * inC * outC);
  const db = new Float64Array(outC);
  for (let b = 0; b < batch; b++) {
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++) {
        for (let oc = 0; oc < outC; oc++) {
          const g = dy.data[((b * outH + oy) * outW + ox) * outC + oc]; // dZ[i, h, w, c]
          db[oc] += g; // (3)
          for (let ky = 0; ky < kH; ky++) {
            const iy = oy * strideH + ky * dilationH - padTop;
            if (iy < 0 || iy >= inH) continue;
            for (let kx = 0; kx < kW; kx++) {
              const ix = ox * strideW + kx * dilationW - padLeft;
              if (ix < 0 || ix >= inW) continue;
              for (let ic = 0; ic < inC; ic++) {
                dw[((ky * kW + kx) * inC + ic) * outC + oc] += x.data[((b * inH + iy) * inW + ix) * inC + ic] * g; // (2)
              }
            }
          }
        }
      }
    }
  }
  return { dw: new Tensor(Float32Array.from(dw), [kH, kW, inC, outC]), db: new Tensor(Float32Array.from(db), [outC]) };
}
