/**
 * The bench's newer sections, without timing anything: W5's geometry and FLOPs, the peak module's
 * arithmetic (what its loops compute is what the FLOP count assumes), the peers' plumbing
 * (PyTorch skip note, Python rows, onnxruntime-web's output check) and the report's new tables.
 */
import { test } from 'node:test';
import v8 from 'node:v8';
import assert from 'node:assert/strict';
import { computeConv2DInfo, conv2dFlops } from '../../src/kernels/conv-info.js';
import { compilePeak, peakFlops, type PeakResult } from '../../bench/peak/peak.js';
import { loadPytorch, pyMeasurement, pythonCommand, pytorchSkipNote, PYTORCH } from '../../bench/peers/pytorch.js';
import { maxAbsDiff } from '../../bench/peers/ort.js';
import { wasmFeatures } from '../../bench/machine.js';
import { extraSections, latencyTable, peakDrift, peakRatioTable, peakTable, referencePeak, scalingTable, w5Table } from '../../bench/report-extra.js';
import { renderMarkdown, type BenchReport, type KernelRow } from '../../bench/report.js';
import type { Measurement } from '../../bench/timing.js';
import { nsPerPixel, w5Combos, w5FlopsPerImage, w5SkipReason, W5_BATCHES, W5_SIZES, type W5Row } from '../../bench/workloads/w5-scale.js';
import { oversubscription, speedups, type ScalingRow } from '../../bench/workloads/threads-scaling.js';

test('W5 FLOPs: 2 * H * W * 16 * 3 * 3 * 3 per image, by hand and as conv-info counts them', () => {
  assert.equal(w5FlopsPerImage(28), 2 * 28 * 28 * 16 * 27); // 677,376
  assert.equal(w5FlopsPerImage(28), 677_376);
  for (const h of W5_SIZES) {
    const info = computeConv2DInfo('test', [1, h, h, 3], [3, 3, 3, 16], { stride: 1, padding: 'same' });
    assert.equal(info.outH, h);
    assert.equal(w5FlopsPerImage(h), conv2dFlops(info), `${h}x${h}`);
  }
});

test('W5 combinations: sizes x batches, only 224x224 at batch 256 skipped, with its reason', () => {
  assert.deepEqual([...W5_SIZES], [28, 64, 128, 224]);
  assert.deepEqual([...W5_BATCHES], [1, 8, 64, 256]);
  const { run, skipped } = w5Combos();
  assert.equal(run.length, 15);
  assert.deepEqual(run[0], [28, 1]);
  assert.ok(run.some(([h, n]) => h === 128 && n === 256));
  assert.ok(!run.some(([h, n]) => h === 224 && n === 256));
  assert.equal(skipped.length, 1);
  assert.match(skipped[0], /^224x224 at batch 256 skipped: the conv output alone is 822 MB/);
  assert.equal(w5SkipReason(224, 64), null);
});

test('nsPerPixel: time per input pixel, flat when time is linear in H * W', () => {
  assert.equal(nsPerPixel(1, 1000, 1000), 1); // 1 ms over 10^6 pixels
  assert.equal(nsPerPixel(4 * 0.5, 64), nsPerPixel(0.5, 32)); // 4x the pixels in 4x the time
  assert.equal(nsPerPixel(1, 64), 4 * nsPerPixel(1, 128));
});

