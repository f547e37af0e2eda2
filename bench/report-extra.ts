/**
 * Tables of the bench's sections beyond W1-W4 (kept apart from report.ts so both stay small): the
 * wasm SIMD128 peak and every W1 kernel as a fraction of it, W5 (scale) with batch-1 latency, and
 * thread scaling.
 */
import type { PeakResult } from './peak/peak.js';
import { fmtNum, fmtRatio, gflops, ratio, type KernelRow, type Table } from './report.js';
import type { ScalingRow } from './workloads/threads-scaling.js';
import { speedups } from './workloads/threads-scaling.js';
import { nsPerPixel, type W5Row } from './workloads/w5-scale.js';

export interface ExtraSections {
  /** The peak microbenchmark (empty when not run). */
  peak: PeakResult[];
  /** The peak at the kernels' thread count measured again after W1 (empty when not run): load that moved shows here. */
  peakAfter: PeakResult[];
  /** Threads Stride's kernels ran with (the peak at that count is the reference). */
  strideThreads: number;
  w5: W5Row[];
  scaling: ScalingRow[];
}

export const emptyExtra = (): ExtraSections => ({ peak: [], peakAfter: [], strideThreads: 1, w5: [], scaling: [] });

const pct = (v: number): string => (Number.isFinite(v) ? `${(100 * v).toFixed(0)}%` : '—');

/** The peak's table: one line per (kind, threads). */
export function peakTable(peak: readonly (PeakResult & { after?: boolean })[]): Table {
  const headers = ['loop', 'threads', 'GFLOP/s (median)', 'runs (min–max)', 'per thread'];
  const rows = peak.map((p) => [
    `${p.kind === 'fma' ? `f32x4.relaxed_madd, ${p.chains} chains` : `f32x4.mul + add, ${p.chains} chains`}${p.after === true ? ' (after W1)' : ''}`,
    String(p.threads),
    fmtNum(p.gflops),
    `${p.samples.length}: ${fmtNum(Math.min(...p.samples))}–${fmtNum(Math.max(...p.samples))}`,
    fmtNum(p.gflops / p.threads),
  ]);
  return { headers, rows, align: ['l', 'r', 'r', 'l', 'r'] };
}

/**
 * The peak a kernel on `threads` threads compares with: the measured one at that thread count, or
 * else at the largest measured count below it (null when none was measured).
 */
export function referencePeak(peak: readonly PeakResult[], kind: PeakResult['kind'], threads: number): PeakResult | null {
  const of = peak.filter((p) => p.kind === kind && p.threads <= threads).sort((a, b) => b.threads - a.threads || b.gflops - a.gflops);
  return of[0] ?? null;
}

/**
 * How far the peak moved between its measurement before W1 and the one after (the larger over the
 * smaller, at the kernels' thread count), or NaN without both. Above about 1.15, the machine's load
 * changed during the run and the kernel-to-peak ratios are not to be trusted.
 */
export function peakDrift(before: readonly PeakResult[], after: readonly PeakResult[], kind: PeakResult['kind'], threads: number): number {
  const a = before.find((p) => p.kind === kind && p.threads === threads);
  const b = after.find((p) => p.kind === kind && p.threads === threads);
  if (a === undefined || b === undefined) return NaN;
  return Math.max(a.gflops, b.gflops) / Math.min(a.gflops, b.gflops);
}

/** Every W1 row of `impl` (forward, dX, dW; not the fused dX+dW) as a fraction of the FMA and mul+add peaks. */
export function peakRatioTable(rows: readonly KernelRow[], impl: string, peak: readonly PeakResult[], threads: number): Table {
  const fma = referencePeak(peak, 'fma', threads);
  const mad = referencePeak(peak, 'muladd', threads);
  const headers = ['case', 'pass', `${impl} GFLOP/s`, `÷ FMA peak${fma !== null ? ` (${fmtNum(fma.gflops)}, ${fma.threads} thr.)` : ''}`, `÷ mul+add peak${mad !== null ? ` (${fmtNum(mad.gflops)}, ${mad.threads} thr.)` : ''}`];
  const out: string[][] = [];
  for (const r of rows) {
    if (r.workload !== 'W1' || r.pass === 'dX+dW') continue;
    const m = r.results.find((q) => q.impl === impl);
    const g = m === undefined ? NaN : gflops(m, r.flopsPerImage);
    out.push([r.caseName, r.pass, fmtNum(g), pct(fma === null ? NaN : g / fma.gflops), pct(mad === null ? NaN : g / mad.gflops)]);
  }
  return { headers, rows: out, align: ['l', 'l', 'r', 'r', 'r'] };
}

