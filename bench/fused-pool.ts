/**
 * Conv2D -> ReLU -> MaxPool2D in a training step, forward and backward, three ways in one process
 * (A/B on a shared machine: the variants alternate, medians of `reps`), at the W3 models' shapes:
 *   pair:   conv2dRelu, maxPool2d; maxPool2dBackward, conv2dReluBackward (fused pair, separate pool)
 *   triple: conv2d, maxPool2dRelu; maxPool2dReluBackward, conv2dBackward (the fused triple)
 *   pool:   the pool alone, both ways (maxPool2d + maxPool2dBackward of relu(z) against
 *           maxPool2dRelu + maxPool2dReluBackward of z), so the kernel's share shows
 * Outputs stay in wasm memory (withExternalOutputs), as in Sequential.trainStep. Wall and CPU time.
 *
 *   node --experimental-wasm-relaxed-simd --import tsx bench/fused-pool.ts [--threads 1] [--reps 15] [--batch 64]
 */
import { parseArgs } from 'node:util';
import {
  Tensor, conv2d, conv2dBackward, conv2dBackwardFilter, conv2dRelu, conv2dReluBackward, maxPool2d, maxPool2dBackward, maxPool2dRelu, maxPool2dReluBackward, ready, relu, setThreads,
} from '../src/index.js';
import { withExternalOutputs } from '../src/tensor/tensor.js';

const { values } = parseArgs({ options: { threads: { type: 'string', default: '1' }, reps: { type: 'string', default: '15' }, batch: { type: 'string', default: '64' } } });
setThreads(Number(values.threads));
await ready();
const N = Number(values.batch);
const reps = Number(values.reps);

const STAGES = [
  { name: 'lenet conv1 (28x28x1 -> 32, pool 2)', x: [N, 28, 28, 1], co: 32, k: 5, pool: 2, dx: false },
  { name: 'lenet conv2 (14x14x32 -> 64, pool 2)', x: [N, 14, 14, 32], co: 64, k: 5, pool: 2, dx: true },
  { name: 'small conv1 (28x28x1 -> 8, pool 2)', x: [N, 28, 28, 1], co: 8, k: 5, pool: 2, dx: false },
  { name: 'small conv2 (14x14x8 -> 16, pool 3)', x: [N, 14, 14, 8], co: 16, k: 5, pool: 3, dx: true },
];

const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1];

for (const s of STAGES) {
  const x = Tensor.randn(s.x, { seed: 1 });
  const w = Tensor.randn([s.k, s.k, s.x[3], s.co], { seed: 2 });
  const b = Tensor.randn([s.co], { seed: 3 });
  const conv = { padding: 'same' as const };
  const pool = { kernelSize: s.pool };
  const py = Math.floor(s.x[1] / s.pool);
  const dy = Tensor.randn([N, py, py, s.co], { seed: 4 });
  const variants: Record<string, () => void> = {
    pair: () => {
      const a = conv2dRelu(x, w, b, conv);
      const p = maxPool2d(a, pool);
      const da = maxPool2dBackward(dy, a, pool);
      const g = conv2dReluBackward(da, a, x, w, conv, { dx: s.dx });
      for (const t of [a, p, da, g.dw, g.db, g.dx]) t?.dispose();
    },
    triple: () => {
      const z = conv2d(x, w, b, conv);
      const p = maxPool2dRelu(z, pool);
      const dz = maxPool2dReluBackward(dy, z, pool);
      const g = s.dx ? conv2dBackward(dz, x, w, conv) : { dx: null, ...conv2dBackwardFilter(dz, x, w.shape, conv) };
      for (const t of [z, p, dz, g.dw, g.db, g.dx]) t?.dispose();
    },
  };
  const a0 = relu(conv2d(x, w, b, conv));
  const z0 = conv2d(x, w, b, conv);
  const poolOnly: Record<string, () => void> = {
    'pool, separate': () => {
      const p = maxPool2d(a0, pool);
      const da = maxPool2dBackward(dy, a0, pool);
      p.dispose();
      da.dispose();
    },
    'pool, fused': () => {
      const p = maxPool2dRelu(z0, pool);
      const dz = maxPool2dReluBackward(dy, z0, pool);
      p.dispose();
      dz.dispose();
    },
  };
  const all = { ...variants, ...poolOnly };
  const wall: Record<string, number[]> = {};
  const cpu: Record<string, number[]> = {};
  for (let r = -2; r < reps; r++) {
    for (const [k, f] of Object.entries(all)) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      withExternalOutputs(f);
      const ms = performance.now() - t0;
      const c = process.cpuUsage(c0);
      if (r < 0) continue;
      (wall[k] ??= []).push(ms);
      (cpu[k] ??= []).push((c.user + c.system) / 1000);
    }
  }
  console.log(`${s.name}, batch ${N}, ${values.threads} thread(s)${s.dx ? '' : ' (no dx: the first layer)'}`);
  for (const k of Object.keys(all)) console.log(`  ${k.padEnd(16)} wall ${med(wall[k]).toFixed(2).padStart(7)} ms   CPU ${med(cpu[k]).toFixed(2).padStart(7)} ms`);
}
process.exit(0);
