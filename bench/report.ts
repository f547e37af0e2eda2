/**
 * Tables of benchmark results, as aligned text for the terminal and as Markdown for
 * bench/RESULTS.md (written atomically: temporary file, then rename).
 *
 * Ratios are "Stride ÷ peer" in throughput (images/s, equivalently GFLOP/s): above 1 means Stride
 * is faster.
 */
import { renameSync, unlinkSync, writeFileSync } from 'node:fs';
import type { MachineInfo } from './machine.js';
import type { Measurement } from './timing.js';
import type { ChildResult } from './workloads/train-child.js';
import { extraSections, type ExtraSections } from './report-extra.js';

export interface RowResult extends Measurement {
  /** Shown in the row's note column ("sum of dX and dW", "internal kernel", ...). */
  note?: string;
}

/** A W1, W2 or W4 row: one pass of one case, every implementation. */
export interface KernelRow {
  workload: 'W1' | 'W2' | 'W4';
  caseName: string;
  pass: string;
  /** The case's shapes, for the table caption. */
  detail: string;
  /** The workload's batch size. */
  fullN: number;
  /** FLOPs of one image for this pass, or null where FLOPs are not defined (pooling). */
  flopsPerImage: number | null;
  results: RowResult[];
}

export interface BenchReport {
  command: string;
  quick: boolean;
  machine: MachineInfo;
  /** "what: value" lines about the libraries and backends. */
  setup: [string, string][];
  kernelRows: KernelRow[];
  w3: ChildResult[];
  /** What could not be measured and why, and other caveats. */
  notes: string[];
  /** How the figures were obtained. */
  method: string[];
  durationSec: number;
  /** The Stride implementation the summary compares (its fastest backend), e.g. 'Stride wasm'. */
  primary: string;
  /** Every Stride implementation measured, fastest first. */
  strideImpls: string[];
  /** The wasm peak, W5 and thread scaling (report-extra.ts), when run. */
  extra?: ExtraSections;
}

export interface Table {
  headers: string[];
  rows: string[][];
  /** 'r' for numeric columns; default 'l'. */
  align?: ('l' | 'r')[];
}

// ---------------------------------------------------------------------------------------------
// Numbers

/** 3 significant digits, no exponent for ordinary magnitudes: 1234 → "1234", 12.345 → "12.3", 0.01234 → "0.0123". */
export function fmtNum(v: number): string {
  if (!Number.isFinite(v)) return '—';
  const a = Math.abs(v);
  if (a >= 100) return Math.round(v).toString();
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  if (a === 0) return '0';
  return v.toPrecision(3);
}

export function fmtRatio(v: number): string {
  return Number.isFinite(v) ? `${fmtNum(v)}×` : '—';
}

/** Images per second of a measurement. */
export const imagesPerSec = (m: Measurement): number => (m.status === 'ok' ? 1000 / m.msPerImage : NaN);

/** GFLOP/s of a measurement given FLOPs per image. */
export const gflops = (m: Measurement, flopsPerImage: number | null): number =>
  m.status === 'ok' && flopsPerImage !== null ? flopsPerImage / m.msPerImage / 1e6 : NaN;

/** Throughput ratio a ÷ b (NaN unless both ran). */
export function ratio(a: Measurement | undefined, b: Measurement | undefined): number {
  if (a?.status !== 'ok' || b?.status !== 'ok') return NaN;
  return b.msPerImage / a.msPerImage;
}

// ---------------------------------------------------------------------------------------------
// Tables

const short = (s: string): string => s.replace(/^Stride /, '');

