/**
 * Training curves as a self-contained SVG string (issue #4): no scripts, no external fonts or images,
 * the same bytes for the same input. Browser-safe; the CLI writes the string to a file
 * (`train --plot curves.svg`) and sharp/librsvg or any browser can display it.
 *
 * Picture: two panels side by side, "Loss" (left) and "Accuracy" (right), sharing the epoch axis.
 * The training series is a solid blue line with round markers, validation a dashed orange line with
 * square markers, test accuracy a dotted green line with diamonds (Okabe–Ito colours, which stay
 * distinct for colour-blind readers, and distinct dash patterns and markers for print in grey).
 * Optional per-batch training values are drawn behind as a thin, pale blue line. Once the
 * validation loss has started to rise, a grey dotted vertical line marks the epoch where it was
 * lowest, where early stopping would have stopped.
 * A shared legend sits above the panels, and each panel header shows the last values.
 *
 * ```ts
 * const svg = trainingCurvesSvg([
 *   { epoch: 1, trainLoss: 0.9, trainAccuracy: 0.71, valLoss: 0.6, valAccuracy: 0.80 },
 *   { epoch: 2, trainLoss: 0.4, trainAccuracy: 0.88, valLoss: 0.5, valAccuracy: 0.84 },
 * ], { title: 'edges task' });
 * ```
 */

/**
 * One epoch's point on the training curves: the values measured after it. Built from `fit`'s
 * `EpochMetrics` (`loss` → `trainLoss`, `accuracy` → `trainAccuracy`) plus a test accuracy, as `stride train --plot` does.
 */
export interface TrainingCurveEpoch {
  /** The epoch number (1 for the first epoch); the x coordinate. */
  epoch: number;
  trainLoss: number;
  /** Accuracies are fractions in [0, 1] (as `Sequential.evaluate` returns them) and shown as percent. */
  trainAccuracy?: number;
  valLoss?: number;
  valAccuracy?: number;
  testAccuracy?: number;
}

/**
 * One per-batch training value. `epoch` is the fractional position on the epoch axis: batch `b`
 * (0-based) of `S` batches in epoch `e` (1-based) sits at `e - 1 + (b + 1) / S` (see `batchEpoch`),
 * so the last batch of an epoch lines up with that epoch's marker.
 */
export interface BatchRecord {
  epoch: number;
  loss: number;
  accuracy?: number;
}

export interface TrainingCurvesOptions {
  /** A heading above the legend (escaped; default none). */
  title?: string;
  /** Total size in SVG user units (pixels). Defaults 960 × 420; minimum 320 × 200. */
  width?: number;
  height?: number;
  /** Per-batch training values, drawn as a thin line behind the per-epoch series. */
  batches?: readonly BatchRecord[];
  /**
   * Draw a dotted vertical "lowest val loss" line at the epoch with the lowest validation loss, when a
   * later epoch's validation loss is higher (the model has started to overfit). Default true.
   */
  markBest?: boolean;
}

/** Evenly spaced "nice" tick values (steps of 1, 2 or 5 times a power of ten). */
export interface Ticks {
  /** The first and last tick: the axis range. */
  min: number;
  max: number;
  step: number;
  /** Digits after the decimal point needed to print a tick exactly. */
  decimals: number;
  values: number[];
}

/** The fractional epoch of batch `batch` (0-based) of `batchesPerEpoch` in epoch `epoch` (1-based). */
export function batchEpoch(epoch: number, batch: number, batchesPerEpoch: number): number {
  return epoch - 1 + (batch + 1) / batchesPerEpoch;
}

/**
 * Nice ticks that cover [lo, hi]: `min <= lo`, `max >= hi`, every tick a whole multiple of `step`,
 * and step ∈ {1, 2, 5}·10^k chosen so there are about `target` intervals. Equal ends are widened
 * (by 10% of |lo|, or by 1 around 0), so the result always has at least two ticks.
 *
 * `niceTicks(0, 2.3)` → 0, 0.5, 1, 1.5, 2, 2.5.
 */