test('the peak module computes the chains its FLOP count assumes (12 chains of a = a * s + (1 - s))', async () => {
  v8.setFlagsFromString('--experimental-wasm-relaxed-simd'); // on by default from Node 22; Node 20 needs the flag
  assert.ok(wasmFeatures().relaxedSimd, 'relaxed SIMD after enabling the V8 flag');
  const mod = await WebAssembly.compile(await compilePeak(true));
  const ex = new WebAssembly.Instance(mod, {}).exports as { fma: (n: number, s: number) => number; muladd: (n: number, s: number) => number; CHAINS: WebAssembly.Global };
  assert.equal(ex.CHAINS.value, 12);
  // After n steps a chain started at a0 is 1 + (a0 - 1) s^n; lane 0 of the 12 chains (a0 = 0.01 i) summed.
  const expect = (n: number, s: number): number => {
    let sum = 0;
    for (let i = 0; i < 12; i++) sum += 1 + (Math.fround(i * 0.01) - 1) * s ** n;
    return sum;
  };
  for (const [n, s] of [[0, 0.5], [1, 0.5], [7, 0.75]] as const) {
    assert.ok(Math.abs(ex.muladd(n, s) - expect(n, s)) < 1e-5, `muladd(${n}, ${s}) = ${ex.muladd(n, s)}, expected ${expect(n, s)}`);
    const f = ex.fma(n, s);
    assert.ok(Math.abs(f - expect(n, s)) < 1e-5, `fma(${n}, ${s}) = ${f}, expected ${expect(n, s)}`);
  }
  assert.equal(peakFlops(1e8, 12), 9.6e9);
});

test('PyTorch: the interpreter is $STRIDE_BENCH_PYTHON, else python3; a missing one is skipped with a note naming it', () => {
  assert.equal(pythonCommand({}), 'python3');
  assert.equal(pythonCommand({ STRIDE_BENCH_PYTHON: '  ' }), 'python3');
  assert.equal(pythonCommand({ STRIDE_BENCH_PYTHON: '/opt/venv/bin/python' }), '/opt/venv/bin/python');
  const r = loadPytorch(2, { STRIDE_BENCH_PYTHON: '/nonexistent/stride-test/python' });
  assert.equal(r.env, null);
  assert.match(r.note ?? '', /^PyTorch not measured: `\/nonexistent\/stride-test\/python -c "import torch"` failed \(.+\); set STRIDE_BENCH_PYTHON/);
  assert.match(pytorchSkipNote('py', 'No module named torch'), /failed \(No module named torch\)/);
});

test('pyMeasurement: a Python row becomes a bench measurement; a failure becomes cannot', () => {
  const ok = pyMeasurement({ status: 'ok', n: 32, reps: 5, samples: [1, 2, 3, 4, 5], medianMs: 3, msPerImage: 3 / 32, note: 'channels_last' });
  assert.equal(ok.impl, PYTORCH);
  assert.equal(ok.status, 'ok');
  assert.equal(ok.msPerImage, 3 / 32);
  assert.match(ok.note ?? '', /^channels_last /);
  const bad = pyMeasurement({ status: 'cannot', message: "'same' padding here is asymmetric" });
  assert.equal(bad.status, 'cannot');
  assert.match(bad.message ?? '', /asymmetric/);
});

test('maxAbsDiff: largest difference; NaN and length mismatches never pass a tolerance', () => {
  assert.equal(maxAbsDiff([1, 2, 3], [1, 2.5, 2]), 1);
  assert.equal(maxAbsDiff([], []), 0);
  assert.equal(maxAbsDiff([1, NaN], [1, 1]), Infinity);
  assert.equal(maxAbsDiff([1], [1, 2]), Infinity);
});

const ok = (impl: string, msPerImage: number, n: number, note?: string): Measurement & { note?: string } => ({
  impl, status: 'ok', n, reps: 5, samples: new Array<number>(5).fill(msPerImage * n), medianMs: msPerImage * n, msPerImage, note,
});
const peak = (kind: PeakResult['kind'], threads: number, gflops: number): PeakResult => ({ kind, threads, gflops, samples: [gflops], cpuGflops: gflops, iterations: 1, chains: 12 });

