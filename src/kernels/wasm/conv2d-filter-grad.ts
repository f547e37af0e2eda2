/**
 * dW and db of conv2d on kernels designed for their shape (assembly/conv2d-filter-grad.ts): a
 * GEMM [K = kH*kW*Cin] x [Cout] whose reduction runs over the N*Ho*Wo output pixels. Register
 * tiles of dW stay in accumulators while the kernels stream over blocks of output rows. Threads
 * split the output rows into a fixed number of slots (a partial dW each), summed in slot order:
 * the result is the same bits for any thread count.
 *   - convFilterGradStream (Cin % 4 == 0, Cin >= 8): tiles of dW^T, 8 input channels of one tap x
 *     5 output channels; no padded copy of x, and taps in the padding are skipped; each block's dy
 *     and each tap's x repacked into contiguous panels.
 *   - convFilterGradNarrow (fewer or odd input channels, dilationW = 1): tiles of 5 consecutive
 *     (kx, ic) rows of one kernel row x 8 output channels, from a zero-padded copy of x.
 */
import { Tensor } from '../../tensor/tensor.js';
import type { Conv2DInfo } from '../conv-info.js';
import { PendingOutput, type Runtime } from './runtime.js';

const roundUp = (n: number, m: number): number => Math.ceil(n / m) * m;

/**
 * Tuning. `minPixels`: below this many output pixels (a dense layer's batch, small images) the
 * reduction is too short for a whole dW buffer per slot, and convFilterGrad (which also splits
 * dW's rows between threads) runs instead. `blockBytes`: a work unit's rows of dy are about this
 * many bytes, so they stay in L1 while every tile sweeps them. `slots`: the fixed split of the
 * reduction (each slot is a dW buffer).
 */
export const filterStreamTuning = { minPixels: 2048, blockBytes: 32768, slots: 8 };

type Path = 'stream' | 'narrow' | null;

/** Which of the kernels takes this shape (null: convFilterGrad). */
export function filterGradPath(rt: Runtime, info: Conv2DInfo): Path {
  const tile = rt.variant.startsWith('relaxed') ? 5 : 4;
  if (info.batch * info.outH * info.outW < filterStreamTuning.minPixels) return null;
  if (info.inC % 4 === 0 && info.inC >= 8 && info.outC >= tile) return 'stream';
  if (info.dilationW === 1 && info.kW * info.inC >= tile) return 'narrow';
  return null;
}

/** dw and db of conv2d, as reference conv2dBackwardFilter, on `path` (int32-sized info; the runtime reset). */
export function conv2dBackwardFilterStream(rt: Runtime, dy: Tensor, x: Tensor, info: Conv2DInfo, path: 'stream' | 'narrow'): { dw: Tensor; db: Tensor } {
  const { batch, inH, inW, inC, outH, outW, outC, kH, kW, strideH, strideW, dilationH, dilationW, padTop, padLeft } = info;
  const K = kH * kW * inC;
  const narrow = path === 'narrow';
  let xP: number;
  let H = inH;
  let W = inW;
  if (narrow) ({ xp: xP, Hp: H, Wp: W } = putPadded(rt, x, info));
  else xP = rt.input(x);
  // The narrow kernel's last 8-channel group reads up to 7 floats past dy's last pixel (and drops them).
  const dyP = rt.alloc(dy.size + 8);
  rt.copyTo(dyP, dy);
  const nRows = batch * outH;
  const rows = Math.max(1, Math.round(filterStreamTuning.blockBytes / (outW * outC * 4)));
  const units = Math.ceil(nRows / rows);
  const uChunk = Math.ceil(units / filterStreamTuning.slots);
  const nSlots = Math.ceil(units / uChunk);
  const rowLen = narrow ? roundUp(outC, 8) : K;
  const matFloats = (narrow ? K : outC) * rowLen;
  const slotStride = roundUp((matFloats + outC) * 4, 64);
  const slots = rt.allocBytes(slotStride * nSlots);
  // convFilterGradStream repacks each block's dy into panels of `tile` channels, and a tap's 8
  // channels of x (one block per thread).
  const tile = rt.variant.startsWith('relaxed') ? 5 : 4;
  const scratchStride = narrow ? 0 : roundUp((Math.ceil(outC / tile) * tile + 8) * rows * outW * 4, 64);
  const scratch = narrow ? 0 : rt.allocBytes(scratchStride * rt.threads);
  const p = rt.putParams('filterStream', {
    x: xP, H, W, C: inC, Ho: outH, Wo: outW, sH: strideH, sW: strideW, dH: dilationH, dW: dilationW, pT: narrow ? 0 : padTop, pL: narrow ? 0 : padLeft, kH, kW,
    dy: dyP, Cout: outC, rows, nRows, slots, slotStride, uChunk, rowLen, scratch, scratchStride,
  });
  const dwOut = new PendingOutput(K * outC);
  rt.run(narrow ? 'convFilterGradNarrow' : 'convFilterGradStream', p, units, uChunk, dwOut.alloc);
  const dwP = rt.alloc(K * outC);
  const dbP = rt.alloc(outC);
  rt.exports.filterGradFinish(slots, nSlots, slotStride, K, outC, rowLen, !narrow, dwP, dbP);
  const dw = rt.readInto(dwOut.get(), dwP, K * outC);
  return { dw: new Tensor(dw, [kH, kW, inC, outC]), db: new Tensor(rt.read(dbP, outC), [outC]) };
}

/** Copies x into the arena with its padding as zeros ([N, Hp, Wp, C]); only the padding is zero-filled. */
function putPadded(rt: Runtime, x: Tensor, info: Conv2DInfo): { xp: number; Hp: number; Wp: number } {
  const { batch, inH, inW, inC, padTop, padBottom, padLeft, padRight } = info;
  const Hp = inH + padTop + padBottom;
  const Wp = inW + padLeft + padRight;
  const rowFloats = inW * inC;
  const xp = rt.alloc(batch * Hp * Wp * inC);
  const f = rt.f32;
  const base = xp >> 2;
  for (let b = 0; b < batch; b++) {
    const img = base + b * Hp * Wp * inC;
    f.fill(0, img, img + padTop * Wp * inC);
    f.fill(0, img + (padTop + inH) * Wp * inC, img + Hp * Wp * inC);
    for (let iy = 0; iy < inH; iy++) {
      const row = img + (iy + padTop) * Wp * inC;
      f.fill(0, row, row + padLeft * inC);
      f.set(x.data.subarray((b * inH + iy) * rowFloats, (b * inH + iy + 1) * rowFloats), row + padLeft * inC);
      f.fill(0, row + (padLeft + inW) * inC, row + Wp * inC);
    }
  }
  return { xp, Hp, Wp };
}
