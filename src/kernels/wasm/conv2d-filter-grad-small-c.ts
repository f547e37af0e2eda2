/**
 * dW and db of conv2d for Cin < 4 (lenet's first layer; issue 11) on assembly/conv2d-filter-grad-small-c.ts:
 * register tiles of 5 consecutive dW rows of one kernel row (kx*Cin + ic) by 8 output channels, x
 * broadcast from a zero-padded copy, dy read in place (Cout % 8 == 0) or repacked per block into
 * 8-channel panels. Threads split the output rows into a fixed number of slots (a partial dW each),
 * summed in slot order: the result is the same bits for any thread count.
 */
import { Tensor } from '../../tensor/tensor.js';
import type { Conv2DInfo } from '../conv-info.js';
import { PendingOutput, type Runtime } from './runtime.js';

const roundUp = (n: number, m: number): number => Math.ceil(n / m) * m;

/**
 * Tuning. `blockBytes`: a work unit's rows of dy are about this many bytes (its 8-channel panels stay in
 * L1 while every tile reads them). `slots`: the fixed split of the reduction (each slot is a dW buffer,
 * run as one chunk of its own: `Runtime.run`'s `exact`, so any number of slots gives the same bits on
 * any thread count).
 * `blockPixels`: the fewest output pixels in a unit (tests lower it for many units and slots on small images).
 * `minPixels`: fewer output pixels run on convFilterGrad (Infinity: never this kernel, for A/B benches).
 */
export const filterSmallCTuning = { blockBytes: 16384, slots: 8, blockPixels: 64, minPixels: 0 };

let calls = 0;
/** Calls that ran convFilterGradSmallC since the module loaded (tests: proof of which path ran). */
export function filterSmallCCalls(): number {
  return calls;
}

/** Whether convFilterGradSmallC takes this shape. */
export function useFilterSmallC(info: Conv2DInfo): boolean {
  return info.inC < 4 && info.batch * info.outH * info.outW >= filterSmallCTuning.minPixels;
}

/**
 * dw and db of conv2d, as reference conv2dBackwardFilter, for Cin < 4 (int32-sized info; the runtime
 * reset), from x already copied with its padding as zeros (`xp`: [N, Hp, Wp, Cin] plus at least 8
 * floats of slack, as conv2d.ts putPadded writes it).
 */
export function conv2dBackwardFilterSmallC(rt: Runtime, dy: Tensor, xp: number, Hp: number, Wp: number, info: Conv2DInfo): { dw: Tensor; db: Tensor } {
  const { batch, inH, inC, outH, outW, outC, kH, kW, strideH, strideW, dilationH, dilationW, padTop } = info;
  calls++;
  const L = kW * inC; // the dW rows of one kernel row, kx*Cin + ic
  const K = kH * L;
  const Np = roundUp(outC, 8);
  let x = xp;
  let rowBytes = Wp * inC * 4;
  let colBytes = strideW * inC * 4;
  if (dilationW > 1) {
    // A kernel row's values are dilationW pixels apart: copy each output column's L values side by
    // side, E[b, y, ox, kx*Cin + ic] = xpad[b, y, ox*sW + kx*dW, ic] (then contiguous as for dW = 1).
    const rows = batch * Hp;
    x = rt.zeros(rows * outW * L + 8);
    rt.exports.spreadColumns(xp, rows, Wp, inC, outW, strideW, kW, dilationW, x);
    rowBytes = outW * L * 4;
    colBytes = L * 4;
  }
  const dyP = rt.input(dy);
  const nRows = batch * outH;
  const rows = Math.max(1, Math.round(filterSmallCTuning.blockBytes / (outW * Np * 4)), Math.ceil(filterSmallCTuning.blockPixels / outW));
  const units = Math.ceil(nRows / rows);
  const uChunk = Math.ceil(units / filterSmallCTuning.slots);
  const nSlots = Math.ceil(units / uChunk);
  const slotFloats = roundUp(K * Np + Np, 16);
  const slots = rt.zeros(slotFloats * nSlots);
  const scratchStride = roundUp(rows * outW * Np * 4, 64);
  const scratch = rt.allocBytes(scratchStride * rt.threads);
  const p = rt.putParams('filterSmallC', {
    x, Hp, rowBytes, colBytes, H: inH, pT: padTop, sH: strideH, dH: dilationH, kH, L, Ho: outH, Wo: outW,
    dy: dyP, Cout: outC, Np, rows, nRows, slots, slotStride: slotFloats * 4, uChunk, scratch, scratchStride,
  });
  const dwOut = new PendingOutput(K * outC);
  rt.run('convFilterGradSmallC', p, units, uChunk, dwOut.alloc, true); // a chunk per slot
  for (let t = 1; t < nSlots; t++) rt.exports.addInto(slots, slots + t * slotFloats * 4, slotFloats);
  // Slot 0 now holds dW as [K][Np] and then db: the first outC of each row.
  const dw = dwOut.get();
  const f = rt.f32;
  const s = slots >> 2;
  if (Np === outC) dw.set(f.subarray(s, s + K * outC));
  else for (let k = 0; k < K; k++) dw.set(f.subarray(s + k * Np, s + k * Np + outC), k * outC);
  const db = rt.read(slots + K * Np * 4, outC);
  return { dw: new Tensor(dw, [kH, kW, inC, outC]), db: new Tensor(db, [outC]) };
}
