/**
 * Approximate equality for tensors and arrays, with failure messages that name the first bad element
 * by flat index AND coordinates, and say how many elements failed.
 *
 * ```ts
 * assertClose(y, expected, { atol: 1e-5, rtol: 1e-4, label: 'conv2d forward' });
 * ```
 *
 * Criterion per element: |a - e| <= atol + rtol * |e|  (numpy.isclose). NaN matches NaN only
 * when `equalNaN` is true; ±Infinity must match exactly.
 */
import { Tensor, unravel, type Shape } from '../../src/tensor/tensor.js';

export interface CloseOptions {
  /** Absolute tolerance, default 1e-5. */
  atol?: number;
  /** Relative tolerance (relative to the expected value), default 1e-4. */
  rtol?: number;
  /** Prefix for the failure message (the op, the config, the seed...). */
  label?: string;
  /** Treat NaN === NaN as equal (default false). */
  equalNaN?: boolean;
}

type Numbers = Tensor | ArrayLike<number> | number;

function toFlat(v: Numbers): { data: ArrayLike<number>; shape: Shape | null } {
  if (v instanceof Tensor) return { data: v.data, shape: v.shape };
  if (typeof v === 'number') return { data: [v], shape: null };
  return { data: v, shape: null };
}

const fmtShape = (s: Shape): string => `[${s.join(', ')}]`;

/**
 * Throws an AssertionError-like Error unless `actual` and `expected` agree elementwise.
 * If both are Tensors their shapes must be equal; otherwise only lengths are compared and
 * coordinates are reported using whichever Tensor shape is known.
 */
export function assertClose(actual: Numbers, expected: Numbers, opts: CloseOptions = {}): void {
  const atol = opts.atol ?? 1e-5;
  const rtol = opts.rtol ?? 1e-4;
  const label = opts.label ? `${opts.label}: ` : '';
  const a = toFlat(actual);
  const e = toFlat(expected);
  if (a.shape && e.shape && (a.shape.length !== e.shape.length || a.shape.some((d, i) => d !== e.shape![i]))) {
    throw new Error(`${label}shape mismatch: actual ${fmtShape(a.shape)}, expected ${fmtShape(e.shape)}`);
  }
  if (a.data.length !== e.data.length) {
    throw new Error(`${label}length mismatch: actual ${a.data.length} elements, expected ${e.data.length}`);
  }
  const shape = a.shape ?? e.shape;
  let bad = 0;
  let first = -1;
  let worst = -1;
  let worstExcess = -Infinity;
  for (let i = 0; i < a.data.length; i++) {
    const x = a.data[i];
    const y = e.data[i];
    let ok: boolean;
    let excess = 0;
    if (Number.isNaN(x) || Number.isNaN(y)) ok = opts.equalNaN === true && Number.isNaN(x) && Number.isNaN(y);
    else if (!Number.isFinite(x) || !Number.isFinite(y)) ok = x === y;
    else {
      excess = Math.abs(x - y) - (atol + rtol * Math.abs(y));
      ok = excess <= 0;
    }
    if (!ok) {
      bad++;
      if (first < 0) first = i;
      const ex = Number.isFinite(excess) && excess > 0 ? excess : Infinity;
      if (ex > worstExcess) {
        worstExcess = ex;
        worst = i;
      }
    }
  }
  if (bad === 0) return;
  const where = (i: number): string => (shape && shape.length > 0 ? `index ${i} (coords [${unravel(i, shape).join(', ')}])` : `index ${i}`);
  const describe = (i: number): string =>
    `${where(i)}: actual ${a.data[i]}, expected ${e.data[i]}, |diff| ${Math.abs(a.data[i] - e.data[i])}`;
  let msg = `${label}${bad} of ${a.data.length} elements differ (atol ${atol}, rtol ${rtol}${shape ? `, shape ${fmtShape(shape)}` : ''}); first at ${describe(first)}`;
  if (worst !== first) msg += `; worst at ${describe(worst)}`;
  throw new Error(msg);
}

/** Exact elementwise equality (bitwise for finite floats, NaN equals NaN), same message format. */
export function assertEqualData(actual: Numbers, expected: Numbers, label?: string): void {
  assertClose(actual, expected, { atol: 0, rtol: 0, label, equalNaN: true });
}
