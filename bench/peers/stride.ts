/**
 * Stride as the benchmark sees it: its public API, which backends are registered, and (for the
 * wasm backend) the build variant and thread count actually in use.
 *
 * Loaded with dynamic imports so that a tree in mid-edit makes the benchmark report what is
 * missing instead of failing to start.
 */
import type { Tensor as TensorT } from '../../src/index.js';
import type { Conv2DInfo } from '../../src/kernels/conv-info.js';

export type StrideApi = typeof import('../../src/index.js');

/** Separately callable dX and dW kernels (the wasm backend has them; the public Kernels API fuses them). */
export interface SplitConvBackward {
  dx(dy: TensorT, w: TensorT, info: Conv2DInfo): TensorT;
  dw(dy: TensorT, x: TensorT, info: Conv2DInfo): { dw: TensorT; db: TensorT };
}

export interface StrideEnv {
  api: StrideApi;
  /** Registered backends, fastest first ('wasm' before 'reference'). */
  backends: string[];
  /** The fastest backend ('wasm' when present, else 'reference'). */
  primary: string;
  /** Threads the wasm kernels use (1 without the wasm backend). */
  threads: number;
  /** The wasm build in use ('relaxedShared', 'simd', ...), or null. */
  wasmVariant: string | null;
  /** dX and dW of the wasm backend timed on their own, when its internals are reachable. */
  wasmSplit: SplitConvBackward | null;
  notes: string[];
}

const msg = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0];

/** Imports Stride, starts the wasm backend with `threads` threads if it exists. Null (with the reason) when src/index.ts does not load. */
export async function loadStride(threads: number): Promise<{ env: StrideEnv | null; error?: string }> {
  let api: StrideApi;
  try {
    api = await import('../../src/index.js');
  } catch (e) {
    return { env: null, error: `cannot import src/index.ts: ${msg(e)}` };
  }
  const notes: string[] = [];
  let wasmVariant: string | null = null;
  let wasmSplit: SplitConvBackward | null = null;
  let threadsUsed = 1;
  if (api.listBackends().includes('wasm') || typeof api.ready === 'function') {
    try {
      api.setThreads(threads);
      await api.ready();
      threadsUsed = api.getThreads();
      if (threadsUsed !== threads) notes.push(`Stride wasm: asked for ${threads} threads, runs ${threadsUsed}`);
    } catch (e) {
      notes.push(`Stride wasm: could not start (${msg(e)})`);
    }
    try {
      const w = await import('../../src/kernels/wasm/index.js');
      const rt = w.wasmRuntime();
      wasmVariant = rt?.variant ?? null;
      if (rt !== null) {
        const c = await import('../../src/kernels/wasm/conv2d.js');
        wasmSplit = {
          dx: (dy, wt, info) => c.conv2dBackwardInputWasm(rt, dy, wt, info),
          dw: (dy, x, info) => c.conv2dBackwardFilterWasm(rt, dy, x, info),
        };
      }
    } catch (e) {
      notes.push(`Stride wasm internals not reachable, dX and dW are timed only fused (${msg(e)})`);
    }
  }
  const all = api.listBackends();
  const backends = [...all.filter((b) => b !== 'reference'), ...all.filter((b) => b === 'reference')];
  const primary = backends[0] ?? 'reference';
  if (!all.includes('wasm')) notes.push("Stride: no 'wasm' backend registered (SIMD unavailable or not built); only 'reference' is measured");
  return { env: { api, backends, primary, threads: threadsUsed, wasmVariant, wasmSplit, notes } };
}

/** Display name of a Stride backend in the tables. */
export const strideImpl = (backend: string): string => `Stride ${backend}`;
