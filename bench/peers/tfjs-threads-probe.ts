/**
 * Child process of probeTfjsWasmThreads (bench/peers/tfjs.ts): forces tfjs-wasm's multithreaded
 * SIMD build under Node and prints `PROBE {"ok":…,"threads":…,"error":…}`.
 *
 *   node --import tsx bench/peers/tfjs-threads-probe.ts <threads>
 */
import * as tf from '@tensorflow/tfjs';
import * as tfw from '@tensorflow/tfjs-backend-wasm';
import { tfjsWasmDir } from './tfjs.js';

const threads = Number(process.argv[2] ?? '2');
const warned: string[] = [];
console.warn = (...a: unknown[]) => void warned.push(a.map(String).join(' '));
let out: { ok: boolean; threads?: number; error?: string };
try {
  // Not production mode: tfjs reports a failed backend initialisation only outside it.
  tfw.setWasmPaths(tfjsWasmDir());
  tfw.setThreadsCount(threads);
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  const ok = await tf.setBackend('wasm');
  if (ok) {
    const y = tf.conv2d(tf.ones([1, 8, 8, 4]) as import('@tensorflow/tfjs').Tensor4D, tf.ones([3, 3, 4, 4]) as import('@tensorflow/tfjs').Tensor4D, 1, 'same');
    y.dataSync();
    out = { ok: true, threads: tfw.getThreadsCount() };
  } else {
    out = { ok: false, error: warned.filter((w) => !/^\s*$/.test(w)).slice(-1)[0]?.split('\n')[0] ?? 'setBackend(wasm) returned false' };
  }
} catch (e) {
  out = { ok: false, error: (e instanceof Error ? e.message : String(e)).split('\n')[0] };
}
process.stdout.write(`PROBE ${JSON.stringify(out)}\n`);
process.exit(0);
