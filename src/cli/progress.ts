/**
 * Training progress for the terminal: a live bar per epoch (loss, accuracy, images/s, ETA),
 * redrawn in place with '\r' on a TTY, or a few plain lines per epoch otherwise; then one summary
 * line per epoch. In JSON mode every batch and epoch is one JSON object per line instead.
 */
import type { BatchInfo, EpochInfo } from '../model/fit.js';
import { duration, num, pct, type Output } from './util.js';

export interface ProgressOptions {
  /** Redraw in place (default: stdout is a TTY). */
  tty?: boolean;
  /** Columns of the bar itself (default 24). */
  barWidth?: number;
  /** Milliseconds between TTY redraws (default 100). */
  redrawMs?: number;
}

export class Progress {
  private readonly tty: boolean;
  private readonly barWidth: number;
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

  private line(b: BatchInfo, rate: number): string {
    const frac = b.total > 0 ? b.seen / b.total : 1;
    const filled = Math.min(this.barWidth, Math.floor(frac * this.barWidth));
    const bar = '='.repeat(filled) + (filled < this.barWidth ? '>' : '') + ' '.repeat(Math.max(0, this.barWidth - filled - 1));
    const eta = rate > 0 ? (b.total - b.seen) / rate : NaN;
    const w = String(b.total).length;
    return [
      `epoch ${b.epoch}/${b.epochs} [${bar}] ${String(b.seen).padStart(w)}/${b.total}`,
      `loss ${num(b.epochLoss)}`,
      `acc ${pct(b.epochAccuracy)}`,
      `${Math.round(rate)} img/s`,
      `ETA ${duration(eta)}`,
    ].join('  ');
  }
}

/** A learning rate in few characters: 0.001, 3e-4. */
export function formatLr(lr: number): string {
  if (lr === 0) return '0';
  return lr >= 1e-3 ? String(Number(lr.toPrecision(3))) : lr.toExponential(2).replace(/\.?0+e/, 'e');
}
