/**
 * Training progress for the terminal: a live bar per epoch (loss, accuracy, images/s, ETA),
 * redrawn in place with '\r' on a TTY (narrower than the terminal, see `progressLine`), or a few
 * plain lines per epoch otherwise (at most 79 characters); then one summary line per epoch. In
 * JSON mode every batch and epoch is one JSON object per line instead.
 */
import type { BatchInfo, EpochInfo } from '../model/fit.js';
import { duration, num, pct, type Output } from './util.js';

export interface ProgressOptions {
  /** Redraw in place (default: stdout is a TTY). */
  tty?: boolean;
  /** Columns of the bar itself at most (default 24; less when the terminal is narrow). */
  barWidth?: number;
  /** Width of the terminal (default: process.stdout.columns on a TTY, else 80). Lines stay narrower. */
  columns?: number;
  /** Milliseconds between TTY redraws (default 100). */
  redrawMs?: number;
}

export class Progress {
  private readonly tty: boolean;
  private readonly barWidth: number;
  private readonly columns: number | undefined;
  private readonly redrawMs: number;
  private lastDraw = 0;
  private lastDecile = -1;
  private drawn = false;

  constructor(
    private readonly out: Output,
    opts: ProgressOptions = {},
  ) {
    this.tty = opts.tty ?? Boolean(process.stdout.isTTY);
    this.barWidth = opts.barWidth ?? 24;
    this.columns = opts.columns;
    this.redrawMs = opts.redrawMs ?? 100;
  }

  batch(b: BatchInfo): void {
    const rate = b.elapsed > 0 ? b.seen / b.elapsed : 0;
    if (this.out.json) {
      this.out.event({
        event: 'batch',
        epoch: b.epoch,
        epochs: b.epochs,
        batch: b.batch + 1,
        batches: b.batches,
        loss: b.loss,
        accuracy: b.accuracy,
        epochLoss: b.epochLoss,
        epochAccuracy: b.epochAccuracy,
        seen: b.seen,
        total: b.total,
        lr: b.lr,
        imagesPerSecond: rate,
        elapsed: b.elapsed,
      });
      return;
    }
    const last = b.batch + 1 === b.batches;
    if (this.tty) {
      const t = Date.now();
      if (!last && t - this.lastDraw < this.redrawMs) return;
      this.lastDraw = t;
      process.stdout.write(`\r${this.line(b, rate)}\x1b[K`);
      this.drawn = true;
    } else {
      // Plain lines at every 10% of the epoch (and never the last batch: the summary follows).
      const decile = Math.floor((10 * b.seen) / b.total);
      if (b.batch === 0) this.lastDecile = 0;
      if (decile > this.lastDecile && !last) {
        this.lastDecile = decile;
        process.stdout.write(this.line(b, rate) + '\n');
      }
    }
  }

  epoch(e: EpochInfo): void {
    if (this.out.json) {
      this.out.event({
        event: 'epoch',
        epoch: e.epoch,
        epochs: e.epochs,
        loss: e.loss,
        accuracy: e.accuracy,
        valLoss: e.valLoss ?? null,
        valAccuracy: e.valAccuracy ?? null,
        lr: e.lr,
        samples: e.samples,
        seconds: e.seconds,
        imagesPerSecond: e.seconds > 0 ? e.samples / e.seconds : null,
        earlyStop: e.earlyStop,
      });
      return;
    }
    this.clear();
    const parts = [
      `epoch ${String(e.epoch).padStart(String(e.epochs).length)}/${e.epochs}`,
      `loss ${num(e.loss)}`,
      `acc ${pct(e.accuracy)}`,
    ];
    if (e.valLoss !== undefined) parts.push(`val_loss ${num(e.valLoss)}`, `val_acc ${pct(e.valAccuracy ?? NaN)}`);
    if (e.lr !== null) parts.push(`lr ${formatLr(e.lr)}`);
    parts.push(`${duration(e.seconds)} (${Math.round(e.seconds > 0 ? e.samples / e.seconds : 0)} img/s)`);
    this.out.info(parts.join('  '));
    if (e.earlyStop) this.out.info(`early stopping: no improvement for ${e.epoch - (e.bestEpoch ?? e.epoch)} epochs; best epoch ${e.bestEpoch}`);
  }