/** W1 / W2 / W4 rows: one line per implementation, with ratios of each Stride implementation to it. */
export function kernelTable(rows: readonly KernelRow[], strideImpls: readonly string[]): Table {
  const withFlops = rows.some((r) => r.flopsPerImage !== null);
  const headers = ['case', 'pass', 'impl', 'ms/batch', ...(withFlops ? ['GFLOP/s'] : []), 'images/s', 'timed', ...strideImpls.map((s) => `${short(s)} ÷ impl`), 'note'];
  const out: string[][] = [];
  for (const row of rows) {
    for (const m of row.results) {
      const ok = m.status === 'ok';
      const sub = ok && m.n < row.fullN;
      const timed = !ok ? '—' : m.samples.length === 0 ? 'derived' : `${m.reps}×${m.n}`;
      out.push([
        row.caseName,
        row.pass,
        m.impl,
        ok ? `${sub ? '~' : ''}${fmtNum(m.msPerImage * row.fullN)}` : 'cannot',
        ...(withFlops ? [fmtNum(gflops(m, row.flopsPerImage))] : []),
        fmtNum(imagesPerSec(m)),
        timed,
        ...strideImpls.map((s) => (s === m.impl ? '—' : fmtRatio(ratio(row.results.find((r) => r.impl === s), m)))),
        !ok ? `cannot: ${m.message ?? ''}` : [sub ? `sub-batch of ${m.n}` : '', m.note ?? ''].filter((t) => t !== '').join('; '),
      ]);
    }
  }
  return { headers, rows: out, align: headers.map((h) => (['case', 'pass', 'impl', 'note', 'timed'].includes(h) ? 'l' : 'r')) };
}

/** W3 results: one line per (model, implementation). */
export function w3Table(results: readonly ChildResult[], strideImpls: readonly string[]): Table {
  const headers = ['model', 'impl', 'images/s', 'timed', 'test acc.', 'loss first→last', 'RSS before MiB', 'peak RSS MiB', ...strideImpls.map((s) => `${short(s)} ÷ impl`), 'note'];
  const rows = results.map((r) => {
    const ok = r.status === 'ok';
    const find = (impl: string) => results.find((q) => q.model === r.model && q.impl === impl);
    const rat = (s: string): string => {
      const a = find(s);
      return s === r.impl ? '—' : a?.status === 'ok' && ok ? fmtRatio(a.imagesPerSec / r.imagesPerSec) : '—';
    };
    return [
      r.model,
      r.impl,
      ok ? fmtNum(r.imagesPerSec) : 'cannot',
      ok ? `${r.steps}×${r.batch}` : '—',
      r.testAccuracy === null ? '—' : `${(100 * r.testAccuracy).toFixed(1)}%`,
      ok && r.firstLoss !== null && r.lastLoss !== null ? `${r.firstLoss.toFixed(3)}→${r.lastLoss.toFixed(3)}` : '—',
      r.rssBeforeMiB > 0 ? fmtNum(r.rssBeforeMiB) : '—',
      r.peakRssMiB > 0 ? fmtNum(r.peakRssMiB) : '—',
      ...strideImpls.map(rat),
      ok ? r.note : `cannot: ${r.message ?? ''}`,
    ];
  });
  return { headers, rows, align: headers.map((h) => (['model', 'impl', 'note', 'timed', 'loss first→last'].includes(h) ? 'l' : 'r')) };
}

/** One line per workload item, one column per peer: primary Stride ÷ peer. */
export function summaryTable(report: Pick<BenchReport, 'kernelRows' | 'w3' | 'primary' | 'strideImpls'>): Table {
  const peers: string[] = [];
  const addPeer = (impl: string): void => {
    if (impl !== report.primary && !peers.includes(impl)) peers.push(impl);
  };
  report.kernelRows.forEach((r) => r.results.forEach((m) => addPeer(m.impl)));
  report.w3.forEach((r) => addPeer(r.impl));
  const rows: string[][] = [];
  for (const row of report.kernelRows) {
    const s = row.results.find((m) => m.impl === report.primary);
    if (s === undefined) continue;
    rows.push([`${row.workload} ${row.caseName} ${row.pass}`, ...peers.map((p) => fmtRatio(ratio(s, row.results.find((m) => m.impl === p))))]);
  }
  const models = [...new Set(report.w3.map((r) => r.model))];
  for (const model of models) {
    const s = report.w3.find((r) => r.model === model && r.impl === report.primary);
    rows.push([
      `W3 ${model} training`,
      ...peers.map((p) => {
        const q = report.w3.find((r) => r.model === model && r.impl === p);
        return s?.status === 'ok' && q?.status === 'ok' ? fmtRatio(s.imagesPerSec / q.imagesPerSec) : '—';
      }),
    ]);
  }
  const headers = ['workload', ...peers.map((p) => `÷ ${p}`)];
  return { headers, rows, align: headers.map((_, i) => (i === 0 ? 'l' : 'r')) };
}

