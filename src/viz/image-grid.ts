/**
 * Tensors as pictures (issue #4): convolution filters and feature maps as grids of tiles, returned as
 * raw pixels `{width, height, channels, data}` (row-major, `channels` bytes per pixel, 1 = grey,
 * 4 = RGBA with alpha 255). Browser-safe: no PNG encoding here; in Node, `src/node/png.ts` (or
 * `sharp(Buffer.from(data), { raw: { width, height, channels } })`) writes a file, and in a browser
 * `new ImageData(new Uint8ClampedArray(toRgba(grid).data), width, height)` draws it on a canvas.
 *
 * Geometry, the same for every grid: tiles of `tileW × tileH` pixels (the tensor's spatial size times
 * the integer `scale`, nearest neighbour: every value becomes a `scale × scale` block) sit in `rows`
 * rows and `columns` columns, with `separator` pixels (default 1) of `separatorColor` between tiles
 * AND around the whole grid. Tile (r, c) therefore has its top-left pixel at
 *
 * ```text
 * x0 = separator + c · (tileW + separator),   y0 = separator + r · (tileH + separator)
 * width  = columns · tileW + (columns + 1) · separator
 * height = rows    · tileH + (rows    + 1) · separator
 * ```
 *
 * and tile number i (when tiles are listed one after another) is at r = ⌊i / columns⌋, c = i mod columns.
 * Grid cells without a tile (the end of the last row) are filled with the separator colour.
 */
import { Tensor } from '../tensor/tensor.js';
import type { Layer } from '../layers/layer.js';
import { divergingInto, viridisInto, type Rgb } from './colormap.js';

export type { Rgb } from './colormap.js';

/** Raw pixels: `data[(y * width + x) * channels + k]`; channels 1 = grey, 4 = RGBA (alpha always 255). */
export interface PixelGrid {
  width: number;
  height: number;
  channels: 1 | 4;
  data: Uint8Array;
}

/** Options shared by every grid. */
export interface GridLayoutOptions {
  /** Integer upscaling factor, nearest neighbour. Default: the smallest factor making tiles ≥ 48 px (filters) or ≥ 64 px (maps). */
  scale?: number;
  /**
   * Tiles per row (ignored by filterGrid's 'rows' mode). Default: the smallest divisor of the tile
   * count n in [⌈√n⌉, 2√n], so the grid is full and wider than tall (8 → 4 × 2, 32 → 8 × 4); if
   * there is none, ⌈√n⌉ (7 → 3 columns, the last row has 1 tile).
   */
  columns?: number;
  /** Separator width in pixels, between tiles and around the grid; 0 for none. Default 1. */
  separator?: number;
  /**
   * Separator colour; a grey grid uses its luma round(0.299 R + 0.587 G + 0.114 B). Default #404040 for
   * colour filter grids, black for grey filter grids, white for feature-map grids.
   */
  separatorColor?: Rgb;
}

export interface FilterGridOptions extends GridLayoutOptions {
  /**
   * How weights become colours. Both are symmetric around 0, so 0 always has the same colour and
   * the sign of a weight is visible: value v maps to t = v / M with M the largest |weight| of
   *  - 'per-filter' (default): the same output channel (all its kH·kW·Cin weights), so every filter
   *    uses the full colour range and its pattern is visible even if its weights are small;
   *  - 'global': the whole tensor, so the colours also compare strengths across filters.
   * An all-zero filter (M = 0) is drawn as t = 0.
   */
  normalize?: 'per-filter' | 'global';
  /**
   * Colours of single-channel tiles: 'diverging' (default; t = −1 blue #2166AC, 0 near-white
   * #F7F7F7, +1 red #B2182B; RGBA output) or 'gray' (byte round(127.5 + 127.5·t): −M black,
   * 0 grey 128, +M white; 1-channel output).
   */
  colormap?: 'diverging' | 'gray';
  /**
   * What to do with the input channels:
   *  - 'auto' (default): Cin = 1 → one tile per filter; Cin = 3 → 'rgb'; any other Cin → 'rows';
   *  - 'rgb' (needs Cin = 3): one colour tile per filter, input channels 0, 1, 2 as red, green,
   *    blue, each byte round(127.5 + 127.5·t) (0 is mid-grey; `colormap` is not used);
   *  - 'rows': one tile per (input channel, filter) pair: row ic, column oc, so the grid is Cin
   *    rows by Cout columns (`columns` is ignored);
   *  - 'mean': one tile per filter showing the mean over its input channels.
   */
  channels?: 'auto' | 'rgb' | 'rows' | 'mean';
}

