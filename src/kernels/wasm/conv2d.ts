/**
 * WebAssembly conv2d forward and backward (glue): copies inputs into the arena, writes a parameter
 * block, runs assembly/conv2d.ts, copies results out. Layouts as in reference/conv2d.ts: x NHWC,
 * w HWIO, y NHWC. See assembly/conv2d.ts for the implicit-GEMM formulation.
 */
import { Tensor } from '../../tensor/tensor.js';
import { allocFloat32 } from '../../tensor/storage.js';
import { compactConv2DInfo, conv2dFlops, fitsInt32, type Conv2DInfo } from '../conv-info.js';
import {
  conv2d as conv2dReference,
  conv2dBackward as conv2dBackwardReference,
  conv2dBackwardFilter as conv2dBackwardFilterReference,
  conv2dBackwardInput as conv2dBackwardInputReference,
} from '../reference/conv2d.js';
import { conv2dRelu as conv2dReluReference, conv2dReluBackward as conv2dReluBackwardReference } from '../reference/fused.js';
import { PendingOutput, type OutputBlock, type Runtime } from './runtime.js';
import { conv2dBackwardFilterStream, useFilterStream } from './conv2d-filter-grad.js';
import { conv2dBackwardFilterSmallC, useFilterSmallC } from './conv2d-filter-grad-small-c.js';
import { conv2dBackwardFilterWinogradWasm, winogradDwTile } from './winograd-filter-grad.js';
import { conv2dBackwardInputWinogradWasm, conv2dWinogradWasm, winogradTile } from './winograd.js';
import { StagedInput, StagedOutput, runStaged, stages } from './staging.js';

const roundUp = (n: number, m: number): number => Math.ceil(n / m) * m;
/** Floats of packed B one reduction block of the gather GEMM may use (256 KiB, half of a Zen 2 core's L2). */
const L2_BLOCK_FLOATS = 65536;
/** Floats of dy a strided dX runs all its phase classes on before the next images (512 KiB: half a Zen 5 core's L2). */
const DX_GROUP_FLOATS = 131072;
/** Output pixels each dW chunk reduces over. */
const DW_BLOCK = 256;
/** dW's reduction runs in this many chunks, each with its own buffer (see conv2dBackwardFilterWasm). */
const DW_SLOTS = 8;

/** Copies an [rows, Np] padded result into a dense [rows, n] array (`dst`'s, if given). */
export function compact(rt: Runtime, p: number, rows: number, Np: number, n: number, dst?: PendingOutput): Float32Array {
  if (Np === n) return dst === undefined ? rt.read(p, rows * n) : rt.readInto(dst.get(), p, rows * n);
  const src = rt.f32;
  const out = dst?.get() ?? allocFloat32(rows * n);
  let s = p >> 2;
  for (let r = 0; r < rows; r++, s += Np) out.set(src.subarray(s, s + n), r * n);
  return out;
}

/**
 * Where a GEMM with [rows, Np] output rows writes, for a result of [rows, n]: when outputs stay in
 * wasm memory and Np = n, straight into the kept block; otherwise into scratch.
 */
export function gemmOutput(rt: Runtime, rows: number, Np: number, n: number): OutputBlock {
  if (rt.keepsOutputs && Np === n) return rt.outputBlock(rows * n);
  return { p: rt.alloc(rows * Np), keep: false };
}

/**
 * The tensor of a GEMM's result from `gemmOutput`: the kept block itself; or, when outputs stay in
 * wasm memory, the padded rows compacted into a kept block; or copied out (into `dst`'s array).
 */
export function gemmResult(rt: Runtime, o: OutputBlock, rows: number, Np: number, n: number, shape: number[], dst?: PendingOutput): Tensor {
  if (o.keep) return rt.output(o.p, shape);
  if (rt.keepsOutputs) {
    const k = rt.keep(rows * n);
    const f = rt.f32;
    const src = o.p >> 2;
    const d = k >> 2;
    for (let r = 0; r < rows; r++) f.copyWithin(d + r * n, src + r * Np, src + r * Np + n);
    return rt.output(k, shape);
  }
  return new Tensor(compact(rt, o.p, rows, Np, n, dst), shape);
}

