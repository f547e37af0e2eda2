/**
 * Winograd convolution on the wasm backend (glue for assembly/winograd.ts): F(2x2, 3x3) and
 * F(4x4, 3x3) for 3 x 3 filters, F(2x2, 5x5) for 5 x 5, with stride 1 and dilation 1, forward and dX. The algorithm and
 * its matrices: reference/winograd.ts. The filter transform U = G g G^T runs once per call
 * (assembly winogradFilter, in float64 with one rounding to float32 per element).
 *
 * `setConvAlgorithm('direct')` turns it off (the direct implicit GEMM of conv2d.ts runs
 * everywhere); the default 'auto' uses it where `winogradTile` says. Its measured float32 error
 * stays inside the cross-checks' tolerance (docs/wasm.md, "Winograd").
 */
import { Tensor } from '../../tensor/tensor.js';
import type { Conv2DInfo } from '../conv-info.js';
import { PendingOutput, type Runtime } from './runtime.js';

/** How the wasm backend computes 3 x 3 and 5 x 5 stride-1 convolutions. */
export type ConvAlgorithm = 'auto' | 'direct';

const ALGORITHMS: readonly ConvAlgorithm[] = ['auto', 'direct'];
let algorithm: ConvAlgorithm = 'auto';
let calls = 0;

/**
 * Chooses how the wasm backend computes convolutions: 'auto' (the default) runs 3 x 3 and 5 x 5, stride-1,
 * dilation-1 forward and input-gradient passes with at least WINOGRAD_MIN_CHANNELS channels in
 * and out as Winograd F(4x4, 3x3) or F(2x2, 3x3) (4x or 2.25x fewer multiplications), or F(2x2, 5x5) (2.8x; their
 * float32 error is measured and bounded in docs/wasm.md); 'direct' runs every convolution as the
 * direct implicit GEMM. The reference backend is always direct.
 */
export function setConvAlgorithm(a: ConvAlgorithm): void {
  if (!ALGORITHMS.includes(a)) throw new Error(`setConvAlgorithm: algorithm must be one of ${ALGORITHMS.map((s) => `'${s}'`).join(', ')}, got ${JSON.stringify(a)}`);
  algorithm = a;
}

/** The algorithm set with setConvAlgorithm ('auto' unless changed). */
export function getConvAlgorithm(): ConvAlgorithm {
  return algorithm;
}

/** Calls that ran a Winograd kernel since the module loaded (tests: proof of which path ran). */
export function winogradCalls(): number {
  return calls;
}

/** Fewest channels (in and out) for which 'auto' picks Winograd: below, the a² short GEMMs cost more than they save. */
export const WINOGRAD_MIN_CHANNELS = 8;

const roundUp = (n: number, m: number): number => Math.ceil(n / m) * m;

/** Whether a convolution has the geometry Winograd F(m x m, r x r) computes: 3 x 3 or 5 x 5, stride 1, dilation 1. */
export function winogradGeometry(info: Conv2DInfo): boolean {
  return (info.kH === 3 || info.kH === 5) && info.kW === info.kH && info.strideH === 1 && info.strideW === 1 && info.dilationH === 1 && info.dilationW === 1;
}

/**
 * The output tile size 'auto' uses, or null for the direct kernel. `cIn` and `cOut` are the
 * channels the pass reduces over and produces (dX: outC and inC). F(4x4, 3x3) does 2.25 and
 * F(2x2, 3x3) 4 multiplications per output where the direct kernel does 9 (5 x 5: F(4x4, 5x5) 4,
 * F(2x2, 5x5) 9, direct 25), but a tile computes all
 * of its outputs, also those past the image's edge: the one whose tiles do fewer multiplications
 * in all (tiles x a²) is taken, F(2x2) on a tie (its transforms are cheaper). Both errors are
 * within the cross-checks' tolerance (docs/wasm.md, "Winograd"); F(4x4)'s grows with the
 * reduction length, so above WINOGRAD_F4_MAX_CHANNELS input channels (where it was not measured)
 * F(2x2), which is more accurate than the direct kernel, runs instead. And every 4 tiles read all of
 * the transformed filter U (a² x cIn x cOut floats): a tile size whose U is over
 * WINOGRAD_MAX_FILTER_BYTES is not used (from L3 or memory it ran slower than the direct kernel).
 */