export interface FeatureMapGridOptions extends GridLayoutOptions {
  /**
   * 'per-channel' (default): each channel's min → 0 and max → 1, so every map uses the full colour
   * range; 'global': one min and max over all channels, so brightness compares across channels.
   * A constant map (max = min) is drawn at the low end (0). NaN and ±Infinity are left out of the
   * min/max; NaN and −Infinity are drawn as 0, +Infinity as 1.
   */
  normalize?: 'per-channel' | 'global';
  /** 'viridis' (default; dark purple #440154 → yellow #FDE725; RGBA) or 'gray' (black → white; 1 channel). */
  colormap?: 'viridis' | 'gray';
  /** Which example of the batch to draw. Default 0. */
  example?: number;
}

/**
 * Default separator colours, chosen to be rare in the tiles: dark grey #404040 for diverging and RGB
 * filter tiles (no RdBu colour is that dark), black for grey filter tiles (only −M is black, while
 * −M/2 would be a mid-dark grey), and white for feature maps (viridis never reaches white, and in
 * grey only each map's maximum does, whereas after ReLU much of a map sits at its minimum, black).
 */
const FILTER_SEPARATOR: Rgb = [64, 64, 64];
const GRAY_FILTER_SEPARATOR: Rgb = [0, 0, 0];
const MAP_SEPARATOR: Rgb = [255, 255, 255];

/**
 * First-layer convolution filters as a grid of tiles, one per output channel (see `channels` for
 * Cin ≠ 1). `weight` is HWIO `[kH, kW, Cin, Cout]`; tile pixel (ky, kx) shows `weight[ky, kx, ·, oc]`,
 * upscaled `scale` times. With the defaults a 3×3 filter becomes a 48 × 48 px tile, positive weights
 * red and negative blue: an edge detector shows as a red band beside a blue band.
 *
 * ```ts
 * const conv = model.layers[0] as Conv2D;
 * const img = filterGrid(conv.weight!.value);            // {width, height, channels: 4, data}
 * ```
 */
