/**
 * Softmax over the last axis and its gradient: the public ops live with the others in
 * src/kernels/ops.ts (checked arguments, then the backend's kernel; the reference kernel is
 * src/kernels/reference/softmax.ts). Re-exported here, where the losses import them from.
 */
export { softmax, softmaxBackward } from '../kernels/ops.js';
