/**
 * TensorFlow.js (devDependencies @tensorflow/tfjs and @tensorflow/tfjs-backend-wasm) with its
 * 'cpu' and 'wasm' backends, and what each actually runs with.
 *
 * - Production mode is enabled once the backends are up (fewer debug checks; it also silences
 *   the "install tfjs-node" banner): that is how one would deploy it.
 * - The wasm backend finds its .wasm files in node_modules/@tensorflow/tfjs-backend-wasm/dist
 *   (setWasmPaths with a file path). SIMD is detected by tfjs itself. Threads: tfjs-backend-wasm
 *   4.x turns multithreading off under Node (WASM_HAS_MULTITHREAD_SUPPORT is false when IS_NODE);
 *   `probeTfjsWasmThreads` tries to force it in a child process and reports what happens.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type Tf = typeof import('@tensorflow/tfjs');

export interface TfjsEnv {
  tf: Tf;
  version: string;
  /** Backends that initialised: 'cpu', and 'wasm' when it did. */
  backends: string[];
  wasm: { ok: boolean; simd: boolean | null; threads: number | null; multithreadFlag: boolean | null; error?: string };
  notes: string[];
}

const msg = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0];

/** Directory of the tfjs-backend-wasm .wasm files, with a trailing slash. */
export function tfjsWasmDir(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + '/';
}

/**
 * Imports tfjs, initialises 'wasm' (asking for `threads` threads; skipped when `withWasm` is false,
 * so a cpu-only process does not carry the wasm heap) and leaves 'cpu' selected.
 */
export async function loadTfjs(threads: number, withWasm = true): Promise<{ env: TfjsEnv | null; error?: string }> {
  let tf: Tf;
  try {
    tf = await import('@tensorflow/tfjs');
  } catch (e) {
    return { env: null, error: `cannot import @tensorflow/tfjs: ${msg(e)}` };
  }
  const notes: string[] = [];
  const backends: string[] = [];
  if (await tf.setBackend('cpu')) backends.push('cpu');
  const wasm: TfjsEnv['wasm'] = { ok: false, simd: null, threads: null, multithreadFlag: null };
  if (!withWasm) {
    tf.enableProdMode();
    wasm.error = 'not loaded in this process';
    return { env: { tf, version: tf.version.tfjs, backends, wasm, notes } };
  }
  try {
    const tfw = await import('@tensorflow/tfjs-backend-wasm');
    tfw.setWasmPaths(tfjsWasmDir());
    tfw.setThreadsCount(threads);
    // tfjs logs an initialisation failure with console.warn and returns false; keep the reason.
    const warned: string[] = [];
    const warn = console.warn;
    console.warn = (...a: unknown[]) => void warned.push(a.map(String).join(' '));
    let ok = false;
    try {
      ok = await tf.setBackend('wasm');
    } finally {
      console.warn = warn;
    }
    if (ok) {
      wasm.ok = true;
      backends.push('wasm');
      wasm.simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
      wasm.multithreadFlag = Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'));
      wasm.threads = tfw.getThreadsCount();
    } else {
      wasm.error = warned.join('; ') || 'setBackend(wasm) returned false';
    }
  } catch (e) {
    wasm.error = msg(e);
  }
  // After the wasm attempt: production mode also silences tfjs's warnings, including why a backend failed.
  tf.enableProdMode();
  await tf.setBackend('cpu');
  if (!wasm.ok) notes.push(`tfjs-wasm: could not initialise (${wasm.error})`);
  return { env: { tf, version: tf.version.tfjs, backends, wasm, notes } };
}

/**
 * Tries tfjs-wasm's threaded SIMD build in a child process by forcing WASM_HAS_MULTITHREAD_SUPPORT
 * (a failed attempt leaves tfjs unusable, hence the separate process). Returns the threads it got
 * or the error.
 */
export function probeTfjsWasmThreads(threads: number, timeoutMs = 60_000): { ok: boolean; threads?: number; error?: string } {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'tfjs-threads-probe.ts');
  const r = spawnSync(process.execPath, [...process.execArgv, script, String(threads)], { encoding: 'utf8', timeout: timeoutMs });
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('PROBE '));
  if (line === undefined) {
    const why = r.error ? msg(r.error) : `exit ${r.status ?? r.signal}: ${(r.stderr ?? '').trim().split('\n').slice(-1)[0] ?? ''}`;
    return { ok: false, error: `probe failed (${why})` };
  }
  return JSON.parse(line.slice(6)) as { ok: boolean; threads?: number; error?: string };
}
