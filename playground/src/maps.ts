/** Feature maps and filters on canvases, drawn with the library's own grids (src/viz/image-grid.ts). */
import { Tensor, featureMapGrid, toRgba, type PixelGrid } from 'stride-cnn';
import type { LayerActivation } from 'stride-cnn/worker';
import { h, nextTask } from './dom.js';

export function pixelCanvas(grid: PixelGrid, label: string): HTMLCanvasElement {
  const rgba = toRgba(grid);
  const c = h('canvas', { width: rgba.width, height: rgba.height, class: 'tiles', role: 'img', 'aria-label': label });
  c.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(rgba.data), rgba.width, rgba.height), 0, 0);
  return c;
}

/**
 * Every spatial layer's output as a grid of maps (at most `maxMaps` channels each), captioned; one
 * layer per task (see `nextTask`), so the figures of a deep network never make one long task.
 */
export async function mapFiguresInTasks(layers: LayerActivation[], maxMaps = 16): Promise<HTMLElement[]> {
  const out: HTMLElement[] = [];
  for (const l of layers) {
    if (l.shape.length !== 4) continue;
    await nextTask();
    const [n, hh, w, c] = l.shape;
    const keep = Math.min(c, maxMaps);
    let t = new Tensor(l.data, [n, hh, w, c]);
    if (keep < c) {
      const d = new Float32Array(hh * w * keep);
      for (let p = 0; p < hh * w; p++) for (let k = 0; k < keep; k++) d[p * keep + k] = l.data[p * c + k];
      t = new Tensor(d, [1, hh, w, keep]);
    }
    const grid = featureMapGrid(t, { scale: Math.max(1, Math.round(56 / hh)) });
    out.push(h('figure', { class: 'maps' }, pixelCanvas(grid, `Layer ${l.index} ${l.type} feature maps`), h('figcaption', {}, `#${l.index} ${l.type} · ${hh} × ${w} × ${c}${keep < c ? ` (first ${keep})` : ''}`)));
  }
  return out;
}
