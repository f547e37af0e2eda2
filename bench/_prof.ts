import { Tensor, computeConv2DInfo, conv2dFlops } from '../src/index.js';
import { ready, setThreads, wasmRuntime } from '../src/kernels/wasm/index.js';
import { conv2dWasm, conv2dBackwardInputWasm } from '../src/kernels/wasm/conv2d.js';
await ready();
const rt = wasmRuntime()!;
const threads = Number(process.argv[2] ?? 2);
setThreads(threads); await ready();
const x = Tensor.randn([32, 56, 56, 64], { seed: 1 });
const w = Tensor.randn([3, 3, 64, 128], { seed: 2, std: 0.1 });
const info = computeConv2DInfo('bench', x.shape, w.shape, { stride: 2, padding: 'valid' });
const dy = Tensor.randn([32, 27, 27, 128], { seed: 4 });
const log: string[] = [];
const run = rt.run.bind(rt);
rt.run = (...a: Parameters<typeof rt.run>): void => { const t0 = performance.now(); run(...a); log.push(`${a[0]} units ${a[2]}: ${(performance.now() - t0).toFixed(2)}`); };
for (let i = 0; i < 5; i++) {
  log.length = 0;
  let t0 = performance.now(); conv2dBackwardInputWasm(rt, dy, w, info).dispose(); const tdx = performance.now() - t0;
  console.log(`dX total ${tdx.toFixed(2)} ms (${(conv2dFlops(info) / tdx / 1e6).toFixed(1)} GF): ${log.join('; ')}`);
  log.length = 0;
  t0 = performance.now(); conv2dWasm(rt, x, w, null, info).dispose(); const tf = performance.now() - t0;
  console.log(`fwd total ${tf.toFixed(2)} ms (${(conv2dFlops(info) / tf / 1e6).toFixed(1)} GF): ${log.join('; ')}`);
}
process.exit(0);
