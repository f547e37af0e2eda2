/**
 * A small SVG line chart with labelled axes and ticks from the library's `niceTicks`. Updates change
 * the lines' `d` in place and rebuild the axes only when their ticks change, so a redraw while
 * training is a few attribute writes on the main thread.
 */
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
const W = 480;
const H = 240;
const M = { l: 52, r: 12, t: 12, b: 40 };

export class LineChart {
  private axesKey = '';
  private readonly axes = el('g', {});
  private readonly lines: SVGElement[] = [];
  private readonly dots: SVGElement[] = [];

  constructor(
    readonly svg: SVGSVGElement,
    private readonly o: { xLabel: string; yLabel: string; yMin?: number; yMax?: number },
  ) {
    svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
    svg.append(this.axes);
  }

  update(series: Series[]): void {
    const all = series.flatMap((s) => s.points);
    const xMax = Math.max(1, ...all.map((p) => p[0]));
    const ys = all.map((p) => p[1]).filter(Number.isFinite);
    const yt = niceTicks(this.o.yMin ?? Math.min(0, ...ys), this.o.yMax ?? Math.max(1e-6, ...ys), 4);
    const xt = niceTicks(0, xMax, 5);
    const px = (x: number) => M.l + ((x - xt.min) / (xt.max - xt.min)) * (W - M.l - M.r);
    const py = (y: number) => H - M.b - ((y - yt.min) / (yt.max - yt.min)) * (H - M.t - M.b);
    const key = `${xt.min},${xt.max},${xt.step},${yt.min},${yt.max},${yt.step}`;
    if (key !== this.axesKey) {
      this.axesKey = key;
      this.drawAxes(xt.values, yt.values, yt.decimals, xt.step, px, py);
    }
    series.forEach((s, i) => {
      this.lines[i] ??= this.svg.appendChild(el('path', { fill: 'none', stroke: s.color, 'stroke-width': 2, 'stroke-linejoin': 'round' }));
      this.lines[i].setAttribute('d', s.points.map((p, j) => `${j ? 'L' : 'M'}${px(p[0]).toFixed(1)},${py(p[1]).toFixed(1)}`).join(''));
      if (s.dots) {
        this.dots[i] ??= this.svg.appendChild(el('g', { fill: s.color }));
        const g = this.dots[i];
        while (g.childElementCount > s.points.length) g.lastElementChild!.remove();
        while (g.childElementCount < s.points.length) g.append(el('circle', { r: 3 }));
        s.points.forEach((p, j) => {
          g.children[j].setAttribute('cx', px(p[0]).toFixed(1));
          g.children[j].setAttribute('cy', py(p[1]).toFixed(1));
        });
      }
    });
  }

  private drawAxes(xs: number[], ys: number[], yDecimals: number, xStep: number, px: (x: number) => number, py: (y: number) => number): void {
    const g = this.axes;
    g.replaceChildren();
    for (const v of ys) {
      g.append(el('line', { x1: M.l, x2: W - M.r, y1: py(v), y2: py(v), class: 'gridline' }));
      const t = el('text', { x: M.l - 6, y: py(v) + 4, 'text-anchor': 'end', class: 'tick' });
      t.textContent = v.toFixed(yDecimals);
      g.append(t);
    }
    for (const v of xs) {
      const t = el('text', { x: px(v), y: H - M.b + 16, 'text-anchor': 'middle', class: 'tick' });
      t.textContent = v >= 1000 ? `${(v / 1000).toFixed(xStep >= 1000 ? 0 : 1)}k` : String(v);
      g.append(t);
    }
    g.append(el('line', { x1: M.l, x2: W - M.r, y1: H - M.b, y2: H - M.b, class: 'axis' }));
    g.append(el('line', { x1: M.l, x2: M.l, y1: M.t, y2: H - M.b, class: 'axis' }));
    const xl = el('text', { x: (M.l + W - M.r) / 2, y: H - 6, 'text-anchor': 'middle', class: 'label' });
    xl.textContent = this.o.xLabel;
    const cy = (M.t + H - M.b) / 2;
    const yl = el('text', { x: 14, y: cy, 'text-anchor': 'middle', class: 'label', transform: `rotate(-90 14 ${cy})` });
    yl.textContent = this.o.yLabel;
    g.append(xl, yl);
  }
}
