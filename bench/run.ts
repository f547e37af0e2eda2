/**
 * `npm run bench`: the workloads W1-W4 of WORKLOADS.md, Stride beside TensorFlow.js (cpu and wasm
 * backends) and ConvNetJS, in one run, interleaved. Prints tables and writes bench/RESULTS.md.
 *
 *   npm run bench                       # everything (about 10-15 minutes)
 *   npm run bench -- --quick            # shorter time budgets (a few minutes)
 *   npm run bench -- --only W1,W2       # some workloads
 *   npm run bench -- --threads 1        # Stride wasm threads (and the tfjs-wasm request)
 *   npm run bench -- --cases c1,c3 --models small --out /tmp/r.md --no-write
 *
 * The npm script runs node with --experimental-wasm-relaxed-simd (needed on Node 20 for the
 * f32x4.relaxed_madd build of Stride's kernels); RESULTS.md records whether it was on.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { describeMachine } from './machine.js';
import { loadConvNetJS } from './peers/convnetjs.js';
import type { Peers } from './peers/index.js';
import { loadStride, strideImpl } from './peers/stride.js';
import { loadTfjs, probeTfjsWasmThreads } from './peers/tfjs.js';
import { fmtNum, gflops, imagesPerSec, renderMarkdown, renderText, writeFileAtomic, type BenchReport, type KernelRow } from './report.js';
import { W1_CASES, type ModelName } from './shapes.js';
import { runW1 } from './workloads/w1-conv.js';
import { runW2 } from './workloads/w2-pool.js';
import { runW3, type W3Participant } from './workloads/w3-train.js';
import { runW4 } from './workloads/w4-infer.js';
import { startWatchdog } from './watchdog.js';
import type { ChildResult } from './workloads/train-child.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const WORKLOADS = ['W1', 'W2', 'W3', 'W4'] as const;

const USAGE = `usage: npm run bench -- [options]
  --quick            shorter time budgets (fewer repetitions, sub-batches for slow libraries)
  --only W1,W3       run only these workloads (W1 conv layer, W2 pooling, W3 training, W4 inference)
  --threads N        threads for Stride's wasm backend (and asked of tfjs-wasm); default: all cores
  --cases c1,c2      W1 cases (default all: c1,c2,c3,c4)
  --models small     W3 models (default small,lenet)
  --out FILE         where to write the Markdown results (default bench/RESULTS.md)
  --no-write         print only, do not write the results file
  --help`;

interface Config {
  quick: boolean;
  only: Set<string>;
  threads: number;
  cases: string[];
  models: ModelName[];
  out: string;
  write: boolean;
}

function parseConfig(argv: string[]): Config {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      threads: { type: 'string' },
      cases: { type: 'string' },
      models: { type: 'string' },
      out: { type: 'string' },
      'no-write': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const list = (s: string | undefined, all: readonly string[], what: string): string[] => {
    if (s === undefined) return [...all];
    const got = s.split(',').map((v) => v.trim()).filter((v) => v !== '');
    const bad = got.filter((v) => !all.some((a) => a.toLowerCase() === v.toLowerCase()));
    if (bad.length > 0 || got.length === 0) throw new Error(`bench: --${what} takes a comma-separated list of ${all.join(', ')}; got ${JSON.stringify(s)}`);
    return all.filter((a) => got.some((v) => v.toLowerCase() === a.toLowerCase()));
  };
  const threads = values.threads === undefined ? os.availableParallelism() : Number(values.threads);
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`bench: --threads must be a positive integer, got ${JSON.stringify(values.threads)}`);
  return {
    quick: values.quick,
    only: new Set(list(values.only, WORKLOADS, 'only')),
    threads,
    cases: list(values.cases, W1_CASES.map((c) => c.name), 'cases'),
    models: list(values.models, ['small', 'lenet'], 'models') as ModelName[],
    out: values.out ?? join(HERE, 'RESULTS.md'),
    write: !values['no-write'],
  };
}

/**
 * Time budgets: per implementation and row (W1, W2; W4 gets twice as much, being one row of big
 * batches) and per W3 child. A call or W3 step that makes no progress for `hangMs` aborts.
 */
function budgets(quick: boolean) {
  return quick
    ? { kernel: { budgetMs: 2000, minReps: 5, maxReps: 7 }, w3: { budgetMs: 8000, epochBudgetMs: 25_000 }, hangMs: 300_000 }
    : { kernel: { budgetMs: 4000, minReps: 5, maxReps: 15 }, w3: { budgetMs: 30_000, epochBudgetMs: 120_000 }, hangMs: 300_000 };
}

/**
 * `text`, with the sections other benchmarks keep in the same file (`npm run bench:browser`'s,
 * between its <!-- bench:browser --> markers) carried over from the file as it is.
 */
