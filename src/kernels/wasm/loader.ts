/**
 * Loads the embedded WebAssembly kernels: one code path for Node and browsers (the bytes are in
 * the generated `binary.ts`, so there is no fetch, no fs and no path to configure).
 *
 * Feature detection validates tiny hand-assembled modules, as engines do not expose feature flags:
 * - SIMD128: `i32x4.splat`;
 * - relaxed SIMD: `f32x4.relaxed_madd` (Node 20 needs `--experimental-wasm-relaxed-simd`);
 * - threads: a shared `WebAssembly.Memory` can be created (needs SharedArrayBuffer, which browsers
 *   give only to cross-origin-isolated pages).
 */
import * as binary from './binary.js';

export interface WasmFeatures {
  simd: boolean;
  relaxedSimd: boolean;
  threads: boolean;
}

/** Which of the four builds. */
export type Variant = 'simd' | 'relaxed' | 'simdShared' | 'relaxedShared';

// (module (func (result v128) i32.const 0 i32x4.splat))
const HEAD = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, 0x03, 0x02, 0x01, 0x00];
const SPLAT0 = [0x41, 0x00, 0xfd, 0x11];
const SIMD_BODY = [0x00, ...SPLAT0, 0x0b];
// ... three zero vectors, f32x4.relaxed_madd (0xfd 0x105)
const RELAXED_BODY = [0x00, ...SPLAT0, ...SPLAT0, ...SPLAT0, 0xfd, 0x85, 0x02, 0x0b];
const tinyModule = (body: number[]): Uint8Array<ArrayBuffer> => new Uint8Array([...HEAD, 0x0a, body.length + 2, 0x01, body.length, ...body]);

function validate(bytes: Uint8Array<ArrayBuffer>): boolean {
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(bytes);
  } catch {
    return false;
  }
}

/** SIMD and relaxed SIMD, by validating two tiny modules (no compilation, no memory: safe at import). */
export function detectSimd(): { simd: boolean; relaxedSimd: boolean } {
  const simd = validate(tinyModule(SIMD_BODY));
  return { simd, relaxedSimd: simd && validate(tinyModule(RELAXED_BODY)) };
}

/** The features of this engine that the kernels can use (creates a one-page shared memory to test threads). */
export function detectFeatures(): WasmFeatures {
  const { simd, relaxedSimd } = detectSimd();
  let threads = false;
  if (simd && typeof SharedArrayBuffer === 'function' && typeof Atomics === 'object') {
    try {
      threads = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }).buffer instanceof SharedArrayBuffer;
    } catch {
      threads = false;
    }
  }
  return { simd, relaxedSimd, threads };
}

/** The build to use for these features and memory kind. */
export function chooseVariant(f: WasmFeatures, shared: boolean): Variant {
  return f.relaxedSimd ? (shared ? 'relaxedShared' : 'relaxed') : shared ? 'simdShared' : 'simd';
}

/**
 * Decodes standard base64 with the platform's `atob` (every browser, worker and Node >= 16 has it
 * as a global; bundlers leave globals alone, so minified bundles keep it).
 */
export function decodeBase64(s: string): Uint8Array<ArrayBuffer> {
  const text = atob(s);
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/** The embedded bytes of one build. */
export function wasmBytes(v: Variant): Uint8Array<ArrayBuffer> {
  return decodeBase64(binary[v]);
}

/** Compiles synchronously (fine in Node and in workers; the modules are a few KB, under browsers' main-thread limit). */
export function compileSync(v: Variant): WebAssembly.Module {
  return new WebAssembly.Module(wasmBytes(v));
}

export function compileAsync(v: Variant): Promise<WebAssembly.Module> {
  return WebAssembly.compile(wasmBytes(v));
}