  /** Erases a partly drawn bar (before other output or on exit). */
  clear(): void {
    if (this.drawn) {
      process.stdout.write('\r\x1b[K');
      this.drawn = false;
    }
  }

  /** The terminal's width now (it can change while training), 80 when unknown or not a terminal. */
  private width(): number {
    if (this.columns !== undefined) return this.columns;
    const c = this.tty ? process.stdout.columns : undefined;
    return typeof c === 'number' && c > 0 ? c : 80;
  }

  private line(b: BatchInfo, rate: number): string {
    return progressLine(b, rate, this.width(), this.barWidth);
  }
}

/** The narrowest bar worth drawing; below it the bar goes before the numbers do. */
const MIN_BAR = 10;

/**
 * One progress line, at most `columns - 1` characters (a line as wide as the terminal makes some
 * terminals wrap, and a redraw with '\r' then leaves the wrapped part behind). When the full line
 * does not fit, the bar narrows (down to MIN_BAR), then parts are dropped, least useful first:
 * images/s, the sample count, accuracy, loss, then the bar itself; the ETA stays longest.
 */
export function progressLine(b: BatchInfo, rate: number, columns: number, barWidth = 24): string {
  const max = Math.max(1, columns - 1);
  const frac = b.total > 0 ? b.seen / b.total : 1;
  const eta = rate > 0 ? (b.total - b.seen) / rate : NaN;
  const w = String(b.total).length;
  const prefix = `epoch ${b.epoch}/${b.epochs}`;
  const parts: { key: string; text: string }[] = [
    { key: 'count', text: `${String(b.seen).padStart(w)}/${b.total}` },
    { key: 'loss', text: `loss ${num(b.epochLoss)}` },
    { key: 'acc', text: `acc ${pct(b.epochAccuracy)}` },
    { key: 'rate', text: `${Math.round(rate)} img/s` },
    { key: 'eta', text: `ETA ${duration(eta)}` },
  ];
  const dropOrder = ['rate', 'count', 'acc', 'loss', 'eta'];
  const layout = (keep: typeof parts, bar: string | null): string => {
    const count = keep.find((p) => p.key === 'count');
    const rest = keep.filter((p) => p.key !== 'count').map((p) => `  ${p.text}`).join('');
    const head = bar === null ? prefix : `${prefix} [${bar}]`;
    return head + (count ? ` ${count.text}` : '') + rest;
  };
  const drawBar = (width: number): string => {
    const filled = Math.min(width, Math.floor(frac * width));
    return '='.repeat(filled) + (filled < width ? '>' : '') + ' '.repeat(Math.max(0, width - filled - 1));
  };
  for (let dropped = 0; dropped < dropOrder.length; dropped++) {
    const keep = parts.filter((p) => !dropOrder.slice(0, dropped).includes(p.key));
    const room = max - layout(keep, '').length;
    if (room >= Math.min(MIN_BAR, barWidth)) return layout(keep, drawBar(Math.min(barWidth, room)));
  }
  // Not even the smallest bar fits: the numbers without it, cut to the width as a last resort.
  for (let dropped = 0; dropped <= dropOrder.length; dropped++) {
    const line = layout(parts.filter((p) => !dropOrder.slice(0, dropped).includes(p.key)), null);
    if (line.length <= max) return line;
  }
  return prefix.slice(0, max);
}

/** A learning rate in few characters: 0.001, 3e-4. */
export function formatLr(lr: number): string {
  if (lr === 0) return '0';
  return lr >= 1e-3 ? String(Number(lr.toPrecision(3))) : lr.toExponential(2).replace(/\.?0+e/, 'e');
}