/** Rows per tile of convGather and convSmallC (assembly/conv2d.ts: tile6x8). */
const GATHER_ROWS = 6;

/** Scratch bytes per thread for convGather: row table and pointers, a dummy output row, the A panel. */
function gatherScratch(Np: number, K: number): number {
  return roundUp(128 + Np * 4 + K * 4 * GATHER_ROWS, 64);
}

/**
 * Writes a convGather parameter block (order as in assembly/conv2d.ts G_*) and runs it.
 * Rows are the pixels (b, gy, gx) of a [N, GH, GW] grid; output pixel (oY0 + gy*oSY, oX0 + gx*oSX) of an [outH, outW] image.
 */
interface GatherArgs {
  src: number; srcH: number; srcW: number; C: number; N: number; GH: number; GW: number; mulY: number; mulX: number;
  taps: number[]; B: number; Np: number; out: number; outH: number; outW: number; oY0: number; oSY: number; oX0: number; oSX: number;
  bias: number; zero: number;
}

function gather(rt: Runtime, a: GatherArgs, during?: () => void): void {
  const j = gatherJob(rt, a);
  rt.run('convGather', j.p, j.units, 6, during);
}

/** The parameters of `gather` (its parameter block and units) without running it. */
function gatherJob(rt: Runtime, a: GatherArgs): { p: number; units: number } {
  const T = a.taps.length / 2;
  // Taps per reduction block: the block's slice of B (taps * C rows x Np floats) at most L2_BLOCK_FLOATS.
  const maxTaps = Math.max(1, Math.floor(L2_BLOCK_FLOATS / (a.Np * a.C)));
  const tapsPerBlock = Math.ceil(T / Math.max(1, Math.ceil(T / maxTaps)));
  const stride = gatherScratch(a.Np, tapsPerBlock * a.C);
  const scratch = rt.allocBytes(stride * rt.threads);
  const tapsP = rt.putI32(a.taps.length > 0 ? a.taps : [0, 0]);
  const p = rt.putParams('gather', {
    src: a.src, srcH: a.srcH, srcW: a.srcW, C: a.C, N: a.N, GH: a.GH, GW: a.GW, mulY: a.mulY, mulX: a.mulX, T, taps: tapsP, B: a.B, Np: a.Np,
    out: a.out, outH: a.outH, outW: a.outW, oY0: a.oY0, oSY: a.oSY, oX0: a.oX0, oSX: a.oSX, bias: a.bias, scratch, scratchStride: stride, zero: a.zero, tpb: tapsPerBlock,
  });
  return { p, units: Math.ceil((a.N * a.GH * a.GW) / GATHER_ROWS) };
}

/** Several `gather`s as one job (convGatherMulti): one wake-up and one tail instead of one per GEMM. */
function gatherAll(rt: Runtime, jobs: GatherArgs[], during?: () => void): void {
  const list: number[] = [];
  let units = 0;
  for (const a of jobs) {
    const j = gatherJob(rt, a);
    list.push(j.p, units);
    units += j.units;
  }
  list.push(0, units);
  const p = rt.putParams('gatherMulti', { n: jobs.length, list: rt.putI32(list) });
  rt.run('convGatherMulti', p, units, 6, during);
}

/**
 * y = conv2d(x, w) + bias, as reference conv2d. The parameter blocks are int32: a stride or
 * dilation that does not matter is made small first (compactConv2DInfo), and a geometry that
 * still does not fit (huge padding) runs on the reference kernel.
 */
