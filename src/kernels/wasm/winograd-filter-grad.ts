/**
 * dW and db of a stride-1 r x r convolution by Winograd F(r x r, t x t) on the wasm backend (glue
 * for assembly/winograd-filter-grad.ts; the algorithm, (D1)-(D3): reference/winograd-filter-grad.ts).
 * Threads: each chunk of a fixed split of the dy tiles accumulates its own transform-domain slot
 * M (a² x Cin x Cout), summed in slot order by the threaded finish (with the output transform
 * dW = A^T M A): the result is the same bits for any thread count. 'auto' (setConvAlgorithm) uses
 * it where `winogradDwTile` says; see docs/wasm.md ("Winograd dW") for its measured error and speed.
 */
import { Tensor } from '../../tensor/tensor.js';
import type { Conv2DInfo } from '../conv-info.js';
import { PendingOutput, type Runtime } from './runtime.js';
import { getConvAlgorithm } from './winograd.js';
import { winogradFilterGradGeometry, winogradFilterGradMatrices } from '../reference/winograd-filter-grad.js';

const roundUp = (n: number, m: number): number => Math.ceil(n / m) * m;

/**
 * Tuning: dy tiles per work unit (a block; its transforms stay in L2), the fixed number of slots, and
 * the fewest tiles for which 'auto' uses the kernel (Infinity: never, for A/B benches).
 */
export const winogradDwTuning = { block: 32, slots: 4, minTiles: 64 };

let calls = 0;
/** Calls that ran the Winograd dW kernel since the module loaded (tests: proof of which path ran). */
export function winogradDwCalls(): number {
  return calls;
}

/**
 * The dy tile size t 'auto' runs dW of this convolution with, or null for the direct kernels:
 * 3 x 3 -> F(3x3, 4x4) ... (see the measured table in docs/wasm.md), 5 x 5 -> F(5x5, 2x2); stride 1,
 * dilation 1, channels multiples of 4 (at least 8), and enough tiles for the long reduction to pay.
 */
export function winogradDwTile(info: Conv2DInfo): number | null {
  if (getConvAlgorithm() !== 'auto' || !winogradFilterGradGeometry(info)) return null;
  if (info.inC % 4 !== 0 || info.outC % 4 !== 0 || info.inC < 8 || info.outC < 8) return null;
  const t = WINOGRAD_DW_TILES[info.kH];
  if (t === undefined) return null;
  const tiles = info.batch * Math.ceil(info.outH / t) * Math.ceil(info.outW / t);
  if (tiles < winogradDwTuning.minTiles || tiles > WINOGRAD_DW_MAX_TILES[t]) return null;
  return t;
}

/**
 * Most dy tiles (the length of the reduction) per t for which 'auto' uses the kernel. Its error
 * against the float64 reference grows with the reduction, about as the square root of the tiles
 * (lenet's conv2, F(5x5, 2x2): 22% of the cross-checks' tolerance at N = 64 = 3,136 tiles, 49% at
 * 12,544, 96% at 50,176; W1 c3, F(3x3, 4x4): 8% at 2,048, 17% at 8,192): the limit keeps it near a
 * quarter of the tolerance, and longer reductions run the direct kernel (docs/wasm.md, "Winograd dW").
 */
export const WINOGRAD_DW_MAX_TILES: Readonly<Record<number, number>> = { 2: 4096, 4: 16384 };

/** dy tile size t per filter size r that 'auto' uses (a = r + t - 1 = 6 for both). */
export const WINOGRAD_DW_TILES: Readonly<Record<number, number>> = { 3: 4, 5: 2 };

const tables = new Map<string, { BT: Float32Array; G: Float32Array; AT: Float32Array }>();
function tablesFor(r: number, t: number): { BT: Float32Array; G: Float32Array; AT: Float32Array } {
  const key = `${r},${t}`;
  let v = tables.get(key);
  if (v === undefined) {
    const m = winogradFilterGradMatrices(r, t);
    v = { BT: Float32Array.from(m.BT), G: Float32Array.from(m.G), AT: Float32Array.from(m.AT) };
    tables.set(key, v);
  }
  return v;
}

/**
 * dw and db of conv2d by F(r x r, t x t) (geometry: winogradFilterGradGeometry; C, Cout multiples of
 * 4; the runtime reset), or null when x or dy holds a non-finite value (the transforms would spread
 * NaN, Inf - Inf, to dW entries that do not read it): the caller runs the direct kernel.
 */
export function conv2dBackwardFilterWinogradWasm(rt: Runtime, dy: Tensor, x: Tensor, info: Conv2DInfo, t: number): { dw: Tensor; db: Tensor } | null {
  const { batch, inH, inW, inC, outH, outW, outC, kH: r, padTop, padLeft } = info;
  const xP = rt.input(x);
  const dyP = rt.input(dy);
  if (rt.exports.allFinite(xP, x.size) === 0 || rt.exports.allFinite(dyP, dy.size) === 0) return null;
  calls++;
  const a = r + t - 1;
  const Np = roundUp(outC, 8);
  const tilesH = Math.ceil(outH / t);
  const tilesW = Math.ceil(outW / t);
  const nTiles = batch * tilesH * tilesW;
  const block = winogradDwTuning.block;
  const units = Math.ceil(nTiles / block);
  const uChunk = Math.ceil(units / winogradDwTuning.slots);
  const nSlots = Math.ceil(units / uChunk);
  const slotStride = roundUp((a * a * inC * Np + outC) * 4, 64);
  const slots = rt.allocBytes(slotStride * nSlots);
  // per thread: addresses, a gathered patch and a transform's middle (1792 bytes), then the block's A and B panels
  const scratchStride = roundUp(1792 + a * a * ((inC + Np) * block * 4 + 128), 64);
  const scratch = rt.allocBytes(scratchStride * rt.threads);
  const tb = tablesFor(r, t);
  const dwP = rt.alloc(r * r * inC * outC);
  const p = rt.putParams('winogradDw', {
    x: xP, H: inH, W: inW, C: inC, dy: dyP, Ho: outH, Wo: outW, Cout: outC, Np, pT: padTop, pL: padLeft, r, t,
    tilesH, tilesW, nTiles, block, BT: rt.put(tb.BT), G: rt.put(tb.G), AT: rt.put(tb.AT),
    slots, nSlots, slotStride, uChunk, scratch, scratchStride, zero: rt.zeros(Math.max(inC, outC)), dw: dwP,
  });
  const dwOut = new PendingOutput(r * r * inC * outC);
  rt.run('winogradDw', p, units, uChunk, dwOut.alloc, true); // a chunk per slot
  rt.run('winogradDwFinish', p, inC, 4);
  // db: the slots' sums, in slot order (float32, as the kernel's)
  const db = new Float32Array(outC);
  for (let s = 0; s < nSlots; s++) {
    const part = rt.read(slots + s * slotStride + a * a * inC * Np * 4, outC);
    for (let o = 0; o < outC; o++) db[o] = Math.fround(db[o] + part[o]);
  }
  const dw = rt.readInto(dwOut.get(), dwP, r * r * inC * outC);
  return { dw: new Tensor(dw, [r, r, inC, outC]), db: new Tensor(db, [outC]) };
}