function keepSections(path: string, text: string): string {
  let old: string;
  try {
    old = readFileSync(path, 'utf8');
  } catch {
    return text;
  }
  const a = old.indexOf('<!-- bench:browser -->');
  const end = '<!-- /bench:browser -->';
  const b = old.indexOf(end);
  return a >= 0 && b > a ? `${text.trimEnd()}\n\n${old.slice(a, b + end.length)}\n` : text;
}

function commandLine(argv: string[]): string {
  if (process.env.npm_lifecycle_event === 'bench') return `npm run bench${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}`;
  const script = relative(process.cwd(), fileURLToPath(import.meta.url));
  return ['node', ...process.execArgv, script, ...argv].join(' ');
}

function progressKernel(r: KernelRow): void {
  const parts = r.results.map((m) => {
    if (m.status !== 'ok') return `${m.impl} cannot`;
    const g = gflops(m, r.flopsPerImage);
    return `${m.impl} ${Number.isFinite(g) ? `${fmtNum(g)} GFLOP/s` : `${fmtNum(imagesPerSec(m))} img/s`}${m.n < r.fullN && m.samples.length > 0 ? ` (n=${m.n})` : ''}`;
  });
  console.log(`  ${r.workload} ${r.caseName} ${r.pass}: ${parts.join(' | ')}`);
}

function progressW3(r: ChildResult): void {
  console.log(
    `  W3 ${r.model} ${r.impl}: ${r.status === 'ok' ? `${fmtNum(r.imagesPerSec)} img/s (${r.steps}x${r.batch}${r.testAccuracy !== null ? `, test acc ${(100 * r.testAccuracy).toFixed(1)}%` : ''}, peak RSS ${fmtNum(r.peakRssMiB)} MiB)` : `cannot: ${r.message}`}`,
  );
}