export function conv2dWasm(rt: Runtime, x: Tensor, w: Tensor, bias: Tensor | null, fullInfo: Conv2DInfo, relu = false): Tensor {
  const info = compactConv2DInfo(fullInfo);
  if (!fitsInt32(info)) return relu ? conv2dReluReference(x, w, bias, fullInfo) : conv2dReference(x, w, bias, fullInfo);
  const { batch, inH, inW, inC, outH, outW, outC, kH, kW, strideH, strideW, dilationH, dilationW, padTop, padLeft } = info;
  const Np = roundUp(outC, 8);
  const K = kH * kW * inC;
  rt.reset();
  // 3x3 and 5x5 stride 1: Winograd (winograd.ts; off with setConvAlgorithm('direct')).
  const wino = winogradTile(info, inC, outC);
  const yW = wino === null ? null : conv2dWinogradWasm(rt, x, w, bias, info, wino, relu);
  if (yW !== null) return yW;
  if (wino !== null) rt.reset(); // a non-finite input: the direct kernel
  if (inC < 4) return conv2dSmallC(rt, x, w, bias, info, relu);
  const staged = stages(rt, batch, conv2dFlops(info));
  const xs = staged ? new StagedInput(rt, x, inH * inW * inC) : null;
  const xP = xs?.p ?? rt.input(x);
  const { B, biasP } = packWeights(rt, w, bias, K, outC, Np);
  const zero = rt.zeros(roundUp(inC, 4));
  const M = batch * outH * outW;
  const o = gemmOutput(rt, M, Np, outC);
  const taps: number[] = [];
  for (let ky = 0; ky < kH; ky++) for (let kx = 0; kx < kW; kx++) taps.push(ky * dilationH - padTop, kx * dilationW - padLeft);
  const y = rt.keepsOutputs ? undefined : new PendingOutput(M * outC);
  const pixels = outH * outW;
  const job = (b0: number, n: number, during?: () => void): void => {
    gather(rt, {
      src: xP + b0 * inH * inW * inC * 4, srcH: inH, srcW: inW, C: inC, N: n, GH: outH, GW: outW, mulY: strideH, mulX: strideW,
      taps, B, Np, out: o.p + b0 * pixels * Np * 4, outH, outW, oY0: 0, oSY: 1, oX0: 0, oSX: 1, bias: biasP, zero,
    }, during);
    if (relu) rt.exports.relu(o.p + b0 * pixels * Np * 4, o.p + b0 * pixels * Np * 4, n * pixels * Np);
  };
  if (xs === null || y === undefined) {
    job(0, batch, y?.alloc);
    return gemmResult(rt, o, M, Np, outC, [batch, outH, outW, outC], y);
  }
  // Staged (staging.ts): while group g runs, the next group's x is copied in and the previous group's y out.
  const ys = new StagedOutput(rt, o.p, pixels, Np, outC, y);
  runStaged(batch, [xs], ys, job);
  return new Tensor(ys.data, [batch, outH, outW, outC]);
}

/** Packs w (HWIO = [K, outC]) into 8-column panels; the bias padded to Np (0 = none). */
function packWeights(rt: Runtime, w: Tensor, bias: Tensor | null, K: number, outC: number, Np: number): { B: number; biasP: number } {
  const wP = rt.input(w);
  const B = rt.alloc(K * Np);
  rt.exports.packB(B, wP, 1, rt.putI32([0]), K, outC, 1, outC);
  let biasP = 0;
  if (bias !== null) {
    biasP = rt.zeros(Np);
    rt.copyTo(biasP, bias);
  }
  return { B, biasP };
}

/**
 * Copies x into the arena with its padding as zeros ([N, Hp, Wp, C]) plus `slack` zero floats after
 * it; returns the byte offset and the padded sizes.
 */
function putPadded(rt: Runtime, x: Tensor, info: Conv2DInfo, slack: number): { xp: number; Hp: number; Wp: number } {
  const { batch, inH, inW, inC, padTop, padBottom, padLeft, padRight } = info;
  const Hp = inH + padTop + padBottom;
  const Wp = inW + padLeft + padRight;
  const rowFloats = inW * inC;
  const xp = rt.zeros(batch * Hp * Wp * inC + slack);
  // x in place when it is a kept output (a copy within wasm memory), else from its array.
  const inPlace = rt.holds(x);
  const xs = inPlace ? rt.input(x) >> 2 : 0;
  const xd = inPlace ? null : x.data;
  const f = rt.f32;
  for (let b = 0; b < batch; b++) {
    for (let iy = 0; iy < inH; iy++) {
      const src = (b * inH + iy) * rowFloats;
      const dst = (xp >> 2) + ((b * Hp + iy + padTop) * Wp + padLeft) * inC;
      if (xd === null) f.copyWithin(dst, xs + src, xs + src + rowFloats);
      else f.set(xd.subarray(src, src + rowFloats), dst);
    }
  }
  return { xp, Hp, Wp };
}

