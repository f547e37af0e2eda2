/** A small SVG line chart with labelled axes and ticks from the library's `niceTicks`. */
import { niceTicks } from 'stride-cnn';

export interface Series {
  name: string;
  color: string;
  points: [number, number][];
  /** Draw dots as well as the line (sparse series, e.g. test evaluations). */
  dots?: boolean;
}

const NS = 'http://www.w3.org/2000/svg';
const el = (tag: string, attrs: Record<string, string | number>): SVGElement => {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
};

export function lineChart(svg: SVGSVGElement, series: Series[], o: { xLabel: string; yLabel: string; yMin?: number; yMax?: number }): void {
  const W = 480;
  const H = 240;
  const m = { l: 52, r: 12, t: 12, b: 40 };
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.replaceChildren();
  const all = series.flatMap((s) => s.points);
  const xMax = Math.max(1, ...all.map((p) => p[0]));
  const ys = all.map((p) => p[1]).filter(Number.isFinite);
  const yt = niceTicks(o.yMin ?? Math.min(0, ...ys), o.yMax ?? Math.max(1e-6, ...ys), 4);
  const xt = niceTicks(0, xMax, 5);
  const px = (x: number) => m.l + ((x - xt.min) / (xt.max - xt.min)) * (W - m.l - m.r);
  const py = (y: number) => H - m.b - ((y - yt.min) / (yt.max - yt.min)) * (H - m.t - m.b);
  for (const v of yt.values) {
    svg.append(el('line', { x1: m.l, x2: W - m.r, y1: py(v), y2: py(v), class: 'gridline' }));
    const t = el('text', { x: m.l - 6, y: py(v) + 4, 'text-anchor': 'end', class: 'tick' });
    t.textContent = v.toFixed(yt.decimals);
    svg.append(t);
  }
  for (const v of xt.values) {
    const t = el('text', { x: px(v), y: H - m.b + 16, 'text-anchor': 'middle', class: 'tick' });
    t.textContent = v >= 1000 ? `${(v / 1000).toFixed(xt.step >= 1000 ? 0 : 1)}k` : String(v);
    svg.append(t);
  }
  svg.append(el('line', { x1: m.l, x2: W - m.r, y1: H - m.b, y2: H - m.b, class: 'axis' }));
  svg.append(el('line', { x1: m.l, x2: m.l, y1: m.t, y2: H - m.b, class: 'axis' }));
  const xl = el('text', { x: (m.l + W - m.r) / 2, y: H - 6, 'text-anchor': 'middle', class: 'label' });
  xl.textContent = o.xLabel;
  const yl = el('text', { x: 14, y: (m.t + H - m.b) / 2, 'text-anchor': 'middle', class: 'label', transform: `rotate(-90 14 ${(m.t + H - m.b) / 2})` });
  yl.textContent = o.yLabel;
  svg.append(xl, yl);
  for (const s of series) {
    if (s.points.length === 0) continue;
    const d = s.points.map((p, i) => `${i ? 'L' : 'M'}${px(p[0]).toFixed(1)},${py(p[1]).toFixed(1)}`).join('');
    svg.append(el('path', { d, fill: 'none', stroke: s.color, 'stroke-width': 2, 'stroke-linejoin': 'round' }));
    if (s.dots) for (const p of s.points) svg.append(el('circle', { cx: px(p[0]), cy: py(p[1]), r: 3, fill: s.color }));
  }
}