test('peak tables: the reference peak is the one at the kernels\' thread count; W1 passes as a percentage of it', () => {
  const peaks = [peak('fma', 1, 60), peak('muladd', 1, 50), peak('fma', 2, 120), peak('muladd', 2, 100)];
  assert.equal(referencePeak(peaks, 'fma', 2)?.gflops, 120);
  assert.equal(referencePeak(peaks, 'fma', 1)?.gflops, 60);
  assert.equal(referencePeak(peaks, 'fma', 8)?.threads, 2); // the largest measured count below
  assert.equal(referencePeak([], 'fma', 2), null);
  assert.deepEqual(peakTable(peaks).rows[2].slice(0, 3), ['f32x4.relaxed_madd, 12 chains', '2', '120']);
  // 2e6 FLOPs per image at 0.02 ms per image = 100 GFLOP/s: 83% of 120, 100% of 100.
  const rows: KernelRow[] = ['forward', 'dX', 'dW', 'dX+dW'].map((pass) => ({
    workload: 'W1', caseName: 'c2', pass, detail: '', fullN: 32, flopsPerImage: 2e6, results: [ok('Stride wasm', 0.02, 32)],
  }));
  const t = peakRatioTable(rows, 'Stride wasm', peaks, 2);
  assert.equal(t.rows.length, 3); // not the fused dX+dW
  assert.deepEqual(t.rows[0], ['c2', 'forward', '100', '83%', '100%']);
  assert.match(t.headers[3], /FMA peak \(120, 2 thr\.\)/);
});

test('the peak measured again after W1: the larger one is the reference, and a moved peak is flagged', () => {
  const before = [peak('fma', 2, 100), peak('muladd', 2, 90)];
  const after = [peak('fma', 2, 125)];
  assert.equal(referencePeak([...before, ...after], 'fma', 2)?.gflops, 125);
  assert.equal(peakDrift(before, after, 'fma', 2), 1.25);
  assert.ok(Number.isNaN(peakDrift(before, [], 'fma', 2)));
  const rows: KernelRow[] = [{ workload: 'W1', caseName: 'c3', pass: 'forward', detail: '', fullN: 32, flopsPerImage: 2e6, results: [ok('Stride wasm', 0.02, 32)] }];
  const moved = extraSections({ peak: before, peakAfter: after, strideThreads: 2, w5: [], scaling: [] }, rows, 'Stride wasm');
  const ratios = moved.find((x) => x.title.startsWith('W1 kernels'))!;
  assert.match(ratios.caption.join(' '), /moved by 25%.*not reliable/);
  assert.deepEqual(ratios.table.rows[0].slice(3), ['80%', '111%']);
  assert.match(moved[0].table.rows.map((r) => r[0]).join('\n'), /relaxed_madd, 12 chains \(after W1\)/);
  const steady = extraSections({ peak: before, peakAfter: [peak('fma', 2, 105)], strideThreads: 2, w5: [], scaling: [] }, rows, 'Stride wasm');
  assert.match(steady.find((x) => x.title.startsWith('W1 kernels'))!.caption.join(' '), /agree within 5%/);
});

function w5Rows(): W5Row[] {
  return [
    { h: 28, n: 1, flopsPerImage: w5FlopsPerImage(28), results: [ok('Stride wasm', 0.2, 1), ok(PYTORCH, 0.1, 1, 'channels_last')] },
    { h: 28, n: 8, flopsPerImage: w5FlopsPerImage(28), results: [ok('Stride wasm', 0.1, 8)] },
    { h: 64, n: 1, flopsPerImage: w5FlopsPerImage(64), results: [ok('Stride wasm', 0.5, 1), { impl: PYTORCH, status: 'cannot', message: 'x', n: 0, reps: 0, samples: [], medianMs: NaN, msPerImage: NaN }] },
  ];
}

