/**
 * The benchmark's arithmetic and report writer (nothing here is timed): output sizes and FLOP
 * counts of the WORKLOADS.md cases, run planning, medians, and the tables of a made-up result set.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeConv2DInfo, conv2dFlops } from '../../src/kernels/conv-info.js';
import {
  W1_CASES,
  convFlops,
  convFlopsPerImage,
  convOutShape,
  convOutSize,
  modelFlopsPerImage,
  modelShapes,
  MODELS,
  passFlopFactor,
  samePadding,
} from '../../bench/shapes.js';
import { median, planRuns, type Measurement } from '../../bench/timing.js';
import { kernelTable, renderMarkdown, renderText, toText, w3Table, writeFileAtomic, type BenchReport, type KernelRow } from '../../bench/report.js';
import type { ChildResult } from '../../bench/workloads/train-child.js';

test('convOutSize: same = ceil(in / stride), valid = floor((in - k) / stride) + 1', () => {
  assert.equal(convOutSize(28, 5, 1, 'same'), 28);
  assert.equal(convOutSize(7, 3, 2, 'same'), 4);
  assert.equal(convOutSize(56, 3, 2, 'valid'), 27);
  assert.equal(convOutSize(5, 5, 1, 'valid'), 1);
  assert.equal(convOutSize(14, 3, 3, 'valid'), 4);
  assert.throws(() => convOutSize(4, 5, 1, 'valid'), /does not fit/);
  assert.throws(() => convOutSize(0, 3, 1, 'same'), /positive integers/);
});

test('samePadding puts the odd pixel after (TensorFlow SAME)', () => {
  assert.deepEqual(samePadding(28, 5, 1), { before: 2, after: 2 });
  assert.deepEqual(samePadding(5, 4, 1), { before: 1, after: 2 });
  assert.deepEqual(samePadding(8, 3, 2), { before: 0, after: 1 });
});

test('W1 FLOPs: 2 * N * Ho * Wo * Cout * fh * fw * Cin, by hand for c1 and c4', () => {
  const c1 = W1_CASES.find((c) => c.name === 'c1')!;
  const c4 = W1_CASES.find((c) => c.name === 'c4')!;
  assert.deepEqual(convOutShape(c1), [28, 28]);
  assert.deepEqual(convOutShape(c4), [27, 27]);
  assert.equal(convFlops(c1), 40_140_800); // 2 * 32 * 28 * 28 * 32 * 5 * 5 * 1
  assert.equal(convFlops(c4), 3_439_853_568); // 2 * 32 * 27 * 27 * 128 * 3 * 3 * 64
  assert.equal(convFlopsPerImage(c4) * 32, convFlops(c4));
  assert.equal(passFlopFactor('forward'), 1);
  assert.equal(passFlopFactor('dX+dW'), 2);
});

test('W1 geometry and FLOPs agree with src/kernels/conv-info.ts for every case', () => {
  for (const c of W1_CASES) {
    const info = computeConv2DInfo('test', [c.n, c.h, c.w, c.inC], [c.k, c.k, c.inC, c.outC], { stride: c.stride, padding: c.padding });
    assert.deepEqual(convOutShape(c), [info.outH, info.outW], c.name);
    assert.equal(convFlops(c), conv2dFlops(info), c.name);
  }
});

test('model shapes and forward FLOPs of small and lenet', () => {
  const small = modelShapes(MODELS.small).shapes;
  assert.deepEqual(small[small.length - 2], [256]); // 4 x 4 x 16 after maxpool 3/3 of 14 x 14
  assert.deepEqual(small[small.length - 1], [10]);
  const lenet = modelShapes(MODELS.lenet).shapes;
  assert.deepEqual(lenet[5], [7, 7, 64]);
  assert.deepEqual(lenet[6], [3136]);
  // conv1 2*28*28*32*25*1 + conv2 2*14*14*64*25*32 + dense 2*3136*256 + dense 2*256*10
  assert.equal(modelFlopsPerImage('lenet'), 1_254_400 + 20_070_400 + 1_605_632 + 5_120);
  assert.equal(modelFlopsPerImage('small'), 2 * 28 * 28 * 8 * 25 + 2 * 14 * 14 * 16 * 25 * 8 + 2 * 256 * 10);
});

test('median of odd and even lists; empty throws', () => {
  assert.equal(median([5, 1, 3]), 3);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.throws(() => median([]), /empty/);
});

test('planRuns: full batch when it fits, fewer repetitions, then sub-batches', () => {
  // 0.1 ms per image, 32 images, 1 s: 3.2 ms per call, 312 fit: capped at maxReps.
  assert.deepEqual(planRuns(0.1, 32, 1000, 5, 15), { n: 32, reps: 15, warmup: true });
  // 7 ms per image: 224 ms per call, 4 fit in 1 s (fewer than 5): full batch, 4 repetitions, warm-up (<= 1/4 budget).
  assert.deepEqual(planRuns(7, 32, 1000, 5, 15), { n: 32, reps: 4, warmup: true });
  // 8 ms per image: 256 ms per call, 3 fit: full batch, 3 repetitions, no warm-up (> 1/4 budget).
  assert.deepEqual(planRuns(8, 32, 1000, 5, 15), { n: 32, reps: 3, warmup: false });
  // 100 ms per image: 3 repetitions of the largest sub-batch that fits: floor(1000 / 300) = 3 images.
  assert.deepEqual(planRuns(100, 32, 1000, 5, 15), { n: 3, reps: 3, warmup: false });
  // 600 ms per image: one image, as many repetitions as fit (1).
  assert.deepEqual(planRuns(600, 32, 1000, 5, 15), { n: 1, reps: 1, warmup: false });
  assert.throws(() => planRuns(1, 0, 1000, 5, 15), /bad arguments/);
  assert.throws(() => planRuns(1, 32, 1000, 5, 4), /bad arguments/);
});

const ok = (impl: string, msPerImage: number, n = 32, reps = 5): Measurement => ({
  impl, status: 'ok', n, reps, samples: new Array<number>(reps).fill(msPerImage * n), medianMs: msPerImage * n, msPerImage,
});

function fakeReport(): BenchReport {
  const row: KernelRow = {
    workload: 'W1', caseName: 'c1', pass: 'forward', detail: 'N=32 …', fullN: 32, flopsPerImage: 2e6,
    results: [
      ok('Stride wasm', 0.1),
      ok('tfjs-cpu', 0.4, 4, 3),
      { impl: 'tfjs-wasm', status: 'cannot', message: "Kernel 'X' not registered", n: 0, reps: 0, samples: [], medianMs: NaN, msPerImage: NaN },
    ],
  };
  const w3: ChildResult = {
    impl: 'Stride wasm', model: 'small', status: 'ok', batch: 64, steps: 125, images: 7996, ms: 4000, imagesPerSec: 1999, fullEpoch: true,
    testAccuracy: 0.8123, firstLoss: 2.3, lastLoss: 0.9, rssBeforeMiB: 100, peakRssMiB: 150, dataSource: 'x', note: 'one epoch',
  };
  const w3peer: ChildResult = { ...w3, impl: 'ConvNetJS', imagesPerSec: 500, testAccuracy: null, fullEpoch: false, steps: 3, note: 'extrapolated' };
  return {
    command: 'npm run bench -- --quick', quick: true,
    machine: {
      cpuModel: 'Test CPU', cores: 2, cpuFlags: ['avx2'], node: 'v20.0.0', v8: '11.3', platform: 'Linux', totalMemGiB: 8, loadAvg: [1, 1, 1],
      date: '2026-01-01T00:00:00.000Z', relaxedSimd: true, simd: true, execArgv: ['--experimental-wasm-relaxed-simd'],
    },
    setup: [['Stride backends', 'wasm (2 threads)']], kernelRows: [row], w3: [w3, w3peer], notes: ['tfjs-wasm cannot X'], method: ['medians'],
    durationSec: 12, primary: 'Stride wasm', strideImpls: ['Stride wasm'],
  };
}

test('kernelTable: GFLOP/s, images/s, sub-batch marks, ratios and cannot rows', () => {
  const t = kernelTable(fakeReport().kernelRows, ['Stride wasm']);
  assert.deepEqual(t.headers, ['case', 'pass', 'impl', 'ms/batch', 'GFLOP/s', 'images/s', 'timed', 'wasm ÷ impl', 'note']);
  const [stride, tfcpu, tfwasm] = t.rows;
  assert.deepEqual(stride.slice(0, 8), ['c1', 'forward', 'Stride wasm', '3.20', '20.0', '10000', '5×32', '—']);
  assert.deepEqual(tfcpu.slice(3, 9), ['~12.8', '5.00', '2500', '3×4', '4.00×', 'sub-batch of 4']);
  assert.equal(tfwasm[3], 'cannot');
  assert.match(tfwasm[8], /^cannot: Kernel 'X' not registered$/);
});

test('w3Table: accuracy, RSS and the Stride ÷ peer ratio', () => {
  const t = w3Table(fakeReport().w3, ['Stride wasm']);
  const [s, c] = t.rows;
  assert.equal(s[2], '1999');
  assert.equal(s[4], '81.2%');
  assert.equal(c[4], '—');
  assert.equal(c[t.headers.indexOf('wasm ÷ impl')], '4.00×');
});

test('renderMarkdown / renderText: machine, summary, sections, notes', () => {
  const r = fakeReport();
  const md = renderMarkdown(r);
  assert.match(md, /^# Stride benchmark results/);
  assert.match(md, /\| CPU \| Test CPU \(avx2\) \|/);
  assert.match(md, /\| command \| npm run bench -- --quick \|/);
  assert.match(md, /relaxed SIMD \| yes \/ yes \(on\) \|/);
  assert.match(md, /## Summary: Stride wasm ÷ peer/);
  assert.match(md, /\| W1 c1 forward \| 4\.00× \| — \|/);
  assert.match(md, /\| W3 small training \| — \| — \| 4\.00× \|/);
  assert.match(md, /\| c1 \| forward \| tfjs-cpu \| ~12\.8 \| 5\.00 \| 2500 \| 3×4 \| 4\.00× \| sub-batch of 4 \|/);
  assert.match(md, /## Not measured, and caveats\n\n- tfjs-wasm cannot X/);
  const text = renderText(r);
  assert.match(text, /== W1: one convolution layer/);
  assert.match(text, /CPU +Test CPU/);
});

test('toText aligns numeric columns to the right', () => {
  const s = toText({ headers: ['a', 'num', 'note'], rows: [['x', '1', 'n'], ['yy', '100', '']], align: ['l', 'r', 'l'] });
  assert.deepEqual(s.split('\n'), ['a   num  note', '--  ---  ----', 'x     1  n', 'yy  100']);
});

test('writeFileAtomic replaces the file and leaves no temporary file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stride-bench-'));
  try {
    const p = join(dir, 'RESULTS.md');
    writeFileAtomic(p, 'one\n');
    writeFileAtomic(p, 'two\n');
    assert.equal(readFileSync(p, 'utf8'), 'two\n');
    assert.deepEqual(readdirSync(dir), ['RESULTS.md']);
    assert.throws(() => writeFileAtomic(join(dir, 'missing', 'R.md'), 'x'));
    assert.equal(existsSync(join(dir, 'missing')), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
