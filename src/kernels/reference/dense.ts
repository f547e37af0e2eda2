/**
 * Reference fully connected layer (seed 002, "Fully Connected Layer (FC)"): y = x · W + b with
 * x [N, I], W [I, O], b [O]. A dense layer is a 1x1 convolution over a 1x1 image, and [I, O] is
 * the HWIO filter layout with H = W = 1.
 */
import { Tensor } from '../../tensor/tensor.js';

/** y[n,o] = b[o] + Σ_i x[n,i] · w[i,o]. */
export function dense(x: Tensor, w: Tensor, bias: Tensor | null): Tensor {
  const [n, inF] = x.shape;
  const outF = w.shape[1];
  const y = new Float32Array(n * outF);
  for (let r = 0; r < n; r++)
    for (let o = 0; o < outF; o++) {
      let sum = bias === null ? 0 : bias.data[o];
      for (let i = 0; i < inF; i++) sum += x.data[r * inF + i] * w.data[i * outF + o];
      y[r * outF + o] = sum;
    }
  return new Tensor(y, [n, outF]);
}

/** dx = dy · Wᵀ, dW = xᵀ · dy, db = Σ_n dy (the same three rules as the convolution's (1)-(3)). */
export function denseBackward(dy: Tensor, x: Tensor, w: Tensor): { dx: Tensor; dw: Tensor; db: Tensor } {
  const [n, inF] = x.shape;
  const outF = w.shape[1];
  const dx = new Float64Array(n * inF);
  const dw = new Float64Array(inF * outF);
  const db = new Float64Array(outF);
  for (let r = 0; r < n; r++)
    for (let o = 0; o < outF; o++) {
      const g = dy.data[r * outF + o];
      db[o] += g;
      for (let i = 0; i < inF; i++) {
        dx[r * inF + i] += w.data[i * outF + o] * g;
        dw[i * outF + o] += x.data[r * inF + i] * g;
      }
    }
  return {
    dx: new Tensor(Float32Array.from(dx), [n, inF]),
    dw: new Tensor(Float32Array.from(dw), [inF, outF]),
    db: new Tensor(Float32Array.from(db), [outF]),
  };
}
