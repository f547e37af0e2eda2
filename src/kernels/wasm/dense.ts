/**
 * WebAssembly dense layer (glue): y = x · w + b, dx = dy · wᵀ and dW = xᵀ · dy on the GEMMs of
 * assembly/dense.ts (issue 11). Every call copies w in and packs it anew (its values may have
 * changed since the last call: nothing says a Param did not), in parallel inside the GEMM's units.
 */
import { Tensor } from '../../tensor/tensor.js';
import { compact, gemmOutput, gemmResult, maskedDy } from './conv2d.js';
import { PendingOutput, type Runtime } from './runtime.js';
import * as referenceDense from '../reference/dense.js';
import * as referenceFused from '../reference/fused.js';

const reference = { ...referenceDense, denseRelu: referenceFused.denseRelu, denseReluBackward: referenceFused.denseReluBackward };

const roundUp = (n: number, m: number): number => Math.ceil(n / m) * m;
/**
 * denseGemm's blocking (exported for bench/dense.ts): `kc` reduction rows per block and `panels`
 * 8-column panels per unit, so a unit's slice of packed B (kc x 8·panels floats, 64 KiB) stays in L2
 * while its tiles sweep it.
 */
export const denseTuning = { kc: 256, panels: 8 };
/** Floats of packed dy one reduction block of denseDw may use (256 KiB). */
const DW_BLOCK_FLOATS = 65536;

/** An empty dimension (a batch of 0, say): the reference kernels, which give the empty or zero results. */
const empty = (n: number, inF: number, outF: number): boolean => n === 0 || inF === 0 || outF === 0;

/**
 * C[M, N] (rows of roundUp(N, 8) floats at `out`) = a[M, K] · B (+ bias), B = w ([K, N]) or, with
 * `transB`, wᵀ (w is [N, K]): densePackA packs a's 6-row panels, then denseGemm's units (groups of 8
 * column panels x groups of row tiles) pack their slices of B from w and sweep them. No unit's result
 * depends on how the units are split, so the split may follow the thread count. `whilePacking` runs
 * on the calling thread while the workers pack A (it copies w in: w is not read before denseGemm).
 */
function gemm(
  rt: Runtime, a: number, M: number, K: number, w: number, transB: boolean, N: number, bias: number, out: number,
  whilePacking: () => void, during?: () => void,
): void {
  const Np = roundUp(N, 8);
  const tiles = Math.ceil(M / 6);
  const A = rt.alloc(tiles * 6 * K);
  const kc = Math.ceil(K / Math.ceil(K / denseTuning.kc));
  const panels = Np / 8;
  const G = Math.min(denseTuning.panels, panels);
  const colGroups = Math.ceil(panels / G);
  const rowTiles = Math.ceil(tiles / Math.min(tiles, Math.ceil((2 * rt.threads) / colGroups)));
  const stride = roundUp(Np * 4 + G * kc * 32, 64);
  const scratch = rt.allocBytes(stride * rt.threads);
  const p = rt.putParams('dense', {
    A, M, K, w, transB: transB ? 1 : 0, N, Np, out, bias, kc, G, colGroups, rowTiles, src: a, scratch, scratchStride: stride,
  });
  rt.run('densePackA', p, tiles, 2, whilePacking);
  rt.run('denseGemm', p, colGroups * Math.ceil(tiles / rowTiles), 1, during);
}

/** y[n, o] = b[o] + Σ_i x[n, i] · w[i, o], as reference dense; relu(y) with `relu` (as reference denseRelu). */
export function denseWasm(rt: Runtime, x: Tensor, w: Tensor, bias: Tensor | null, relu = false): Tensor {
  const [n, inF] = x.shape;
  const outF = w.shape[1];
  if (empty(n, inF, outF)) return relu ? reference.denseRelu(x, w, bias) : reference.dense(x, w, bias);
  rt.reset();
  const Np = roundUp(outF, 8);
  const xP = rt.input(x);
  const wP = rt.alloc(inF * outF); // filled while the workers pack x
  let biasP = 0;
  if (bias !== null) {
    biasP = rt.zeros(Np);
    rt.copyTo(biasP, bias);
  }
  const o = gemmOutput(rt, n, Np, outF);
  const y = rt.keepsOutputs ? undefined : new PendingOutput(n * outF);
  gemm(rt, xP, n, inF, wP, false, outF, biasP, o.p, () => rt.copyTo(wP, w), y?.alloc);
  if (relu) rt.exports.relu(o.p, o.p, n * Np);
  return gemmResult(rt, o, n, Np, outF, [n, outF], y);
}

