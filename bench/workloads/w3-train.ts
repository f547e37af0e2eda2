/**
 * W3: training throughput on the embedded MNIST train split, batch 64, plain SGD lr 0.01, softmax
 * cross-entropy, models 'small' and 'lenet'. Every (library, model) runs in its own child process
 * (bench/workloads/train-child.ts) so that its peak RSS is its own; the libraries follow each
 * other model by model.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ModelName } from '../shapes.js';
import type { ChildArgs, ChildResult, TrainLib } from './train-child.js';

export interface W3Participant {
  lib: TrainLib;
  backend: string;
  /** Display name for progress and errors before the child reports its own. */
  impl: string;
}

export interface W3Options {
  models: ModelName[];
  participants: W3Participant[];
  batch: number;
  lr: number;
  seed: number;
  threads: number;
  budgetMs: number;
  epochBudgetMs: number;
  probeBatch: number;
  /** See ChildArgs.hangMs. */
  hangMs: number;
  onResult?: (r: ChildResult) => void;
  /** Called before each child process starts (e.g. to pause a watchdog while waiting). */
  beforeChild?: () => void;
}

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'train-child.ts');

function runOne(args: ChildArgs, impl: string): ChildResult {
  const hardTimeout = 2 * Math.max(args.budgetMs, args.epochBudgetMs, args.hangMs) + 120_000;
  const r = spawnSync(process.execPath, [...process.execArgv, CHILD, JSON.stringify(args)], {
    encoding: 'utf8',
    timeout: hardTimeout,
    killSignal: 'SIGKILL',
    maxBuffer: 64 * 2 ** 20,
  });
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('W3RESULT '));
  if (line !== undefined) return JSON.parse(line.slice(9)) as ChildResult;
  const why =
    r.signal === 'SIGKILL'
      ? `killed after ${(hardTimeout / 1000).toFixed(0)} s`
      : `${r.error?.message ?? `exit ${r.status}`}: ${(r.stderr ?? '').trim().split('\n').slice(-1)[0] ?? ''}`;
  return {
    impl, model: args.model, status: 'cannot', message: `child process failed (${why})`, batch: args.batch, steps: 0, images: 0, ms: 0,
    imagesPerSec: NaN, fullEpoch: false, testAccuracy: null, firstLoss: null, lastLoss: null, rssBeforeMiB: 0, peakRssMiB: 0, dataSource: '', note: '',
  };
}

export function runW3(o: W3Options): ChildResult[] {
  const out: ChildResult[] = [];
  for (const model of o.models) {
    for (const p of o.participants) {
      const args: ChildArgs = {
        lib: p.lib, backend: p.backend, model, batch: o.batch, lr: o.lr, seed: o.seed, threads: o.threads,
        budgetMs: o.budgetMs, epochBudgetMs: o.epochBudgetMs, probeBatch: o.probeBatch, hangMs: o.hangMs,
      };
      o.beforeChild?.();
      let r = runOne(args, p.impl);
      if (r.status !== 'ok' && /^(hung|child process failed \(killed)/.test(r.message ?? '')) {
        // Seen with Stride's wasm thread pool: an intermittent deadlock. Say so, and try once more.
        const first = r.message ?? '';
        o.beforeChild?.();
        r = runOne(args, p.impl);
        const again = r.status === 'ok' ? 'the retry completed' : 'the retry failed too';
        r = r.status === 'ok' ? { ...r, note: `${r.note}; first attempt ${first}, ${again}` } : { ...r, message: `${r.message}; first attempt ${first}` };
      }
      o.onResult?.(r);
      out.push(r);
    }
  }
  return out;
}
