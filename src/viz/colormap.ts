/**
 * Small colour tables for the pixel grids (browser-safe, no dependencies). Colours are linearly
 * interpolated in sRGB between evenly spaced anchors and rounded to bytes.
 *
 * - `divergingColor(t)`, t ∈ [-1, 1]: blue for negative, near-white (#F7F7F7) at exactly 0, red for
 *   positive. The anchors are ColorBrewer's 9-class RdBu scheme (Cynthia Brewer), reversed so that
 *   red means positive: -1 → #2166AC, 0 → #F7F7F7, +1 → #B2182B.
 * - `viridisColor(t)`, t ∈ [0, 1]: dark purple (#440154) → blue → green → yellow (#FDE725), ten
 *   anchors sampled from matplotlib's perceptually uniform viridis map; lightness rises steadily, so
 *   it reads correctly in greyscale and for colour-blind viewers.
 *
 * Inputs outside the range are clamped; NaN maps to the low end.
 */

export type Rgb = readonly [number, number, number];

const RDBU: readonly Rgb[] = [
  [0x21, 0x66, 0xac],
  [0x43, 0x93, 0xc3],
  [0x92, 0xc5, 0xde],
  [0xd1, 0xe5, 0xf0],
  [0xf7, 0xf7, 0xf7],
  [0xfd, 0xdb, 0xc7],
  [0xf4, 0xa5, 0x82],
  [0xd6, 0x60, 0x4d],
  [0xb2, 0x18, 0x2b],
];

const VIRIDIS: readonly Rgb[] = [
  [0x44, 0x01, 0x54],
  [0x48, 0x28, 0x78],
  [0x3e, 0x4a, 0x89],
  [0x31, 0x68, 0x8e],
  [0x26, 0x82, 0x8e],
  [0x1f, 0x9e, 0x89],
  [0x35, 0xb7, 0x79],
  [0x6d, 0xcd, 0x59],
  [0xb4, 0xde, 0x2c],
  [0xfd, 0xe7, 0x25],
];

/** Interpolates evenly spaced anchors at u ∈ [0, 1]; writes the three bytes into out[o..o+2]. */
function sample(table: readonly Rgb[], u: number, out: Uint8Array, o: number): void {
  const v = Number.isNaN(u) ? 0 : u <= 0 ? 0 : u >= 1 ? 1 : u;
  const pos = v * (table.length - 1);
  const i = Math.min(table.length - 2, Math.floor(pos));
  const frac = pos - i;
  const a = table[i];
  const b = table[i + 1];
  for (let k = 0; k < 3; k++) out[o + k] = Math.round(a[k] + (b[k] - a[k]) * frac);
}

/** Blue (−1) → near-white (0) → red (+1), written as RGB bytes at out[o..o+2]. */
export function divergingInto(t: number, out: Uint8Array, o: number): void {
  sample(RDBU, (t + 1) / 2, out, o);
}

/** Viridis at t ∈ [0, 1], written as RGB bytes at out[o..o+2]. */
export function viridisInto(t: number, out: Uint8Array, o: number): void {
  sample(VIRIDIS, t, out, o);
}

/** The diverging colour of t ∈ [-1, 1] as [r, g, b] bytes. */
export function divergingColor(t: number): Rgb {
  const out = new Uint8Array(3);
  divergingInto(t, out, 0);
  return [out[0], out[1], out[2]];
}

/** The viridis colour of t ∈ [0, 1] as [r, g, b] bytes. */
export function viridisColor(t: number): Rgb {
  const out = new Uint8Array(3);
  viridisInto(t, out, 0);
  return [out[0], out[1], out[2]];
}
