/**
 * Copies of a batch into and out of wasm memory overlapped with the kernels that use them (issue 11).
 *
 * A direct op call (outside a training step or `predict`, whose activations stay in wasm memory)
 * copies its input in before the job and its result out after it, on the calling thread, while the
 * workers wait: W1 c4's forward copies 25.7 MB in and 12 MB out, its dX 12 MB in and 25.7 MB out,
 * 5-10% of their time on 2 threads. Run by groups of images instead, the copy of the next group's
 * input and of the previous group's result happen in the job's `during` callback, on the calling
 * thread while the workers compute (the calling thread takes chunks once its copies are done). A
 * group's job reads only its own images and writes only its own rows, so the copies never touch
 * memory a running job uses.
 */
import type { Tensor } from '../../tensor/tensor.js';
import type { PendingOutput, Runtime } from './runtime.js';

/** Groups a staged call is split into (each one job; 8 keep the first and last copies short). */
export const STAGE_GROUPS = 8;

/**
 * `minFlops`: the least work (multiply-adds x 2) a call needs to be staged. Below it the extra jobs'
 * wake-ups and tails cost more than the copies they hide: W1 c1's forward (40 MFLOP, 3.2 MB out)
 * took 1.19-1.50 ms staged against 1.11-1.22 unstaged, while a 128x128x3 -> 16 first layer at batch 64
 * (906 MFLOP) went from 36.2 to 31.1 ms. Tests set it to 0 to stage small calls.
 */
export const stagingTuning = { minFlops: 200e6 };

/**
 * Whether a call over `batch` images doing `flops` of work should be staged: outputs copied out
 * (not kept), more than one thread to overlap with, more than one image to split, and enough work.
 */
export function stages(rt: Runtime, batch: number, flops: number): boolean {
  return !rt.keepsOutputs && rt.threads > 1 && batch >= 2 && stagingWanted(flops);
}

/** Whether a call doing `flops` of work is large enough to stage (`stagingTuning.minFlops`). */
export function stagingWanted(flops: number): boolean {
  return flops >= stagingTuning.minFlops;
}

let staged = 0;
/** Staged calls so far (tests check that a path they mean to cover ran staged). */
export function stagedCalls(): number {
  return staged;
}

/** Counts a staged call (stageGroup does; a kernel that stages its own way calls it itself). */
export function noteStaged(): void {
  staged++;
}

/** Images per group of a staged call (counted as one staged call). */
export function stageGroup(batch: number): number {
  noteStaged();
  return Math.ceil(batch / Math.min(batch, STAGE_GROUPS));
}

/** An input of `perImage` floats per image, copied into wasm memory a group at a time (`upTo`); in place when it already lives there. */
export class StagedInput {
  readonly p: number;
  private copied = 0;
  private readonly data: Float32Array | null;

  constructor(private readonly rt: Runtime, t: Tensor, private readonly perImage: number) {
    if (rt.holds(t)) {
      this.p = rt.input(t);
      this.data = null;
    } else {
      this.p = rt.alloc(t.size);
      this.data = t.data;
    }
  }

  /** Makes images [0, b) present. */
  upTo(b: number): void {
    if (this.data === null || b <= this.copied) return;
    const s = this.copied * this.perImage;
    const e = b * this.perImage;
    this.rt.f32.set(this.data.subarray(s, e), (this.p >> 2) + s);
    this.copied = b;
  }
}

/**
 * A result of `rowsPerImage` rows per image, each row `Np` floats in wasm memory at p of which the
 * first n are kept, copied into `dst`'s array a group at a time (`flush`).
 */
export class StagedOutput {
  private flushed = 0;

  constructor(
    private readonly rt: Runtime, private readonly p: number, private readonly rowsPerImage: number,
    private readonly Np: number, private readonly n: number, private readonly dst: PendingOutput,
  ) {}

  /** Allocates (and touches) the output array, if not yet done. */
  alloc(): void {
    this.dst.alloc();
  }

  /** The output array, all of it copied out once `flush(batch)` has run. */
  get data(): Float32Array {
    return this.dst.get();
  }

  /** Copies the rows of images [flushed, b) out (they must be final). */
  flush(b: number): void {
    if (b <= this.flushed) return;
    const out = this.dst.get();
    const f = this.rt.f32;
    const r0 = this.flushed * this.rowsPerImage;
    const r1 = b * this.rowsPerImage;
    const { Np, n } = this;
    if (Np === n) {
      out.set(f.subarray((this.p >> 2) + r0 * Np, (this.p >> 2) + r1 * Np), r0 * n);
    } else {
      for (let r = r0, s = (this.p >> 2) + r0 * Np; r < r1; r++, s += Np) out.set(f.subarray(s, s + n), r * n);
    }
    this.flushed = b;
  }
}

/**
 * Runs `job(b0, n, during)` over the staging's groups of images [b0, b0 + n): the inputs' first group
 * is copied in before the first job; in each job's `during`, the output array is allocated, the next
 * group's inputs copied in and the previous groups' results copied out; the last group's after it.
 */
export function runStaged(batch: number, inputs: readonly StagedInput[], out: StagedOutput, job: (b0: number, n: number, during: () => void) => void): void {
  const group = stageGroup(batch);
  for (const i of inputs) i.upTo(Math.min(batch, group));
  for (let b0 = 0; b0 < batch; b0 += group) {
    const n = Math.min(group, batch - b0);
    job(b0, n, () => {
      out.alloc();
      for (const i of inputs) i.upTo(Math.min(batch, b0 + n + group));
      out.flush(b0);
    });
  }
  out.flush(batch);
}
