/**
 * `npm run bench`: the workloads W1-W4 of WORKLOADS.md, Stride beside TensorFlow.js (cpu and wasm
 * backends) and ConvNetJS, in one run, interleaved. Prints tables and writes bench/RESULTS.md.
 *
 *   npm run bench                       # everything (about 10-15 minutes)
 *   npm run bench -- --quick            # shorter time budgets (a few minutes)
 *   npm run bench -- --only W1,W2       # some workloads
 *   npm run bench -- --threads 1        # Stride wasm threads (and the tfjs-wasm request)
 *   npm run bench -- --cases c1,c3 --models small --out /tmp/r.md --no-write
 *   npm run bench -- --only peak,W1 --peers pytorch   # the wasm peak and W1, PyTorch as the only peer
 *   npm run bench -- --only W5,threads                # scale and thread scaling
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
import { loadOrt, ORT } from './peers/ort.js';
import { loadPytorch, PYTORCH, pytorchW1, pytorchW3, type PyTiming } from './peers/pytorch.js';
import { measurePeak, type PeakResult } from './peak/peak.js';
import { emptyExtra, type ExtraSections } from './report-extra.js';
import { runW5 } from './workloads/w5-scale.js';
import { runThreadScaling, type ScalingRow } from './workloads/threads-scaling.js';
import { loadMnistArrays } from './workloads/mnist-data.js';
import { Rng } from '../src/tensor/random.js';
import { fmtNum, gflops, imagesPerSec, renderMarkdown, renderText, writeFileAtomic, type BenchReport, type KernelRow } from './report.js';
import { W1_CASES, type ModelName } from './shapes.js';
import { runW1 } from './workloads/w1-conv.js';
import { runW2 } from './workloads/w2-pool.js';
import { runW3, type W3Participant } from './workloads/w3-train.js';
import { runW4 } from './workloads/w4-infer.js';
import { startWatchdog } from './watchdog.js';
import type { ChildResult } from './workloads/train-child.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const WORKLOADS = ['peak', 'W1', 'W2', 'W3', 'W4', 'W5', 'threads'] as const;
/** Optional peers (--peers); Stride is always measured. */
const PEERS = ['reference', 'tfjs', 'convnetjs', 'pytorch', 'ort'] as const;