const escapeCell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function toMarkdown(t: Table): string {
  const align = t.align ?? t.headers.map(() => 'l' as const);
  const lines = [
    `| ${t.headers.map(escapeCell).join(' | ')} |`,
    `|${align.map((a) => (a === 'r' ? '---:' : '---')).join('|')}|`,
    ...t.rows.map((r) => `| ${r.map(escapeCell).join(' | ')} |`),
  ];
  return lines.join('\n');
}

/** Aligned columns for a terminal; the last column (notes) is left ragged. */
export function toText(t: Table): string {
  const align = t.align ?? t.headers.map(() => 'l' as const);
  const width = t.headers.map((h, i) => Math.max(h.length, ...t.rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : align[i] === 'r' ? c.padStart(width[i]) : c.padEnd(width[i])))
      .join('  ')
      .trimEnd();
  return [line(t.headers), line(width.map((w) => '-'.repeat(w))), ...t.rows.map(line)].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Whole report

function sections(report: BenchReport): { title: string; caption: string[]; table: Table }[] {
  const out: { title: string; caption: string[]; table: Table }[] = [];
  const byWorkload = (w: KernelRow['workload']) => report.kernelRows.filter((r) => r.workload === w);
  const captions = (rows: KernelRow[]): string[] => [...new Set(rows.map((r) => `${r.caseName}: ${r.detail}`))];
  if (report.kernelRows.length > 0 || report.w3.length > 0) {
    out.push({
      title: `Summary: ${report.primary} ÷ peer (throughput; above 1 = Stride faster)`,
      caption: [],
      table: summaryTable(report),
    });
  }
  const w1 = byWorkload('W1');
  if (w1.length > 0) {
    out.push({
      title: 'W1: one convolution layer (forward, dX, dW)',
      caption: [...captions(w1), 'ms/batch is for the whole batch of 32 ("~": extrapolated from a sub-batch); GFLOP/s count 2·N·Ho·Wo·Cout·fh·fw·Cin per pass (dX+dW: twice that).'],
      table: kernelTable(w1, report.strideImpls),
    });
  }
  const w2 = byWorkload('W2');
  if (w2.length > 0) {
    out.push({ title: 'W2: max pooling 2x2 stride 2, forward and backward', caption: [...captions(w2), 'ms/batch for the batch of 32.'], table: kernelTable(w2, report.strideImpls) });
  }
  if (report.w3.length > 0) {
    out.push({
      title: 'W3: training throughput (MNIST train split, batch 64, SGD lr 0.01, softmax cross-entropy)',
      caption: [
        'Each library in its own child process; RSS is that process\'s (Node + tsx + the library + the data).',
        'timed = batches × batch size actually timed; test accuracy only after a whole epoch.',
      ],
      table: w3Table(report.w3, report.strideImpls),
    });
  }
  const w4 = byWorkload('W4');
  if (w4.length > 0) {
    out.push({ title: 'W4: inference throughput (lenet forward, batch 256)', caption: [...captions(w4), 'GFLOP/s count the convolutions and dense layers only.'], table: kernelTable(w4, report.strideImpls) });
  }
  if (report.extra !== undefined) out.push(...extraSections(report.extra, report.kernelRows, report.primary));
  return out;
}

function machineLines(report: BenchReport): [string, string][] {
  const m = report.machine;
  return [
    ['date', m.date],
    ['command', report.command],
    ['CPU', `${m.cpuModel}${m.cpuFlags.length > 0 ? ` (${m.cpuFlags.join(', ')})` : ''}`],
    ['cores', String(m.cores)],
    ['memory', `${m.totalMemGiB} GiB`],
    ['load average at start', m.loadAvg.join(', ')],
    ['OS', m.platform],
    ['Node', m.node],
    ['V8', m.v8],
    ['node options', m.execArgv.join(' ') || '(none)'],
    ['WebAssembly SIMD / relaxed SIMD', `${m.simd ? 'yes' : 'no'} / ${m.relaxedSimd ? 'yes (on)' : 'no (off)'}`],
    ...report.setup,
    ['duration', `${report.durationSec.toFixed(0)} s${report.quick ? ' (--quick)' : ''}`],
  ];
}

/** The fixed part of RESULTS.md's header: the bench's own workload (W5), its sections and how to run some alone. */
export const RESULTS_HEADER: readonly string[] = [
  '**W5 (scale; defined by the bench, WORKLOADS.md has W1-W4):** conv 3x3, 16 filters, stride 1, \'same\' padding, with bias, then ReLU, then max pooling 2x2 stride 2, on an HxWx3 NHWC input, forward only; ' +
    'inputs 28x28, 64x64, 128x128 and 224x224, batches 1, 8, 64 and 256 (224x224 at batch 256 is skipped: its conv output alone is 822 MB). ' +
    'Reported per image, per input pixel (time / (H·W·batch): linear growth reads as a flat column), as GFLOP/s of the convolution (2·H·W·16·27 per image), and the batch-1 latency on its own.',
  '',
  'Sections: `peak` (the WebAssembly SIMD128 FMA and mul+add peaks, bench/peak/, and every W1 kernel as a fraction of it), `W1`-`W4`, `W5`, `threads` (W1 c3 forward and W3 lenet at 1, 2, 4 and 8 threads). ' +
    'Peers: `reference` (Stride\'s reference backend), `tfjs`, `convnetjs`, `pytorch` (bench/peers/pytorch.py, run with `$STRIDE_BENCH_PYTHON` or `python3` when it imports torch; skipped with a note otherwise), `ort` (onnxruntime-web, W4). ' +
    'Run some alone: `npm run bench -- --only peak,W1 --peers pytorch`, `npm run bench -- --only W5,threads`, `npm run bench -- --quick` (shorter budgets); `npm run bench -- --help` lists every option.',
];

export function renderMarkdown(report: BenchReport): string {
  const parts: string[] = [
    '# Stride benchmark results',
    '',
    'Workloads of WORKLOADS.md; Stride and its peers measured in one run, interleaved. Written by `npm run bench` (bench/run.ts).',
    '',
    ...RESULTS_HEADER,
    '',
    '## Machine and setup',
    '',
    toMarkdown({ headers: ['what', 'value'], rows: machineLines(report).map(([k, v]) => [k, v]) }),
  ];
  for (const s of sections(report)) {
    parts.push('', `## ${s.title}`, '');
    if (s.caption.length > 0) parts.push(...s.caption.map((c) => `- ${c}`), '');
    parts.push(toMarkdown(s.table));
  }
  if (report.notes.length > 0) parts.push('', '## Not measured, and caveats', '', ...report.notes.map((n) => `- ${n}`));
  if (report.method.length > 0) parts.push('', '## Method', '', ...report.method.map((n) => `- ${n}`));
  return parts.join('\n') + '\n';
}

export function renderText(report: BenchReport): string {
  const parts: string[] = ['Stride benchmark', ''];
  const lines = machineLines(report);
  const w = Math.max(...lines.map(([k]) => k.length));
  parts.push(...lines.map(([k, v]) => `${k.padEnd(w)}  ${v}`));
  for (const s of sections(report)) {
    parts.push('', `== ${s.title}`, ...s.caption.map((c) => `   ${c}`), '', toText(s.table));
  }
  if (report.notes.length > 0) parts.push('', '== Not measured, and caveats', ...report.notes.map((n) => `- ${n}`));
  return parts.join('\n') + '\n';
}

/** Writes `text` to `path` through a temporary file in the same directory and a rename. */
export function writeFileAtomic(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // nothing to clean up
    }
    throw e;
  }
}
