/** WebAssembly elementwise activations and their gradients (glue for assembly/activations.ts); rules as reference/activations.ts. */
import type { Tensor } from '../../tensor/tensor.js';
import type { Runtime, KernelExports as Exports } from './runtime.js';

const pad4 = (n: number): number => (n + 3) & ~3;

type Unary = 'relu' | 'sigmoid' | 'tanh';
type Binary = 'reluBackward' | 'sigmoidBackward' | 'tanhBackward';

/** y = f(x), elementwise: x copied in, f run over the length rounded up to 4, y copied out. */
function unary(rt: Runtime, x: Tensor, run: (ex: Exports, xP: number, yP: number, n4: number) => void): Tensor {
  rt.reset();
  const n = x.size;
  const xP = rt.input(x);
  const y = rt.outputBlock(pad4(n));
  run(rt.exports, xP, y.p, pad4(n));
  return rt.result(y, x.shape);
}

/** dx = f(dy, z) elementwise, z being the forward input (relu, leaky relu) or output (sigmoid, tanh). */
function binary(rt: Runtime, dy: Tensor, z: Tensor, run: (ex: Exports, dyP: number, zP: number, dxP: number, n4: number) => void): Tensor {
  rt.reset();
  const n = z.size;
  const dyP = rt.input(dy);
  const zP = rt.input(z);
  const dx = rt.outputBlock(pad4(n));
  run(rt.exports, dyP, zP, dx.p, pad4(n));
  return rt.result(dx, z.shape);
}

const u = (name: Unary) => (rt: Runtime, x: Tensor): Tensor => unary(rt, x, (ex, a, b, n) => ex[name](a, b, n));
const b = (name: Binary) => (rt: Runtime, dy: Tensor, z: Tensor): Tensor => binary(rt, dy, z, (ex, g, zz, d, n) => ex[name](g, zz, d, n));

export const reluWasm = u('relu');
export const reluBackwardWasm = b('reluBackward');
export const sigmoidWasm = u('sigmoid');
/** Takes the forward output y. */
export const sigmoidBackwardWasm = b('sigmoidBackward');
export const tanhWasm = u('tanh');
/** Takes the forward output y. */
export const tanhBackwardWasm = b('tanhBackward');

export const leakyReluWasm = (rt: Runtime, x: Tensor, alpha: number): Tensor => unary(rt, x, (ex, a, y, n) => ex.leakyRelu(a, y, n, alpha));
export const leakyReluBackwardWasm = (rt: Runtime, dy: Tensor, x: Tensor, alpha: number): Tensor =>
  binary(rt, dy, x, (ex, g, xx, d, n) => ex.leakyReluBackward(g, xx, d, n, alpha));
