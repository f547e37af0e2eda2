/**
 * WebAssembly batch normalisation (glue for assembly/batch-norm.ts), with the reference's rules
 * (reference/batch-norm.ts): the channel sums in float64 inside wasm, the per-channel coefficients
 * (C values) computed here in float64, the elementwise passes in wasm. Single-threaded: each pass
 * is one multiply-add per value, at the speed of copying the tensors in and out.
 */
import { Tensor } from '../../tensor/tensor.js';
import type { Runtime } from './runtime.js';

const channels = (x: Tensor): { M: number; C: number } => {
  const C = x.shape[x.rank - 1];
  return { M: x.size / C, C };
};

/** The 2C float64 values a kernel wrote at byte offset p, as float32 [C] halves. */
function readPairs(rt: Runtime, p: number, C: number): [Tensor, Tensor] {
  const f = new Float64Array(rt.memory.buffer, p, 2 * C);
  return [new Tensor(Float32Array.from(f.subarray(0, C)), [C]), new Tensor(Float32Array.from(f.subarray(C)), [C])];
}

export function batchNormStatsWasm(rt: Runtime, x: Tensor): { mean: Tensor; variance: Tensor } {
  const { M, C } = channels(x);
  rt.reset();
  const xP = rt.put(x.data);
  const out = rt.alloc(4 * C);
  rt.exports.bnStats(xP, M, C, out);
  const [mean, variance] = readPairs(rt, out, C);
  return { mean, variance };
}

/** y = (x − μ) · s + β with s = γ / sqrt(σ² + eps). */
export function batchNormWasm(rt: Runtime, x: Tensor, mean: Tensor, variance: Tensor, gamma: Tensor, beta: Tensor, eps: number): Tensor {
  const { M, C } = channels(x);
  const s = new Float32Array(C);
  for (let c = 0; c < C; c++) s[c] = gamma.data[c] / Math.sqrt(variance.data[c] + eps);
  rt.reset();
  const xP = rt.put(x.data);
  const mP = rt.put(mean.data);
  const sP = rt.put(s);
  const bP = rt.put(beta.data);
  const yP = rt.alloc(x.size);
  rt.exports.bnApply(xP, yP, M, C, mP, sP, bP);
  return new Tensor(rt.read(yP, x.size), x.shape);
}

/** dβ = Σ dy, dγ = Σ dy · x̂, dx = k1 · dy + k2 · (x − μ) + k3 per channel (see assembly/batch-norm.ts). */
export function batchNormBackwardWasm(rt: Runtime, dy: Tensor, x: Tensor, mean: Tensor, variance: Tensor, gamma: Tensor, eps: number): { dx: Tensor; dgamma: Tensor; dbeta: Tensor } {
  const { M, C } = channels(x);
  const invStd = new Float32Array(C);
  for (let c = 0; c < C; c++) invStd[c] = 1 / Math.sqrt(variance.data[c] + eps);
  rt.reset();
  const dyP = rt.put(dy.data);
  const xP = rt.put(x.data);
  const mP = rt.put(mean.data);
  const iP = rt.put(invStd);
  const sums = rt.alloc(4 * C);
  rt.exports.bnBackwardSums(dyP, xP, M, C, mP, iP, sums);
  const f = new Float64Array(rt.memory.buffer, sums, 2 * C);
  const k1 = new Float32Array(C);
  const k2 = new Float32Array(C);
  const k3 = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    const gi = gamma.data[c] * invStd[c];
    k1[c] = gi;
    k2[c] = (-gi * invStd[c] * f[C + c]) / M;
    k3[c] = (-gi * f[c]) / M;
  }
  const [dbeta, dgamma] = readPairs(rt, sums, C);
  const k1P = rt.put(k1);
  const k2P = rt.put(k2);
  const k3P = rt.put(k3);
  const dxP = rt.alloc(x.size);
  rt.exports.bnBackwardDx(dyP, xP, dxP, M, C, mP, k1P, k2P, k3P);
  return { dx: new Tensor(rt.read(dxP, x.size), x.shape), dgamma, dbeta };
}
