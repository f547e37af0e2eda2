/**
 * Weight initialisation. fanIn / fanOut of a conv filter [kH, kW, Cin, Cout] are kH·kW·Cin and
 * kH·kW·Cout; of a dense weight [in, out], in and out.
 * - 'he' (He et al. 2015, for ReLU nets): uniform in ±sqrt(6 / fanIn), variance 2 / fanIn.
 * - 'he-normal': normal with std sqrt(2 / fanIn).
 * - 'glorot' (Glorot & Bengio 2010): uniform in ±sqrt(6 / (fanIn + fanOut)).
 * - 'glorot-normal': normal with std sqrt(2 / (fanIn + fanOut)).
 */
import { Tensor, type Shape } from '../tensor/tensor.js';
import type { Rng } from '../tensor/random.js';

export type Init = 'he' | 'he-normal' | 'glorot' | 'glorot-normal';
export const INITS: readonly Init[] = ['he', 'he-normal', 'glorot', 'glorot-normal'];

export function checkInit(op: string, init: unknown): Init {
  if (!INITS.includes(init as Init)) throw new Error(`${op}: init must be one of ${INITS.join(', ')}, got ${JSON.stringify(init)}`);
  return init as Init;
}

export function initWeights(shape: Shape, fanIn: number, fanOut: number, init: Init, rng: Rng): Tensor {
  const t = Tensor.zeros(shape);
  const d = t.data;
  switch (init) {
    case 'he': {
      const a = Math.sqrt(6 / fanIn);
      for (let i = 0; i < d.length; i++) d[i] = rng.uniform(-a, a);
      break;
    }
    case 'he-normal': {
      const s = Math.sqrt(2 / fanIn);
      for (let i = 0; i < d.length; i++) d[i] = rng.normal(0, s);
      break;
    }
    case 'glorot': {
      const a = Math.sqrt(6 / (fanIn + fanOut));
      for (let i = 0; i < d.length; i++) d[i] = rng.uniform(-a, a);
      break;
    }
    case 'glorot-normal': {
      const s = Math.sqrt(2 / (fanIn + fanOut));
      for (let i = 0; i < d.length; i++) d[i] = rng.normal(0, s);
      break;
    }
  }
  return t;
}