export function winogradTile(info: Conv2DInfo, cIn: number, cOut: number, outH = info.outH, outW = info.outW): 2 | 4 | null {
  if (algorithm !== 'auto' || !winogradGeometry(info)) return null;
  if (cIn < WINOGRAD_MIN_CHANNELS || cOut < WINOGRAD_MIN_CHANNELS) return null;
  const r = info.kH;
  const fits = (m: number): boolean => (m + r - 1) ** 2 * cIn * roundUp(cOut, 8) * 4 <= WINOGRAD_MAX_FILTER_BYTES;
  const f4 = cIn <= WINOGRAD_F4_MAX_CHANNELS && fits(4);
  const f2 = fits(2);
  if (!f4) return f2 ? 2 : null;
  if (!f2) return 4;
  const work = (m: number): number => Math.ceil(outH / m) * Math.ceil(outW / m) * (m + r - 1) ** 2;
  return work(4) < work(2) ? 4 : 2;
}

/** Most channels reduced over for which 'auto' uses F(4x4, 3x3) or F(4x4, 5x5) (their errors measured up to here: docs/wasm.md). */
export const WINOGRAD_F4_MAX_CHANNELS = 512;

/**
 * Largest transformed filter (bytes) 'auto' uses a tile size with (measured, 2 threads: 128 -> 128 channels,
 * F(4x4)'s 2.4 MB U: 2.7x the direct kernel; 256 -> 256, F(4x4)'s 9.4 MB: slower than F(2x2)'s 4 MiB;
 * 512 -> 512, F(4x4)'s 38 MB: 0.6x the direct kernel).
 */
export const WINOGRAD_MAX_FILTER_BYTES = 4 * 2 ** 20;


/** Scratch bytes per thread (layout: assembly/winograd.ts). */
function winogradScratch(a: number, C: number): number {
  // addresses and t (2,688 B), then per tile panel of 6: vt a² x 6 v128, A a² x C4 x 6 floats, M a² x 6 x 8 floats
  return roundUp(2688 + a * a * 96 + a * a * roundUp(C, 4) * 24 + a * a * 192, 64);
}

/**
 * Writes U = G g G^T of every (k, n) r x r filter pair into the arena (assembly winogradFilter, float64
 * inside) as a² GEMM B matrices [K x Np] of 8-column panels, zero for columns n >= N (every
 * element written: the arena is not zeroed). The pair's
 * tap t (= ky * r + kx) is w[t * tapStride + k * kStride + n * nStride], or tap r² - 1 - t if `rotate`.
 */
function packTransformedFilter(
  rt: Runtime, wP: number, m: 2 | 4, r: number, K: number, N: number, Np: number,
  s: { tapStride: number; kStride: number; nStride: number; rotate: boolean },
): number {
  const a = m + r - 1;
  const U = rt.alloc(a * a * K * Np);
  // per thread: g and (G g) as float64 (576 bytes); one row k of every U_ξ, a² x Np floats
  const scratchStride = roundUp(576 + a * a * Np * 4, 64);
  const scratch = rt.allocBytes(scratchStride * rt.threads);
  const p = rt.putParams('winogradFilter', {
    w: wP, K, N, Np, U, m, tapStride: s.tapStride, kStride: s.kStride, nStride: s.nStride, rotate: s.rotate ? 1 : 0, scratch, scratchStride, r,
  });
  rt.run('winogradFilter', p, K, 4);
  return U;
}

/**
 * Runs winogradConv: a stride-1 r x r convolution of src ([N, H, W, C] in the arena) with the
 * packed transformed filter U into a new [N, outH, outW, outC] result; input tile (ty, tx) starts
 * at source pixel (ty*m + offY, tx*m + offX).
 */
