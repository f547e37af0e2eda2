/**
 * Gradient-check helpers for tests: the public API (src/gradcheck.ts) plus an assertion that fails
 * with the report's message (worst element: tensor, index, coordinates, analytic vs numeric).
 *
 * ```ts
 * assertGradcheck(gradcheckLayer(new Conv2D({ outChannels: 2, kernelSize: 3 }), [2, 5, 5, 1]), 'Conv2D seed 0');
 * ```
 */
import type { GradcheckReport } from '../../src/gradcheck.js';

export { gradcheck, gradcheckOp, gradcheckLayer } from '../../src/gradcheck.js';

/** Throws the report's message (prefixed by `label`) unless the check passed. */
export function assertGradcheck(report: GradcheckReport, label?: string): void {
  if (!report.ok) throw new Error(label ? `${label}: ${report.message}` : report.message);
}