/** Forward for Cin < 4 from a zero-padded copy of x (assembly convSmallC). */
function conv2dSmallC(rt: Runtime, x: Tensor, w: Tensor, bias: Tensor | null, info: Conv2DInfo, relu: boolean): Tensor {
  const { batch, inC, outH, outW, outC, kH, kW, strideH, strideW, dilationH, dilationW } = info;
  const Np = roundUp(outC, 8);
  const K = kH * kW * inC;
  const { B, biasP } = packWeights(rt, w, bias, K, outC, Np);
  // Slack after the image: a tile's unused columns read up to 5 pixels past a row's end.
  const { xp, Hp, Wp } = putPadded(rt, x, info, GATHER_ROWS * strideW * inC + 64);
  const M = batch * outH * outW;
  const o = gemmOutput(rt, M, Np, outC);
  const stride = roundUp(Np * 4 + K * 4 * GATHER_ROWS, 64);
  const scratch = rt.allocBytes(stride * rt.threads);
  const y = rt.keepsOutputs ? undefined : new PendingOutput(M * outC);
  const pixels = outH * outW;
  // Images [b0, b0 + n): the kernel's tiles are rows of one image, so a group is the same call on
  // offset pointers (the same bits).
  const job = (b0: number, n: number, during?: () => void): void => {
    const out = o.p + b0 * pixels * Np * 4;
    const p = rt.putParams('smallC', {
      x: xp + b0 * Hp * Wp * inC * 4, Hp, Wp, C: inC, N: n, Ho: outH, Wo: outW, sH: strideH, sW: strideW, dH: dilationH, dW: dilationW, kH, kW, B, Np, out, bias: biasP, scratch, scratchStride: stride,
    });
    rt.run('convSmallC', p, n * outH * Math.ceil(outW / GATHER_ROWS), 8, during);
    if (relu) rt.exports.relu(out, out, n * pixels * Np);
  };
  if (y === undefined || !stages(rt, batch, conv2dFlops(info))) {
    job(0, batch, y?.alloc);
    return gemmResult(rt, o, M, Np, outC, [batch, outH, outW, outC], y);
  }
  // Staged (staging.ts): the previous group's y copied out while the next group runs.
  const ys = new StagedOutput(rt, o.p, pixels, Np, outC, y);
  runStaged(batch, [], ys, job);
  return new Tensor(ys.data, [batch, outH, outW, outC]);
}

const x4Size = (i: Conv2DInfo): number => i.batch * i.inH * i.inW * i.inC;

const mod = (a: number, m: number): number => ((a % m) + m) % m;

/**
 * dx of conv2d: one gather GEMM per phase class (iy % strideH, ix % strideW), each reading dy
 * through the taps that reach that class, with B[(tap, oc), ic] = w[ky, kx, ic, oc].
 */
