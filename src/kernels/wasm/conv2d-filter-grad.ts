/**
 * dW and db of conv2d on the kernel designed for their shape (assembly/conv2d-filter-grad.ts):
 * register tiles of dW^T held while streaming over blocks of output rows, x and dy read in place
 * (no padded copy, no packing), threads splitting the output rows into a fixed number of slots
 * that are summed in order (bit-identical for any thread count).
 */
import { Tensor } from '../../tensor/tensor.js';
import type { Conv2DInfo } from '../conv-info.js';
import { PendingOutput, type Runtime } from './runtime.js';

const roundUp = (n: number, m: number): number => Math.ceil(n / m) * m;

/**
 * Tuning of the streaming dW kernel. `minPixels`: below this many output pixels (a dense layer's
 * batch, small images) the reduction is too short for a full dW buffer per slot, and
 * convFilterGrad (which also splits dW's rows between threads) runs instead. `blockBytes`: a work
 * unit's rows of dy are about this many bytes, so they stay in L1 while every tile sweeps them.
 * `slots`: the reduction's fixed split (each slot is a dW buffer).
 */
export const filterStreamTuning = { minPixels: 2048, blockBytes: 32768, slots: 8 };

/** Whether the streaming kernel takes this shape: C % 4 == 0, C >= 8, Cout >= its tile's 5 (4) channels, and enough pixels. */
export function useFilterStream(rt: Runtime, info: Conv2DInfo): boolean {
  const tileCout = rt.variant.startsWith('relaxed') ? 5 : 4;
  return (
    info.inC % 4 === 0 && info.inC >= 8 && info.outC >= tileCout &&
    info.batch * info.outH * info.outW >= filterStreamTuning.minPixels
  );
}

/** dw and db of conv2d, as reference conv2dBackwardFilter, for a shape useFilterStream accepts (int32-sized info). */
export function conv2dBackwardFilterStream(rt: Runtime, dy: Tensor, x: Tensor, info: Conv2DInfo): { dw: Tensor; db: Tensor } {
  const { batch, inH, inW, inC, outH, outW, outC, kH, kW, strideH, strideW, dilationH, dilationW, padTop, padLeft } = info;
  const K = kH * kW * inC;
  const xP = rt.put(x.data);
  const dyP = rt.put(dy.data);
  const nRows = batch * outH;
  const rows = Math.max(1, Math.round(filterStreamTuning.blockBytes / (outW * outC * 4)));
  const units = Math.ceil(nRows / rows);
  const uChunk = Math.ceil(units / filterStreamTuning.slots);
  const nSlots = Math.ceil(units / uChunk);
  const slotStride = roundUp((K * outC + outC) * 4, 64);
  const slots = rt.allocBytes(slotStride * nSlots);
  const p = rt.putParams('filterStream', {
    x: xP, H: inH, W: inW, C: inC, Ho: outH, Wo: outW, sH: strideH, sW: strideW, dH: dilationH, dW: dilationW, pT: padTop, pL: padLeft, kH, kW,
    dy: dyP, Cout: outC, rows, nRows, slots, slotStride, uChunk,
  });
  const dwOut = new PendingOutput(K * outC);
  rt.run('convFilterGradStream', p, units, uChunk, dwOut.alloc);
  const dwP = rt.alloc(K * outC);
  const dbP = rt.alloc(outC);
  rt.exports.filterGradFinish(slots, nSlots, slotStride, K, outC, dwP, dbP);
  const dw = rt.readInto(dwOut.get(), dwP, K * outC);
  return { dw: new Tensor(dw, [kH, kW, inC, outC]), db: new Tensor(rt.read(dbP, outC), [outC]) };
}
