/**
 * Kernel backend selection for the CLI (`--backend reference|wasm`, `--threads N`). The wasm
 * backend registers itself (and becomes the default) when its module is imported and WebAssembly
 * SIMD is available; otherwise the reference kernels run.
 */
import { getBackend, listBackends, setBackend } from '../kernels/backend.js';
import { CliError } from './util.js';

export type BackendName = 'reference' | 'wasm';
export const BACKENDS: readonly BackendName[] = ['reference', 'wasm'];

interface WasmModule {
  ready(): Promise<{ backend: string; threads: number }>;
  setThreads(n: number): number;
  getThreads(): number;
}

let wasmModule: WasmModule | null | undefined;

async function loadWasm(): Promise<WasmModule | null> {
  if (wasmModule === undefined) {
    try {
      wasmModule = (await import('../kernels/wasm/index.js')) as WasmModule;
    } catch {
      wasmModule = null;
    }
  }
  return wasmModule;
}

/**
 * Selects the backend (default: wasm when available, else reference) and the thread count of the
 * wasm kernels (default: the number of cores, at most 8). Returns what is in use, for the log.
 */
export async function selectBackend(name: BackendName | undefined, threads: number | undefined): Promise<{ backend: string; threads: number }> {
  const wasm = await loadWasm();
  if (name === 'wasm' && (wasm === null || !listBackends().includes('wasm'))) {
    throw new CliError('--backend wasm is not available here (it needs WebAssembly SIMD); use --backend reference');
  }
  if (name !== undefined) setBackend(name);
  else if (listBackends().includes('wasm')) setBackend('wasm');
  if (getBackend() !== 'wasm' || wasm === null) {
    if (threads !== undefined && threads > 1) throw new CliError(`--threads ${threads} needs the wasm backend (the reference kernels are single-threaded)`);
    return { backend: getBackend(), threads: 1 };
  }
  // Default (the library's): one thread per core, at most 8.
  if (threads !== undefined) wasm.setThreads(threads);
  await wasm.ready();
  return { backend: getBackend(), threads: wasm.getThreads() };
}