export function conv2dBackwardInputWasm(rt: Runtime, dy: Tensor, w: Tensor, info: Conv2DInfo, reset = true): Tensor {
  const { batch, inH, inW, inC, outH, outW, outC, kH, kW, strideH, strideW, dilationH, dilationW, padTop, padLeft } = info;
  const Np = roundUp(inC, 8);
  if (reset) rt.reset();
  // 3x3 and 5x5 stride 1: dx is itself a stride-1 convolution of the same size, by Winograd (winograd.ts).
  const wino = winogradTile(info, outC, inC, inH, inW);
  const dxW = wino === null ? null : conv2dBackwardInputWinogradWasm(rt, dy, w, info, wino);
  if (dxW !== null) return dxW;
  if (wino !== null && reset) rt.reset(); // a non-finite input: the direct kernel
  // Staged (staging.ts) on the gather path below: dy copied in and dx out a group of images at a time.
  const dys = inC >= 4 && stages(rt, batch, conv2dFlops(info)) ? new StagedInput(rt, dy, outH * outW * outC) : null;
  const dyP = dys?.p ?? rt.input(dy);
  const wP = rt.input(w);
  if (inC < 4) {
    // Few input channels: dot products over oc (assembly convDxSmallC) instead of a mostly empty GEMM.
    const o = rt.outputBlock(x4Size(info));
    const stride = roundUp((kH + kW) * 8, 64);
    const scratch = rt.allocBytes(stride * rt.threads);
    const p = rt.putParams('dxSmallC', {
      dy: dyP, Ho: outH, Wo: outW, Cout: outC, H: inH, W: inW, C: inC, kH, kW, sH: strideH, sW: strideW, dH: dilationH, dW: dilationW, pT: padTop, pL: padLeft, wgt: wP, dx: o.p, scratch, scratchStride: stride,
    });
    return rt.runTo('convDxSmallC', p, batch * inH * inW, 64, o, [batch, inH, inW, inC]);
  }
  const zero = rt.zeros(roundUp(outC, 4));
  const o = gemmOutput(rt, batch * inH * inW, Np, inC);
  const out = o.p;
  const dx = rt.keepsOutputs ? undefined : new PendingOutput(x4Size(info));
  const classes: { taps: number[]; B: number; GH: number; GW: number; py: number; px: number }[] = [];
  for (let py = 0; py < Math.min(strideH, inH); py++) {
    const kys: number[] = [];
    // Taps from the last filter row and column back, so the source offsets ascend (as the forward's do).
    for (let ky = kH - 1; ky >= 0; ky--) if (mod(py + padTop - ky * dilationH, strideH) === 0) kys.push(ky);
    for (let px = 0; px < Math.min(strideW, inW); px++) {
      const kxs: number[] = [];
      for (let kx = kW - 1; kx >= 0; kx--) if (mod(px + padLeft - kx * dilationW, strideW) === 0) kxs.push(kx);
      const taps: number[] = [];
      const tapBase: number[] = [];
      for (const ky of kys) {
        for (const kx of kxs) {
          taps.push((py + padTop - ky * dilationH) / strideH, (px + padLeft - kx * dilationW) / strideW);
          tapBase.push((ky * kW + kx) * inC * outC);
        }
      }
      const B = rt.alloc(Math.max(1, tapBase.length) * outC * Np);
      if (tapBase.length > 0) rt.exports.packB(B, wP, tapBase.length, rt.putI32(tapBase), outC, 1, outC, inC);
      classes.push({ taps, B, GH: Math.ceil((inH - py) / strideH), GW: Math.ceil((inW - px) / strideW), py, px });
    }
  }
  // Images [b0, b0 + n), every phase class, as one job.
  const perImage = outH * outW * outC;
  const job = (b0: number, n: number, during?: () => void): void => {
    gatherAll(rt, classes.map((k) => ({
      src: dyP + b0 * perImage * 4, srcH: outH, srcW: outW, C: outC, N: n,
      GH: k.GH, GW: k.GW, mulY: 1, mulX: 1,
      taps: k.taps, B: k.B, Np, out: out + b0 * inH * inW * Np * 4, outH: inH, outW: inW, oY0: k.py, oSY: strideH, oX0: k.px, oSX: strideW, bias: 0, zero,
    })), during ?? dx?.alloc);
  };
  if (dys !== null && dx !== undefined) {
    // Staged (staging.ts): a few jobs per class, the copies of dy in and dx out overlapping them.
    const dxs = new StagedOutput(rt, out, inH * inW, Np, inC, dx);
    runStaged(batch, [dys], dxs, job);
    return new Tensor(dxs.data, [batch, inH, inW, inC]);
  }
  // With several phase classes (stride > 1), all of them run on a group of images before the next
  // group, so the group's dy (at most DX_GROUP_FLOATS, unless one image has more) is still in L2 when the next class reads it.
  const group = classes.length > 1 ? Math.max(1, Math.floor(DX_GROUP_FLOATS / perImage)) : batch;
  for (let b0 = 0; b0 < batch; b0 += group) job(b0, Math.min(group, batch - b0), dx?.alloc);
  return gemmResult(rt, o, batch * inH * inW, Np, inC, [batch, inH, inW, inC], dx);
}