export function filterGrid(weight: Tensor, opts: FilterGridOptions = {}): PixelGrid {
  const op = 'filterGrid';
  if (!(weight instanceof Tensor)) throw new Error(`${op}: weight must be a Tensor of shape [kH, kW, Cin, Cout], got ${describe(weight)}`);
  if (weight.rank !== 4) throw new Error(`${op}: weight must have shape [kH, kW, Cin, Cout] (HWIO), got [${weight.shape.join(', ')}]`);
  const [kH, kW, inC, outC] = weight.shape;
  if (weight.size === 0) throw new Error(`${op}: weight must not be empty, got [${weight.shape.join(', ')}]`);
  const normalize = oneOf(op, 'opts.normalize', opts.normalize ?? 'per-filter', ['per-filter', 'global']);
  const colormap = oneOf(op, 'opts.colormap', opts.colormap ?? 'diverging', ['diverging', 'gray']);
  let mode = oneOf(op, 'opts.channels', opts.channels ?? 'auto', ['auto', 'rgb', 'rows', 'mean']);
  if (mode === 'auto') mode = inC === 1 ? 'mean' : inC === 3 ? 'rgb' : 'rows'; // 'mean' of one channel is that channel
  if (mode === 'rgb' && inC !== 3) throw new Error(`${op}: opts.channels 'rgb' needs Cin = 3, got weight [${weight.shape.join(', ')}] with Cin = ${inC}`);
  const scale = intOption(op, 'opts.scale', opts.scale, Math.max(1, Math.ceil(48 / Math.max(kH, kW))), 1);
  const sep = intOption(op, 'opts.separator', opts.separator, 1, 0);
  const w = weight.data;
  const at = (ky: number, kx: number, ic: number, oc: number) => w[((ky * kW + kx) * inC + ic) * outC + oc];

  // M per output channel (or one M for all): the largest |weight| among finite values.
  const maxAbs = new Float64Array(outC);
  for (let i = 0; i < w.length; i++) {
    const a = Math.abs(w[i]);
    if (Number.isFinite(a) && a > maxAbs[i % outC]) maxAbs[i % outC] = a;
  }
  if (normalize === 'global') maxAbs.fill(Math.max(...maxAbs));
  const t = (v: number, oc: number) => (maxAbs[oc] > 0 ? v / maxAbs[oc] : 0);
  const grayByte = (tv: number) => clampByte(Math.round(127.5 + 127.5 * (Number.isNaN(tv) ? 0 : tv)));

  const channels: 1 | 4 = mode !== 'rgb' && colormap === 'gray' ? 1 : 4;
  const tiles: Tile[] = [];
  const single = (values: (ky: number, kx: number) => number, oc: number): Uint8Array => {
    const px = new Uint8Array(kH * kW * channels);
    for (let ky = 0; ky < kH; ky++) {
      for (let kx = 0; kx < kW; kx++) {
        const tv = t(values(ky, kx), oc);
        const o = (ky * kW + kx) * channels;
        if (channels === 1) px[o] = grayByte(tv);
        else {
          divergingInto(tv, px, o);
          px[o + 3] = 255;
        }
      }
    }
    return px;
  };

  let rows: number;
  let columns: number;
  if (mode === 'rows') {
    rows = inC;
    columns = outC;
    for (let ic = 0; ic < inC; ic++) {
      for (let oc = 0; oc < outC; oc++) tiles.push({ row: ic, col: oc, pixels: single((ky, kx) => at(ky, kx, ic, oc), oc) });
    }
  } else {
    columns = intOption(op, 'opts.columns', opts.columns, defaultColumns(outC), 1);
    rows = Math.ceil(outC / columns);
    for (let oc = 0; oc < outC; oc++) {
      let pixels: Uint8Array;
      if (mode === 'rgb') {
        pixels = new Uint8Array(kH * kW * 4);
        for (let ky = 0; ky < kH; ky++) {
          for (let kx = 0; kx < kW; kx++) {
            const o = (ky * kW + kx) * 4;
            for (let ic = 0; ic < 3; ic++) pixels[o + ic] = grayByte(t(at(ky, kx, ic, oc), oc));
            pixels[o + 3] = 255;
          }
        }
      } else {
        pixels = single((ky, kx) => {
          let s = 0;
          for (let ic = 0; ic < inC; ic++) s += at(ky, kx, ic, oc);
          return s / inC;
        }, oc);
      }
      tiles.push({ row: Math.floor(oc / columns), col: oc % columns, pixels });
    }
  }
  return assemble(tiles, { rows, columns, tileH: kH, tileW: kW, channels, scale, sep, sepColor: opts.separatorColor ?? (channels === 1 ? GRAY_FILTER_SEPARATOR : FILTER_SEPARATOR) }, op);
}

/**
 * The activations of one layer as a grid of tiles, one per channel, in channel order
 * (tile i = channel i). `activation` is NHWC `[N, H, W, C]` (normally N = 1); tile pixel (y, x) shows
 * `activation[example, y, x, c]`. Defaults: per-channel min-max, viridis, tiles ≥ 64 px.
 *
 * ```ts
 * for (const { name, output } of featureMaps(model, image)) {
 *   if (output.rank === 4) await writePng(`${name}.png`, featureMapGrid(output));
 * }
 * ```
 */