/** "What could not be measured": every 'cannot', grouped by implementation and reason. */
function cannotNotes(rows: readonly KernelRow[], w3: readonly ChildResult[]): string[] {
  const groups = new Map<string, string[]>();
  const add = (key: string, where: string): void => {
    const g = groups.get(key);
    if (g === undefined) groups.set(key, [where]);
    else g.push(where);
  };
  for (const r of rows) for (const m of r.results) if (m.status !== 'ok') add(`${m.impl}\u0000${m.message ?? ''}`, `${r.workload} ${r.caseName} ${r.pass}`);
  for (const r of w3) if (r.status !== 'ok') add(`${r.impl}\u0000${r.message ?? ''}`, `W3 ${r.model}`);
  return [...groups].map(([key, where]) => {
    const [impl, why] = key.split('\u0000');
    return `${impl}, ${where.join(', ')}: ${why}`;
  });
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const cfg = parseConfig(argv);
  const t0 = performance.now();
  const machine = describeMachine();
  const b = budgets(cfg.quick);
  const inProcess = cfg.only.has('W1') || cfg.only.has('W2') || cfg.only.has('W4');
  console.log(`Stride bench: ${[...cfg.only].join(', ')}${cfg.quick ? ' (quick)' : ''}; ${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}, relaxed SIMD ${machine.relaxedSimd ? 'on' : 'off'}`);

  // The main thread can block for good (a deadlock in a thread pool): a worker thread watches.
  const dog = startWatchdog({
    timeoutMs: b.hangMs,
    stderr: '\nbench: no progress for {seconds} s during "{label}": a hang, aborting (Stride\'s wasm thread pool has deadlocked before: try --threads 1)\n',
  });
  const kernelTiming = { ...b.kernel, beat: dog.beat };
  const notes: string[] = [];
  const setup: [string, string][] = [];
  dog.beat('loading Stride');
  const s = await loadStride(cfg.threads);
  if (s.env === null) notes.push(`Stride not measured: ${s.error}`);
  else notes.push(...s.env.notes);
  const peers: Peers = { stride: s.env, tfjs: null, cnn: null };
  if (s.env !== null) {
    const st = s.env;
    setup.push([
      'Stride backends',
      st.backends.map((bk) => (bk === 'wasm' ? `wasm (build '${st.wasmVariant ?? '?'}', ${st.threads} thread${st.threads === 1 ? '' : 's'}, relaxed SIMD ${st.wasmVariant?.startsWith('relaxed') ? 'on' : 'off'})` : bk)).join('; '),
    ]);
  }
  if (inProcess) {
    dog.beat('loading TensorFlow.js');
    const t = await loadTfjs(cfg.threads);
    peers.tfjs = t.env;
    if (t.env === null) notes.push(`TensorFlow.js not measured: ${t.error}`);
    else {
      notes.push(...t.env.notes);
      let wasmLine = 'did not initialise';
      if (t.env.wasm.ok) {
        dog.pause(); // the probe has its own timeout
        const probe = probeTfjsWasmThreads(cfg.threads);
        wasmLine =
          `SIMD ${t.env.wasm.simd ? 'on' : 'off'}, ${t.env.wasm.threads} thread${t.env.wasm.threads === 1 ? '' : 's'} ` +
          `(asked for ${cfg.threads}; tfjs turns multithreading off under Node` +
          (probe.ok
            ? `; forcing it worked in a probe (${probe.threads} threads) but is not used`
            : `; forcing its threaded build fails: ${(probe.error ?? '').replace(/\s*Received "blob:[^"]*"/, '')}`) +
          ')';
      }
      setup.push(['TensorFlow.js', `${t.env.version}, production mode; cpu backend; wasm backend: ${wasmLine}`]);
    }
  }
  const c = loadConvNetJS();
  if (c.env === null) notes.push(`ConvNetJS not measured: ${c.error}`);
  else {
    peers.cnn = c.env;
    setup.push(['ConvNetJS', `${c.env.version} (plain JavaScript, one image at a time, Float64Array storage)`]);
  }

  const kernelRows: KernelRow[] = [];
  let w3: ChildResult[] = [];
  if (cfg.only.has('W1')) {
    console.log('W1: one convolution layer');
    kernelRows.push(...(await runW1(peers, W1_CASES.filter((cc) => cfg.cases.includes(cc.name)), kernelTiming, progressKernel)));
  }
  if (cfg.only.has('W2')) {
    console.log('W2: max pooling');
    kernelRows.push(...(await runW2(peers, kernelTiming, progressKernel)));
  }
  if (cfg.only.has('W3')) {
    console.log('W3: training (one child process per library and model)');
    const participants: W3Participant[] = [];
    for (const bk of s.env?.backends ?? []) participants.push({ lib: 'stride', backend: bk, impl: strideImpl(bk) });
    participants.push({ lib: 'tfjs', backend: 'cpu', impl: 'tfjs-cpu' }, { lib: 'tfjs', backend: 'wasm', impl: 'tfjs-wasm' }, { lib: 'convnetjs', backend: '', impl: 'ConvNetJS' });
    w3 = runW3({
      models: cfg.models, participants, batch: 64, lr: 0.01, seed: 1, threads: cfg.threads, probeBatch: 8, hangMs: b.hangMs, ...b.w3,
      onResult: progressW3,
      beforeChild: () => dog.pause(), // each child has its own watchdog and a hard timeout
    });
    const src = w3.find((r) => r.dataSource !== '')?.dataSource;
    if (src !== undefined) setup.push(['W3 data', `MNIST train split (first 80% of each digit: 7,996 images), test split (2,004); loaded by ${src}`]);
  }
  if (cfg.only.has('W4')) {
    console.log('W4: inference');
    const r = await runW4(peers, cfg.threads, { ...kernelTiming, budgetMs: 2 * kernelTiming.budgetMs }, progressKernel);
    kernelRows.push(...r.rows);
    notes.push(...r.notes);
  }

  dog.stop();
  notes.push(...cannotNotes(kernelRows, w3));
  if (s.env !== null && cfg.only.has('W1')) {
    notes.push("Stride's public API (Kernels.conv2dBackward) returns dX, dW and db from one call: its 'dX+dW' row is that call; the reference backend has no separate dX or dW.");
  }
  const strideImpls = (s.env?.backends ?? []).map(strideImpl);
  const report: BenchReport = {
    command: commandLine(argv),
    quick: cfg.quick,
    machine,
    setup,
    kernelRows,
    w3,
    notes,
    method: [
      `W1, W2, W4: inputs from a fixed seed. Each implementation is first run on one image (untimed warm-up, then one timed call) to plan its measurement within ${(b.kernel.budgetMs / 1000).toFixed(1)} s (W4: twice that): the whole batch with ${b.kernel.minReps}-${b.kernel.maxReps} timed repetitions after a warm-up call when they fit; else 3-${b.kernel.minReps - 1} repetitions of the whole batch; else 3 repetitions of the largest sub-batch that fits, re-planned after one call at that size ("~" in ms/batch, "sub-batch" in the note). The timed calls run in rounds, one call of each implementation per round (interleaved). Figures are medians, per image processed.`,
      `W3: each library and model in a child process; one or two probe steps of 8 images first. A whole epoch (then the test accuracy) when the probe predicts it fits ${(b.w3.epochBudgetMs / 1000).toFixed(0)} s, with a fresh model; else batches are timed for ${(b.w3.budgetMs / 1000).toFixed(0)} s and images/s extrapolated. Same shuffled order (seed 1) for every library; each library's own default initialisation (seeded where it takes a seed).`,
      'TensorFlow.js results are read back (dataSync) inside the timed call, as Stride returns its results in a Float32Array.',
      'The machine is shared: absolute figures move with other jobs; the ratios (measured in the same rounds) are the figures that count.',
    ],
    durationSec: (performance.now() - t0) / 1000,
    primary: strideImpls[0] ?? '',
    strideImpls,
  };
  console.log('\n' + renderText(report));
  if (cfg.write) {
    writeFileAtomic(cfg.out, keepSections(cfg.out, renderMarkdown(report)));
    console.log(`wrote ${relative(process.cwd(), cfg.out) || cfg.out}`);
  }
}

main().then(
  () => process.exit(0), // Stride's worker threads would keep the process alive
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  },
);