/** dw and db of conv2d: dW = im2col(x)^T dy, reduced in blocks of output pixels; db = column sums of dy. */
export function conv2dBackwardFilterWasm(rt: Runtime, dy: Tensor, x: Tensor, info: Conv2DInfo, reset = true): { dw: Tensor; db: Tensor } {
  const { batch, inC, outH, outW, outC, kH, kW, strideH, strideW, dilationH, dilationW } = info;
  const Np = roundUp(outC, 8);
  const T = kH * kW;
  const K = T * inC;
  const K4 = roundUp(K, 4);
  const M = batch * outH * outW;
  if (reset) rt.reset();
  const wt = winogradDwTile(info);
  if (wt !== null) {
    const g = conv2dBackwardFilterWinogradWasm(rt, dy, x, info, wt);
    if (g !== null) return g;
    if (reset) rt.reset(); // a non-finite value: the direct kernel
  }
  if (useFilterStream(rt, info)) return conv2dBackwardFilterStream(rt, dy, x, info);
  // Cin < 4: tiles of taps x output channels (its tiles read up to 8 floats past a row's end).
  const small = useFilterSmallC(info);
  const { xp, Hp, Wp } = putPadded(rt, x, info, small ? 8 : 0);
  if (small) return conv2dBackwardFilterSmallC(rt, dy, xp, Hp, Wp, info);
  const dyP = rt.input(dy);
  const threads = rt.threads;
  const dwFloats = roundUp(K4 * Np, 16);
  const scratchStride = roundUp(DW_BLOCK * 32 + (outC % 8 === 0 ? 0 : (Np / 8) * DW_BLOCK * 32), 64);
  const scratch = rt.allocBytes(scratchStride * threads);
  const taps: number[] = [];
  for (let ky = 0; ky < kH; ky++) for (let kx = 0; kx < kW; kx++) taps.push((ky * dilationH * Wp + kx * dilationW) * inC);
  const tapsP = rt.putI32(taps);
  // Few reduction blocks (a dense layer's batch, a small image): the units also split dW's rows.
  // Neither this split nor the chunking below depends on the thread count, and each chunk has its
  // own dW buffer, summed in chunk order: dW is bit-identical from run to run and for any thread
  // count, so training with a seed is reproducible.
  const blocks = Math.ceil(M / DW_BLOCK);
  const groups = blocks < DW_SLOTS ? Math.min(K4 / 4, Math.ceil((DW_SLOTS * 2) / blocks)) : 1;
  const units = blocks * groups;
  const uChunk = Math.ceil(units / DW_SLOTS);
  // One reduction block (M <= DW_BLOCK: a dense layer's batch, a small image): the chunks split dW's
  // rows between them, each row reduced by exactly one unit, so they share one buffer (slot stride 0)
  // instead of zeroing and summing DW_SLOTS dW-sized buffers (26 MB zeroed and 7 passes of 3.2 MB for
  // lenet's Dense(256) at batch 64). Still the same for any thread count.
  const slots = blocks === 1 ? 1 : Math.ceil(units / uChunk);
  const dwP = rt.zeros(dwFloats * slots);
  const p = rt.putParams('filter', {
    x: xp, Hp, Wp, C: inC, N: batch, Ho: outH, Wo: outW, sH: strideH, sW: strideW, T, taps: tapsP,
    dy: dyP, Cout: outC, Np, kc: DW_BLOCK, dw: dwP, dwStride: slots === 1 ? 0 : dwFloats * 4, scratch, scratchStride, kGroups: groups, uChunk,
  });
  const dwOut = new PendingOutput(K * outC);
  rt.run('convFilterGrad', p, units, uChunk, dwOut.alloc, true); // a chunk per slot
  for (let t = 1; t < slots; t++) rt.exports.addInto(dwP, dwP + t * dwFloats * 4, dwFloats);
  const dw = compact(rt, dwP, K, Np, outC, dwOut);
  const C4 = roundUp(outC, 4);
  const dbP = rt.alloc(C4);
  rt.exports.biasGrad(dyP, M, outC, dbP, rt.alloc(C4));
  const db = rt.read(dbP, outC);
  return { dw: new Tensor(dw, [kH, kW, inC, outC]), db: new Tensor(db, [outC]) };
}