export function featureMapGrid(activation: Tensor, opts: FeatureMapGridOptions = {}): PixelGrid {
  const op = 'featureMapGrid';
  if (!(activation instanceof Tensor)) throw new Error(`${op}: activation must be a Tensor of shape [N, H, W, C], got ${describe(activation)}`);
  if (activation.rank !== 4) {
    throw new Error(`${op}: activation must have shape [N, H, W, C] (NHWC), got [${activation.shape.join(', ')}] (outputs of Dense/Flatten layers are not images)`);
  }
  const [n, h, w, c] = activation.shape;
  if (activation.size === 0) throw new Error(`${op}: activation must not be empty, got [${activation.shape.join(', ')}]`);
  const example = intOption(op, 'opts.example', opts.example, 0, 0);
  if (example >= n) throw new Error(`${op}: opts.example must be < N = ${n}, got ${example}`);
  const normalize = oneOf(op, 'opts.normalize', opts.normalize ?? 'per-channel', ['per-channel', 'global']);
  const colormap = oneOf(op, 'opts.colormap', opts.colormap ?? 'viridis', ['viridis', 'gray']);
  const scale = intOption(op, 'opts.scale', opts.scale, Math.max(1, Math.ceil(64 / Math.max(h, w))), 1);
  const sep = intOption(op, 'opts.separator', opts.separator, 1, 0);
  const columns = intOption(op, 'opts.columns', opts.columns, defaultColumns(c), 1);
  const rows = Math.ceil(c / columns);
  const base = example * h * w * c;
  const d = activation.data;

  const lo = new Float64Array(c).fill(Infinity);
  const hi = new Float64Array(c).fill(-Infinity);
  for (let p = 0; p < h * w; p++) {
    for (let ch = 0; ch < c; ch++) {
      const v = d[base + p * c + ch];
      if (!Number.isFinite(v)) continue;
      if (v < lo[ch]) lo[ch] = v;
      if (v > hi[ch]) hi[ch] = v;
    }
  }
  if (normalize === 'global') {
    lo.fill(Math.min(...lo));
    hi.fill(Math.max(...hi));
  }
  const channels: 1 | 4 = colormap === 'gray' ? 1 : 4;
  const tiles: Tile[] = [];
  for (let ch = 0; ch < c; ch++) {
    const range = hi[ch] - lo[ch];
    const pixels = new Uint8Array(h * w * channels);
    for (let p = 0; p < h * w; p++) {
      const v = d[base + p * c + ch];
      // range > 0 is false for a constant map and for a map with no finite value (Infinity − Infinity).
      let tv = v === Infinity ? 1 : range > 0 && Number.isFinite(v) ? (v - lo[ch]) / range : 0;
      if (!(tv >= 0)) tv = 0;
      if (channels === 1) pixels[p] = clampByte(Math.round(255 * tv));
      else {
        viridisInto(tv, pixels, p * 4);
        pixels[p * 4 + 3] = 255;
      }
    }
    tiles.push({ row: Math.floor(ch / columns), col: ch % columns, pixels });
  }
  return assemble(tiles, { rows, columns, tileH: h, tileW: w, channels, scale, sep, sepColor: opts.separatorColor ?? MAP_SEPARATOR }, op);
}

/** One layer's output from `featureMaps`. */
export interface LayerOutput {
  /** Position in `model.layers`. */
  index: number;
  /** The layer type, e.g. 'Conv2D'. */
  type: string;
  /** A file-name-safe name, `<index>-<type in lower case>`, e.g. '0-conv2d', '2-maxpool2d'. */
  name: string;
  /** The layer as `toString()` prints it, e.g. 'Conv2D(8, kernelSize=3, padding="same")'. */
  label: string;
  /** The layer's output for x: [N, H, W, C] for conv/pool/activation layers, [N, units] after Flatten. */
  output: Tensor;
}

/**
 * Runs `model` on `x` one layer at a time (inference mode: `layer.forward(y, false)`, so dropout is
 * off, BatchNorm uses running statistics and no caches are kept) and returns every layer's output,
 * in order, one entry per layer. `x` is `[N, ...model.inputShape]`, normally one image `[1, H, W, C]`.
 */
