/** WebAssembly relu and its gradient (glue for assembly/activations.ts); rules as reference/activations.ts. */
import { Tensor } from '../../tensor/tensor.js';
import type { Runtime } from './runtime.js';

const pad4 = (n: number): number => (n + 3) & ~3;

export function reluWasm(rt: Runtime, x: Tensor): Tensor {
  rt.reset();
  const n = x.size;
  const xP = rt.put(x.data);
  const yP = rt.alloc(pad4(n));
  rt.exports.relu(xP, yP, pad4(n));
  return new Tensor(rt.read(yP, n), x.shape);
}

export function reluBackwardWasm(rt: Runtime, dy: Tensor, x: Tensor): Tensor {
  rt.reset();
  const n = x.size;
  const dyP = rt.put(dy.data);
  const xP = rt.put(x.data);
  const dxP = rt.alloc(pad4(n));
  rt.exports.reluBackward(dyP, xP, dxP, pad4(n));
  return new Tensor(rt.read(dxP, n), x.shape);
}