function run(
  rt: Runtime, m: 2 | 4, r: number, src: number, N: number, H: number, W: number, C: number,
  offY: number, offX: number, outH: number, outW: number, outC: number, U: number, Np: number, bias: number, relu = false,
): Tensor {
  calls++;
  const a = m + r - 1;
  const tilesH = Math.ceil(outH / m);
  const tilesW = Math.ceil(outW / m);
  const tiles = N * tilesH * tilesW;
  const stride = winogradScratch(a, C);
  const scratch = rt.allocBytes(stride * rt.threads);
  const zero = rt.zeros(roundUp(C, 4));
  const outFloats = N * outH * outW * outC;
  // Kept in wasm memory inside a training step or predict (the next layer reads it in place), else
  // scratch copied out into a JavaScript array (Runtime.outputBlock / result).
  const o = rt.outputBlock(roundUp(outFloats, 4));
  const out = o.p;
  const p = rt.putParams('winograd', {
    src, H, W, C, N, tilesH, tilesW, offY, offX, outH, outW, outC, Np, U, out, bias, zero, scratch, scratchStride: stride, m, r,
  });
  const y = o.keep ? null : new PendingOutput(outFloats);
  rt.run('winogradConv', p, Math.ceil(tiles / 6), 4, y?.alloc);
  // A fused ReLU (conv2dRelu): the ReLU layer's kernel, in place on the block, as the direct path does.
  if (relu) rt.exports.relu(out, out, roundUp(outFloats, 4));
  return rt.result(o, [N, outH, outW, outC], y ?? undefined);
}

/**
 * y = conv2d(x, w) + bias by Winograd F(m x m, r x r), r = info.kH (the caller has reset the arena; geometry:
 * winogradGeometry), or null when x or w holds a non-finite value: the transforms would spread
 * NaN to outputs that do not read it (Inf - Inf), so the caller runs the direct kernel.
 */
export function conv2dWinogradWasm(rt: Runtime, x: Tensor, w: Tensor, bias: Tensor | null, info: Conv2DInfo, m: 2 | 4, relu = false): Tensor | null {
  const { batch, inH, inW, inC, outH, outW, outC, padTop, padLeft } = info;
  const Np = roundUp(outC, 8);
  const xP = rt.input(x);
  const wP = rt.input(w);
  if (rt.exports.allFinite(xP, x.size) === 0 || rt.exports.allFinite(wP, w.size) === 0) return null;
  // forward: B[k = ic, n = oc] from w[ky, kx, ic, oc]
  const r = info.kH;
  const U = packTransformedFilter(rt, wP, m, r, inC, outC, Np, { tapStride: inC * outC, kStride: outC, nStride: 1, rotate: false });
  let biasP = 0;
  if (bias !== null) {
    biasP = rt.zeros(Np);
    rt.copyTo(biasP, bias);
  }
  return run(rt, m, r, xP, batch, inH, inW, inC, -padTop, -padLeft, outH, outW, outC, U, Np, biasP, relu);
}

/**
 * dx of a stride-1 r x r convolution by Winograd: dx is the stride-1 convolution of dy with the
 * filter rotated by 180 degrees and its channels swapped, w'[ky, kx, oc, ic] = w[r-1-ky, r-1-kx, ic, oc],
 * with padding r - 1 - pad (dx[iy] = Σ_ky dy[iy + padTop - ky] w[ky]): input tile origin pad - (r - 1).
 * Null (run the direct kernel) when dy or w holds a non-finite value, as conv2dWinogradWasm.
 */
export function conv2dBackwardInputWinogradWasm(rt: Runtime, dy: Tensor, w: Tensor, info: Conv2DInfo, m: 2 | 4): Tensor | null {
  const { batch, inH, inW, inC, outH, outW, outC, padTop, padLeft } = info;
  const Np = roundUp(inC, 8);
  const dyP = rt.input(dy);
  const wP = rt.input(w);
  if (rt.exports.allFinite(dyP, dy.size) === 0 || rt.exports.allFinite(wP, w.size) === 0) return null;
  const r = info.kH;
  const U = packTransformedFilter(rt, wP, m, r, outC, inC, Np, { tapStride: inC * outC, kStride: 1, nStride: outC, rotate: true });
  return run(rt, m, r, dyP, batch, outH, outW, outC, padTop - (r - 1), padLeft - (r - 1), inH, inW, inC, U, Np, 0);
}