/** W5: one line per (size, batch, implementation). */
export function w5Table(rows: readonly W5Row[], primary: string): Table {
  const headers = ['input', 'batch', 'impl', 'ms/batch', 'ms/image', 'ns/pixel', 'GFLOP/s', 'timed', `${primary.replace(/^Stride /, '')} ÷ impl`, 'note'];
  const out: string[][] = [];
  for (const r of rows) {
    const s = r.results.find((m) => m.impl === primary);
    for (const m of r.results) {
      const ok = m.status === 'ok';
      out.push([
        `${r.h}x${r.h}x3`, String(r.n), m.impl,
        ok ? fmtNum(m.medianMs * (r.n / m.n)) : 'cannot',
        ok ? fmtNum(m.msPerImage) : '—',
        ok ? fmtNum(nsPerPixel(m.msPerImage, r.h)) : '—',
        fmtNum(gflops(m, r.flopsPerImage)),
        ok ? `${m.reps}×${m.n}` : '—',
        m.impl === primary ? '—' : fmtRatio(ratio(s, m)),
        ok ? (m.note ?? '') : `cannot: ${m.message ?? ''}`,
      ]);
    }
  }
  return { headers, rows: out, align: headers.map((h) => (['input', 'impl', 'timed', 'note'].includes(h) ? 'l' : 'r')) };
}

/** Batch-1 latency of the W5 block: one line per size, one column per implementation (ms). */
export function latencyTable(rows: readonly W5Row[]): Table {
  const ones = rows.filter((r) => r.n === 1);
  const impls = [...new Set(ones.flatMap((r) => r.results.map((m) => m.impl)))];
  const headers = ['input', ...impls.map((i) => `${i} ms`)];
  const out = ones.map((r) => [`${r.h}x${r.h}x3`, ...impls.map((i) => {
    const m = r.results.find((q) => q.impl === i);
    return m?.status === 'ok' ? fmtNum(m.medianMs) : '—';
  })]);
  return { headers, rows: out, align: headers.map((_, i) => (i === 0 ? 'l' : 'r')) };
}

/** Thread scaling: one line per (workload, threads). */
export function scalingTable(rows: readonly ScalingRow[]): Table {
  const sp = speedups(rows);
  const headers = ['workload', 'threads asked', 'pool', 'threads that ran chunks', 'throughput', 'speed-up vs 1', 'note'];
  const out = rows.map((r, i) => [
    r.workload, String(r.threads), r.poolThreads === null ? '—' : String(r.poolThreads), r.workingThreads === null ? '—' : String(r.workingThreads),
    `${fmtNum(r.value)} ${r.unit}`, fmtRatio(sp[i]), r.note,
  ]);
  return { headers, rows: out, align: ['l', 'r', 'r', 'r', 'r', 'r', 'l'] };
}

/** The extra sections, in the order they are printed. */
export function extraSections(x: ExtraSections, kernelRows: readonly KernelRow[], primary: string): { title: string; caption: string[]; table: Table }[] {
  const out: { title: string; caption: string[]; table: Table }[] = [];
  if (x.peak.length > 0) {
    out.push({
      title: 'WebAssembly SIMD128 peak (bench/peak)',
      caption: [
        'Independent chains of f32x4 operations in an AssemblyScript module of its own (bench/peak/assembly/peak.ts, compiled by the bench), one worker per thread sharing nothing; median of the timed runs after warm-up calls. One FMA counts 2 FLOPs.',
        'Each chain is a = a·b + c: the fused form waits for one operation per step, the mul + add form for two (the multiply is on the chain), so the mul + add figure is a lower bound for kernels whose multiplies are off the chain (acc += x·y); the FMA figure is the reference for the ratios below.',
      ],
      table: peakTable([...x.peak, ...x.peakAfter.map((p) => ({ ...p, after: true }))]),
    });
    if (kernelRows.some((r) => r.workload === 'W1')) {
      const drift = peakDrift(x.peak, x.peakAfter, 'fma', x.strideThreads);
      out.push({
        title: `W1 kernels as a fraction of the measured peak (${primary}, ${x.strideThreads} thread${x.strideThreads === 1 ? '' : 's'})`,
        caption: [
          'GFLOP/s from the W1 table; the FMA and mul+add peaks at the same thread count, measured in this run before W1 and again after it: the larger of the two.',
          ...(Number.isFinite(drift)
            ? [drift > 1.15
              ? `The FMA peak moved by ${((drift - 1) * 100).toFixed(0)}% between before and after W1: the machine's load changed during the run, so these ratios are not reliable (run again on a quieter machine).`
              : `The FMA peak before and after W1 agree within ${((drift - 1) * 100).toFixed(0)}%.`]
            : []),
        ],
        table: peakRatioTable(kernelRows, primary, [...x.peak, ...x.peakAfter], x.strideThreads),
      });
    }
  }
  if (x.w5.length > 0) {
    out.push({
      title: 'W5: scale (conv 3x3 x16 same + bias + ReLU + maxpool 2/2 on HxWx3, forward)',
      caption: [
        'ns/pixel = time / (H·W·batch): a flat column means cost grows linearly with pixels × batch. GFLOP/s count the convolution only (2·H·W·16·27 per image).',
      ],
      table: w5Table(x.w5, primary),
    });
    out.push({ title: 'W5 batch-1 latency (one image through the block, ms)', caption: [], table: latencyTable(x.w5) });
  }
  if (x.scaling.length > 0) {
    out.push({
      title: 'Thread scaling (Stride wasm, setThreads)',
      caption: ['"threads that ran chunks": threads whose chunk counters (threadWork()) moved during the timed W1 calls.'],
      table: scalingTable(x.scaling),
    });
  }
  return out;
}