export function featureMaps(model: { layers: readonly Layer[]; inputShape: readonly number[] }, x: Tensor): LayerOutput[] {
  const op = 'featureMaps';
  if (!model || !Array.isArray(model.layers) || !Array.isArray(model.inputShape)) throw new Error(`${op}: model must be a Sequential, got ${describe(model)}`);
  if (!(x instanceof Tensor)) throw new Error(`${op}: x must be a Tensor of shape [N, ${model.inputShape.join(', ')}], got ${describe(x)}`);
  const ok = x.rank === model.inputShape.length + 1 && x.shape[0] >= 1 && model.inputShape.every((d, i) => x.shape[i + 1] === d);
  if (!ok) throw new Error(`${op}: x must have shape [N, ${model.inputShape.join(', ')}], got [${x.shape.join(', ')}]`);
  const out: LayerOutput[] = [];
  let y = x;
  model.layers.forEach((layer, index) => {
    y = layer.forward(y, false);
    out.push({ index, type: layer.type, name: `${index}-${layer.type.toLowerCase()}`, label: layer.toString(), output: y });
  });
  return out;
}

/** The same picture with 4 channels (grey g → g, g, g, 255); RGBA grids are returned unchanged. */
export function toRgba(grid: PixelGrid): PixelGrid {
  if (grid.channels === 4) return grid;
  const n = grid.width * grid.height;
  const data = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) {
    const g = grid.data[i];
    data[i * 4] = g;
    data[i * 4 + 1] = g;
    data[i * 4 + 2] = g;
    data[i * 4 + 3] = 255;
  }
  return { width: grid.width, height: grid.height, channels: 4, data };
}

// ---- helpers ----------------------------------------------------------------------------------

interface Tile {
  row: number;
  col: number;
  /** tileH × tileW source pixels, `channels` bytes each. */
  pixels: Uint8Array;
}

interface Layout {
  rows: number;
  columns: number;
  tileH: number;
  tileW: number;
  channels: 1 | 4;
  scale: number;
  sep: number;
  sepColor: Rgb;
}

/** Paints the separator colour everywhere, then each tile upscaled at its place (see the file comment). */
function assemble(tiles: Tile[], g: Layout, op: string): PixelGrid {
  const sepColor = checkColor(op, g.sepColor);
  const th = g.tileH * g.scale;
  const tw = g.tileW * g.scale;
  const width = g.columns * tw + (g.columns + 1) * g.sep;
  const height = g.rows * th + (g.rows + 1) * g.sep;
  if (width * height > 1 << 28) throw new Error(`${op}: the picture would be ${width} × ${height} pixels; use a smaller opts.scale`);
  const ch = g.channels;
  const data = new Uint8Array(width * height * ch);
  const fill = ch === 1 ? [Math.round(0.299 * sepColor[0] + 0.587 * sepColor[1] + 0.114 * sepColor[2])] : [sepColor[0], sepColor[1], sepColor[2], 255];
  for (let i = 0; i < width * height; i++) for (let k = 0; k < ch; k++) data[i * ch + k] = fill[k];
  for (const tile of tiles) {
    const x0 = g.sep + tile.col * (tw + g.sep);
    const y0 = g.sep + tile.row * (th + g.sep);
    for (let y = 0; y < th; y++) {
      const sy = Math.floor(y / g.scale);
      for (let x = 0; x < tw; x++) {
        const src = (sy * g.tileW + Math.floor(x / g.scale)) * ch;
        const dst = ((y0 + y) * width + x0 + x) * ch;
        for (let k = 0; k < ch; k++) data[dst + k] = tile.pixels[src + k];
      }
    }
  }
  return { width, height, channels: ch, data };
}

/** See `GridLayoutOptions.columns`. */
export function defaultColumns(n: number): number {
  const root = Math.sqrt(n);
  for (let c = Math.ceil(root); c <= 2 * root; c++) if (n % c === 0) return c;
  return Math.ceil(root);
}

function clampByte(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

function oneOf<T extends string>(op: string, arg: string, v: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(v as T)) throw new Error(`${op}: ${arg} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${JSON.stringify(v)}`);
  return v as T;
}

function intOption(op: string, arg: string, v: unknown, fallback: number, min: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new Error(`${op}: ${arg} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  return v;
}

function checkColor(op: string, c: unknown): Rgb {
  const ok = Array.isArray(c) && c.length === 3 && c.every((v) => Number.isInteger(v) && v >= 0 && v <= 255);
  if (!ok) throw new Error(`${op}: opts.separatorColor must be [r, g, b] with integers 0..255, got ${JSON.stringify(c)}`);
  return c as unknown as Rgb;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v;
}