/** relu(x · w + bias), as reference denseRelu: the ReLU applied to the GEMM's output block in place. */
export function denseReluWasm(rt: Runtime, x: Tensor, w: Tensor, bias: Tensor | null): Tensor {
  return denseWasm(rt, x, w, bias, true);
}

/**
 * dW = xᵀ · dy (assembly denseDw: each 6-row tile of dW reduced over the batch by one unit, so the
 * same bits on any thread count), dy and x at byte offsets dyP, xP, into rows of roundUp(outF, 8)
 * floats at the returned offset; `during` runs on the calling thread while the workers compute.
 */
function denseDw(rt: Runtime, dyP: number, xP: number, n: number, inF: number, outF: number, during: () => void): number {
  const Np = roundUp(outF, 8);
  const B = rt.alloc(n * Np);
  rt.exports.packB(B, dyP, 1, rt.putI32([0]), n, outF, 1, outF);
  const mb = Math.min(n, Math.max(16, Math.floor(DW_BLOCK_FLOATS / Np)));
  const out = rt.alloc(inF * Np);
  const stride = roundUp(Np * 4 + mb * 24, 64);
  const scratch = rt.allocBytes(stride * rt.threads);
  const p = rt.putParams('denseDw', { x: xP, M: n, I: inF, B, Np, out, mb, scratch, scratchStride: stride });
  rt.run('denseDw', p, Math.ceil(inF / 6), 4, during);
  return out;
}

/** db = Σ_n dy (assembly biasGrad), dy [n, outF] at byte offset dyP. */
function denseDb(rt: Runtime, dyP: number, n: number, outF: number): Tensor {
  const C4 = roundUp(outF, 4);
  const dbP = rt.alloc(C4);
  rt.exports.biasGrad(dyP, n, outF, dbP, rt.alloc(C4));
  return new Tensor(rt.read(dbP, outF), [outF]);
}

/** Gradients of relu(x · w + bias) from dy and the output y, as reference denseReluBackward. */
export function denseReluBackwardWasm(rt: Runtime, dy: Tensor, y: Tensor, x: Tensor, w: Tensor, wantDx: boolean): { dx: Tensor | null; dw: Tensor; db: Tensor } {
  const [n, inF] = x.shape;
  const outF = w.shape[1];
  if (empty(n, inF, outF)) return reference.denseReluBackward(dy, y, x, w, wantDx);
  const dz = maskedDy(rt, dy, y);
  try {
    if (wantDx) return denseBackwardWasm(rt, dz, x, w);
    rt.reset();
    const dzP = rt.input(dz);
    const dwOut = new PendingOutput(inF * outF);
    const dwP = denseDw(rt, dzP, rt.input(x), n, inF, outF, dwOut.alloc);
    const dw = new Tensor(compact(rt, dwP, inF, roundUp(outF, 8), outF, dwOut), [inF, outF]);
    return { dx: null, dw, db: denseDb(rt, dzP, n, outF) };
  } finally {
    dz.dispose();
  }
}

/** dx = dy · wᵀ, dw = xᵀ · dy, db = Σ_n dy, as reference denseBackward. */
export function denseBackwardWasm(rt: Runtime, dy: Tensor, x: Tensor, w: Tensor): { dx: Tensor; dw: Tensor; db: Tensor } {
  const [n, inF] = x.shape;
  const outF = w.shape[1];
  if (empty(n, inF, outF)) return reference.denseBackward(dy, x, w);
  rt.reset();
  const dyP = rt.input(dy);
  const xP = rt.input(x);
  // dW first, copying w in meanwhile; then dX (B = wᵀ), copying dW out while its GEMM runs.
  const wP = rt.alloc(inF * outF);
  const dwOut = new PendingOutput(inF * outF);
  const dwP = denseDw(rt, dyP, xP, n, inF, outF, () => {
    rt.copyTo(wP, w);
    dwOut.alloc();
  });
  let dw: Float32Array | null = null;
  const dxNp = roundUp(inF, 8);
  const o = gemmOutput(rt, n, dxNp, inF);
  const dxOut = rt.keepsOutputs ? undefined : new PendingOutput(n * inF);
  gemm(rt, dyP, n, outF, wP, true, inF, 0, o.p, () => dxOut?.alloc(), () => {
    dw = compact(rt, dwP, inF, roundUp(outF, 8), outF, dwOut);
  });
  const dx = gemmResult(rt, o, n, dxNp, inF, [n, inF], dxOut);
  return { dx, dw: new Tensor(dw!, [inF, outF]), db: denseDb(rt, dyP, n, outF) };
}
