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
import { conv2dFlops, type Conv2DInfo } from '../conv-info.js';
import { PendingOutput, type Runtime } from './runtime.js';
import { StagedInput, noteStaged, stagingWanted } from './staging.js';

const roundUp = (n: number, m: number): number => Math.ceil(n / m) * m;

/**
 * Tuning. `minPixels`: below this many output pixels (a dense layer's batch, small images) the
 * reduction is too short for a whole dW buffer per slot, and convFilterGrad (which also splits
 * dW's rows between threads) runs instead. `blockBytes`: a work unit's rows of dy are about this
 * many bytes. The reduction's fixed split (each slot a dW buffer): `big` equal slots, then `small`
 * equal ones that share `smallShare` of the rows, so that a job ends on short chunks (the calling
 * thread joins late when it copies x and dy in first); the short ones only while all the slots
 * take at most `maxSlotBytes`. `groups`: a staged call copies its inputs in this many steps.
 */
export const filterStreamTuning = {
  minPixels: 2048, blockBytes: 32768, big: 8, small: 8, smallShare: 0.25, maxSlotBytes: 48 << 20, groups: 16,
};

/** Output channels of the kernel's register tile: 5 in the FMA build, 4 with mul + add. */
const tileCout = (rt: Runtime): number => (rt.variant.startsWith('relaxed') ? 5 : 4);

/** Whether convFilterGradStream takes this shape: Cin % 4 == 0, Cin >= 8, Cout >= its tile, and enough pixels. */
export function useFilterStream(rt: Runtime, info: Conv2DInfo): boolean {
  return (
    info.inC % 4 === 0 && info.inC >= 8 && info.outC >= tileCout(rt) &&
    info.batch * info.outH * info.outW >= filterStreamTuning.minPixels
  );
}

/**
 * The slots' first units (and `units` last): `big` equal slots over all but `smallShare` of the
 * units, then `small` equal ones over the rest (empty slots dropped). Depends on the shape only,
 * never on the thread count, so the sums are the same bits on any number of threads.
 */
export function slotBounds(units: number, big: number, small = 0, smallShare = 0): number[] {
  const tail = small > 0 ? Math.min(units, Math.round(units * smallShare)) : 0;
  const b: number[] = [0];
  const add = (from: number, n: number, count: number): void => {
    const per = Math.ceil(n / count);
    for (let u = from + per; b[b.length - 1] < from + n; u += per) b.push(Math.min(from + n, u));
  };
  if (units - tail > 0) add(0, units - tail, big);
  if (tail > 0) add(units - tail, tail, small);
  return b;
}

/**
 * dw and db of conv2d, as reference conv2dBackwardFilter, for a shape useFilterStream accepts
 * (int32-sized info; the runtime reset).
 *
 * x and dy not yet in wasm memory (a direct op call; inside a training step they are) are copied
 * in during the job, a group of images at a time, while the workers compute: a worker starts a
 * slot once its images are in (Runtime.run's `gated`). The calling thread takes slots once it is
 * done copying, so the job is split into more, and shorter last, slots than otherwise.
 */
export function conv2dBackwardFilterStream(rt: Runtime, dy: Tensor, x: Tensor, info: Conv2DInfo): { dw: Tensor; db: Tensor } {
  const { batch, inH, inW, inC, outH, outW, outC, kH, kW, strideH, strideW, dilationH, dilationW, padTop, padLeft } = info;
  const K = kH * kW * inC;
  const nRows = batch * outH;
  // At least 64 pixels a block (a dense-like 1x1 output would otherwise give 1-pixel sweeps).
  const rows = Math.max(1, Math.round(filterStreamTuning.blockBytes / (outW * outC * 4)), Math.ceil(64 / outW));
  const units = Math.ceil(nRows / rows);
  const st = filterStreamTuning;
  const staged = rt.threads > 1 && batch >= 2 && !(rt.holds(x) && rt.holds(dy)) && stagingWanted(conv2dFlops(info));
  const xS = new StagedInput(rt, x, inH * inW * inC);
  const dyS = new StagedInput(rt, dy, outH * outW * outC);
  if (staged) noteStaged();
  else {
    xS.upTo(batch);
    dyS.upTo(batch);
  }
  // The same split whether staged or not (the bits must not depend on the thread count); the short
  // slots only while all slots together stay within `maxSlotBytes`.
  const slotStride = roundUp((K * outC + outC) * 4, 64);
  const small = slotStride * (st.big + st.small) <= filterStreamTuning.maxSlotBytes ? st.small : 0;
  const bounds = slotBounds(units, st.big, small, st.smallShare);
  const nSlots = bounds.length - 1;
  const slots = rt.allocBytes(slotStride * nSlots);
  // Each thread repacks a block's dy into panels of `tile` channels, and a tap's 8 channels of x.
  const tile = tileCout(rt);
  const scratchStride = roundUp((Math.ceil(outC / tile) * tile + 8) * rows * outW * 4, 64);
  const scratch = rt.allocBytes(scratchStride * rt.threads);
  const dwP = rt.alloc(K * outC);
  const dbP = rt.alloc(outC);
  const p = rt.putParams('filterStream', {
    x: xS.p, H: inH, W: inW, C: inC, Ho: outH, Wo: outW, sH: strideH, sW: strideW, dH: dilationH, dW: dilationW, pT: padTop, pL: padLeft, kH, kW,
    dy: dyS.p, Cout: outC, rows, nRows, slots, slotStride, bounds: rt.putI32(bounds), scratch, scratchStride, nSlots, dwOut: dwP, dbOut: dbP,
  });
  const dwOut = new PendingOutput(K * outC);
  const during = !staged ? dwOut.alloc : (): void => {
    // Images [0, k) in: the slots whose rows all lie in them are ready.
    let s = 0;
    for (let g = 1; g <= st.groups; g++) {
      const k = Math.min(batch, Math.ceil((g * batch) / st.groups));
      xS.upTo(k);
      dyS.upTo(k);
      while (s < nSlots && (k === batch || bounds[s + 1] * rows <= k * outH)) s++;
      rt.ready(s);
    }
    dwOut.alloc();
  };
  rt.run('convFilterGradStream', p, nSlots, 1, during, true, staged); // a chunk per slot
  // The slots summed and dW^T turned into dW, by output channel (and db) on all threads.
  rt.run('convFilterGradStreamFinish', p, outC + 1, 8);
  const dw = rt.readInto(dwOut.get(), dwP, K * outC);
  return { dw: new Tensor(dw, [kH, kW, inC, outC]), db: new Tensor(rt.read(dbP, outC), [outC]) };
}
