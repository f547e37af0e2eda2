/**
 * Recycled float32 storage for the outputs of the fast kernels.
 *
 * Why: a fresh multi-megabyte Float32Array is not free. The allocator hands large blocks straight
 * from the operating system, and the first write to each 4 KiB page faults; in the virtual machines
 * this project is measured on that costs about 3 ms per MB, more than the convolution that fills
 * it (lenet's first layer writes 26 MB per batch of 256). TensorFlow.js avoids it by keeping
 * tensors in memory it manages and freeing them with `dispose()`; Stride does the same, opt-in:
 *
 * - `Tensor.dispose()` hands a tensor's array back here (the tensor becomes unusable);
 * - kernels take their output arrays from `allocFloat32`, which reuses a returned array of the same
 *   length when there is one (its old contents are overwritten: every kernel writes all of its output);
 * - `Sequential.predict` and `evaluate` dispose their intermediate activations, so inference runs
 *   in a steady set of arrays.
 *
 * Nothing is ever recycled that the caller did not dispose. Only whole, unshared arrays of at least
 * `MIN_POOLED_FLOATS` are kept, up to `limitBytes` in all (oldest dropped first), so the pool cannot
 * grow without bound; `setStoragePoolLimit(0)` turns it off.
 */

/** Arrays smaller than this (256 KiB) are cheap to allocate and are not pooled. */
export const MIN_POOLED_FLOATS = 65536;

let limitBytes = 256 * 1024 * 1024;
let heldBytes = 0;
/** Free arrays by length. */
const byLength = new Map<number, Float32Array[]>();
/** Free arrays in the order they were returned (oldest first), for eviction. */
let order: Float32Array[] = [];
let stats = { reused: 0, allocated: 0, recycled: 0, evicted: 0 };

/**
 * A Float32Array of `n` elements: a recycled one (contents arbitrary: the caller must write every
 * element) or a new one (zeros).
 */
export function allocFloat32(n: number): Float32Array {
  const a = takeFloat32(n);
  if (a !== null) return a;
  stats.allocated++;
  return new Float32Array(n);
}

/** A recycled Float32Array of exactly `n` elements (contents arbitrary), or null if none is held. */
export function takeFloat32(n: number): Float32Array | null {
  const list = byLength.get(n);
  if (list === undefined) return null;
  const a = list.pop()!;
  if (list.length === 0) byLength.delete(n);
  order.splice(order.lastIndexOf(a), 1);
  heldBytes -= a.byteLength;
  stats.reused++;
  return a;
}

/**
 * Takes `a` back for reuse by `allocFloat32`. The caller promises that nothing reads or writes `a`
 * afterwards. Views of part of a buffer, shared memory and small arrays are left to the garbage
 * collector. Returns whether the array was kept.
 */
export function recycleFloat32(a: Float32Array): boolean {
  if (a.length < MIN_POOLED_FLOATS || a.byteOffset !== 0 || a.buffer.byteLength !== a.byteLength) return false;
  if (typeof SharedArrayBuffer !== 'undefined' && a.buffer instanceof SharedArrayBuffer) return false;
  if (a.byteLength > limitBytes) return false;
  if (order.includes(a)) return true; // already returned (a tensor and its reshape share an array)
  while (heldBytes + a.byteLength > limitBytes) evictOldest();
  let list = byLength.get(a.length);
  if (list === undefined) byLength.set(a.length, (list = []));
  list.push(a);
  order.push(a);
  heldBytes += a.byteLength;
  stats.recycled++;
  return true;
}

function evictOldest(): void {
  const a = order.shift()!;
  const list = byLength.get(a.length)!;
  list.splice(list.indexOf(a), 1);
  if (list.length === 0) byLength.delete(a.length);
  heldBytes -= a.byteLength;
  stats.evicted++;
}

/** Caps the bytes the pool holds (default 256 MiB); 0 empties it and turns pooling off. */
export function setStoragePoolLimit(bytes: number): void {
  if (!Number.isFinite(bytes) || bytes < 0) throw new Error(`setStoragePoolLimit: bytes must be a finite number >= 0, got ${String(bytes)}`);
  limitBytes = bytes;
  while (heldBytes > limitBytes) evictOldest();
}

/** What the pool holds and has done since the last `resetStoragePool`. */
export function storagePoolStats(): { heldBytes: number; arrays: number; limitBytes: number; reused: number; allocated: number; recycled: number; evicted: number } {
  return { heldBytes, arrays: order.length, limitBytes, ...stats };
}

/** Drops every pooled array and zeroes the counters (the limit stays). */
export function resetStoragePool(): void {
  byLength.clear();
  order = [];
  heldBytes = 0;
  stats = { reused: 0, allocated: 0, recycled: 0, evicted: 0 };
}