const USAGE = `usage: npm run bench -- [options]
  --quick            shorter time budgets (fewer repetitions, sub-batches for slow libraries)
  --only W1,W3       run only these sections: peak (wasm SIMD128 peak), W1 conv layer, W2 pooling,
                     W3 training, W4 inference, W5 scale, threads (thread scaling); default all
  --peers tfjs,ort   only these peers (reference = Stride's reference backend, tfjs, convnetjs,
                     pytorch, ort = onnxruntime-web), or none; default all.
                     PyTorch runs $STRIDE_BENCH_PYTHON (else python3) when it can import torch
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
  peers: Set<string>;
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
      peers: { type: 'string' },
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
    peers: new Set(values.peers?.trim() === 'none' ? [] : list(values.peers, PEERS, 'peers')),
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
    ? { kernel: { budgetMs: 2000, minReps: 5, maxReps: 7 }, w3: { budgetMs: 8000, epochBudgetMs: 25_000 }, hangMs: 300_000, peak: { iterations: 3e7, runs: 7 }, w5: { budgetMs: 1000, minReps: 5, maxReps: 7 } }
    : { kernel: { budgetMs: 4000, minReps: 5, maxReps: 15 }, w3: { budgetMs: 30_000, epochBudgetMs: 120_000 }, hangMs: 300_000, peak: { iterations: 1e8, runs: 7 }, w5: { budgetMs: 1500, minReps: 5, maxReps: 9 } };
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
  const inProcess = (cfg.only.has('W1') || cfg.only.has('W2') || cfg.only.has('W4')) && cfg.peers.has('tfjs');
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
  if (s.env !== null && !cfg.peers.has('reference')) s.env.backends = s.env.backends.filter((bk) => bk !== 'reference');
  if (s.env === null) notes.push(`Stride not measured: ${s.error}`);
  else notes.push(...s.env.notes);
  const peers: Peers = { stride: s.env, tfjs: null, cnn: null, ort: null, torch: null };
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
  const c = cfg.peers.has('convnetjs') ? loadConvNetJS() : { env: null, error: 'not asked for (--peers)' };
  if (c.env === null) {
    if (cfg.peers.has('convnetjs')) notes.push(`ConvNetJS not measured: ${c.error}`);
  } else {
    peers.cnn = c.env;
    setup.push(['ConvNetJS', `${c.env.version} (plain JavaScript, one image at a time, Float64Array storage)`]);
  }

  const wantsTorch = cfg.peers.has('pytorch') && ['W1', 'W3', 'W4', 'W5'].some((w) => cfg.only.has(w));
  if (wantsTorch) {
    dog.pause(); // the probe has its own timeout
    const t = loadPytorch(cfg.threads);
    peers.torch = t.env;
    if (t.env === null) notes.push(t.note ?? 'PyTorch not measured');
    else {
      setup.push([
        'PyTorch',
        `${t.env.version} via ${t.env.python}; CPU, ${t.env.threads} thread${t.env.threads === 1 ? '' : 's'} (torch.set_num_threads), CPU capability ${t.env.cpuCapability}, oneDNN ${t.env.mkldnn ? 'on' : 'off'}; ` +
          'memory format per row: the faster of contiguous (NCHW) and channels_last, named in each row',
      ]);
      notes.push('PyTorch runs in its own Python process after Stride\'s calls of the same row: same run, but not interleaved call by call.');
    }
  }
  const py: PyTiming | undefined = peers.torch !== null ? { threads: cfg.threads, ...b.kernel } : undefined;
  if (cfg.peers.has('ort') && cfg.only.has('W4')) {
    dog.beat('loading onnxruntime-web');
    const o = await loadOrt();
    peers.ort = o.env;
    if (o.env === null) notes.push(`onnxruntime-web not measured: ${o.error}`);
  }

  const kernelRows: KernelRow[] = [];
  let w3: ChildResult[] = [];
  const extra: ExtraSections = { ...emptyExtra(), strideThreads: s.env?.threads ?? 1 };
  if (cfg.only.has('peak')) {
    console.log('peak: WebAssembly SIMD128 FMA and mul+add peaks (independent chains, 1 and 2 workers)');
    dog.beat('the wasm peak', 600_000);
    try {
      extra.peak = await measurePeak({ threads: [1, 2], relaxed: machine.relaxedSimd, ...b.peak }, (r: PeakResult) =>
        console.log(`  ${r.kind} ${r.threads} thread${r.threads === 1 ? '' : 's'}: ${fmtNum(r.gflops)} GFLOP/s (runs ${r.samples.map(fmtNum).join(', ')})`),
      );
      if (!machine.relaxedSimd) notes.push('peak: relaxed SIMD is off in this engine, so only the mul+add peak is measured');
    } catch (e) {
      notes.push(`peak not measured: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
    }
  }
  if (cfg.only.has('W1')) {
    console.log('W1: one convolution layer');
    const cases = W1_CASES.filter((cc) => cfg.cases.includes(cc.name));
    const rows = await runW1(peers, cases, kernelTiming, progressKernel);
    if (peers.torch !== null && py !== undefined) {
      dog.pause();
      const t = pytorchW1(peers.torch, cases, ['forward', 'dX', 'dW', 'dX+dW'], py);
      for (const r of rows) {
        const m = t.get(`${r.caseName} ${r.pass}`);
        if (m === undefined) continue;
        r.results.push(m);
        console.log(`  W1 ${r.caseName} ${r.pass}: ${PYTORCH} ${m.status === 'ok' ? `${fmtNum(gflops(m, r.flopsPerImage))} GFLOP/s` : `cannot: ${m.message ?? ''}`}`);
      }
    }
    kernelRows.push(...rows);
    if (extra.peak.length > 0) {
      // The peak again at the kernels' thread count: if the machine's load moved during W1, this shows it.
      dog.beat('the wasm peak after W1', 600_000);
      try {
        extra.peakAfter = await measurePeak({ threads: [extra.strideThreads], relaxed: machine.relaxedSimd, ...b.peak }, (r: PeakResult) =>
          console.log(`  peak after W1: ${r.kind} ${r.threads} thread${r.threads === 1 ? '' : 's'}: ${fmtNum(r.gflops)} GFLOP/s`),
        );
      } catch (e) {
        notes.push(`peak after W1 not measured: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
      }
    }
  }
  if (cfg.only.has('W2')) {
    console.log('W2: max pooling');
    kernelRows.push(...(await runW2(peers, kernelTiming, progressKernel)));
  }
  if (cfg.only.has('W3')) {
    console.log('W3: training (one child process per library and model)');
    const participants: W3Participant[] = [];
    for (const bk of s.env?.backends ?? []) participants.push({ lib: 'stride', backend: bk, impl: strideImpl(bk) });
    if (cfg.peers.has('tfjs')) participants.push({ lib: 'tfjs', backend: 'cpu', impl: 'tfjs-cpu' }, { lib: 'tfjs', backend: 'wasm', impl: 'tfjs-wasm' });
    if (cfg.peers.has('convnetjs')) participants.push({ lib: 'convnetjs', backend: '', impl: 'ConvNetJS' });
    w3 = runW3({
      models: cfg.models, participants, batch: 64, lr: 0.01, seed: 1, threads: cfg.threads, probeBatch: 8, hangMs: b.hangMs, ...b.w3,
      onResult: progressW3,
      beforeChild: () => dog.pause(), // each child has its own watchdog and a hard timeout
    });
    if (peers.torch !== null) {
      const train = await loadMnistArrays('train');
      const test = await loadMnistArrays('test');
      const order = new Rng(1).permutation(train.n); // the Stride child's order (seed 1)
      for (const model of cfg.models) {
        const r = pytorchW3(peers.torch, model, { train, test, order }, { batch: 64, lr: 0.01, seed: 1, threads: cfg.threads, timeoutMs: 2 * b.w3.epochBudgetMs + 120_000 });
        progressW3(r);
        const at = w3.map((q) => q.model).lastIndexOf(model);
        w3.splice(at < 0 ? w3.length : at + 1, 0, r);
      }
    }
    const src = w3.find((r) => r.dataSource !== '')?.dataSource;
    if (src !== undefined) setup.push(['W3 data', `MNIST train split (first 80% of each digit: 7,996 images), test split (2,004); loaded by ${src}`]);
  }
  if (cfg.only.has('W4')) {
    console.log('W4: inference');
    const r = await runW4(peers, cfg.threads, { ...kernelTiming, budgetMs: 2 * kernelTiming.budgetMs }, progressKernel, py);
    kernelRows.push(...r.rows);
    notes.push(...r.notes);
    if (r.ort !== undefined && peers.ort !== null) {
      const o = r.ort;
      setup.push([
        ORT,
        `${peers.ort.version}, wasm backend, SIMD on, env.wasm.numThreads = ${o.asked}: ` +
          `${o.newThreads === null ? 'threads it started unknown' : `the session started ${o.newThreads} OS thread${o.newThreads === 1 ? '' : 's'} (its pthread pool)`}, ` +
          `CPU time / wall time of its timed calls ${Number.isFinite(o.cpuPerWall) ? o.cpuPerWall.toFixed(2) : '—'} (≈ threads busy); ` +
          'an untimed 100 ms pause after each of its calls (its process keeps a third of a core busy for about 50 ms after a batch, which slowed the next implementation\'s call by a quarter to a third); ' +
          `model: Stride's lenet (seed 1) exported by src/onnx/export.ts, output checked against Stride's before timing (largest difference ${o.maxDiff === undefined ? '—' : o.maxDiff.toExponential(1)}; at most 1e-4)`,
      ]);
    }
  }

  if (cfg.only.has('W5')) {
    console.log('W5: scale (conv 3x3 x16 same + relu + maxpool 2 on HxWx3)');
    dog.pause();
    const r = await runW5(peers, { ...b.w5, beat: dog.beat }, py !== undefined ? { ...py, ...b.w5 } : undefined, (row) => {
      for (const m of row.results) {
        console.log(`  W5 ${row.h}x${row.h} batch ${row.n} ${m.impl}: ${m.status === 'ok' ? `${fmtNum(m.msPerImage)} ms/image, ${fmtNum((m.msPerImage * 1e6) / (row.h * row.h))} ns/pixel` : `cannot: ${m.message ?? ''}`}`);
      }
    });
    extra.w5 = r.rows;
    notes.push(...r.skipped.map((t) => `W5: ${t}`));
  }
  if (cfg.only.has('threads')) {
    console.log(`threads: Stride wasm at 1, 2, 4, 8 threads (${machine.cores} cores)`);
    dog.pause();
    const scaling: ScalingRow[] = await runThreadScaling(
      peers, machine.cores, { ...b.kernel, beat: dog.beat },
      { batch: 64, lr: 0.01, seed: 1, probeBatch: 8, hangMs: b.hangMs, ...b.w3, beforeChild: () => dog.pause() },
      cfg.threads,
      (r) => console.log(`  ${r.workload} at ${r.threads} thread${r.threads === 1 ? '' : 's'}: ${fmtNum(r.value)} ${r.unit}${r.workingThreads !== null ? ` (${r.workingThreads} ran chunks)` : ''}${r.note !== '' ? `; ${r.note}` : ''}`),
    );
    extra.scaling = scaling;
    if (scaling.length === 0) notes.push("threads: not measured (no 'wasm' backend)");
    else if (machine.cores < 8) notes.push(`threads: this machine has ${machine.cores} cores, so counts above ${machine.cores} are oversubscribed (they show that nothing caps the count, not what more cores would give)`);
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
    extra,
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
