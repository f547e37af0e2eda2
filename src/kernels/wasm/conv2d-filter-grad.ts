/**
 * dW and db of conv2d on the kernel designed for their shape (assembly/conv2d-filter-grad.ts): a
 * GEMM [K = kH*kW*Cin] x [Cout] whose reduction runs over the N*Ho*Wo output pixels. Register
 * tiles of dW^T (8 input channels of one tap x 5 output channels) stay in accumulators while the
 * kernel streams over blocks of output rows; no padded copy of x, taps in the padding are skipped,
 * and each block's dy and each tap's x are repacked into contiguous panels. Threads split the
 * output rows into a fixed number of slots (a partial dW each), summed in slot order: the result
 * is the same bits for any thread count.
 */
import { Tensor } from '../../tensor/tensor.js';
import type { Conv2DInfo } from '../conv-info.js';
import { PendingOutput, type Runtime } from './runtime.js';

const roundUp = (n: number, m: number): number => Math.ceil(n / m) * m;

/**
 * Tuning. `minPixels`: below this many output pixels (a dense layer's batch, small images) the
 * reduction is too short for a whole dW buffer per slot, and convFilterGrad (which also splits
 * dW's rows between threads) runs instead. `blockBytes`: a work unit's rows of dy are about this
 * many bytes. `slots`: the fixed split of the reduction (each slot is a dW buffer).
 */
export const filterStreamTuning = { minPixels: 2048, blockBytes: 32768, slots: 8 };

/** Output channels of the kernel's register tile: 5 in the FMA build, 4 with mul + add. */
const tileCout = (rt: Runtime): number => (rt.variant.startsWith('relaxed') ? 5 : 4);

/** Whether convFilterGradStream takes this shape: Cin % 4 == 0, Cin >= 8, Cout >= its tile, and enough pixels. */
export function useFilterStream(rt: Runtime, info: Conv2DInfo): boolean {
  return (
    info.inC % 4 === 0 && info.inC >= 8 && info.outC >= tileCout(rt) &&
    info.batch * info.outH * info.outW >= filterStreamTuning.minPixels
  );
}

/** dw and db of conv2d, as reference conv2dBackwardFilter, for a shape useFilterStream accepts (int32-sized info; the runtime reset). */
export function conv2dBackwardFilterStream(rt: Runtime, dy: Tensor, x: Tensor, info: Conv2DInfo): { dw: Tensor; db: Tensor } {
  const { batch, inH, inW, inC, outH, outW, outC, kH, kW, strideH, strideW, dilationH, dilationW, padTop, padLeft } = info;
  const K = kH * kW * inC;
  const xP = rt.input(x);
  const dyP = rt.input(dy);
  const nRows = batch * outH;
  // At least 64 pixels a block (a dense-like 1x1 output would otherwise give 1-pixel sweeps).
  const rows = Math.max(1, Math.round(filterStreamTuning.blockBytes / (outW * outC * 4)), Math.ceil(64 / outW));
  const units = Math.ceil(nRows / rows);
  const uChunk = Math.ceil(units / filterStreamTuning.slots);
  const nSlots = Math.ceil(units / uChunk);
  const slotStride = roundUp((K * outC + outC) * 4, 64);
  const slots = rt.allocBytes(slotStride * nSlots);
  // Each thread repacks a block's dy into panels of `tile` channels, and a tap's 8 channels of x.
  const tile = tileCout(rt);
  const scratchStride = roundUp((Math.ceil(outC / tile) * tile + 8) * rows * outW * 4, 64);
  const scratch = rt.allocBytes(scratchStride * rt.threads);
  const p = rt.putParams('filterStream', {
    x: xP, H: inH, W: inW, C: inC, Ho: outH, Wo: outW, sH: strideH, sW: strideW, dH: dilationH, dW: dilationW, pT: padTop, pL: padLeft, kH, kW,
    dy: dyP, Cout: outC, rows, nRows, slots, slotStride, uChunk, scratch, scratchStride,
  });
  const dwOut = new PendingOutput(K * outC);
  rt.run('convFilterGradStream', p, units, uChunk, dwOut.alloc, true); // a chunk per slot
  const dwP = rt.alloc(K * outC);
  const dbP = rt.alloc(outC);
  rt.exports.filterGradFinish(slots, nSlots, slotStride, K, outC, dwP, dbP);
  const dw = rt.readInto(dwOut.get(), dwP, K * outC);
  return { dw: new Tensor(dw, [kH, kW, inC, outC]), db: new Tensor(rt.read(dbP, outC), [outC]) };
}
