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
/** Why the wasm module could not be imported (null when it was, or was not tried). */
let wasmFailure: string | null = null;

async function loadWasm(): Promise<WasmModule | null> {
  if (wasmModule === undefined) {
    try {
      wasmModule = (await import('../kernels/wasm/index.js')) as WasmModule;
    } catch (e) {
      wasmModule = null;
      wasmFailure = describeImportFailure(e);
    }
  }
  return wasmModule;
}

/**
 * Why importing the wasm kernels failed, for a person. In a clone that was never built, the generated
 * module with the WebAssembly binaries (src/kernels/wasm/binary.ts, written by `npm run build:wasm`)
 * is missing: that is the usual case, and it has nothing to do with SIMD.
 */
function describeImportFailure(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  if ((e as NodeJS.ErrnoException)?.code === 'ERR_MODULE_NOT_FOUND' && /kernels[/\\]wasm[/\\]binary\.(ts|js)/.test(message)) {
    return 'the WebAssembly kernels are not built (src/kernels/wasm/binary.ts is missing): run `npm run build`';
  }
  return `the WebAssembly kernels failed to load (${message})`;
}

/**
 * Selects the backend (default: wasm when available, else reference) and the thread count of the
 * wasm kernels (default: the number of cores, at most 8). Returns what is in use, for the log.
 * Falling back to the reference kernels because the wasm ones failed to load is reported through
 * `warn` (by default a warning line on stderr); asking for `--backend wasm` then is an error.
 */
export async function selectBackend(
  name: BackendName | undefined,
  threads: number | undefined,
  warn: (message: string) => void = (m) => process.stderr.write(`warning: ${m}\n`),
): Promise<{ backend: string; threads: number }> {
  const wasm = await loadWasm();
  if (name === 'wasm' && wasm === null) throw new CliError(`--backend wasm: ${wasmFailure}`);
  if (name === 'wasm' && !listBackends().includes('wasm')) {
    throw new CliError('--backend wasm is not available here: this JavaScript engine has no WebAssembly SIMD; use --backend reference');
  }
  if (name === undefined && wasm === null) warn(`${wasmFailure}; using the slow reference kernels`);
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