/** dx of conv2d alone, as reference conv2dBackwardInput (int32 parameters: see conv2dWasm). */
export function conv2dBackwardInputOnlyWasm(rt: Runtime, dy: Tensor, w: Tensor, fullInfo: Conv2DInfo): Tensor {
  const info = compactConv2DInfo(fullInfo);
  if (!fitsInt32(info)) return conv2dBackwardInputReference(dy, w, fullInfo);
  return conv2dBackwardInputWasm(rt, dy, w, info);
}

/** dw and db of conv2d alone, as reference conv2dBackwardFilter (int32 parameters: see conv2dWasm). */
export function conv2dBackwardFilterOnlyWasm(rt: Runtime, dy: Tensor, x: Tensor, fullInfo: Conv2DInfo): { dw: Tensor; db: Tensor } {
  const info = compactConv2DInfo(fullInfo);
  if (!fitsInt32(info)) return conv2dBackwardFilterReference(dy, x, fullInfo);
  return conv2dBackwardFilterWasm(rt, dy, x, info);
}

/** All three gradients of conv2d, as reference conv2dBackward (int32 parameters: see conv2dWasm). */
export function conv2dBackwardWasm(rt: Runtime, dy: Tensor, x: Tensor, w: Tensor, fullInfo: Conv2DInfo): { dx: Tensor; dw: Tensor; db: Tensor } {
  const info = compactConv2DInfo(fullInfo);
  if (!fitsInt32(info)) return conv2dBackwardReference(dy, x, w, fullInfo);
  const dx = conv2dBackwardInputWasm(rt, dy, w, info);
  const { dw, db } = conv2dBackwardFilterWasm(rt, dy, x, info);
  return { dx, dw, db };
}

/**
 * relu(conv2d(x, w, bias)): the GEMM's output block made non-negative in place (assembly relu,
 * the same rule as the ReLU layer's) before it is kept or copied out: no second output, no copy.
 */
export function conv2dReluWasm(rt: Runtime, x: Tensor, w: Tensor, bias: Tensor | null, fullInfo: Conv2DInfo): Tensor {
  return conv2dWasm(rt, x, w, bias, fullInfo, true);
}

/**
 * dZ = dy · [y > 0] (assembly reluBackward) into a block of wasm memory that the dX and dW kernels
 * read in place (the caller disposes it), as reference conv2dReluBackward makes it.
 */
export function maskedDy(rt: Runtime, dy: Tensor, y: Tensor): Tensor {
  rt.reset();
  const n = dy.size;
  const n4 = (n + 3) & ~3;
  const dz = rt.keep(n4);
  rt.exports.reluBackward(rt.input(dy), rt.input(y), dz, n4);
  return rt.output(dz, dy.shape);
}

/** Gradients of relu(conv2d(x, w, bias)) from dy and the output y, as reference conv2dReluBackward. */
export function conv2dReluBackwardWasm(rt: Runtime, dy: Tensor, y: Tensor, x: Tensor, w: Tensor, fullInfo: Conv2DInfo, wantDx: boolean): { dx: Tensor | null; dw: Tensor; db: Tensor } {
  const info = compactConv2DInfo(fullInfo);
  if (!fitsInt32(info)) return conv2dReluBackwardReference(dy, y, x, w, fullInfo, wantDx);
  const dz = maskedDy(rt, dy, y);
  try {
    const dx = wantDx ? conv2dBackwardInputWasm(rt, dz, w, info) : null;
    const { dw, db } = conv2dBackwardFilterWasm(rt, dz, x, info);
    return { dx, dw, db };
  } finally {
    dz.dispose();
  }
}