export function niceTicks(lo: number, hi: number, target = 5): Ticks {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) throw new Error(`niceTicks: lo and hi must be finite numbers, got ${lo} and ${hi}`);
  if (lo > hi) throw new Error(`niceTicks: lo must be <= hi, got lo=${lo} > hi=${hi}`);
  if (!(target >= 1)) throw new Error(`niceTicks: target must be >= 1, got ${target}`);
  if (lo === hi) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const step = niceStep((hi - lo) / target);
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  // A small tolerance so that 0.30000000000000004 does not add a whole extra interval.
  const first = Math.floor(lo / step + 1e-9);
  const last = Math.ceil(hi / step - 1e-9);
  const values: number[] = [];
  for (let i = first; i <= last; i++) values.push(roundTo(i * step, decimals));
  return { min: values[0], max: values[values.length - 1], step, decimals, values };
}

/** The smallest of {1, 2, 5}·10^k that is >= raw·(about 0.7): the usual "nice number" rule. */
function niceStep(raw: number): number {
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  const m = norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10;
  return m * mag;
}

function roundTo(v: number, decimals: number): number {
  const r = Number(v.toFixed(Math.min(decimals, 20)));
  return r === 0 ? 0 : r; // no "-0"
}

/** Escapes text for SVG/XML content and attributes, and drops characters XML 1.0 forbids. */
export function escapeXml(text: string): string {
  return String(text)
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

// ---- styling ----------------------------------------------------------------------------------

const FONT = 'Helvetica, Arial, sans-serif';
const INK = '#1f2933';
const MUTED = '#52606d';
const GRID = '#e4e7eb';
const AXIS = '#9aa5b1';

type MarkerShape = 'circle' | 'square' | 'diamond' | 'none';

interface SeriesStyle {
  label: string;
  color: string;
  width: number;
  dash?: string;
  opacity?: number;
  marker: MarkerShape;
}

const STYLES = {
  train: { label: 'train', color: '#0072B2', width: 2.25, marker: 'circle' },
  val: { label: 'validation', color: '#D55E00', width: 2.25, dash: '7 4', marker: 'square' },
  test: { label: 'test', color: '#009E73', width: 2.25, dash: '2 3', marker: 'diamond' },
  batch: { label: 'train (per batch)', color: '#0072B2', width: 1.1, opacity: 0.4, marker: 'none' },
} satisfies Record<string, SeriesStyle>;

interface Series {
  /** `data-series` attribute: '<panel>-<style key>', e.g. 'loss-val'. */
  id: string;
  style: SeriesStyle;
  points: { x: number; y: number }[];
  /** Values that were NaN or infinite and are not drawn. */
  omitted: number;
}

// ---- the chart --------------------------------------------------------------------------------

/**
 * Loss and accuracy curves of a training run as an SVG document (a string starting with `<svg`).
 * `history` is one record per epoch, in any order (sorted by epoch for drawing); per-epoch values
 * that are missing are skipped, NaN or infinite values are skipped and counted in the panel header.
 * Works from a single epoch (markers only) upwards, and with only `opts.batches` (mid-first-epoch).
 *
 * Axes: the loss axis starts at 0 (or below, for negative losses) and ends at a nice number above
 * the largest loss; the accuracy axis covers the accuracies with nice percent ticks inside [0%, 100%];
 * the epoch axis has whole-number ticks.
 *
 * Throws if there is nothing to draw or a record is malformed.
 */
export function trainingCurvesSvg(history: readonly TrainingCurveEpoch[], opts: TrainingCurvesOptions = {}): string {
  const op = 'trainingCurvesSvg';
  if (!Array.isArray(history)) throw new Error(`${op}: history must be an array of {epoch, trainLoss, ...}, got ${typeof history}`);
  const batches = opts.batches ?? [];
  if (!Array.isArray(batches)) throw new Error(`${op}: opts.batches must be an array of {epoch, loss, accuracy?}, got ${typeof batches}`);
  if (history.length === 0 && batches.length === 0) throw new Error(`${op}: history must contain at least one epoch (or opts.batches at least one batch), got 0`);
  history.forEach((r, i) => {
    checkRecord(op, `history[${i}]`, r, ['epoch', 'trainLoss'], ['trainAccuracy', 'valLoss', 'valAccuracy', 'testAccuracy']);
  });
  batches.forEach((r, i) => checkRecord(op, `opts.batches[${i}]`, r, ['epoch', 'loss'], ['accuracy']));
  const width = checkSize(op, 'opts.width', opts.width ?? 960, 320);
  const height = checkSize(op, 'opts.height', opts.height ?? 420, 200);

  const rows = [...history].sort((a, b) => a.epoch - b.epoch);
  const batchRows = [...batches].sort((a, b) => a.epoch - b.epoch);
  const pick = <R extends object>(id: string, style: SeriesStyle, src: readonly R[], get: (r: R) => number | undefined, x: (r: R) => number): Series => {
    const s: Series = { id, style, points: [], omitted: 0 };
    for (const r of src) {
      const v = get(r);
      if (v === undefined) continue;
      if (Number.isFinite(v)) s.points.push({ x: x(r), y: v });
      else s.omitted++;
    }
    return s;
  };
  const ep = (r: TrainingCurveEpoch) => r.epoch;
  const bp = (r: BatchRecord) => r.epoch;
  const nonEmpty = (list: Series[]) => list.filter((s) => s.points.length > 0 || s.omitted > 0);
  const lossSeries = nonEmpty([
    pick('loss-batch', STYLES.batch, batchRows, (r) => r.loss, bp),
    pick('loss-train', STYLES.train, rows, (r) => r.trainLoss, ep),
    pick('loss-val', STYLES.val, rows, (r) => r.valLoss, ep),
  ]);
  const accSeries = nonEmpty([
    pick('accuracy-batch', STYLES.batch, batchRows, (r) => r.accuracy, bp),
    pick('accuracy-train', STYLES.train, rows, (r) => r.trainAccuracy, ep),
    pick('accuracy-val', STYLES.val, rows, (r) => r.valAccuracy, ep),
    pick('accuracy-test', STYLES.test, rows, (r) => r.testAccuracy, ep),
  ]);

  // The shared epoch axis: whole-number ticks inside the data range, padded so edge markers show.
  const xs = [...rows.map(ep), ...batchRows.map(bp)];
  let xLo = Math.min(...xs);
  let xHi = Math.max(...xs);
  if (xLo === xHi) {
    xLo -= 0.5;
    xHi += 0.5;
  } else {
    const pad = (xHi - xLo) * 0.03;
    xLo -= pad;
    xHi += pad;
  }
  const xStep = Math.max(1, niceStep((xHi - xLo) / 10));
  const xTicks: number[] = [];
  for (let t = Math.ceil(xLo / xStep) * xStep; t <= xHi + 1e-9; t += xStep) xTicks.push(roundTo(t, 0));

  // Lowest validation loss: where early stopping would have stopped. Only drawn once a later epoch
  // is worse (the first sign of overfitting); while the loss still falls it would sit on the last epoch.
  let best: number | undefined;
  const valLoss = lossSeries.find((s) => s.id === 'loss-val');
  if ((opts.markBest ?? true) && valLoss && valLoss.points.length >= 2) {
    const b = valLoss.points.reduce((a, q) => (q.y < a.y ? q : a));
    if (b !== valLoss.points[valLoss.points.length - 1]) best = b.x;
  }

  const title = opts.title === undefined || opts.title === '' ? undefined : String(opts.title);
  const legendY = title ? 52 : 24;
  const panelTop = legendY + 22;
  const gap = 24;
  const panelW = (width - gap - 16) / 2;
  const panelH = height - panelTop - 8;
  // About one y tick per 55 px of plot height (the plot is the panel minus 76 px of header and axis).
  const yTarget = Math.min(5, Math.max(2, Math.round((panelH - 76) / 55)));

  const out: string[] = [];
  const label = title ?? 'Training curves';
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(label)}" font-family="${FONT}">`,
    `<title>${escapeXml(label)}</title>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
  );
  if (title) out.push(`<text x="${f(width / 2)}" y="28" text-anchor="middle" font-size="18" font-weight="bold" fill="${INK}">${escapeXml(title)}</text>`);
  out.push(legend(width / 2, legendY, [...lossSeries, ...accSeries], best !== undefined));

  const lossVals = lossSeries.flatMap((s) => s.points.map((p) => p.y));
  let lossTicks: Ticks | undefined;
  if (lossVals.length > 0) lossTicks = niceTicks(Math.min(0, ...lossVals), Math.max(...lossVals), yTarget);
  out.push(
    panel({
      id: 'loss',
      x: 8,
      y: panelTop,
      w: panelW,
      h: panelH,
      title: 'Loss',
      summary: summary(lossSeries, (v) => fmtSig(v), panelW - 78 - 4 * 9.5 - 10),
      yTicks: lossTicks,
      yLabel: (v) => v.toFixed(lossTicks!.decimals),
      yTitle: 'loss',
      series: lossSeries,
      xLo,
      xHi,
      xTicks,
      best,
      empty: 'no finite loss values',
    }),
  );

  const accVals = accSeries.flatMap((s) => s.points.map((p) => p.y));
  let accTicks: Ticks | undefined;
  if (accVals.length > 0) {
    const lo = Math.min(...accVals);
    const hi = Math.max(...accVals);
    // One value (or all equal): show a 10-point window around it, kept inside [0%, 100%].
    const pad = lo === hi ? 0.05 : 0;
    accTicks = niceTicks(Math.max(0, lo - pad), Math.min(1, hi + pad), yTarget);
    // Values outside [0, 1] are not accuracies, but stay on the chart rather than off it.
    if (lo < accTicks.min || hi > accTicks.max) accTicks = niceTicks(Math.min(lo, accTicks.min), Math.max(hi, accTicks.max), yTarget);
  }
  const pctDecimals = Math.max(0, (accTicks?.decimals ?? 0) - 2);
  out.push(
    panel({
      id: 'accuracy',
      x: 8 + panelW + gap,
      y: panelTop,
      w: panelW,
      h: panelH,
      title: 'Accuracy',
      summary: summary(accSeries, (v) => `${(v * 100).toFixed(1)}%`, panelW - 78 - 8 * 9.5 - 10),
      yTicks: accTicks,
      yLabel: (v) => `${(v * 100).toFixed(pctDecimals)}%`,
      yTitle: 'accuracy',
      series: accSeries,
      xLo,
      xHi,
      xTicks,
      best,
      empty: 'no accuracy recorded',
    }),
  );
  out.push('</svg>');
  return out.join('\n') + '\n';
}

interface PanelSpec {
  id: string;
  x: number;
  y: number;
  w: number;
  h: number;
  title: string;
  summary: string;
  yTicks: Ticks | undefined;
  yLabel: (v: number) => string;
  yTitle: string;
  series: Series[];
  xLo: number;
  xHi: number;
  xTicks: number[];
  best: number | undefined;
  empty: string;
}

function panel(p: PanelSpec): string {
  const m = { left: 64, right: 14, top: 30, bottom: 46 };
  const px = p.x + m.left;
  const py = p.y + m.top;
  const pw = p.w - m.left - m.right;
  const ph = p.h - m.top - m.bottom;
  const out: string[] = [`<g class="panel" data-panel="${p.id}">`];
  out.push(`<text x="${f(px)}" y="${f(p.y + 16)}" font-size="15" font-weight="bold" fill="${INK}">${escapeXml(p.title)}<tspan font-size="12" font-weight="normal" fill="${MUTED}" dx="10">${escapeXml(p.summary)}</tspan></text>`);
  out.push(`<rect x="${f(px)}" y="${f(py)}" width="${f(pw)}" height="${f(ph)}" fill="#fbfbfc" stroke="${GRID}"/>`);
  const ticks = p.yTicks;
  if (!ticks || p.series.every((s) => s.points.length === 0)) {
    out.push(`<text x="${f(px + pw / 2)}" y="${f(py + ph / 2)}" text-anchor="middle" font-size="13" fill="${MUTED}">${escapeXml(p.empty)}</text>`, '</g>');
    return out.join('\n');
  }
  const sx = (v: number) => px + ((v - p.xLo) / (p.xHi - p.xLo)) * pw;
  const sy = (v: number) => py + ph - ((v - ticks.min) / (ticks.max - ticks.min)) * ph;

  // Grid lines and tick labels.
  out.push(`<g class="y-axis" font-size="12" fill="${MUTED}" text-anchor="end">`);
  for (const t of ticks.values) {
    const y = sy(t);
    out.push(`<line x1="${f(px)}" y1="${f(y)}" x2="${f(px + pw)}" y2="${f(y)}" stroke="${GRID}"/>`);
    out.push(`<text x="${f(px - 7)}" y="${f(y + 4)}">${escapeXml(p.yLabel(t))}</text>`);
  }
  out.push('</g>');
  out.push(`<g class="x-axis" font-size="12" fill="${MUTED}" text-anchor="middle">`);
  for (const t of p.xTicks) {
    const x = sx(t);
    out.push(`<line x1="${f(x)}" y1="${f(py)}" x2="${f(x)}" y2="${f(py + ph)}" stroke="${GRID}"/>`);
    out.push(`<line x1="${f(x)}" y1="${f(py + ph)}" x2="${f(x)}" y2="${f(py + ph + 5)}" stroke="${AXIS}"/>`);
    out.push(`<text x="${f(x)}" y="${f(py + ph + 19)}">${t}</text>`);
  }
  out.push('</g>');
  out.push(`<line x1="${f(px)}" y1="${f(py + ph)}" x2="${f(px + pw)}" y2="${f(py + ph)}" stroke="${AXIS}"/>`);
  out.push(`<line x1="${f(px)}" y1="${f(py)}" x2="${f(px)}" y2="${f(py + ph)}" stroke="${AXIS}"/>`);
  out.push(`<text class="axis-title" x="${f(px + pw / 2)}" y="${f(py + ph + 38)}" text-anchor="middle" font-size="13" fill="${INK}">epoch</text>`);
  const ty = py + ph / 2;
  const tx = p.x + 14;
  out.push(`<text class="axis-title" x="${f(tx)}" y="${f(ty)}" text-anchor="middle" font-size="13" fill="${INK}" transform="rotate(-90 ${f(tx)} ${f(ty)})">${escapeXml(p.yTitle)}</text>`);

  if (p.best !== undefined) {
    const x = sx(p.best);
    out.push(`<line class="best" x1="${f(x)}" y1="${f(py)}" x2="${f(x)}" y2="${f(py + ph)}" stroke="#7b8794" stroke-width="1.25" stroke-dasharray="1 3"/>`);
  }

  // Series: thin per-batch lines first, then per-epoch lines with markers on top.
  const many = Math.max(...p.series.map((s) => s.points.length)) > 40;
  for (const s of p.series) {
    const st = s.style;
    const attrs = [`fill="none"`, `stroke="${st.color}"`, `stroke-width="${st.width}"`, `stroke-linejoin="round"`, `stroke-linecap="round"`];
    if (st.dash) attrs.push(`stroke-dasharray="${st.dash}"`);
    if (st.opacity !== undefined) attrs.push(`stroke-opacity="${st.opacity}"`);
    const pts = s.points.map((q) => `${f(sx(q.x))},${f(sy(q.y))}`).join(' ');
    out.push(`<g class="series" data-series="${s.id}">`);
    out.push(`<polyline points="${pts}" ${attrs.join(' ')}/>`);
    if (st.marker !== 'none') {
      // Past 40 epochs the markers shrink and lose their white outline, or they would merge into a bead chain.
      for (const q of s.points) out.push(marker(st.marker, sx(q.x), sy(q.y), many ? 1.6 : 3.5, st.color, !many));
    }
    out.push('</g>');
  }
  out.push('</g>');
  return out.join('\n');
}

function marker(shape: MarkerShape, x: number, y: number, r: number, color: string, outline = true): string {
  const common = outline ? `fill="${color}" stroke="#ffffff" stroke-width="1"` : `fill="${color}"`;
  if (shape === 'circle') return `<circle cx="${f(x)}" cy="${f(y)}" r="${r}" ${common}/>`;
  if (shape === 'square') return `<rect x="${f(x - r * 0.9)}" y="${f(y - r * 0.9)}" width="${f(r * 1.8)}" height="${f(r * 1.8)}" ${common}/>`;
  const d = r * 1.25;
  return `<path d="M${f(x)} ${f(y - d)}L${f(x + d)} ${f(y)}L${f(x)} ${f(y + d)}L${f(x - d)} ${f(y)}Z" ${common}/>`;
}

function legend(cx: number, y: number, series: Series[], best: boolean): string {
  const entries: { style: SeriesStyle; dotted?: boolean }[] = [];
  for (const s of series) if (!entries.some((e) => e.style === s.style)) entries.push({ style: s.style });
  // Legend order: train, validation, test, per batch.
  const order = [STYLES.train, STYLES.val, STYLES.test, STYLES.batch] as SeriesStyle[];
  entries.sort((a, b) => order.indexOf(a.style) - order.indexOf(b.style));
  const items = entries.map((e) => ({ style: e.style, text: e.style.label }));
  if (best) items.push({ style: { label: 'lowest val loss', color: '#7b8794', width: 1.25, dash: '1 3', marker: 'none' }, text: 'lowest val loss' });
  // Approximate text widths (7 px per character at 13 px) are enough to space the items evenly.
  const widths = items.map((it) => 30 + it.text.length * 7 + 22);
  let x = cx - widths.reduce((a, b) => a + b, 0) / 2;
  const out = [`<g class="legend" font-size="13" fill="${INK}">`];
  items.forEach((it, i) => {
    const st = it.style;
    const attrs = [`stroke="${st.color}"`, `stroke-width="${Math.max(st.width, 1.5)}"`];
    if (st.dash) attrs.push(`stroke-dasharray="${st.dash}"`);
    if (st.opacity !== undefined) attrs.push(`stroke-opacity="${Math.min(1, st.opacity + 0.2)}"`);
    out.push(`<line x1="${f(x)}" y1="${f(y - 4)}" x2="${f(x + 24)}" y2="${f(y - 4)}" ${attrs.join(' ')}/>`);
    if (st.marker !== 'none') out.push(marker(st.marker, x + 12, y - 4, 3.5, st.color));
    out.push(`<text x="${f(x + 30)}" y="${f(y)}">${escapeXml(it.text)}</text>`);
    x += widths[i];
  });
  out.push('</g>');
  return out.join('\n');
}

/**
 * "last: train 0.052, validation 0.071" plus a note about values that could not be drawn, shortened
 * (last values dropped from the end, then the note) to fit `room` px at about 6.2 px per character
 * (12 px Helvetica/Arial; the panel title "Loss"/"Accuracy" takes about 9.5 px per character at 15 px bold).
 */
function summary(series: Series[], fmt: (v: number) => string, room: number): string {
  const parts = series
    .filter((s) => s.style !== STYLES.batch && s.points.length > 0)
    .map((s) => `${s.style.label} ${fmt(s.points[s.points.length - 1].y)}`);
  const omitted = series.reduce((n, s) => n + s.omitted, 0);
  const note = omitted > 0 ? `(${omitted} NaN/infinite value${omitted === 1 ? '' : 's'} not drawn)` : '';
  const fits = (t: string) => t.length * 6.2 <= room;
  for (let k = parts.length; k >= 0; k--) {
    const last = k > 0 ? `last: ${parts.slice(0, k).join(', ')}` : '';
    const text = [last, note].filter((t) => t !== '').join('  ');
    if (fits(text)) return text;
  }
  return fits(note) ? note : '';
}

/** Coordinates with at most 2 decimals, no trailing zeros, no "-0": deterministic and compact. */
function f(v: number): string {
  const r = Math.round(v * 100) / 100;
  return String(r === 0 ? 0 : r);
}

/** Three significant digits without exponent for everyday magnitudes. */
function fmtSig(v: number): string {
  if (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5)) return v.toExponential(2);
  return String(Number(v.toPrecision(3)));
}

function checkRecord(op: string, where: string, r: unknown, required: string[], optional: string[]): void {
  if (r === null || typeof r !== 'object') throw new Error(`${op}: ${where} must be an object, got ${r === null ? 'null' : typeof r}`);
  const rec = r as Record<string, unknown>;
  if (typeof rec.epoch !== 'number' || !Number.isFinite(rec.epoch)) throw new Error(`${op}: ${where}.epoch must be a finite number, got ${JSON.stringify(rec.epoch)}`);
  for (const k of required) {
    if (typeof rec[k] !== 'number') throw new Error(`${op}: ${where}.${k} must be a number, got ${JSON.stringify(rec[k])}`);
  }
  for (const k of optional) {
    if (rec[k] !== undefined && typeof rec[k] !== 'number') throw new Error(`${op}: ${where}.${k} must be a number or undefined, got ${JSON.stringify(rec[k])}`);
  }
}

function checkSize(op: string, arg: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min) throw new Error(`${op}: ${arg} must be a number >= ${min}, got ${JSON.stringify(v)}`);
  return v;
}
