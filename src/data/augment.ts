/**
 * Seeded data augmentation for image batches: random shift (pad + crop) and horizontal flip.
 * Browser-safe. `Dataset.batches(…, { augment })` applies it while it fills each batch, so no
 * augmented copy of the dataset is ever made.
 *
 * The transform of one sample, `out(oy, ox, c) = flipped(oy - dy, ox - dx, c)` where
 * `flipped(y, x, c) = flip ? in(y, W - 1 - x, c) : in(y, x, c)`, and a source pixel outside the
 * image reads as raw pixel value 0 (black). A positive `dy` moves the content DOWN, a positive `dx`
 * moves it RIGHT. This is exactly "pad by `shift` zero pixels on every side, then crop an H x W
 * window at a random offset" (the usual `RandomCrop(H, padding=shift)`), with `dy, dx` uniform
 * integers in `[-shift, shift]`.
 */
import type { Rng } from '../tensor/random.js';

export interface AugmentOptions {
  /**
   * Largest shift in pixels, in each direction (0, the default, turns it off). `dy` and `dx` are
   * drawn independently and uniformly from the integers `[-shift, shift]`.
   */
  shift?: number;
  /**
   * Mirror left-right with probability 1/2. Off by default, and wrong for digits and text (a
   * mirrored 2 or 7 is not a 2 or 7); use it for natural images whose class survives a mirror.
   */
  flip?: boolean;
  /** Where the random draws come from; defaults to the `rng` passed to `batches`. */
  rng?: Rng;
}

/** The random choices for one sample. */
export interface SampleTransform {
  /** Rows the content moves down (negative: up). */
  dy: number;
  /** Columns the content moves right (negative: left). */
  dx: number;
  /** Mirror left-right before shifting. */
  flip: boolean;
}

/** Validated augmentation settings. */
export interface ResolvedAugment {
  shift: number;
  flip: boolean;
}

/** Checks `opts` (null when augmentation does nothing). `op` names the caller in errors. */
export function resolveAugment(op: string, opts: AugmentOptions | undefined): ResolvedAugment | null {
  if (opts === undefined || opts === null) return null;
  const shift = opts.shift ?? 0;
  if (!Number.isInteger(shift) || shift < 0) {
    throw new Error(`${op}: augment.shift must be a non-negative integer number of pixels, got ${String(shift)}`);
  }
  if (opts.flip !== undefined && typeof opts.flip !== 'boolean') {
    throw new Error(`${op}: augment.flip must be a boolean, got ${typeof opts.flip}`);
  }
  const flip = opts.flip ?? false;
  if (shift === 0 && !flip) return null;
  return { shift, flip };
}

/**
 * Draws one sample's transform. The order of draws is fixed and part of the contract (so results
 * are bit-reproducible): `dy = rng.int(2*shift + 1) - shift`, then `dx` the same way (both only
 * when shift > 0), then `flip = rng.next() < 0.5` (only when flips are on).
 */
export function drawTransform(rng: Rng, aug: ResolvedAugment): SampleTransform {
  let dy = 0;
  let dx = 0;
  if (aug.shift > 0) {
    dy = rng.int(2 * aug.shift + 1) - aug.shift;
    dx = rng.int(2 * aug.shift + 1) - aug.shift;
  }
  const flip = aug.flip ? rng.next() < 0.5 : false;
  return { dy, dx, flip };
}