test('W5 tables: per image, per pixel, ratio to Stride; batch-1 latency by size', () => {
  const t = w5Table(w5Rows(), 'Stride wasm');
  assert.deepEqual(t.headers.slice(0, 7), ['input', 'batch', 'impl', 'ms/batch', 'ms/image', 'ns/pixel', 'GFLOP/s']);
  // 0.1 ms per image over 28 * 28 pixels = 128 ns per pixel; Stride takes twice as long: 0.5x.
  assert.deepEqual(t.rows[1].slice(0, 9), ['28x28x3', '1', PYTORCH, '0.100', '0.100', '128', '6.77', '5×1', '0.500×']);
  assert.equal(t.rows[2][3], '0.800'); // batch of 8 at 0.1 ms
  assert.equal(t.rows[4][3], 'cannot');
  const l = latencyTable(w5Rows());
  assert.deepEqual(l.headers, ['input', 'Stride wasm ms', 'PyTorch ms']);
  assert.deepEqual(l.rows, [['28x28x3', '0.200', '0.100'], ['64x64x3', '0.500', '—']]);
});

test('thread scaling: speed-up over 1 thread, oversubscription noted', () => {
  const rows: ScalingRow[] = [1, 2, 4].map((t) => ({
    workload: 'W1 c3 forward', threads: t, poolThreads: t, workingThreads: t, value: t === 1 ? 50 : 90, unit: 'GFLOP/s', note: oversubscription(t, 2),
  }));
  assert.deepEqual(speedups(rows), [1, 1.8, 1.8]);
  assert.equal(oversubscription(2, 2), '');
  assert.equal(oversubscription(8, 2), 'oversubscribed: 8 threads on 2 cores');
  const t = scalingTable(rows);
  assert.deepEqual(t.rows[2], ['W1 c3 forward', '4', '4', '4', '90.0 GFLOP/s', '1.80×', 'oversubscribed: 4 threads on 2 cores']);
});

test('renderMarkdown prints the peak, W5, latency and scaling sections when they ran, and none when not', () => {
  const base: BenchReport = {
    command: 'npm run bench -- --only peak,W5', quick: false,
    machine: {
      cpuModel: 'Test CPU', cores: 2, cpuFlags: [], node: 'v20', v8: '11', platform: 'Linux', totalMemGiB: 8, loadAvg: [0, 0, 0],
      date: '2026-01-01T00:00:00.000Z', relaxedSimd: true, simd: true, execArgv: [],
    },
    setup: [], kernelRows: [], w3: [], notes: [], method: [], durationSec: 1, primary: 'Stride wasm', strideImpls: ['Stride wasm'],
  };
  const md = renderMarkdown({ ...base, extra: { peak: [peak('fma', 2, 125)], peakAfter: [], strideThreads: 2, w5: w5Rows(), scaling: [] } });
  assert.match(md, /## WebAssembly SIMD128 peak \(bench\/peak\)/);
  assert.match(md, /\| f32x4\.relaxed_madd, 12 chains \| 2 \| 125 \|/);
  assert.match(md, /## W5: scale/);
  assert.match(md, /## W5 batch-1 latency/);
  assert.doesNotMatch(md, /Thread scaling/);
  assert.doesNotMatch(md, /W1 kernels as a fraction/); // no W1 rows
  const none = renderMarkdown(base);
  assert.doesNotMatch(none, /## .*(SIMD128 peak|W5|latency)/);
});

test('measureRow calibrates on calibrationBatch images when a subject asks (else one), then runs the whole batch', async () => {
  const { measureRow } = await import('../../bench/timing.js');
  const made: number[][] = [[], []];
  const subject = (i: number, calibrationBatch?: number) => ({
    impl: `s${i}`, calibrationBatch,
    make: (n: number) => {
      made[i].push(n);
      return { run: async () => undefined }; // asynchronous runs (onnxruntime-web's) are awaited
    },
  });
  // A budget no call can exhaust: the plan is the whole batch whatever the machine's load (no timing in this test).
  const ms = await measureRow([subject(0), subject(1, 32)], { fullN: 256, budgetMs: 1e12, minReps: 5, maxReps: 5 });
  assert.deepEqual(made[0], [1, 256]);
  assert.deepEqual(made[1], [32, 256]);
  assert.ok(ms.every((m) => m.status === 'ok' && m.n === 256 && m.reps === 5));
});
