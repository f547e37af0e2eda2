/**
 * The network workloads of Stride alone, quickly: W3 training (small and lenet, one child process
 * each, as `npm run bench` runs them: one epoch, images/s, test accuracy, peak RSS) and W4 lenet
 * inference at batch 256 (median of timed `predict` calls). For A/B runs while tuning the glue
 * between kernels; the full comparison with the peers is `npm run bench`.
 *
 *   node --experimental-wasm-relaxed-simd --import tsx bench/net.ts [--only W3,W4,steps] [--models small,lenet] [--reps 15] [--threads 2]
 *
 * `--only steps` times training steps in this process instead (batch 64 of random images, the
 * models of W3): wall time and the process's CPU time per step, medians of `reps`. On a shared,
 * busy machine CPU time moves less than wall time.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Rng } from '../src/tensor/random.js';
import type { ChildArgs, ChildResult } from './workloads/train-child.js';
import type { ModelName } from './shapes.js';

const { values } = parseArgs({
  options: {
    only: { type: 'string', default: 'W3,W4' },
    models: { type: 'string', default: 'small,lenet' },
    reps: { type: 'string', default: '15' },
    threads: { type: 'string', default: '2' },
  },
});
const only = new Set(values.only.split(','));
const threads = Number(values.threads);
const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'workloads', 'train-child.ts');

function w3(model: ModelName): void {
  const args: ChildArgs = {
    lib: 'stride', backend: 'wasm', model, batch: 64, lr: 0.01, seed: 1, threads,
    budgetMs: 30_000, epochBudgetMs: 120_000, probeBatch: 8, hangMs: 120_000,
  };
  const r = spawnSync(process.execPath, [...process.execArgv, CHILD, JSON.stringify(args)], { encoding: 'utf8', timeout: 300_000 });
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('W3RESULT '));
  if (line === undefined) {
    console.log(`W3 ${model}: failed (${r.status}) ${(r.stderr ?? '').slice(-400)}`);
    return;
  }
  const c = JSON.parse(line.slice(9)) as ChildResult;
  console.log(
    `W3 ${model.padEnd(5)}: ${c.imagesPerSec.toFixed(0).padStart(6)} images/s (${c.images} images in ${(c.ms / 1000).toFixed(2)} s), ` +
      `test accuracy ${c.testAccuracy === null ? '-' : (100 * c.testAccuracy).toFixed(2) + '%'}, last loss ${c.lastLoss?.toFixed(4)}, peak RSS ${c.peakRssMiB} MiB` +
      (c.status === 'ok' ? '' : ` (${c.message})`),
  );
}

async function w4(): Promise<void> {
  const { createTrainer } = await import('./workloads/train-stride.js');
  const t = await createTrainer('lenet', { backend: 'wasm', lr: 0.01, seed: 1, threads });
  const n = 256;
  const rng = new Rng(4004);
  const images = new Float32Array(n * 784).map(() => rng.uniform(0, 1));
  for (let i = 0; i < 3; i++) t.infer(images, n);
  const ms: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < Number(values.reps); i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    t.infer(images, n);
    ms.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const m = med(ms);
  console.log(
    `W4 lenet : ${((n / m) * 1000).toFixed(0).padStart(6)} images/s (median ${m.toFixed(1)} ms per batch of ${n}, min ${Math.min(...ms).toFixed(1)}, ${ms.length} reps; ` +
      `CPU time of all threads ${med(cpu).toFixed(1)} ms per batch)`,
  );
}

async function steps(model: ModelName): Promise<void> {
  const { createTrainer } = await import('./workloads/train-stride.js');
  const t = await createTrainer(model, { backend: 'wasm', lr: 0.01, seed: 1, threads });
  const b = 64;
  const rng = new Rng(7);
  const images = new Float32Array(b * 784).map(() => rng.uniform(0, 1));
  const labels = Int32Array.from({ length: b }, (_, i) => i % 10);
  for (let i = 0; i < 5; i++) await t.step(images, labels, b);
  const ms: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < Number(values.reps); i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await t.step(images, labels, b);
    ms.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  const med = (xs: number[]): number => [...xs].sort((a, c) => a - c)[xs.length >> 1];
  console.log(
    `steps ${model.padEnd(5)}: ${((b / med(ms)) * 1000).toFixed(0).padStart(6)} images/s (median ${med(ms).toFixed(2)} ms per step of ${b}, min ${Math.min(...ms).toFixed(2)}; ` +
      `CPU ${med(cpu).toFixed(2)} ms per step, min ${Math.min(...cpu).toFixed(2)})`,
  );
}

if (only.has('steps')) for (const m of values.models.split(',') as ModelName[]) await steps(m);
if (only.has('W3')) for (const m of values.models.split(',') as ModelName[]) w3(m);
if (only.has('W4')) await w4();
process.exit(0);
